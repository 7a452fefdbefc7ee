"""What the figures show, read back from the Matplotlib objects before they are saved: the heatmap
is p_x on the grid, the samples panel shows the flow's samples, each layer panel the points pushed
through one more layer, the loss curve the history. (``test_plotting.py`` checks the PNGs exist.)"""
import matplotlib
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Flow
from scratchflow.history import History
from scratchflow.models import build_realnvp
from scratchflow.plotting import density, layers, loss, samples
from scratchflow.plotting.figure import bounds
from tests.kept_figures import kept_figures

matplotlib.use("Agg")


@pytest.fixture
def figures(monkeypatch):
    """Keep each figure instead of saving it; close them all afterwards."""
    with kept_figures(monkeypatch, density, layers, loss, samples) as kept:
        yield kept


def _flow(dim=2):
    return Flow(ElementwiseAffine(dim, log_scale=[0.3, -0.2][:dim], shift=[1.0, -0.5][:dim]))


def _data(dim=2, n=400):
    return np.random.default_rng(0).normal(size=(n, dim)) * 1.5 + 0.5


def test_density_heatmap_is_p_x_on_the_grid_and_the_target_panel_is_scaled_to_one(figures):
    flow, data = _flow(), _data()

    class Target:
        def log_prob(self, x):
            return -0.5 * np.sum(x ** 2, axis=1) + 7.0
    density.plot_density(flow, data, target=Target(), resolution=30)
    model_axis, target_axis = [ax for ax in figures[0].axes if ax.get_title()][:2]
    mesh = model_axis.collections[0]
    low, high = bounds(data, pad=0.1, percentiles=(1, 99))         # the bulk of the data
    g1, g2 = np.meshgrid(np.linspace(low[0], high[0], 30), np.linspace(low[1], high[1], 30))
    expected = np.exp(flow.log_prob(np.column_stack([g1.ravel(), g2.ravel()])))
    np.testing.assert_allclose(np.ravel(mesh.get_array()), expected)
    assert mesh.get_clim() == pytest.approx((0.0, np.percentile(expected, 99.9)))   # spikes clipped
    assert model_axis.get_xlim() == pytest.approx((low[0], high[0]))
    assert model_axis.get_ylim() == pytest.approx((low[1], high[1]))
    assert len(model_axis.collections) == 2                      # heatmap and data points
    np.testing.assert_array_equal(model_axis.collections[1].get_offsets(), data)
    target_values = np.ravel(target_axis.collections[0].get_array())
    assert target_values.max() == pytest.approx(1.0) and target_values.min() > 0.0


def test_density_limits_and_no_data(figures):
    density.plot_density(_flow(), None, limits=((-1.0, -2.0), (1.0, 2.0)), resolution=5)
    (axis,) = [ax for ax in figures[0].axes if ax.get_title()]
    assert len(axis.collections) == 1                             # no data points drawn
    coordinates = axis.collections[0].get_coordinates()           # (R + 1, R + 1, 2) cell edges
    assert coordinates[..., 0].min() < -1.0 < coordinates[..., 0].max() < 1.5
    assert coordinates[..., 1].min() < -2.0 < 2.0 < coordinates[..., 1].max() < 2.6


def test_one_dimensional_density_is_the_curve_over_the_histogram(figures):
    flow, data = _flow(1), _data(1)
    density.plot_density(flow, data)
    axis = figures[0].axes[0]
    (line,) = axis.lines
    x, y = line.get_data()
    np.testing.assert_allclose(y, np.exp(flow.log_prob(x[:, None])))
    low, high = bounds(np.column_stack([data, data]))
    assert (x[0], x[-1]) == pytest.approx((low[0], high[0]))
    assert len(axis.patches) > 10                                 # the data histogram
    density.plot_density(flow, None)
    assert len(figures[1].axes[0].patches) == 0


