"""Which figures ``scratchflow train`` / ``plot`` draw for which run, with a recording stand-in for
the plotting package (no Matplotlib needed): loss only with a history, images for image data,
nothing 2-D beyond D = 2, the target's box for a target density, layers from data or samples, and
a spline figure only for a flow with spline layers."""
import numpy as np

from scratchflow.cli.figures import _draw_figures


class _Recorder:
    """Stands in for ``scratchflow.plotting``: notes each call, returns the figure's name."""

    def __init__(self, spline_layers=()):
        self.calls = {}
        self._spline_layers = list(spline_layers)

    def spline_layers(self, flow):
        return self._spline_layers

    def __getattr__(self, name):
        def draw(*args, **kwargs):
            self.calls[name] = (args, kwargs)
            return name
        return draw


class _Flow:
    def __init__(self, dim):
        self.dim = dim
        self.seeds = []

    def sample(self, n, rng=None):
        self.seeds.append(rng)
        return np.full((n, self.dim), float(rng))


def _draw(dim, data=None, target=None, history=None, image_shape=None, spline_layers=(), seed=0):
    plotting = _Recorder(spline_layers)
    paths = _draw_figures(plotting, _Flow(dim), data, target, "out", history, seed, image_shape)
    return paths, plotting.calls


def test_two_dimensional_data_gets_every_figure():
    data = np.ones((5, 2))
    paths, calls = _draw(2, data=data, history=["h"])
    assert paths == ["plot_loss", "plot_density", "plot_samples", "plot_layers"]
    assert calls["plot_density"][1]["limits"] is None             # fitted to the data
    assert calls["plot_layers"][0][1] is data


def test_a_target_density_is_drawn_on_its_box_and_layers_use_samples():
    paths, calls = _draw(2, target="u1")
    assert paths == ["plot_density", "plot_samples", "plot_layers"]    # no history: no loss curve
    assert calls["plot_density"][1]["limits"] == ((-4.0, -4.0), (4.0, 4.0))
    assert calls["plot_layers"][0][1].shape == (2000, 2)               # samples of the flow


def test_one_dimensional_flow_has_no_layer_figure():
    paths, _ = _draw(1, data=np.ones((5, 1)), history=["h"])
    assert paths == ["plot_loss", "plot_density", "plot_samples"]


def test_higher_dimensions_draw_the_loss_only_and_images_when_shaped():
    assert _draw(3, data=np.ones((5, 3)), history=["h"])[0] == ["plot_loss"]
    paths, calls = _draw(64, data=np.ones((5, 64)), history=["h"], image_shape=(8, 8))
    assert paths == ["plot_loss", "plot_image_samples", "plot_generated_vs_real"]
    assert calls["plot_image_samples"][1]["image_shape"] == (8, 8)
    assert _draw(64, data=None, image_shape=(8, 8))[0] == []           # no data: nothing to show


def test_a_spline_flow_adds_its_spline_figure_from_data_or_from_samples():
    data = np.ones((5, 2))
    paths, calls = _draw(2, data=data, history=["h"], spline_layers=[0])
    assert paths == ["plot_loss", "plot_learned_spline", "plot_density", "plot_samples", "plot_layers"]
    assert calls["plot_learned_spline"][0][1] is data
    paths, calls = _draw(2, target="u1", spline_layers=[1])
    assert paths[0] == "plot_learned_spline"
    assert calls["plot_learned_spline"][0][1].shape == (2000, 2)       # samples of the flow
    paths, _ = _draw(3, data=np.ones((5, 3)), history=["h"], spline_layers=[0])
    assert paths == ["plot_loss", "plot_learned_spline"]               # any dimension


def test_every_draw_of_samples_uses_the_commands_seed():
    """--seed 7: the samples figure is drawn with seed 7, and the samples standing in for data (a
    target density: spline input, layer panels) are drawn with it too."""
    paths, calls = _draw(2, target="u1", spline_layers=[0], seed=7)
    assert calls["plot_samples"][1]["seed"] == 7
    assert np.all(calls["plot_learned_spline"][0][1] == 7.0)
    assert np.all(calls["plot_layers"][0][1] == 7.0) and "samples" in calls["plot_layers"][1]["input_label"]
    _, calls = _draw(64, data=np.ones((5, 64)), image_shape=(8, 8), seed=7)
    assert calls["plot_image_samples"][1]["seed"] == 7


def test_the_figures_are_drawn_with_one_blas_thread(monkeypatch):
    """The density grid is many small products: train and plot draw every figure one-threaded
    (as fit trains), and give the setting back."""
    import argparse

    import pytest
    from threadpoolctl import threadpool_info, threadpool_limits

    from scratchflow import plotting
    from scratchflow.cli.figures import draw_conditional_figures, draw_figures

    def threads():
        return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
    seen = []
    monkeypatch.setattr(plotting, "spline_layers", lambda flow: [])
    for name in ("plot_loss", "plot_samples", "plot_conditional_images"):
        monkeypatch.setattr(plotting, name, lambda *args, **kwargs: seen.append(threads()) or "drawn")
    with threadpool_limits(limits=2, user_api="blas"):
        if threads() != {2}:
            pytest.skip(f"this BLAS cannot run 2 threads here (threadpoolctl sees {threads()})")
        draw_figures(_Flow(3), None, None, "out", history=["h"], seed=0)
        args = argparse.Namespace(out="out", seed=0)
        draw_conditional_figures(_Flow(4), None, args)
        assert seen == [{1}, {1}] and threads() == {2}
