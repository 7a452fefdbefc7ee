"""Teaching figure: one learned rational-quadratic spline with its knots, above the data's marginal.

Beyond the lecture (see ``docs/splines.md``). The picture answers "what does a spline layer do to
one coordinate?": the curve y = Φ(x) with its knots (x_k, y_k) and slopes, the identity outside
[−B, B], and below it the histogram of the coordinate the spline reads, as the layer sees it (the
data pushed through the layers before it). Where the data are dense the spline is steep, spreading
them out toward N(0, 1); where they are sparse it is flat.
"""
import matplotlib.pyplot as plt
import numpy as np

from scratchflow.bijectors.spline import rq_forward
from scratchflow.bijectors.spline_autoregressive import SplineAutoregressive
from scratchflow.bijectors.spline_coupling import SplineCoupling
from scratchflow.nn.module import Cache
from scratchflow.plotting.figure import CURVE_POINTS, save_figure


def spline_layers(flow):
    """Positions of the flow's spline layers (coupling or autoregressive), in order."""
    return [index for index, layer in enumerate(flow.layers.layers)
            if isinstance(layer, (SplineCoupling, SplineAutoregressive))]


def learned_spline(flow, data, layer_index=None):
    """The first spline layer's spline for one coordinate, at the median point it sees.

    Returns ``(layer_index, dimension, knots, inputs)``: ``knots`` is a one-row record (x_knots,
    y_knots, slopes (1, K + 1), bound), ``inputs`` (N,) the values of that coordinate reaching the
    layer. A coupling layer shows its first transformed dimension (conditioned on the median of
    the others), an autoregressive one the first dimension of its ordering (which reads nothing).
    """
    layers = list(flow.layers.layers)
    splines = spline_layers(flow)
    if not splines:
        raise ValueError("the flow has no spline layer (build it with --model nsf or nsf-ar)")
    index = splines[0] if layer_index is None else int(layer_index)
    if index not in splines:
        raise ValueError(f"layer {index} is not a spline layer; spline layers: {splines}")
    points = np.asarray(data, dtype=flow.dtype)                      # (N, D)
    for layer in layers[:index]:
        points = layer.forward(points)[0]                            # (N, D) as layer index sees them
    layer = layers[index]
    knots = layer.spline_knots(np.median(points, axis=0)[None, :])  # rows: one per coordinate
    if isinstance(layer, SplineCoupling):
        dimension, row = int(layer.moved_index[0]), 0
    else:
        dimension = row = int(layer.order[0])
    one = Cache(x_knots=knots.x_knots[row:row + 1], y_knots=knots.y_knots[row:row + 1],
                slopes=knots.slopes[row:row + 1], bound=knots.bound)
    return index, dimension, one, points[:, dimension]


def _repeat(knots, n):
    """The one-row knots repeated for n inputs (the spline functions take one row per input)."""
    return Cache(x_knots=np.repeat(knots.x_knots, n, axis=0), y_knots=np.repeat(knots.y_knots, n, axis=0),
                 slopes=np.repeat(knots.slopes, n, axis=0), bound=knots.bound)


def plot_learned_spline(flow, data, out_dir="figures", filename="spline.png", layer_index=None):
    """Draw :func:`learned_spline`'s spline (top) over the histogram of its input (bottom).

    Returns the path of the PNG written. The figure counts layers and dimensions from 1, as
    ``layers.png`` does (``layer_index`` is the 0-based position in ``flow.layers``).
    """
    index, dimension, knots, inputs = learned_spline(flow, data, layer_index)
    bound = knots.bound
    grid = np.linspace(-bound - 1.5, bound + 1.5, CURVE_POINTS)      # (G,) interval and both tails
    values = rq_forward(grid, _repeat(knots, grid.size))[0]          # (G,)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1.3]})
    top.axvspan(-bound, bound, color="0.93", label=f"spline on [−B, B], B = {bound:g}")
    top.plot(grid, grid, ":", color="0.5", lw=1, label="identity (the tails)")
    top.plot(grid, values, color="C0", lw=2, label="y = Φ(x), rational-quadratic")
    top.plot(knots.x_knots[0], knots.y_knots[0], "o", color="C3", ms=5,
             label=f"knots (x_k, y_k), K = {knots.x_knots.shape[1] - 1} bins")
    for x_k, y_k, slope in zip(knots.x_knots[0], knots.y_knots[0], knots.slopes[0]):
        span = 0.25
        top.plot([x_k - span, x_k + span], [y_k - slope * span, y_k + slope * span], color="C3",
                 lw=1)                                               # the slope δ_k at each knot
    top.set_ylabel(f"z_{dimension + 1} = Φ(x_{dimension + 1})")
    top.set_title(f"layer {index + 1} of {len(flow.layers)}: the learned spline of dimension "
                  f"{dimension + 1}")                                # both counted from 1
    top.legend(loc="upper left", fontsize=8)
    bottom.hist(inputs, bins=80, range=(grid[0], grid[-1]), density=True, color="C2", alpha=0.6)
    for x_k in knots.x_knots[0]:
        bottom.axvline(x_k, color="C3", lw=0.5, alpha=0.6)
    bottom.set_xlabel(f"x_{dimension + 1} (input of layer {index + 1})")
    bottom.set_ylabel("data marginal")
    return save_figure(fig, out_dir, filename)
