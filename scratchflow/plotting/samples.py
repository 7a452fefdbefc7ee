"""Generated samples x = f^{-1}(z) next to the data: points (1-D, 2-D) or images (pixel data)."""
import matplotlib.pyplot as plt
import numpy as np

from scratchflow.plotting.figure import (bounds, check_plot_dim, save_figure, scatter_panels,
                                         subsample)


def plot_samples(flow, data=None, out_dir="figures", filename="samples.png", n=3000, seed=0,
                 title=None):
    """Generation algorithm made visible: x = f^{-1}(z), z ~ N(0, I), next to the data.

    1-D: both histograms on the same 60 bins over the central 99 % (the 0.5th to the 99.5th
    percentile) of samples and data together. 2-D: the panels share the box and the y axis.
    Defaults: ``n=3000`` samples (and at most as many data points), ``seed=0``.
    """
    check_plot_dim(flow, (1, 2))
    samples = flow.sample(n, rng=seed)                                    # (n, D)
    if flow.dim == 1:
        fig, ax = plt.subplots(figsize=(6, 4))
        both = samples[:, 0] if data is None else np.concatenate([samples[:, 0], data[:, 0]])
        low, high = np.percentile(both, [0.5, 99.5])                     # the central 99 %
        bins = np.histogram_bin_edges(both, bins=60, range=(low, high))   # (61,) shared edges
        if data is not None:
            ax.hist(data[:, 0], bins=bins, density=True, alpha=0.5, label="data")
        ax.hist(samples[:, 0], bins=bins, density=True, alpha=0.5, label="samples x = f⁻¹(z)")
        ax.legend()
        ax.set_title(title or "Samples vs data / сгенерированные и реальные объекты")
        return save_figure(fig, out_dir, filename)
    panels = [] if data is None else [("Data / данные", subsample(data, n), "tab:blue")]
    panels.append(("Samples x = f⁻¹(z), z ~ N(0, I) / генерация", samples, "tab:orange"))
    low, high = bounds(np.concatenate([p for _, p, _ in panels]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 4.6), squeeze=False,
                             sharex=True, sharey=True)
    scatter_panels(axes[0], panels, low, high)
    if title:
        fig.suptitle(title)
    return save_figure(fig, out_dir, filename)


def plot_image_samples(flow, data, out_dir="figures", filename="samples.png", image_shape=(8, 8),
                       n=32, seed=0):
    """Real images next to generated ones (x = f^{-1}(z)) for pixel data such as the 8×8 digits.

    Pixels are shown on [0, 1]; samples are clipped to it for display only. Images come in rows
    of 8 (``n`` a multiple of 8), each in a cell of about the same size whatever ``n``.
    Defaults: ``image_shape=(8, 8)`` (the digits), ``n=32`` images of each kind, ``seed=0``.
    """
    height, width = image_shape
    if flow.dim != height * width:
        raise ValueError(f"image_shape {image_shape} has {height * width} pixels but the flow is "
                         f"{flow.dim}-D")
    columns = 8
    if n % columns:
        raise ValueError(f"n = {n} images do not fill rows of {columns}; give a multiple of {columns}")
    per_block = n // columns                                               # rows of each block
    samples = flow.sample(n, rng=seed)                                     # (n, H*W)
    blocks = [("Data / данные", data[:n]), ("Samples x = f⁻¹(z) / генерация", samples)]
    fig, axes = plt.subplots(2 * per_block, columns, figsize=(columns * 0.9, 2 * per_block * 0.95 + 0.6))
    for block, (title, images) in enumerate(blocks):
        for k in range(n):
            ax = axes[block * per_block + k // columns, k % columns]
            ax.imshow(np.clip(images[k].reshape(height, width), 0, 1), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[block * per_block, 0].set_title(title, loc="left", fontsize=9)
    return save_figure(fig, out_dir, filename)