def test_samples_panel_shows_the_flows_samples(figures):
    flow, data = _flow(), _data()
    samples.plot_samples(flow, data, n=300, seed=4)
    data_axis, sample_axis = figures[0].axes
    np.testing.assert_allclose(sample_axis.collections[0].get_offsets(), flow.sample(300, rng=4))
    shown = np.asarray(data_axis.collections[0].get_offsets())
    assert len(shown) == 300                                      # data subsampled to n, no repeats
    assert len(np.unique(shown, axis=0)) == 300 and np.isin(shown[:, 0], data[:, 0]).all()
    low, high = bounds(np.concatenate([shown, flow.sample(300, rng=4)]))
    assert sample_axis.get_xlim() == pytest.approx((low[0], high[0]))
    samples.plot_samples(flow, None, n=50)
    assert len(figures[1].axes) == 1
    assert figures[0]._suptitle is None
    samples.plot_samples(flow, data, n=50, title="after 10 steps")
    assert figures[2]._suptitle.get_text() == "after 10 steps"


def test_one_dimensional_samples_histograms(figures):
    samples.plot_samples(_flow(1), _data(1), n=500)
    assert len(figures[0].axes[0].containers) == 2               # data and samples
    for bars in figures[0].axes[0].containers:                   # both drawn as densities
        widths = np.array([bar.get_width() for bar in bars])
        heights = np.array([bar.get_height() for bar in bars])
        assert np.sum(widths * heights) == pytest.approx(1.0, abs=0.02)
    assert figures[0].axes[0].get_title().startswith("Samples vs data")
    samples.plot_samples(_flow(1), _data(1), n=500, title="mine")
    assert figures[1].axes[0].get_title() == "mine"
    samples.plot_samples(_flow(1), None, n=500)
    assert len(figures[2].axes[0].containers) == 1


def test_layer_panels_follow_the_points_through_each_layer(figures):
    flow = build_realnvp(2, n_layers=3, hidden=(4,), seed=0)
    for value in flow.params.values():
        value += 0.3 * np.random.default_rng(1).standard_normal(value.shape)
    data = _data(n=50)
    layers.plot_layers(flow, data, n_lines=4)
    used = [ax for ax in figures[0].axes if ax.collections]
    assert len(used) == 4                                        # x and one panel per layer
    points = data
    np.testing.assert_allclose(used[0].collections[0].get_offsets(), points)
    for k, ax in enumerate(used[1:]):
        points, _ = flow.layers[k].forward(points)
        np.testing.assert_allclose(ax.collections[0].get_offsets(), points)
    for ax in used[:-1]:                                         # each panel framed on its points
        low, high = bounds(np.asarray(ax.collections[0].get_offsets()), pad=0.2)
        assert ax.get_xlim() == pytest.approx((low[0], high[0]))
        assert ax.get_ylim() == pytest.approx((low[1], high[1]))
    for ax in used:                                              # colour = position in x
        np.testing.assert_allclose(ax.collections[0].get_array(), data[:, 0] + 0.5 * data[:, 1])
    assert len(used[0].lines) == 2 * 4                           # the grid lines, over the data's box
    low, high = bounds(data)
    first_horizontal, first_vertical = used[0].lines[0], used[0].lines[4]
    assert first_horizontal.get_xdata()[[0, -1]] == pytest.approx([low[0], high[0]])
    np.testing.assert_allclose(first_horizontal.get_ydata(), low[1])
    assert first_vertical.get_ydata()[[0, -1]] == pytest.approx([low[1], high[1]])
    np.testing.assert_allclose(used[0].lines[7].get_xdata(), high[0])
    assert len(used[-1].lines) == 2 * 4 + 3                      # and the circles r = 1, 2, 3
    assert used[-1].get_xlim() == used[-1].get_ylim() == (-3.5, 3.5)
    circles = [line.get_xydata() for line in used[-1].lines[-3:]]
    np.testing.assert_allclose([np.hypot(*circle.T).mean() for circle in circles], [1.0, 2.0, 3.0])
    for radius, circle in zip((1, 2, 3), circles):                 # whole circles, from angle 0
        np.testing.assert_allclose(circle[[0, -1]], [[radius, 0.0], [radius, 0.0]], atol=1e-12)
    assert used[-1].get_title().startswith("z = f(x)") and "after layer 1" in used[1].get_title()
    assert len(figures[0].axes) == 4                             # one row of 4 panels
    assert [ax.get_xlabel() for ax in used] == ["$x_1$", "$y^{(1)}_1$", "$y^{(2)}_1$", "$z_1$"]
    assert [ax.get_ylabel() for ax in used] == ["$x_2$", "$y^{(1)}_2$", "$y^{(2)}_2$", "$z_2$"]
    layers.plot_layers(flow, data, n_lines=4, max_columns=3)     # 4 panels: 2 rows of 2, no blank
    assert len(figures[1].axes) == 4 and all(ax.axison for ax in figures[1].axes)
    flow5 = Flow([ElementwiseAffine(2) for _ in range(4)])       # 5 panels, 3 a row: 3 + 2 centred
    layers.plot_layers(flow5, data, n_lines=4, max_columns=3)
    boxes = [ax.get_position() for ax in figures[2].axes]
    assert len(boxes) == 5 and all(ax.axison for ax in figures[2].axes)
    second_row_centre = (boxes[3].x0 + boxes[4].x1) / 2
    assert second_row_centre == pytest.approx((boxes[0].x0 + boxes[2].x1) / 2, abs=0.02)


