"""Squeeze: space to depth, (C, H, W) -> (4C, H/2, W/2). Real-NVP §3.6, Glow §3.

Beyond the lecture: the multi-scale architecture of Real-NVP (Dinh et al., arXiv 1605.08803) and
Glow (Kingma & Dhariwal, arXiv 1807.03039) trades space for channels between scales, so that a
channel-wise coupling can mix pixels that were neighbours. Each 2×2 block of each channel becomes
four channels of one pixel:

    z[4c + 2i + j, h, w] = x[c, 2h + i, 2w + j],        i, j ∈ {0, 1}.

The map only moves entries: it is a permutation P of the D = C·H·W coordinates, z = P x, so
∂z/∂x = P, |det P| = 1 and

    log|det ∂z/∂x| = 0,    inverse x = Pᵀ z (unsqueeze),    log|det ∂x/∂z| = 0.

Gradient passes. A linear map's gradient pass multiplies by its transpose: dL/dx = Pᵀ dL/dz, that
is, unsqueeze the gradient; through the inverse, dL/dz = P dL/dx, squeeze it. The log-det is the
constant 0, so dL/dlog_det reaches nothing, and there are no parameters and nothing to cache.

Rows are flat (N, C·H·W) in the layout of :mod:`scratchflow.bijectors.image_shape`.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.image_shape import check_image_shape
from scratchflow.input_checks import check_dtype


class Squeeze(Bijector):
    """z[4c + 2i + j, h, w] = x[c, 2h + i, 2w + j]; log-det 0.

    Parameters
    ----------
    shape : (C, H, W)
        Image shape of the input rows; H and W even. The output rows have shape
        ``out_shape = (4C, H/2, W/2)``.
    dtype : float64 (default) or float32

    References
    ----------
    L. Dinh, J. Sohl-Dickstein, S. Bengio. Density estimation using Real NVP, §3.6.
    arXiv:1605.08803.
    """

    def __init__(self, shape, dtype=np.float64):
        super().__init__()
        self.shape = check_image_shape(shape, even_size=True)
        channels, height, width = self.shape
        self.out_shape = (4 * channels, height // 2, width // 2)
        self.dim = channels * height * width
        self.dtype = check_dtype(dtype)

    def squeeze(self, x):
        """(N, C·H·W) rows of (C, H, W) images -> (N, 4C·H/2·W/2) rows of (4C, H/2, W/2)."""
        channels, height, width = self.shape
        blocks = x.reshape(len(x), channels, height // 2, 2, width // 2, 2)   # (N, C, h, i, w, j)
        return blocks.transpose(0, 1, 3, 5, 2, 4).reshape(len(x), self.dim)   # (N, D) (c, i, j, h, w)

    def unsqueeze(self, z):
        """The inverse permutation: (N, D) rows of (4C, H/2, W/2) -> rows of (C, H, W)."""
        channels, height, width = self.shape
        blocks = z.reshape(len(z), channels, 2, 2, height // 2, width // 2)   # (N, C, i, j, h, w)
        return blocks.transpose(0, 1, 4, 2, 5, 3).reshape(len(z), self.dim)   # (N, D) (c, h, i, w, j)

    def _forward(self, x, context=None):
        return self.squeeze(x), np.zeros(len(x), dtype=x.dtype)             # (N, D), (N,)

    def _inverse(self, z, context=None):
        return self.unsqueeze(z), np.zeros(len(z), dtype=z.dtype)

    def _backward(self, grad_z, grad_log_det):
        return self.unsqueeze(grad_z)                                        # (N, D) Pᵀ g

    def _inverse_backward(self, grad_x, grad_log_det):
        return self.squeeze(grad_x)                                          # (N, D) P g

    def __repr__(self):
        return f"Squeeze(shape={self.shape})"
