"""The image shape (C, H, W) of a flat row, and the layout every image layer shares.

The contract keeps (N, D) arrays. An image layer is told its image shape at construction and
reads each row x (D,), D = C·H·W, as ``x.reshape(C, H, W)`` (channel first, then rows, then
columns, NumPy's C order): pixel (c, h, w) sits at column ``(c·H + h)·W + w``. So the first
half of the columns is the first half of the channels, which factor-out uses.
"""
from scratchflow.input_checks import check_int


def check_image_shape(shape, name="shape", even_channels=False, even_size=False):
    """Return ``shape`` as a tuple ``(C, H, W)`` of positive ints, or raise ``ValueError``.

    ``even_channels``: C must be even (factor-out, channel masks); ``even_size``: H and W must be
    even (squeeze takes 2×2 blocks)."""
    try:
        channels, height, width = shape
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an image shape (C, H, W), e.g. (1, 8, 8) for the "
                         f"digits, got {shape!r}") from None
    channels, height, width = (check_int(size, name, 1) for size in (channels, height, width))
    if even_channels and channels % 2:
        raise ValueError(f"{name} = {(channels, height, width)}: C must be even to split the "
                         f"channels in two halves")
    if even_size and (height % 2 or width % 2):
        raise ValueError(f"{name} = {(channels, height, width)}: H and W must be even to cut the "
                         f"image into 2×2 blocks")
    return channels, height, width
