"""The loss figure, read back from its Axes: validation losses within one training range above
the curve are drawn as points on the scale, those beyond it as whole triangles on the top edge; the
title names why training stopped."""
import matplotlib
import numpy as np
import pytest

from scratchflow.history import History
from scratchflow.plotting import loss
from tests.kept_figures import kept_figures

matplotlib.use("Agg")


@pytest.fixture
def figures(monkeypatch):
    with kept_figures(monkeypatch, loss) as kept:
        yield kept


def _validation_lines(ax):
    """(points on the scale, triangles above it or None)."""
    points = [line for line in ax.lines if line.get_label() == "validation"]
    above = [line for line in ax.lines if line.get_label().startswith("validation above")]
    return points[0], (above[0] if above else None)


def test_validation_within_one_training_range_above_is_on_the_scale_beyond_is_a_triangle(figures):
    """Training loss from 2 down to 1 (its 1-99 % band spans ~1): a validation loss of 2.5 is
    within one such range above the curve and widens the scale; 3.5 is beyond, drawn as a whole
    (unclipped) triangle on the top edge, and the scale stays on the curve."""
    train_loss = list(np.linspace(2.0, 1.0, 101))
    for value in (2.5, 3.5):
        loss.plot_loss(History(mode="data", train_loss=train_loss, val_step=[50, 100],
                               val_loss=[1.2, value]))
    within, beyond = (fig.axes[0] for fig in figures)
    points, triangles = _validation_lines(within)
    assert triangles is None and list(points.get_ydata()) == [1.2, 2.5]
    assert within.get_ylim()[1] > 2.5
    points, triangles = _validation_lines(beyond)
    assert list(points.get_ydata()) == [1.2]
    top = beyond.get_ylim()[1]
    assert 2.0 < top < 3.5 and list(triangles.get_xydata()[0]) == [100, top]
    assert triangles.get_clip_on() is False                            # drawn whole on the edge


@pytest.mark.parametrize("stopped,title", [
    ("finished", "finished"),
    ("early stopping at step 120: no better validation loss in 5 evaluations; best 1.2000 at step 80",
     "early stopping at step 120"),
    ("non-finite loss (nan) at step 7: training stopped and the parameters after step 6 (the last "
     "with a finite loss) were kept", "non-finite loss (nan) at step 7"),
])
def test_title_names_why_training_stopped(figures, stopped, title):
    loss.plot_loss(History(mode="data", train_loss=[1.0, 0.9, 0.8], stopped=stopped))
    assert figures[0].axes[0].get_title() == "Training / обучение: " + title


def test_a_flat_curve_reaches_one_flat_range_above_and_the_top_edge_is_on_the_scale(figures):
    """A constant training loss of 2: validation up to 2 + FLAT_RANGE (included) widens the scale,
    2.0015 is a triangle; a value exactly on the scale's top edge is a point, not a triangle."""
    train_loss = [2.0] * 20
    for validation in ([2.0, 2.0 + loss.FLAT_RANGE], [2.0, 2.0015], [0.0, 2.2]):
        loss.plot_loss(History(mode="data", train_loss=train_loss, val_step=[10, 20],
                               val_loss=validation))
    reached, beyond, edge = (fig.axes[0] for fig in figures)
    points, triangles = _validation_lines(reached)
    assert triangles is None and reached.get_ylim()[1] > 2.001
    points, triangles = _validation_lines(beyond)
    assert list(points.get_ydata()) == [2.0] and triangles is not None
    assert beyond.get_ylim() == pytest.approx((2.0 - 0.05 * loss.FLAT_RANGE, 2.0 + 0.1 * loss.FLAT_RANGE))
    points, triangles = _validation_lines(edge)                         # range [0, 2]: top 2.2
    assert edge.get_ylim() == pytest.approx((-0.1, 2.2)) and triangles is None
    assert list(points.get_ydata()) == [0.0, 2.2]


def test_a_run_without_a_finite_loss_is_drawn_on_the_unit_range(figures):
    loss.plot_loss(History(mode="data", train_loss=[np.nan, np.inf], val_step=[2], val_loss=[np.nan]))
    axis = figures[0].axes[0]
    assert axis.get_ylim() == pytest.approx((-0.05, 1.1))
    _, triangles = _validation_lines(axis)
    assert list(triangles.get_xydata()[0]) == pytest.approx([2, 1.1])
