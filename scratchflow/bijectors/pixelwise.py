"""A C-dimensional layer applied at every pixel of (C, H, W) images (Glow §3.1, §3.2).

Glow's ActNorm and invertible 1×1 convolution act on the C channels of each pixel separately,
with the same parameters at every pixel. With the vector layer g: R^C -> R^C, the image map is

    z[:, h, w] = g(x[:, h, w])        for each of the H·W pixels (h, w).

Jacobian. Output pixel p depends on input pixel p only, so (pixels grouped) ∂z/∂x is block
diagonal with the H·W blocks ∂g/∂x_p (C × C), and its determinant is the product of theirs:

    log|det ∂z/∂x| = Σ_p log|det ∂g(x_p)/∂x_p|,       inverse z_p -> g⁻¹(z_p) likewise.

Code. The batch (N, C·H·W) is rearranged into N·H·W rows of C channels, ``pixels`` (N·H·W, C);
the vector layer's own pass runs on them (one row per pixel of every image) and its per-row log-det
(N·H·W,) is summed over the H·W pixels of each image.

Gradient pass. Row (n, p) of the pixel batch reaches the loss through z_{n,p} and through
log_det_n, which holds its log-det with weight 1; so the vector layer's gradient pass gets the
rearranged dL/dz and dL/dlog_det_n repeated for each pixel of image n, and its parameter
gradients, summed over all rows, are those of the image layer. Its input gradient is rearranged
back to (N, C·H·W). The vector layer keeps its own caches.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.image_shape import check_image_shape


class Pixelwise(Bijector):
    """``z[:, h, w] = layer(x[:, h, w])`` at every pixel; log-det summed over the pixels.

    Parameters
    ----------
    shape : (C, H, W)
        Image shape of the rows.
    layer : Bijector
        A vector layer of dimension C (its parameters appear as ``layer.<name>``).
    """

    def __init__(self, shape, layer):
        super().__init__()
        self.shape = check_image_shape(shape)
        channels, height, width = self.shape
        if layer.dim != channels:
            raise ValueError(f"the per-pixel layer has dimension {layer.dim} but the images have "
                             f"C = {channels} channels")
        self.dim = channels * height * width
        self.dtype = layer.dtype
        self.layer = self.add_child("layer", layer)

    def to_pixels(self, x):
        """(N, C·H·W) -> (N·H·W, C): one row of C channels per pixel, image by image."""
        channels, height, width = self.shape
        return x.reshape(len(x), channels, height * width).transpose(0, 2, 1).reshape(-1, channels)

    def from_pixels(self, rows, n):
        """(N·H·W, C) -> (N, C·H·W), the inverse of :meth:`to_pixels`."""
        channels, height, width = self.shape
        return rows.reshape(n, height * width, channels).transpose(0, 2, 1).reshape(n, self.dim)

    def _per_image(self, log_det, n):
        pixels = self.shape[1] * self.shape[2]
        return log_det.reshape(n, pixels).sum(axis=1)                     # (N·H·W,) -> (N,)

    def _per_pixel(self, grad_log_det):
        pixels = self.shape[1] * self.shape[2]
        return np.repeat(grad_log_det, pixels)                             # (N,) -> (N·H·W,)

    def _initialize(self, x, context=None):
        self.layer._initialize(self.to_pixels(x))                          # (N·H·W, C) rows

    def _forward(self, x, context=None):
        rows, log_det = self.layer._forward(self.to_pixels(x))             # (N·H·W, C), (N·H·W,)
        return self.from_pixels(rows, len(x)), self._per_image(log_det, len(x))

    def _inverse(self, z, context=None):
        rows, log_det = self.layer._inverse(self.to_pixels(z))
        return self.from_pixels(rows, len(z)), self._per_image(log_det, len(z))

    def _backward(self, grad_z, grad_log_det):
        grad_rows = self.layer._backward(self.to_pixels(grad_z), self._per_pixel(grad_log_det))
        return self.from_pixels(grad_rows, len(grad_z))                    # (N, D)

    def _inverse_backward(self, grad_x, grad_log_det):
        grad_rows = self.layer._inverse_backward(self.to_pixels(grad_x),
                                                 self._per_pixel(grad_log_det))
        return self.from_pixels(grad_rows, len(grad_x))                    # (N, D)

    def __repr__(self):
        return f"{type(self).__name__}(shape={self.shape})"
