"""Invertible 1×1 convolution (Glow §3.2; Kingma & Dhariwal, arXiv 1807.03039).

A 1×1 convolution with C input and C output channels multiplies the channel vector of every pixel
by one C×C matrix W:

    z[:, h, w] = W x[:, h, w]          for every pixel (h, w).

It is a learnt generalisation of the fixed channel permutation between couplings. By the
per-pixel rule (:mod:`scratchflow.bijectors.pixelwise`) the Jacobian is block diagonal with H·W
copies of W, so

    log|det ∂z/∂x| = H·W · log|det W|,        inverse x[:, h, w] = W⁻¹ z[:, h, w],
    log|det ∂x/∂z| = −H·W · log|det W|.

W is stored LU-factorised, W = P L (U + diag(sign ⊙ exp(log_scale))) (Glow's "LU decomposition",
:class:`~scratchflow.bijectors.LULinear`, whose docstring derives the factors' gradients), so
log|det W| = Σ_j log_scale_j costs O(C) and the inverse is two triangular solves. The gradient of
the log-det term is then H·W · Σ_n dL/dlog_det_n in each log_scale_j: the LU layer adds
dL/dlog_det once per pixel row.

Legend: W -> ``layer.weight()``; its factors ``layer.lower``, ``layer.upper``, ``layer.log_scale``
(parameters ``layer.lower`` etc.), ``layer.perm``, ``layer.sign`` (buffers).
"""
import numpy as np

from scratchflow.bijectors.image_shape import check_image_shape
from scratchflow.bijectors.lu_linear import LULinear
from scratchflow.bijectors.pixelwise import Pixelwise


class InvertibleConv1x1(Pixelwise):
    """z[:, h, w] = W x[:, h, w], W = P L (U + diag(s)) of size C×C; log-det H·W·Σ log|s_j|.

    Parameters
    ----------
    shape : (C, H, W)
    rng : numpy.random.Generator or int, optional
        Draws the initial rotation W (Glow's initialisation, log|det W| = 0).
    dtype : float64 (default) or float32

    References
    ----------
    D. P. Kingma, P. Dhariwal. Glow: Generative Flow with Invertible 1×1 Convolutions, §3.2.
    arXiv:1807.03039.
    """

    def __init__(self, shape, rng=None, dtype=np.float64):
        channels = check_image_shape(shape)[0]
        super().__init__(shape, LULinear(channels, rng=rng, dtype=dtype))

    def weight(self):
        """The C×C matrix W (for tests and inspection)."""
        return self.layer.weight()
