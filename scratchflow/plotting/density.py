"""The learned density p_x(x) of a 1-D or 2-D flow as a curve or heatmap, with the data on top."""
import matplotlib.pyplot as plt
import numpy as np
from mpl_toolkits.axes_grid1 import make_axes_locatable

from scratchflow.plotting.figure import (CURVE_POINTS, bounds, check_plot_dim, grid_points,
                                         save_figure, subsample)


def plot_density(flow, data=None, out_dir="figures", filename="density.png", target=None,
                 resolution=200, title=None, limits=None):
    """The learned density p_x(x) = p_z(f(x)) |det ∂f/∂x| as a heatmap, with the data on top.

    With ``target`` (an object with ``log_prob``), a second panel shows the target density p*.
    ``limits = ((x1_min, x2_min), (x1_max, x2_max))`` fixes the square drawn (default: the data's
    bulk, 1st to 99th percentile per axis and a margin, or the same of 5000 of the flow's samples
    drawn with seed 0; data outside is not drawn). For a 1-D flow: the density curve over a
    histogram.

    Defaults: ``resolution=200`` grid points per axis.
    """
    check_plot_dim(flow, (1, 2))
    reference = data if data is not None else flow.sample(5000, rng=0)
    reference = np.asarray(reference, dtype=np.float64)
    if flow.dim == 1:
        low, high = bounds(reference)                                    # (1,), (1,)
        grid = np.linspace(low[0], high[0], CURVE_POINTS)[:, None]       # (P, 1)
        fig, ax = plt.subplots(figsize=(6, 4))
        if data is not None:
            ax.hist(data[:, 0], bins=60, density=True, alpha=0.4, label="data")
        ax.plot(grid[:, 0], np.exp(flow.log_prob(grid.astype(flow.dtype))), "k", lw=2,
                label="learned p_x(x)")
        ax.set_xlabel("x")
        ax.legend()
        ax.set_title(title or "Learned density / плотность модели")
        return save_figure(fig, out_dir, filename)

    if limits is None:
        low, high = bounds(reference, pad=0.1, percentiles=(1, 99))
    else:
        low, high = np.asarray(limits[0], float), np.asarray(limits[1], float)
    g1, g2, points = grid_points(low, high, resolution)
    density = np.exp(flow.log_prob(points.astype(flow.dtype))).reshape(g1.shape)   # (R, R)
    panels = [("Learned density p_x(x) / плотность модели", density, "density p_x(x)")]
    if target is not None:
        log_target = target.log_prob(points).reshape(g1.shape)
        panels.append(("Target p*(x) (unnormalised) / целевая плотность",
                       np.exp(log_target - log_target.max()), "p*(x) / max p*  (unnormalised)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 4.6), squeeze=False,
                             gridspec_kw={"wspace": 0.45})
    for ax, (panel_title, values, colorbar_label) in zip(axes[0], panels):
        top = np.percentile(values, 99.9)          # a few thin spikes must not wash out the rest
        mesh = ax.pcolormesh(g1, g2, values, shading="auto", cmap="magma", vmin=0.0,
                             vmax=top if top > 0 else None)
        ax.set_aspect("equal")
        colorbar_axis = make_axes_locatable(ax).append_axes("right", size="4%", pad=0.08)
        fig.colorbar(mesh, cax=colorbar_axis, label=colorbar_label)      # as tall as the picture
        if data is not None:
            shown = subsample(data)
            ax.scatter(shown[:, 0], shown[:, 1], s=1.5, c="cyan", alpha=0.35, linewidths=0,
                       label="data")
            ax.legend(loc="upper right", fontsize=8, markerscale=6)
        ax.set_xlim(low[0], high[0])                  # the grid's square, whatever the data spans
        ax.set_ylim(low[1], high[1])
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    if title:
        fig.suptitle(title)
    return save_figure(fig, out_dir, filename)
