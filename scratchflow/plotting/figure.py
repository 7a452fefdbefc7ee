"""What every figure shares: saving to PNG, axis limits around the data, subsampling, a 2-D grid."""
import os

import matplotlib.pyplot as plt
import numpy as np

CURVE_POINTS = 400      # vertices of the polyline that draws a smooth curve (finer than the pixels)


def save_figure(fig, out_dir, filename, metadata=None):
    """Write ``fig`` to ``out_dir/filename`` (PNG text chunks from ``metadata``), close it, return
    the path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, filename)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata=metadata)
    plt.close(fig)
    return path


def bounds(points, pad=0.15, percentiles=(0.5, 99.5)):
    """Axis limits around the bulk of ``points`` (N, D): the given percentiles per axis, padded by
    ``pad`` times their distance, so a few outliers cannot stretch the picture. An axis on which
    the two percentiles coincide (one point, a constant coordinate) gets ±0.5 around them instead,
    so a box is never empty."""
    low, high = np.percentile(points, percentiles, axis=0)              # (D,), (D,)
    margin = np.where(high > low, pad * (high - low), 0.5)              # (D,)
    return low - margin, high + margin


def scatter_panels(axes, panels, low, high):
    """Draw each ``(title, points (N, 2), color)`` of ``panels`` on one axis of the row ``axes``,
    all on [low, high] with equal aspect; ``color`` is one color or one per point."""
    for ax, (panel_title, points, color) in zip(axes, panels):
        ax.scatter(points[:, 0], points[:, 1], s=2, c=color, alpha=0.5, linewidths=0)
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        ax.set_xlabel("x1")
        ax.set_aspect("equal")
    axes[0].set_ylabel("x2")


def subsample(points, n_max=3000, seed=0):
    """At most ``n_max`` distinct rows of ``points``, drawn with ``seed`` (the same ones each time).

    Defaults: ``n_max=3000``, ``seed=0``.
    """
    if len(points) <= n_max:
        return points
    return points[np.random.default_rng(seed).choice(len(points), n_max, replace=False)]


def grid_points(low, high, resolution):
    """A resolution × resolution grid over [low, high]; returns the mesh pair and the (R², 2) points."""
    g1, g2 = np.meshgrid(np.linspace(low[0], high[0], resolution),
                         np.linspace(low[1], high[1], resolution))      # (R, R) each
    return g1, g2, np.column_stack([g1.ravel(), g2.ravel()])            # (R², 2)


def check_plot_dim(flow, allowed):
    if flow.dim not in allowed:
        raise ValueError(f"this figure draws {' or '.join(f'{d}-D' for d in allowed)} flows; "
                         f"the flow has dimension {flow.dim}")