def test_loss_curve_smoothing_and_validation(figures):
    train_loss = list(np.linspace(5.0, 1.0, 100))
    history = History(mode="data", train_loss=train_loss, val_step=[50, 100], val_loss=[2.0, 1.5],
                      best_step=100, best_val_loss=1.5)
    loss.plot_loss(history, smooth=10)
    axis = figures[0].axes[0]
    raw, smoothed, validation, best = axis.lines
    np.testing.assert_array_equal(raw.get_xdata(), np.arange(1, 101))
    np.testing.assert_allclose(smoothed.get_ydata(), np.convolve(train_loss, np.ones(10) / 10, "valid"))
    assert smoothed.get_xdata()[0] == 10
    np.testing.assert_array_equal(validation.get_ydata(), [2.0, 1.5])
    assert best.get_xdata()[0] == 100
    # y range: the 1-99 % band of the training loss and every validation loss, 5 % margin below
    # and 10 % above (the first spikes of a real run must not squash the curve)
    low, high = min(np.percentile(train_loss, 1), 1.5), max(np.percentile(train_loss, 99), 2.0)
    span = high - low + 1e-9
    assert axis.get_ylim() == pytest.approx((low - 0.05 * span, high + 0.1 * span))
    loss.plot_loss(History(mode="target", train_loss=train_loss[:8]), smooth=10)
    assert len(figures[1].axes[0].lines) == 1                    # window 8 // 5 = 1: no smoothing
    assert "reverse KL" in figures[1].axes[0].get_ylabel()
    loss.plot_loss(History(mode="data", train_loss=list(np.ones(1000))))
    assert figures[2].axes[0].lines[1].get_label() == "train (mean of 50 steps)"   # the default


def test_example_figures_draw_the_slides_densities(figures, monkeypatch):
    from scratchflow.bijectors.examples import example1_density, example2_density
    from scratchflow.plotting import examples
    monkeypatch.setattr(examples, "save_figure", lambda fig, out_dir, name: figures.append(fig) or name)
    assert examples.plot_example(1, n=2000) == "example1.png"
    axis = figures[-1].axes[0]
    x, y = axis.lines[0].get_data()
    np.testing.assert_allclose(y, example1_density(x))
    assert (x[0], x[-1]) == (-3, 13) and axis.get_ylim()[1] > y.max()
    heights = [patch.get_height() for patch in axis.patches]
    assert sum(heights) * 16 / len(heights) == pytest.approx(1.0, abs=0.02)   # a density on [-3, 13]
    assert examples.plot_example(2, n=2000) == "example2.png"
    experiment, theory = figures[-1].axes[:2]
    mesh = theory.collections[0]
    coordinates = mesh.get_coordinates()
    assert coordinates[..., 0].min() > 0.0                       # x1 > 0 only: z1 = ln x1
    g1, g2 = np.meshgrid(np.linspace(0.0, 4.0, 300)[1:], np.linspace(-4.0, 6.0, 300))
    np.testing.assert_allclose(np.ravel(mesh.get_array()), np.ravel(example2_density(g1, g2)))
    histogram_edges = experiment.collections[0].get_coordinates()          # hist2d on the box
    assert (histogram_edges[..., 0].min(), histogram_edges[..., 0].max()) == (0.0, 4.0)
    assert (histogram_edges[..., 1].min(), histogram_edges[..., 1].max()) == (-4.0, 6.0)


