"""Figures of a trained flow: each function writes a non-empty PNG (and refuses what it cannot draw)."""
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Flow
from scratchflow.data import load_dataset
from scratchflow.models import build_realnvp
from scratchflow.plotting import plot_density, plot_layers, plot_loss, plot_samples
from scratchflow.train import History

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as file:
        content = file.read()
    return content[:8] == PNG_SIGNATURE and len(content) > 5000      # a real picture, not a stub


@pytest.fixture(scope="module")
def flow_and_data():
    flow = build_realnvp(dim=2, n_layers=3, hidden=(8,), seed=0)
    rng = np.random.default_rng(0)
    for value in flow.params.values():              # not the identity, so the layers do something
        value += 0.2 * rng.standard_normal(value.shape)
    return flow, load_dataset("moons", 300, rng=0)


def test_flow_figures_are_written(tmp_path, flow_and_data):
    flow, data = flow_and_data
    paths = [plot_density(flow, data, str(tmp_path), resolution=40),
             plot_samples(flow, data, str(tmp_path), n=200),
             plot_layers(flow, data, str(tmp_path), n_points=200)]
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["density.png", "samples.png", "layers.png"]
    for path in paths:
        assert _is_png(path)


def test_density_with_a_target_panel(tmp_path, flow_and_data):
    flow, _ = flow_and_data

    class Blob:
        dim = 2

        def log_prob(self, x):
            return -0.5 * np.sum(x * x, axis=1)

    assert _is_png(plot_density(flow, None, str(tmp_path), target=Blob(), resolution=30))


def test_one_dimensional_flow(tmp_path):
    flow = Flow([ElementwiseAffine(1, log_scale=[-0.7], shift=[-2.5])])
    data = load_dataset("example1", 300, rng=0)
    assert _is_png(plot_density(flow, data, str(tmp_path)))
    assert _is_png(plot_samples(flow, data, str(tmp_path), n=300))
    with pytest.raises(ValueError, match="2-D flows; the flow has dimension 1"):
        plot_layers(flow, data, str(tmp_path))


def test_loss_curves(tmp_path):
    rng = np.random.default_rng(0)
    history = History(mode="data", train_loss=list(2.0 / np.arange(1, 301) + 0.1 * rng.random(300)),
                      val_step=[100, 200, 300], val_loss=[0.2, 0.15, 0.17], best_step=200,
                      best_val_loss=0.15)
    assert _is_png(plot_loss(history, str(tmp_path)))
    assert _is_png(plot_loss(History(mode="target", train_loss=[1.0]), str(tmp_path), "one.png"))
