"""Each kind of figure, rendered and inspected (not just written): axis labels, labelled colorbars,
one colour scale where two panels are compared, finite limits that follow the data's bulk."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from scratchflow import ElementwiseAffine, Flow
from scratchflow.bijectors.examples import Example2Map
from scratchflow.data import load_dataset
from scratchflow.figure3 import model_configs
from scratchflow.models import build_model, build_realnvp
from scratchflow.plotting import (learned_spline, plot_density, plot_example, plot_image_samples,
                                  plot_layers, plot_learned_spline, plot_loss, plot_samples)
from scratchflow.plotting.figure3 import plot_figure3
from scratchflow.targets import load_target
from scratchflow.train import History


@pytest.fixture
def drawn(monkeypatch):
    """Call ``drawn(plot_function, *args)``: the figure it drew, kept open for inspection."""
    monkeypatch.setattr(plt, "close", lambda figure=None: None)       # save_figure closes it otherwise
    monkeypatch.setattr(Figure, "savefig", lambda figure, *args, **kwargs: None)   # test_plotting writes PNGs

    def draw(plot_function, *args, **kwargs):
        before = set(plt.get_fignums())
        plot_function(*args, **kwargs)
        (number,) = set(plt.get_fignums()) - before
        return plt.figure(number)

    yield draw
    monkeypatch.undo()
    plt.close("all")


def _panels(figure):
    """The drawing axes: visible, and not a colorbar."""
    colorbar_axes = {mesh.colorbar.ax for ax in figure.axes for mesh in ax.collections
                     if getattr(mesh, "colorbar", None) is not None}
    return [ax for ax in figure.axes if ax.axison and ax not in colorbar_axes]


def _colorbars(figure):
    """(mesh, colorbar) pairs: every heatmap and its colorbar (None if it has none)."""
    return [(mesh, mesh.colorbar) for ax in _panels(figure) for mesh in ax.collections
            if isinstance(mesh, QuadMesh)]


def _assert_readable(figure):
    for ax in _panels(figure):
        assert np.all(np.isfinite(ax.get_xlim() + ax.get_ylim())), ax.get_title()
        assert ax.get_xlabel() or ax.get_title(), "a panel with neither an x label nor a title"
    pairs = _colorbars(figure)
    for mesh, colorbar in pairs:          # its own colorbar, or one of a heatmap on the same scale
        colorbar = colorbar or next((other_bar for other, other_bar in pairs
                                     if other.norm is mesh.norm and other_bar is not None), None)
        assert colorbar is not None and colorbar.ax.get_ylabel(), "a heatmap without a labelled colorbar"


@pytest.fixture(scope="module")
def moons_flow():
    flow = build_realnvp(dim=2, n_layers=2, hidden=(8,), seed=0)
    return flow, load_dataset("moons", 300, rng=0)


def test_example_figures(tmp_path, drawn):
    figure = drawn(plot_example, 1, str(tmp_path), n=2000)
    _assert_readable(figure)
    assert figure.axes[0].get_ylabel() == "p_x(x)"
    figure = drawn(plot_example, 2, str(tmp_path), n=5000)
    _assert_readable(figure)
    (experiment, _), (theory, colorbar) = _colorbars(figure)
    assert experiment.norm is theory.norm                               # one colour scale for both
    assert "density" in colorbar.ax.get_ylabel()


def test_density_axes_follow_the_bulk_not_the_outliers(tmp_path, drawn, moons_flow):
    data, _ = Example2Map().inverse(np.random.default_rng(0).standard_normal((2000, 2)))   # (2000, 2)
    figure = drawn(plot_density, moons_flow[0], data, str(tmp_path), resolution=30)
    _assert_readable(figure)
    (ax,) = _panels(figure)
    assert ax.get_xlim()[1] < np.percentile(data[:, 0], 99.5)          # x1 = e^{z1}: a long tail
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    ((_, colorbar),) = _colorbars(figure)
    assert "density" in colorbar.ax.get_ylabel()


def test_density_with_a_target_panel_has_two_labelled_colorbars(tmp_path, drawn, moons_flow):
    class Blob:
        dim = 2

        def log_prob(self, x):
            return -0.5 * np.sum(x * x, axis=1)

    figure = drawn(plot_density, moons_flow[0], None, str(tmp_path), target=Blob(), resolution=20)
    _assert_readable(figure)
    assert len(_colorbars(figure)) == 2


def test_layers_first_panel_names_what_it_shows(tmp_path, drawn, moons_flow):
    flow, data = moons_flow
    figure = drawn(plot_layers, flow, data, str(tmp_path), n_points=100)
    _assert_readable(figure)
    assert "data" in _panels(figure)[0].get_title()
    figure = drawn(plot_layers, flow, flow.sample(100, rng=0), str(tmp_path), n_points=100,
                   input_label="x = f⁻¹(z) (samples)")
    assert "samples" in _panels(figure)[0].get_title()


def test_samples_figures(tmp_path, drawn, moons_flow):
    flow, data = moons_flow
    _assert_readable(drawn(plot_samples, flow, data, str(tmp_path), n=200))
    line = Flow([ElementwiseAffine(1, log_scale=[-0.7], shift=[-2.5])])
    _assert_readable(drawn(plot_samples, line, load_dataset("example1", 200, rng=0), str(tmp_path), n=200))
    digits_like = np.random.default_rng(0).random((16, 4))                 # (16, 4): 2x2 "images"
    square = Flow([ElementwiseAffine(4)])
    figure = drawn(plot_image_samples, square, digits_like, str(tmp_path), image_shape=(2, 2), n=8)
    assert all(np.all(np.isfinite(ax.get_xlim() + ax.get_ylim())) for ax in figure.axes)
    row_titles = [ax.get_title(loc="left") for ax in figure.axes if ax.get_title(loc="left")]
    assert [title.split()[0] for title in row_titles] == ["Data", "Samples"]   # images: no axes


def test_loss_curve_stays_readable_when_validation_explodes(tmp_path, drawn):
    train_loss = list(1.0 + 1.0 / np.arange(1, 201))                        # 2.0 ... 1.005
    history = History(mode="data", train_loss=train_loss, val_step=[50, 100, 150, 200],
                      val_loss=[1.3, 1.2, 5e3, np.inf], best_step=100, best_val_loss=1.2)
    figure = drawn(plot_loss, history, str(tmp_path))
    _assert_readable(figure)
    (ax,) = _panels(figure)
    low, high = ax.get_ylim()
    assert high < 3 and low < 1.05                                         # the training curve's scale
    assert any("above the scale" in text.get_text() for text in ax.get_legend().get_texts())
    assert ax.get_ylabel() == "NLL (nats)"


def test_spline_figure_labels_both_panels_and_shows_the_whole_interval(tmp_path, drawn):
    flow = build_model({"model": "nsf", "dim": 2, "n_layers": 1, "hidden": [4], "bins": 4,
                        "bound": 2.0})
    figure = drawn(plot_learned_spline, flow, load_dataset("moons", 200, rng=0), str(tmp_path))
    _assert_readable(figure)
    spline, histogram = _panels(figure)
    assert "Φ" in spline.get_ylabel() and histogram.get_ylabel() == "data marginal"
    low, high = spline.get_xlim()
    assert low < -2.0 and high > 2.0                                       # [−B, B] and both tails


def test_spline_figure_histogram_spans_the_interval_and_both_tails(tmp_path, drawn):
    """The bottom panel is the density histogram of the layer's inputs over the whole drawn range
    [−B − 1.5, B + 1.5] (the tails too, where the spline is the identity), not over the data's own
    range: its bars tile that range and their area is the share of inputs inside it."""
    flow = build_model({"model": "nsf", "dim": 2, "n_layers": 1, "hidden": [4], "bins": 4,
                        "bound": 2.0})
    figure = drawn(plot_learned_spline, flow, load_dataset("moons", 200, rng=0), str(tmp_path))
    _, histogram = _panels(figure)
    bars = histogram.patches[:80]
    lefts = np.array([bar.get_x() for bar in bars])
    widths = np.array([bar.get_width() for bar in bars])
    assert len(histogram.patches) == 80
    assert (lefts[0], lefts[-1] + widths[-1]) == pytest.approx((-3.5, 3.5))
    np.testing.assert_allclose(widths, 7.0 / 80)
    area = np.sum(widths * [bar.get_height() for bar in bars])
    assert area == pytest.approx(1.0)                      # moons' inputs all lie within ±3.5


def test_spline_figure_draws_each_knots_slope_through_the_knot(tmp_path, drawn):
    """The short red segments are the tangents of the spline at its knots: centred on (x_k, y_k),
    with slope δ_k."""
    flow = build_model({"model": "nsf", "dim": 2, "n_layers": 1, "hidden": [4], "bins": 4,
                        "bound": 2.0})
    for array in flow.params.values():
        array += np.random.default_rng(3).uniform(-0.5, 0.5, array.shape)
    data = load_dataset("moons", 200, rng=0)
    _, _, knots, _ = learned_spline(flow, data)
    figure = drawn(plot_learned_spline, flow, data, str(tmp_path))
    spline, _ = _panels(figure)
    segments = [line for line in spline.lines if len(line.get_xdata()) == 2]
    assert len(segments) == knots.x_knots.shape[1]
    for line, x_k, y_k, slope in zip(segments, knots.x_knots[0], knots.y_knots[0], knots.slopes[0]):
        (x0, x1), (y0, y1) = line.get_xdata(), line.get_ydata()
        assert (x0 + x1) / 2 == pytest.approx(x_k) and (y0 + y1) / 2 == pytest.approx(y_k)
        assert x1 > x0 and (y1 - y0) / (x1 - x0) == pytest.approx(slope)


def test_figure3_grid_shows_exp_minus_u_scaled_to_one_and_each_flows_density(tmp_path, drawn):
    """Rows: targets; columns: exp(−U) scaled to a maximum of 1, then q(x) of each fit on the same
    grid over [−4, 4]², every panel the same size (2.3 × 2.4 inches) whatever the column count."""
    columns = model_configs()[:2]
    flows = {("u2", label): build_model(config) for label, config in columns}
    results = {"panels": [{"target": "u2", "model": label, "kl": 0.25} for label, _ in columns]}
    figure = drawn(plot_figure3, flows, results, columns, ["u2"], str(tmp_path), 30)
    assert tuple(figure.get_size_inches()) == pytest.approx((2.3 * 3, 2.4))
    target_panel, *model_panels = figure.axes
    assert target_panel.get_ylabel() == "U2" and [ax.get_ylabel() for ax in model_panels] == ["", ""]
    grid = np.stack(np.meshgrid(np.linspace(-4, 4, 30), np.linspace(-4, 4, 30)), axis=-1).reshape(-1, 2)
    log_target = load_target("u2").log_prob(grid)
    np.testing.assert_allclose(np.ravel(target_panel.collections[0].get_array()),
                               np.exp(log_target - log_target.max()))
    for ax, (label, _) in zip(model_panels, columns):
        np.testing.assert_allclose(np.ravel(ax.collections[0].get_array()),
                                   np.exp(flows["u2", label].log_prob(grid)))
        assert ax.get_title() == f"{label}\nKL = 0.250"
