"""The loss figure, read back from its Axes: validation losses within one training range above
the curve are drawn as points on the scale, those beyond it as whole triangles on the top edge; the
title names why training stopped."""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from scratchflow.history import History
from scratchflow.plotting import loss

matplotlib.use("Agg")


@pytest.fixture
def figures(monkeypatch):
    kept = []
    monkeypatch.setattr(loss, "save_figure", lambda fig, out_dir, name: kept.append(fig) or name)
    yield kept
    for fig in kept:
        plt.close(fig)


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