def test_example2_panels_share_one_box_and_its_y_axis(figures, monkeypatch):
    """Experiment and theory are drawn on the same (x1, x2) box with one y axis: equal limits, and
    the theory panel does not repeat the x2 tick labels."""
    from scratchflow.plotting import examples
    monkeypatch.setattr(examples, "save_figure", lambda fig, out_dir, name: figures.append(fig) or name)
    examples.plot_example(2, n=500)
    experiment, theory = figures[-1].axes[:2]
    figures[-1].canvas.draw()
    assert experiment.get_xlim() == theory.get_xlim() and experiment.get_ylim() == theory.get_ylim()
    assert experiment.yaxis.get_major_ticks()[0].label1.get_visible()
    assert not any(tick.label1.get_visible() for tick in theory.yaxis.get_major_ticks())


def test_one_dimensional_density_histogram_is_a_density(figures):
    """The data under the learned curve is drawn as a density (area 1), on the curve's scale."""
    density.plot_density(_flow(1), _data(1))
    (bars,) = figures[0].axes[0].containers
    widths = np.array([bar.get_width() for bar in bars])
    heights = np.array([bar.get_height() for bar in bars])
    assert np.sum(widths * heights) == pytest.approx(1.0)


def test_example2_histogram_is_count_over_n_times_bin_area(figures, monkeypatch):
    """Each cell of the experiment panel is (samples in it) / (n · cell area), n counting the
    samples outside the box too: the panel's mass is the share of samples inside the box."""
    from scratchflow.plotting import examples
    monkeypatch.setattr(examples, "save_figure", lambda fig, out_dir, name: figures.append(fig) or name)
    examples.plot_example(2, n=3000, rng=4)
    experiment = figures[-1].axes[0]
    values = np.ravel(experiment.collections[0].get_array())                 # (100 · 100,)
    x = examples.sample_example(2, 3000, 4)                                  # the same draws
    inside = np.mean((x[:, 0] >= 0) & (x[:, 0] <= 4) & (x[:, 1] >= -4) & (x[:, 1] <= 6))
    assert values.sum() * (4.0 / 100) * (10.0 / 100) == pytest.approx(inside)
    assert set(np.round(values * 3000 * 0.004, 9)) <= set(np.arange(3001.0))  # whole counts


def test_layer_figure_reference_circles_are_single_closed_loops(figures):
    """The last panel (the latent) carries the circles of radius 1, 2, 3 of N(0, I): each one
    closed loop, drawn once."""
    flow = build_realnvp(2, n_layers=2, hidden=(4,), seed=0)
    layers.plot_layers(flow, _data(), n_points=200)
    final = [ax for ax in figures[0].axes if ax.lines][-1]
    circles = [line for line in final.lines if line.get_linestyle() == "--"]
    assert len(circles) == 3
    for radius, line in zip((1, 2, 3), circles):
        x, y = (np.asarray(values, dtype=float) for values in line.get_data())
        np.testing.assert_allclose(np.hypot(x, y), radius)
        turned = np.unwrap(np.arctan2(y, x))
        assert turned[-1] - turned[0] == pytest.approx(2 * np.pi)             # once around
        assert np.all(np.diff(turned) > 0)


def test_loss_curve_smoothing_window_is_at_most_a_fifth_of_the_steps(figures):
    loss.plot_loss(History(mode="data", train_loss=list(np.linspace(5.0, 1.0, 60))), smooth=50)
    raw, smoothed = figures[0].axes[0].lines
    assert smoothed.get_label() == "train (mean of 12 steps)" and len(smoothed.get_xdata()) == 49
