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
from scratchflow.plotting import conditional, samples

matplotlib.use("Agg")


@pytest.fixture
def figures(monkeypatch):
    """Keep each figure instead of saving it; close them all afterwards."""
    kept = []

    def keep(fig, out_dir, filename):
        kept.append(fig)
        return filename
    for module in (conditional, samples):
        monkeypatch.setattr(module, "save_figure", keep)
    yield kept
    for fig in kept:
        plt.close(fig)


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
