"""Image figures and per-class figures, read back from the Axes: each image drawn in its own cell,
row-major, pixels clipped to [0, 1]; one row (or panel) per class showing that class's samples; the
limits of the point panels contain every point with a margin."""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Flow
from scratchflow.cli.conditional import one_hot
from scratchflow.models import build_model
from scratchflow.plotting import conditional, density, examples, layers, samples
from scratchflow.plotting.figure import bounds
from tests.kept_figures import kept_figures

matplotlib.use("Agg")


@pytest.fixture
def figures(monkeypatch):
    """Keep each figure instead of saving it; close them all afterwards."""
    with kept_figures(monkeypatch, conditional, density, examples, layers, samples) as kept:
        yield kept


def _image(ax):
    (image,) = ax.get_images()
    return np.asarray(image.get_array())


def _conditional_flow(dim, classes=3):
    flow = build_model({"model": "realnvp", "dim": dim, "n_layers": 2, "hidden": [4], "seed": 0,
                        "context_dim": classes})
    rng = np.random.default_rng(5)
    for array in flow.params.values():
        array += 0.5 * rng.standard_normal(array.shape)
    return flow


def test_image_samples_draw_each_image_in_its_own_cell_row_major_clipped_to_one(figures):
    """Rows of 8: the data's first n images, then n samples x = f^{-1}(z), image k of a block in
    row k // 8 and column k % 8; pixels outside [0, 1] (noise, samples) are clipped for display."""
    flow = Flow(ElementwiseAffine(4, log_scale=[0.5] * 4, shift=[0.4, 0.6, -0.2, 1.1]))
    data = np.random.default_rng(1).normal(0.5, 0.8, size=(40, 4))        # (40, 4), outside [0, 1] too
    samples.plot_image_samples(flow, data, image_shape=(2, 2), n=16, seed=3)
    grid = np.array(figures[0].axes).reshape(4, 8)                     # 2 blocks x (16 / 8) rows
    generated = flow.sample(16, rng=3)                                 # (16, 4)
    for block, images in enumerate((data[:16], generated)):
        for k in range(16):
            shown = _image(grid[2 * block + k // 8, k % 8])
            np.testing.assert_array_equal(shown, np.clip(images[k].reshape(2, 2), 0.0, 1.0))
    assert np.ptp(generated) > 1.0 and np.ptp(data[:16]) > 1.0           # the clip had work to do
    titled = [ax.get_title(loc="left") for ax in grid[:, 0]]
    assert [title.split()[0] if title else "" for title in titled] == ["Data", "", "Samples", ""]


def test_image_samples_refuse_a_shape_that_is_not_the_flows_dimension():
    with pytest.raises(ValueError, match=r"image_shape \(3, 3\) has 9 pixels but the flow is 4-D"):
        samples.plot_image_samples(Flow(ElementwiseAffine(4)), np.zeros((8, 4)), image_shape=(3, 3))


def test_conditional_images_draw_row_k_from_class_k(figures):
    """Row k holds ``per_class`` samples of p(x | class k), seeded seed + k, clipped to [0, 1]."""
    flow = _conditional_flow(dim=4)
    conditional.plot_conditional_images(flow, image_shape=(2, 2), per_class=5, seed=7)
    grid = np.array(figures[0].axes).reshape(3, 5)
    for k in range(3):
        drawn = flow.sample(5, rng=7 + k, context=one_hot([k], 3)[0])   # (5, 4)
        for j in range(5):
            np.testing.assert_array_equal(_image(grid[k, j]), np.clip(drawn[j].reshape(2, 2), 0.0, 1.0))
        assert grid[k, 0].get_ylabel() == str(k)
    shown = np.concatenate([_image(ax).ravel() for ax in grid.flat])
    assert shown.min() == 0.0 and shown.max() == 1.0                    # clipped, not rescaled


def test_conditional_samples_one_panel_per_class_on_one_box_holding_every_point(figures):
    """The data coloured by class, then one panel per class k with samples of p(x | class k)
    (seed + k), every panel on the same limits, which contain the bulk of all points with a margin."""
    flow = _conditional_flow(dim=2, classes=2)
    data = np.random.default_rng(2).normal(size=(60, 2))
    labels = np.arange(60) % 2
    conditional.plot_conditional_samples(flow, data, labels, n=200, seed=4)
    axes = figures[0].axes
    assert len(axes) == 3
    np.testing.assert_array_equal(axes[0].collections[0].get_offsets(), data)
    drawn = [flow.sample(200, rng=4 + k, context=one_hot([k], 2)[0]) for k in range(2)]
    for ax, points in zip(axes[1:], drawn):
        np.testing.assert_allclose(ax.collections[0].get_offsets(), points)
    colours = [np.unique(ax.collections[0].get_facecolors()[:, :3], axis=0) for ax in axes]
    assert len(colours[0]) == 2                                         # data: one colour per class
    assert len(colours[1]) == len(colours[2]) == 1 and not np.allclose(colours[1], colours[2])
    everything = np.concatenate([data, *drawn])
    low, high = np.percentile(everything, [0.5, 99.5], axis=0)
    for ax in axes:
        (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
        assert x_low < low[0] and x_high > high[0] and y_low < low[1] and y_high > high[1]
        assert (x_low, x_high, y_low, y_high) == axes[0].get_xlim() + axes[0].get_ylim()
    width, height = figures[0].get_size_inches()
    assert width > height                                               # three panels in one row
    conditional.plot_conditional_samples(flow, n=50)                    # no data: class panels only
    assert len(figures[1].axes) == 2


def test_conditional_samples_figure_fits_its_equal_aspect_panels_without_a_gap(figures):
    """The figure's height follows the box's aspect (x1 spans three times x2 here): drawn with
    equal aspect, the panels fill the width, and above and below them is no more blank than the
    title and the tick labels take."""
    flow = _conditional_flow(dim=2, classes=2)
    data = np.random.default_rng(2).normal(size=(60, 2)) * [3.0, 1.0]    # a wide box
    conditional.plot_conditional_samples(flow, data, np.arange(60) % 2, n=200, seed=4)
    fig = figures[0]
    fig.canvas.draw()
    boxes = [ax.get_position() for ax in fig.axes]                      # after the equal aspect
    width, height = fig.get_size_inches()
    assert sum(box.width for box in boxes) > 0.85                       # no blank beside them
    assert height * (1.0 - boxes[0].height) < 1.2                       # inches: title and ticks
    for box, ax in zip(boxes, fig.axes):
        (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
        assert box.height * height / (box.width * width) == pytest.approx(
            (y_high - y_low) / (x_high - x_low), rel=1e-6)                 # equal aspect


def test_sample_panels_frame_each_axis_on_its_own_bulk(figures):
    """x1 spans ten times x2: each axis gets the padded bulk of its own coordinate, on both panels."""
    flow = Flow(ElementwiseAffine(2, log_scale=[1.5, -0.8], shift=[4.0, -1.0]))
    data = np.random.default_rng(0).normal(size=(500, 2)) * [4.0, 0.4] + [4.0, -1.0]
    samples.plot_samples(flow, data, n=500, seed=1)
    shown = np.concatenate([np.asarray(ax.collections[0].get_offsets()) for ax in figures[0].axes])
    low, high = np.percentile(shown, [0.5, 99.5], axis=0)
    margin = 0.15 * (high - low)
    for ax in figures[0].axes:
        assert ax.get_xlim() == pytest.approx((low[0] - margin[0], high[0] + margin[0]))
        assert ax.get_ylim() == pytest.approx((low[1] - margin[1], high[1] + margin[1]))


def test_titles_given_replace_the_default_ones(figures):
    one_d = Flow(ElementwiseAffine(1))
    density.plot_density(one_d, None, title="my density")
    density.plot_density(one_d, None)
    assert figures[0].axes[0].get_title() == "my density"
    assert figures[1].axes[0].get_title().startswith("Learned density")
    flow = _conditional_flow(dim=2, classes=2)
    conditional.plot_conditional_samples(flow, n=20, title="my classes")
    conditional.plot_conditional_samples(flow, n=20)
    assert figures[2]._suptitle.get_text() == "my classes"
    assert figures[3]._suptitle.get_text().startswith("Conditional flow")


def test_density_panels_keep_their_size_when_the_target_panel_is_added(figures):
    class Target:
        def log_prob(self, x):
            return -0.5 * np.sum(x ** 2, axis=1)
    flow = Flow(ElementwiseAffine(2))
    density.plot_density(flow, None, resolution=10)
    density.plot_density(flow, None, target=Target(), resolution=10)
    (one_width, one_height), (two_width, two_height) = [fig.get_size_inches() for fig in figures]
    assert two_width == pytest.approx(2 * one_width) and two_height == pytest.approx(one_height)


def test_density_concentrated_on_one_grid_point_is_scaled_to_its_peak(figures):
    """The colour scale stops at the 99.9th percentile so that a few spikes do not wash out the
    rest; when the spike is all there is (every other grid value underflows to 0), it is the
    scale."""
    flow = Flow(ElementwiseAffine(2, log_scale=[8.0, 8.0]))              # std e^-8 around 0
    density.plot_density(flow, None, limits=((-1.0, -1.0), (1.0, 1.0)), resolution=51)
    mesh = figures[0].axes[0].collections[0]
    values = np.ravel(mesh.get_array())
    assert np.count_nonzero(values) == 1                                 # only the origin
    assert mesh.get_clim() == (0.0, values.max())


def test_example1_axis_starts_at_zero_and_its_curve_fills_most_of_the_height(figures):
    examples.plot_example(1, n=500)
    axis = figures[0].axes[0]
    _, curve = axis.lines[0].get_data()
    bottom, top = axis.get_ylim()
    assert bottom == 0.0 and 0.7 * top < curve.max() < top              # room for the legend only


def test_figure3_grid_has_one_row_per_target_each_as_tall_as_one(monkeypatch, tmp_path):
    """Two targets, two columns: a 2 x 3 grid (exp(−U) first), the figure twice as tall as one row."""
    from scratchflow.figure3 import model_configs
    from scratchflow.plotting import figure3 as plotting_figure3
    kept = []
    monkeypatch.setattr(plotting_figure3, "write_atomically", lambda path, write: path)
    monkeypatch.setattr(plotting_figure3.plt, "close", kept.append)
    columns = model_configs()[:2]
    flows = {(name, label): build_model(config) for name in ("u1", "u2") for label, config in columns}
    results = {"panels": [{"target": name, "model": label, "kl": 0.5}
                          for name in ("u1", "u2") for label, _ in columns]}
    plotting_figure3.plot_figure3(flows, results, columns, ["u1", "u2"], str(tmp_path), resolution=8)
    (fig,) = kept
    monkeypatch.undo()
    plt.close(fig)
    assert tuple(fig.get_size_inches()) == pytest.approx((2.3 * 3, 2.4 * 2))
    assert [ax.get_ylabel() for ax in fig.axes[::3]] == ["U1", "U2"] and len(fig.axes) == 6


def test_layer_grid_lines_cover_the_data_box_evenly_in_each_coordinate(figures):
    """The first panel's grid: n_lines horizontal lines at even heights from the box's bottom to its
    top, then n_lines vertical ones at even x from its left to its right (x1 spans 5 times x2)."""
    data = np.random.default_rng(3).normal(size=(300, 2)) * [5.0, 1.0] + [2.0, -3.0]
    layers.plot_layers(Flow(ElementwiseAffine(2)), data, n_lines=5)
    low, high = bounds(data)
    grid_lines = figures[0].axes[0].lines
    assert len(grid_lines) == 10
    heights = [line.get_ydata()[0] for line in grid_lines[:5]]
    lefts = [line.get_xdata()[0] for line in grid_lines[5:]]
    np.testing.assert_allclose(heights, np.linspace(low[1], high[1], 5))
    np.testing.assert_allclose(lefts, np.linspace(low[0], high[0], 5))
    for line in grid_lines[:5]:
        assert np.ptp(line.get_ydata()) == 0 and line.get_xdata()[[0, -1]] == pytest.approx([low[0], high[0]])
    for line in grid_lines[5:]:
        assert np.ptp(line.get_xdata()) == 0 and line.get_ydata()[[0, -1]] == pytest.approx([low[1], high[1]])


def test_layer_panels_keep_one_size_however_they_are_arranged(figures):
    """Four panels in one row or in two rows of two: every panel gets the same square of the
    figure."""
    flow = Flow([ElementwiseAffine(2) for _ in range(3)])
    data = np.random.default_rng(0).normal(size=(40, 2))
    layers.plot_layers(flow, data, n_lines=2)
    layers.plot_layers(flow, data, n_lines=2, max_columns=3)
    (one_width, one_height), (two_width, two_height) = [fig.get_size_inches() for fig in figures]
    assert one_width / 4 == pytest.approx(one_height) == pytest.approx(two_width / 2) \
        == pytest.approx(two_height / 2)


def test_one_dimensional_sample_histograms_share_bins_over_the_central_99_percent(figures):
    flow = Flow(ElementwiseAffine(1, log_scale=[0.4], shift=[2.0]))
    data = np.random.default_rng(4).normal(size=(400, 1)) * 3.0
    samples.plot_samples(flow, data, n=300, seed=2)
    both = np.concatenate([flow.sample(300, rng=2)[:, 0], data[:, 0]])
    low, high = np.percentile(both, [0.5, 99.5])
    edges = []
    for bars in figures[0].axes[0].containers:                          # data, then samples
        lefts = [bar.get_x() for bar in bars]
        edges.append(lefts + [lefts[-1] + bars[-1].get_width()])
    assert edges[0] == pytest.approx(edges[1])
    assert (edges[0][0], edges[0][-1]) == pytest.approx((low, high))


def test_sample_panels_share_the_y_axis_and_keep_their_width(figures):
    """With the data, two panels twice as wide as the samples alone; the right one does not repeat
    the y tick labels (one shared axis)."""
    flow = Flow(ElementwiseAffine(2))
    data = np.random.default_rng(0).normal(size=(100, 2))
    samples.plot_samples(flow, data, n=100)
    samples.plot_samples(flow, None, n=100)
    conditional.plot_conditional_samples(_conditional_flow(dim=2, classes=2), n=50)
    (two_width, two_height), (one_width, one_height) = [fig.get_size_inches() for fig in figures[:2]]
    assert two_width == pytest.approx(2 * one_width) and two_height == pytest.approx(one_height)
    for fig in (figures[0], figures[2]):
        fig.canvas.draw()
        left, right = fig.axes
        assert left.yaxis.get_major_ticks()[0].label1.get_visible()
        assert not any(tick.label1.get_visible() for tick in right.yaxis.get_major_ticks())


def test_image_cells_keep_one_nearly_square_size_and_rows_are_full(figures):
    """Twice the images: as wide, two rows more per block, each row as tall as a cell is wide."""
    flow = Flow(ElementwiseAffine(4))
    data = np.random.default_rng(0).random((40, 4))
    for n in (8, 16):
        samples.plot_image_samples(flow, data, image_shape=(2, 2), n=n)
    (width8, height8), (width16, height16) = [fig.get_size_inches() for fig in figures]
    assert width8 == pytest.approx(width16)
    row_height, cell_width = (height16 - height8) / 2, width16 / 8
    assert row_height == pytest.approx(cell_width, rel=0.1)
    assert 0.2 < height8 - 2 * row_height < 1.0                        # and a title's worth more
    with pytest.raises(ValueError, match="n = 12 images do not fill rows of 8"):
        samples.plot_image_samples(flow, data, image_shape=(2, 2), n=12)


def test_density_without_data_frames_the_bulk_of_5000_seeded_samples(figures):
    flow = Flow(ElementwiseAffine(2, log_scale=[-1.0, 0.5], shift=[3.0, -2.0]))
    density.plot_density(flow, None, resolution=5)
    low, high = bounds(flow.sample(5000, rng=0), pad=0.1, percentiles=(1, 99))
    axis = figures[0].axes[0]
    assert axis.get_xlim() == pytest.approx((low[0], high[0]), rel=1e-12)
    assert axis.get_ylim() == pytest.approx((low[1], high[1]), rel=1e-12)


def test_conditional_image_cells_keep_their_size_and_one_image_per_class_works(figures):
    """Width grows with the images per class, height with the classes, each row about as tall as a
    cell is wide, plus a title's worth; with one image per class the grid is still one column."""
    two, three = _conditional_flow(dim=4, classes=2), _conditional_flow(dim=4, classes=3)
    conditional.plot_conditional_images(two, image_shape=(2, 2), per_class=2)
    conditional.plot_conditional_images(two, image_shape=(2, 2), per_class=4, title="mine")
    conditional.plot_conditional_images(three, image_shape=(2, 2), per_class=2)
    conditional.plot_conditional_images(three, image_shape=(2, 2), per_class=1)
    (w22, h22), (w24, h24), (w32, h32), _ = [fig.get_size_inches() for fig in figures]
    assert w24 == pytest.approx(2 * w22) and h24 == pytest.approx(h22) and w32 == pytest.approx(w22)
    row_height, cell_width = h32 - h22, w22 / 2
    assert row_height == pytest.approx(cell_width, rel=0.1)
    assert 0.2 < h22 - 2 * row_height < 1.0
    assert figures[1]._suptitle.get_text() == "mine"
    assert figures[0]._suptitle.get_text().startswith("Samples given the class")
    single = figures[3].axes
    assert len(single) == 3 and [ax.get_ylabel() for ax in single] == ["0", "1", "2"]
