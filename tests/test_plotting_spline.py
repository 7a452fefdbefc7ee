"""The spline figure, read back from its Axes: the curve is what the layer does to that coordinate
at the median point it sees, the interval [−B, B] is shaded, and the two panels share the x axis."""
import matplotlib
import numpy as np
import pytest

from scratchflow.data import load_dataset
from scratchflow.models import build_model
from scratchflow.plotting import spline
from tests.kept_figures import kept_figures

matplotlib.use("Agg")


@pytest.fixture
def drawn(monkeypatch):
    with kept_figures(monkeypatch, spline) as kept:
        yield kept


def test_the_curve_is_the_layers_map_of_its_coordinate_at_the_median(drawn):
    flow = build_model({"model": "nsf", "dim": 2, "n_layers": 1, "hidden": [4], "bins": 4,
                        "bound": 2.0, "seed": 0})
    for array in flow.params.values():
        array += np.random.default_rng(3).uniform(-0.5, 0.5, array.shape)   # not the identity
    data = load_dataset("moons", 200, rng=0)
    spline.plot_learned_spline(flow, data)
    top, bottom = drawn[0].axes
    (curve,) = [line for line in top.lines if line.get_label().startswith("y = Φ(x)")]
    x, y = (np.asarray(values, dtype=float) for values in curve.get_data())
    layer = flow.layers.layers[0]
    dimension = int(layer.moved_index[0])
    points = np.repeat(np.median(data, axis=0)[None, :], len(x), axis=0)   # (G, 2) at the median
    points[:, dimension] = x
    np.testing.assert_allclose(y, layer.forward(points)[0][:, dimension], atol=1e-12)
    assert (x[0], x[-1]) == pytest.approx((-3.5, 3.5))                  # [−B, B] and both tails
    assert np.any(np.abs(y - x) > 1e-3)                                 # not the identity
    (shaded,) = top.patches
    assert (shaded.get_x(), shaded.get_x() + shaded.get_width()) == pytest.approx((-2.0, 2.0))
    drawn[0].canvas.draw()
    assert top.get_xlim() == bottom.get_xlim()
    assert not any(tick.label1.get_visible() for tick in top.xaxis.get_major_ticks())
    assert bottom.xaxis.get_major_ticks()[0].label1.get_visible()
    number = dimension + 1                                              # one numbering: from 1
    assert top.get_title() == f"layer 1 of 1: the learned spline of dimension {number}"
    assert bottom.get_xlabel() == f"x_{number} (input of layer 1)"
