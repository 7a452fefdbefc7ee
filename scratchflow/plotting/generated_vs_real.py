"""The MAF slide's figure for pixel data: "(a) Generated images, (b) Real images", two grids side
by side (slide "Masked Autoregressive Flow (MAF)"; Real-NVP's and Glow's sample figures too).

Each grid is one mosaic image, white digits on black as in those papers, cells one pixel apart.
The captions are the axes' labels and are also written into the PNG's ``Description`` text chunk,
so that a program can read which grid is which without looking at the pixels.
"""
import matplotlib.pyplot as plt
import numpy as np

from scratchflow.plotting.figure import save_figure

CAPTIONS = ("(a) Generated images", "(b) Real images")


def image_grid(images, image_shape, columns=8, gap=1):
    """(n, H·W) images -> one (rows·(H + gap) − gap, columns·(W + gap) − gap) mosaic, row by row,
    on a black background (n a multiple of ``columns``); pixels clipped to [0, 1]."""
    height, width = image_shape
    rows = len(images) // columns
    mosaic = np.zeros((rows * (height + gap) - gap, columns * (width + gap) - gap))   # (R, C)
    for k, image in enumerate(np.clip(images, 0.0, 1.0)):
        top, left = (k // columns) * (height + gap), (k % columns) * (width + gap)
        mosaic[top:top + height, left:left + width] = image.reshape(height, width)
    return mosaic


def plot_generated_vs_real(flow, data, out_dir="figures", filename="generated_vs_real.png",
                           image_shape=(8, 8), n=64, seed=0):
    """Two grids of ``n`` images: (a) x = f⁻¹(z), z ~ N(0, I), the flow's; (b) the first ``n``
    real ones. Defaults: the 8×8 digits, ``n=64`` (8 × 8 grids), ``seed=0``."""
    height, width = image_shape
    if flow.dim != height * width:
        raise ValueError(f"image_shape {image_shape} has {height * width} pixels but the flow is "
                         f"{flow.dim}-D")
    if n % 8 or len(data) < n:
        raise ValueError(f"n = {n} must be a multiple of 8 and at most the {len(data)} real images")
    generated = flow.sample(n, rng=seed)                                   # (n, H·W)
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.8))
    for ax, images, caption in zip(axes, (generated, data[:n]), CAPTIONS):
        ax.imshow(image_grid(images, image_shape), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(caption, fontsize=12)
    fig.tight_layout()
    return save_figure(fig, out_dir, filename, metadata={"Description": ", ".join(CAPTIONS)})
