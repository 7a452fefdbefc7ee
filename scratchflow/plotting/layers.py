"""Slide "Больше слоев!" / "More layers!": data and a grid pushed through each layer of a 2-D flow."""
import matplotlib.pyplot as plt
import numpy as np

from scratchflow.plotting.figure import CURVE_POINTS, bounds, check_plot_dim, save_figure, subsample


def plot_layers(flow, data, out_dir="figures", filename="layers.png", n_points=2000, n_lines=11,
                max_columns=5, input_label="x (data) / данные"):
    """Slide "Больше слоев!" / "More layers!": the data and a grid pushed through each layer.

    Panel 0 is x, titled ``input_label`` (a reverse-KL run has no data: it passes the flow's own
    samples and says so); panel k shows y_k = f_k(y_{k−1}); the last panel is z = f(x), which should look
    like N(0, I) (circles of radius 1, 2, 3 drawn). Points keep the colour of their position in x,
    so one can follow them from layer to layer.

    Defaults: ``n_points=2000`` points of the data drawn, ``n_lines=11`` grid lines each way,
    ``max_columns=5`` panels a row.
    """
    check_plot_dim(flow, (2,))
    points = subsample(np.asarray(data, dtype=flow.dtype), n_points)   # (P, 2)
    colors = points[:, 0] + 0.5 * points[:, 1]                           # (P,) colour by position
    low, high = bounds(points)
    line_t = np.linspace(0.0, 1.0, CURVE_POINTS)                         # (T,)
    lines = []                                                           # each (T, 2)
    for value in np.linspace(low[1], high[1], n_lines):
        lines.append(np.column_stack([low[0] + line_t * (high[0] - low[0]), np.full_like(line_t, value)]))
    for value in np.linspace(low[0], high[0], n_lines):
        lines.append(np.column_stack([np.full_like(line_t, value), low[1] + line_t * (high[1] - low[1])]))
    grid = np.concatenate(lines).astype(flow.dtype)                      # (2 L T, 2)

    stages = [(input_label, "x", points, grid)]
    for k in range(len(flow.layers)):
        layer = flow.layers[k]
        points, _ = layer.forward(points)
        grid, _ = layer.forward(grid)
        last = k == len(flow.layers) - 1
        label = f"z = f(x) (layer {k + 1})" if last else f"after layer {k + 1}: {type(layer).__name__}"
        stages.append((label, "z" if last else f"y^{{({k + 1})}}", points, grid))
    axes, fig = _panel_grid(len(stages), max_columns)
    for ax, (label, letter, stage_points, stage_grid) in zip(axes, stages):
        for line in stage_grid.reshape(len(lines), len(line_t), 2):
            ax.plot(line[:, 0], line[:, 1], color="0.75", lw=0.5, zorder=1)
        ax.scatter(stage_points[:, 0], stage_points[:, 1], s=1.5, c=colors, cmap="viridis",
                   linewidths=0, zorder=2)
        panel_low, panel_high = bounds(stage_points, pad=0.2)
        ax.set_xlim(panel_low[0], panel_high[0])
        ax.set_ylim(panel_low[1], panel_high[1])
        ax.set_title(label, fontsize=8)
        ax.set_xlabel(f"${letter}_1$", fontsize=7, labelpad=1)
        ax.set_ylabel(f"${letter}_2$", fontsize=7, labelpad=1)
        ax.tick_params(labelsize=6)
    final = axes[-1]
    angle = np.linspace(0.0, 2.0 * np.pi, CURVE_POINTS)
    for radius in (1, 2, 3):
        final.plot(radius * np.cos(angle), radius * np.sin(angle), "r--", lw=0.7, zorder=3)
    final.set_xlim(-3.5, 3.5)
    final.set_ylim(-3.5, 3.5)
    final.set_aspect("equal")
    fig.suptitle("Больше слоев! / More layers!  x → f₁ → f₂ → … → z  (red: circles of radius 1, 2, 3 "
                 "of N(0, I))", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_dir, filename)


def _panel_grid(count, max_columns):
    """``count`` panels in rows of at most ``max_columns``, rows as even as possible and a shorter
    last row centred: no empty slot. Returns (the axes in reading order, the figure)."""
    n_rows = int(np.ceil(count / max_columns))
    per_row = int(np.ceil(count / n_rows))
    fig = plt.figure(figsize=(3.0 * per_row, 3.0 * n_rows))
    grid = fig.add_gridspec(n_rows, 2 * per_row)                 # a panel spans two half-columns
    axes = []
    for index in range(count):
        row, column = divmod(index, per_row)
        in_row = min(per_row, count - row * per_row)
        start = (per_row - in_row) + 2 * column                  # centre a shorter row
        axes.append(fig.add_subplot(grid[row, start:start + 2]))
    return axes, fig
