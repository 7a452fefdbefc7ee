"""Figures, written to PNG files (the Agg backend: no window, no display needed).

``plot_example`` redraws the lecture's "Эксперимент / Теория" (experiment / theory) figures:
samples drawn as x = f^{-1}(z) against the analytic density of Example 1 or 2.
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
from mpl_toolkits.axes_grid1 import make_axes_locatable  # noqa: E402

from scratchflow.bijectors.examples import (Example2Map, example1_bijector,  # noqa: E402
                                            example1_density, example2_density)


def _save(fig, out_dir, filename):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, filename)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def sample_example(number, n, rng=None):
    """Samples of Example ``number`` drawn as the slide does: z ~ N(0, I), x = f^{-1}(z)."""
    rng = np.random.default_rng(rng)
    if number == 1:
        layer = example1_bijector()
    elif number == 2:
        layer = Example2Map()
    else:
        raise ValueError(f"the lecture has Example 1 and Example 2, not {number!r}")
    x, _ = layer.inverse(rng.standard_normal((int(n), layer.dim)))
    return x


def plot_example(number, out_dir="figures", n=100_000, rng=0):
    """Draw Example ``number`` (1 or 2): histogram of x = f^{-1}(z) vs the analytic p_x(x).

    Returns the path of the PNG written (``example1.png`` or ``example2.png`` in ``out_dir``).
    """
    x = sample_example(number, n, rng)
    if number == 1:
        fig, ax = plt.subplots(figsize=(6, 4))
        grid = np.linspace(-3, 13, 400)
        ax.hist(x[:, 0], bins=80, range=(-3, 13), density=True, alpha=0.5,
                label="Эксперимент / experiment: x = f⁻¹(z) = 2z + 5")
        ax.plot(grid, example1_density(grid), "k", lw=2, label="Теория / theory: N(5, 2²)")
        ax.set_xlabel("x")
        ax.set_ylabel("p_x(x)")
        ax.set_title("Пример 1 / Example 1: z = 0.5x − 2.5")
        ax.set_ylim(0, 0.26)
        ax.legend(loc="upper left", fontsize=8)
        return _save(fig, out_dir, "example1.png")

    x1_range, x2_range = (0.0, 4.0), (-4.0, 6.0)
    fig, (ax_exp, ax_theory) = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True)
    ax_exp.hist2d(x[:, 0], x[:, 1], bins=120, range=[x1_range, x2_range], density=True, cmap="viridis")
    ax_exp.set_title("Эксперимент / experiment: x = f⁻¹(z)")
    g1, g2 = np.meshgrid(np.linspace(*x1_range, 300)[1:], np.linspace(*x2_range, 300))
    ax_theory.pcolormesh(g1, g2, example2_density(g1, g2), shading="auto", cmap="viridis")
    ax_theory.set_title("Теория / theory: p_x(x) from the slide")
    for ax in (ax_exp, ax_theory):
        ax.set_xlabel("x1")
    ax_exp.set_ylabel("x2")
    fig.suptitle("Пример 2 / Example 2: z1 = ln x1, z2 = x2 − 2 ln x1")
    return _save(fig, out_dir, "example2.png")


# ---------------------------------------------------------------------------- trained flows
# Figures of a trained flow (2-D data; density and samples also 1-D). Each returns the PNG's path.

def _bounds(points, pad=0.15):
    """Axis limits around the bulk of ``points`` (N, 2): 0.5–99.5 percentiles, padded."""
    low, high = np.percentile(points, [0.5, 99.5], axis=0)              # (2,), (2,)
    margin = pad * (high - low) + 1e-9
    return low - margin, high + margin


def _subsample(points, n_max=3000, seed=0):
    if len(points) <= n_max:
        return points
    return points[np.random.default_rng(seed).choice(len(points), n_max, replace=False)]


def _grid(low, high, resolution):
    """A resolution × resolution grid over [low, high]; returns the mesh pair and the (R², 2) points."""
    g1, g2 = np.meshgrid(np.linspace(low[0], high[0], resolution),
                         np.linspace(low[1], high[1], resolution))      # (R, R) each
    return g1, g2, np.column_stack([g1.ravel(), g2.ravel()])            # (R², 2)


def _check_plot_dim(flow, allowed):
    if flow.dim not in allowed:
        raise ValueError(f"this figure draws {' or '.join(f'{d}-D' for d in allowed)} flows; "
                         f"the flow has dimension {flow.dim}")


def plot_density(flow, data=None, out_dir="figures", filename="density.png", target=None,
                 resolution=200, title=None, limits=None):
    """The learned density p_x(x) = p_z(f(x)) |det ∂f/∂x| as a heatmap, with the data on top.

    With ``target`` (an object with ``log_prob``), a second panel shows the target density p*.
    ``limits = ((x1_min, x2_min), (x1_max, x2_max))`` fixes the square drawn (default: around the
    data, or around the flow's samples). For a 1-D flow: the density curve over a histogram.
    """
    _check_plot_dim(flow, (1, 2))
    reference = data if data is not None else flow.sample(5000, rng=0)
    reference = np.asarray(reference, dtype=np.float64)
    if flow.dim == 1:
        low, high = _bounds(np.column_stack([reference, reference]))
        grid = np.linspace(low[0], high[0], 400)[:, None]                # (400, 1)
        fig, ax = plt.subplots(figsize=(6, 4))
        if data is not None:
            ax.hist(data[:, 0], bins=60, density=True, alpha=0.4, label="data")
        ax.plot(grid[:, 0], np.exp(flow.log_prob(grid.astype(flow.dtype))), "k", lw=2,
                label="learned p_x(x)")
        ax.set_xlabel("x")
        ax.legend()
        ax.set_title(title or "Learned density / плотность модели")
        return _save(fig, out_dir, filename)

    low, high = _bounds(reference) if limits is None else (np.asarray(limits[0], float),
                                                          np.asarray(limits[1], float))
    g1, g2, points = _grid(low, high, resolution)
    density = np.exp(flow.log_prob(points.astype(flow.dtype))).reshape(g1.shape)   # (R, R)
    panels = [("Learned density p_x(x) / плотность модели", density)]
    if target is not None:
        log_target = target.log_prob(points).reshape(g1.shape)
        panels.append(("Target p*(x) (unnormalised) / целевая плотность",
                       np.exp(log_target - log_target.max())))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 4.6), squeeze=False,
                             gridspec_kw={"wspace": 0.45})
    for ax, (panel_title, values) in zip(axes[0], panels):
        top = np.percentile(values, 99.9)          # a few thin spikes must not wash out the rest
        mesh = ax.pcolormesh(g1, g2, values, shading="auto", cmap="magma", vmin=0.0,
                             vmax=top if top > 0 else None)
        ax.set_aspect("equal")
        colorbar_axis = make_axes_locatable(ax).append_axes("right", size="4%", pad=0.08)
        fig.colorbar(mesh, cax=colorbar_axis)                      # as tall as the picture
        if data is not None:
            shown = _subsample(data)
            ax.scatter(shown[:, 0], shown[:, 1], s=1.5, c="cyan", alpha=0.35, linewidths=0,
                       label="data")
            ax.legend(loc="upper right", fontsize=8, markerscale=6)
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    if title:
        fig.suptitle(title)
    return _save(fig, out_dir, filename)


def plot_samples(flow, data=None, out_dir="figures", filename="samples.png", n=3000, seed=0,
                 title=None):
    """Generation algorithm made visible: x = f^{-1}(z), z ~ N(0, I), next to the data."""
    _check_plot_dim(flow, (1, 2))
    samples = flow.sample(n, rng=seed)                                    # (n, D)
    if flow.dim == 1:
        fig, ax = plt.subplots(figsize=(6, 4))
        both = samples[:, 0] if data is None else np.concatenate([samples[:, 0], data[:, 0]])
        bins = np.linspace(*np.percentile(both, [0.5, 99.5]), 60)
        if data is not None:
            ax.hist(data[:, 0], bins=bins, density=True, alpha=0.5, label="data")
        ax.hist(samples[:, 0], bins=bins, density=True, alpha=0.5, label="samples x = f⁻¹(z)")
        ax.legend()
        ax.set_title(title or "Samples vs data / сгенерированные и реальные объекты")
        return _save(fig, out_dir, filename)
    panels = [] if data is None else [("Data / данные", _subsample(data, n), "tab:blue")]
    panels.append(("Samples x = f⁻¹(z), z ~ N(0, I) / генерация", samples, "tab:orange"))
    low, high = _bounds(np.concatenate([p for _, p, _ in panels]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 4.6), squeeze=False,
                             sharex=True, sharey=True)
    for ax, (panel_title, points, color) in zip(axes[0], panels):
        ax.scatter(points[:, 0], points[:, 1], s=2, c=color, alpha=0.5, linewidths=0)
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
        ax.set_xlabel("x1")
        ax.set_aspect("equal")
    axes[0][0].set_ylabel("x2")
    if title:
        fig.suptitle(title)
    return _save(fig, out_dir, filename)


def plot_layers(flow, data, out_dir="figures", filename="layers.png", n_points=2000, n_lines=11,
                max_columns=5):
    """Slide "Больше слоев!" / "More layers!": the data and a grid pushed through each layer.

    Panel 0 is x; panel k shows y_k = f_k(y_{k−1}); the last panel is z = f(x), which should look
    like N(0, I) (circles of radius 1, 2, 3 drawn). Points keep the colour of their position in x,
    so one can follow them from layer to layer.
    """
    _check_plot_dim(flow, (2,))
    points = _subsample(np.asarray(data, dtype=flow.dtype), n_points)   # (P, 2)
    colors = points[:, 0] + 0.5 * points[:, 1]                           # (P,) colour by position
    low, high = _bounds(points)
    line_t = np.linspace(0.0, 1.0, 100)                                  # (T,)
    lines = []                                                           # each (T, 2)
    for value in np.linspace(low[1], high[1], n_lines):
        lines.append(np.column_stack([low[0] + line_t * (high[0] - low[0]), np.full_like(line_t, value)]))
    for value in np.linspace(low[0], high[0], n_lines):
        lines.append(np.column_stack([np.full_like(line_t, value), low[1] + line_t * (high[1] - low[1])]))
    grid = np.concatenate(lines).astype(flow.dtype)                      # (2 L T, 2)

    stages = [("x (data) / данные", points, grid)]
    for k in range(len(flow.layers)):
        layer = flow.layers[k]
        points, _ = layer.forward(points)
        grid, _ = layer.forward(grid)
        label = f"after layer {k + 1}: {type(layer).__name__}"
        stages.append((label if k < len(flow.layers) - 1 else f"z = f(x) (layer {k + 1})",
                       points, grid))
    n_columns = min(max_columns, len(stages))
    n_rows = int(np.ceil(len(stages) / n_columns))
    fig, axes = plt.subplots(n_rows, n_columns, figsize=(3.0 * n_columns, 3.0 * n_rows), squeeze=False)
    for ax in axes.flat[len(stages):]:
        ax.axis("off")
    for ax, (label, stage_points, stage_grid) in zip(axes.flat, stages):
        for line in stage_grid.reshape(len(lines), len(line_t), 2):
            ax.plot(line[:, 0], line[:, 1], color="0.75", lw=0.5, zorder=1)
        ax.scatter(stage_points[:, 0], stage_points[:, 1], s=1.5, c=colors, cmap="viridis",
                   linewidths=0, zorder=2)
        panel_low, panel_high = _bounds(stage_points, pad=0.2)
        ax.set_xlim(panel_low[0], panel_high[0])
        ax.set_ylim(panel_low[1], panel_high[1])
        ax.set_title(label, fontsize=8)
        ax.tick_params(labelsize=6)
    final = axes.flat[len(stages) - 1]
    angle = np.linspace(0.0, 2.0 * np.pi, 200)
    for radius in (1, 2, 3):
        final.plot(radius * np.cos(angle), radius * np.sin(angle), "r--", lw=0.7, zorder=3)
    final.set_xlim(-3.5, 3.5)
    final.set_ylim(-3.5, 3.5)
    final.set_aspect("equal")
    fig.suptitle("Больше слоев! / More layers!  x → f₁ → f₂ → … → z  (red: circles of radius 1, 2, 3 "
                 "of N(0, I))", fontsize=10)
    fig.tight_layout()
    return _save(fig, out_dir, filename)


def plot_loss(history, out_dir="figures", filename="loss.png", smooth=50):
    """Training loss per step (raw and a moving average) and validation loss per evaluation."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    train_loss = np.asarray(history.train_loss, dtype=np.float64)       # (S,)
    steps = np.arange(1, len(train_loss) + 1)
    label = "NLL (nats)" if history.mode == "data" else "reverse KL + const (nats)"
    if len(train_loss):
        ax.plot(steps, train_loss, color="tab:blue", alpha=0.25, lw=0.8, label="train (minibatch)")
        window = max(1, min(smooth, len(train_loss) // 5))
        if window > 1:
            moving = np.convolve(train_loss, np.ones(window) / window, mode="valid")
            ax.plot(steps[window - 1:], moving, color="tab:blue", lw=1.8,
                    label=f"train (mean of {window} steps)")
        low, high = np.percentile(train_loss, [1, 99])                   # ignore the first spikes
        if history.val_loss:
            low, high = min(low, min(history.val_loss)), max(high, max(history.val_loss))
        ax.set_ylim(low - 0.05 * (high - low + 1e-9), high + 0.1 * (high - low + 1e-9))
    if history.val_loss:
        ax.plot(history.val_step, history.val_loss, "o-", color="tab:orange", ms=3,
                label="validation")
    if history.best_step is not None:
        ax.axvline(history.best_step, color="tab:green", ls="--", lw=1,
                   label=f"best: {history.best_val_loss:.3f} at step {history.best_step}")
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.set_title("Training / обучение: " + history.stopped[:60], fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out_dir, filename)


def plot_image_samples(flow, data, out_dir="figures", filename="samples.png", image_shape=(8, 8),
                       n=32, seed=0):
    """Real images next to generated ones (x = f^{-1}(z)) for pixel data such as the 8×8 digits.

    Pixels are shown on [0, 1]; samples are clipped to it for display only.
    """
    height, width = image_shape
    if flow.dim != height * width:
        raise ValueError(f"image_shape {image_shape} has {height * width} pixels but the flow is "
                         f"{flow.dim}-D")
    samples = flow.sample(n, rng=seed)                                     # (n, H*W)
    rows = [("Data / данные", data[:n]), ("Samples x = f⁻¹(z) / генерация", samples)]
    columns = 8
    fig, axes = plt.subplots(2 * (n // columns), columns, figsize=(columns * 0.9, 2 * (n // columns) * 0.95 + 0.6))
    for block, (title, images) in enumerate(rows):
        for k in range(n):
            ax = axes[block * (n // columns) + k // columns, k % columns]
            ax.imshow(np.clip(images[k].reshape(height, width), 0, 1), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[block * (n // columns), 0].set_title(title, loc="left", fontsize=9)
    return _save(fig, out_dir, filename)
