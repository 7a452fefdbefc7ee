"""Samples of a class-conditional flow, one panel (or one image row) per class (beyond the lecture).

Generation with a context: z ~ N(0, I), x = f^{-1}(z; c) with c the one-hot label of class k, so
each panel shows p(x | class k). 2-D data: one scatter per class beside the data of that class;
pixel data: one row of images per class.
"""
import matplotlib.pyplot as plt
import numpy as np

from scratchflow.plotting.figure import bounds, save_figure, scatter_panels

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def class_samples(flow, label, n, seed):
    """n samples of class ``label`` from a flow whose context is the one-hot label: (n, D)."""
    context = np.zeros(flow.context_dim)                                  # (C,)
    context[label] = 1.0
    return flow.sample(n, rng=seed, context=context)                      # (n, D), one context


def plot_conditional_samples(flow, data=None, labels=None, out_dir="figures",
                             filename="conditional_samples.png", n=1500, seed=0, title=None):
    """2-D: the data coloured by class (if given), then samples of each class in its colour.

    Defaults: ``n=1500`` samples per class, ``seed=0`` (class k is drawn with seed + k).
    """
    classes = range(flow.context_dim)
    samples = [class_samples(flow, k, n, seed + k) for k in classes]     # C x (n, 2)
    panels = [] if data is None else [("Data by class / данные по классам", data, labels)]
    panels += [(f"Samples given class {k} / генерация, класс {k}", points, np.full(n, k))
               for k, points in zip(classes, samples)]
    low, high = bounds(np.concatenate([points for _, points, _ in panels]))
    height = 4.4 * (high[1] - low[1]) / (high[0] - low[0]) + 0.9         # equal aspect, no gap
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), height), squeeze=False,
                             sharex=True, sharey=True)
    palette = np.array(COLORS)
    scatter_panels(axes[0], [(panel_title, points, palette[np.asarray(point_classes) % len(palette)])
                             for panel_title, points, point_classes in panels], low, high)
    fig.suptitle(title or "Conditional flow: x = f⁻¹(z; c), c = one-hot class")
    fig.tight_layout()
    return save_figure(fig, out_dir, filename)


def plot_conditional_images(flow, out_dir="figures", filename="conditional_samples.png",
                            image_shape=(8, 8), per_class=10, seed=0, title=None):
    """One row per class k: ``per_class`` images x = f^{-1}(z; one-hot k), pixels shown on [0, 1].

    Defaults: ``image_shape=(8, 8)`` (the digits), ``per_class=10``, ``seed=0`` (row k is drawn
    with seed + k).
    """
    height, width = image_shape
    fig, axes = plt.subplots(flow.context_dim, per_class, squeeze=False,
                             figsize=(per_class * 0.8, flow.context_dim * 0.85 + 0.6))
    for k in range(flow.context_dim):
        images = class_samples(flow, k, per_class, seed + k)             # (per_class, H*W)
        for j in range(per_class):
            ax = axes[k, j]
            ax.imshow(np.clip(images[j].reshape(height, width), 0, 1), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[k, 0].set_ylabel(str(k), rotation=0, labelpad=10, fontsize=11)
    fig.suptitle(title or "Samples given the class (row k: context = one-hot k)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_dir, filename)
