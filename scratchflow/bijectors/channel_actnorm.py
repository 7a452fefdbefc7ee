"""ActNorm per channel, with Glow's data-dependent initialisation (Glow §3.1, arXiv 1807.03039).

Every pixel's channel vector goes through the same affine map, one scale and shift per channel:

    z[c, h, w] = (x[c, h, w] − loc_c) · exp(−log_scale_c).

By the per-pixel rule (:mod:`scratchflow.bijectors.pixelwise`) the log-det of an image is H·W
times that of one pixel:

    log|det ∂z/∂x| = −H·W · Σ_c log_scale_c,     inverse x = z · exp(log_scale) + loc.

Initialisation (Glow §3.1), a step of its own (:meth:`ChannelActNorm.initialize`, or
:meth:`Flow.initialize <scratchflow.flow.Flow.initialize>`, which ``fit`` runs on its training
rows; never a forward pass): set loc_c and exp(log_scale_c) to the mean and
standard deviation of channel c over the batch AND all pixels, so that batch leaves with zero mean
and unit variance per channel; afterwards they are ordinary parameters. That is
:class:`~scratchflow.bijectors.ActNorm` (its docstring derives the gradients) initialised on the
N·H·W pixel rows, which is how it is built here.

Legend: loc, log_scale -> ``layer.loc``, ``layer.log_scale`` (C,); flag ``layer.initialized``.
"""
import numpy as np

from scratchflow.bijectors.actnorm import ActNorm
from scratchflow.bijectors.image_shape import check_image_shape
from scratchflow.bijectors.pixelwise import Pixelwise
from scratchflow.input_checks import check_array


class ChannelActNorm(Pixelwise):
    """z[c] = (x[c] − loc_c) · exp(−log_scale_c) at every pixel; log-det −H·W·Σ_c log_scale_c.

    Parameters
    ----------
    shape : (C, H, W)
    dtype : float64 (default) or float32

    References
    ----------
    D. P. Kingma, P. Dhariwal. Glow: Generative Flow with Invertible 1×1 Convolutions, §3.1.
    arXiv:1807.03039.
    """

    def __init__(self, shape, dtype=np.float64):
        channels = check_image_shape(shape)[0]
        super().__init__(shape, ActNorm(channels, dtype=dtype))

    def initialize(self, x):
        """Set loc, log_scale from the batch x (N, C·H·W): per channel, over images and pixels."""
        x = check_array(x, "x", dim=self.dim, dtype=self.dtype)              # (N, D)
        self.layer.initialize(self.to_pixels(x))                              # (N·H·W, C)
