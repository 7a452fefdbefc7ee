"""Coupling masks for images: checkerboard and channel-wise. Real-NVP §3.6 (Dinh et al., Fig. 3).

An :class:`~scratchflow.bijectors.AffineCoupling` takes any 0/1 mask over the D columns (1 =
conditioning x_c, copied; 0 = transformed x_r). On rows of (C, H, W) images (layout of
:mod:`scratchflow.bijectors.image_shape`) Real-NVP uses two patterns:

* checkerboard: ``mask[c, h, w] = 1`` where ``h + w`` is even (``parity=1``: odd), in every channel.
  Each transformed pixel has its four neighbours among the conditioning ones.
* channel-wise: ``mask[c] = 1`` for the first C/2 channels (``parity=1``: the last C/2). Used after
  a squeeze, where the four pixels of a 2×2 block are four channels of one pixel.

The coupling's log-det and gradients do not depend on which pattern it is (``coupling.py``);
alternating ``parity`` from layer to layer transforms every pixel every other layer. The
conditioner stays the library's MLP, reading the kept columns of the whole image.
"""
import numpy as np

from scratchflow.bijectors.image_shape import check_image_shape


def checkerboard_mask(shape, parity=0):
    """(C·H·W,) 0/1 mask: 1 on the pixels with h + w + parity even (a checkerboard per channel)."""
    channels, height, width = check_image_shape(shape)
    if height * width < 2:
        raise ValueError(f"a checkerboard needs at least 2 pixels per channel, got shape {shape}")
    rows, columns = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")   # (H, W)
    board = ((rows + columns + int(parity)) % 2 == 0).astype(int)                     # (H, W)
    return np.broadcast_to(board, (channels, height, width)).reshape(-1).copy()       # (D,)


def channel_mask(shape, parity=0):
    """(C·H·W,) 0/1 mask: 1 on the first C/2 channels (``parity=1``: on the last C/2)."""
    channels, height, width = check_image_shape(shape, even_channels=True)
    first_half = (np.arange(channels) < channels // 2).astype(int)                   # (C,)
    if parity % 2:
        first_half = 1 - first_half
    return np.repeat(first_half, height * width)                                     # (D,)
