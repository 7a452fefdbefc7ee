"""The image models realnvp-multiscale and glow: the log-density is the sum of the per-scale pieces
(each factored half's log N(·; 0, I) plus the log-dets of its scale), sampling inverts the whole
flow, save/load rebuilds them bit for bit, and their builders refuse shapes they cannot take."""
import numpy as np
import pytest

from scratchflow.bijectors import AffineCoupling, FactorOut
from scratchflow.image_models import build_glow, build_realnvp_multiscale
from scratchflow.io import load_model, save_model
from scratchflow.models import build_model

STANDARD_NORMAL = lambda z: -0.5 * np.sum(z * z + np.log(2 * np.pi), axis=1)   # noqa: E731


def _nudged(config, seed=0):
    """The model of ``config`` with every parameter moved off its identity start."""
    flow = build_model(config)
    rng = np.random.default_rng(seed)
    for value in flow.params.values():
        value += 0.05 * rng.standard_normal(value.shape)
    return flow


def _pixels(n, seed=1):
    return np.random.default_rng(seed).uniform(0.02, 0.98, (n, 64))   # (n, 64) like the digits


def _log_density_by_scale(layers, x):
    """Σ over scales of [log N(the half that leaves) + the scale's log-dets] + the last scale's
    log N(z) and log-dets, layer by layer: the paper's way of writing a multi-scale density."""
    pieces = []
    log_det = np.zeros(len(x))
    for layer in layers:
        if isinstance(layer, FactorOut):
            pieces.append(STANDARD_NORMAL(x[:, layer.half:]) + log_det)          # this scale
            return pieces + _log_density_by_scale(layer.inner.layers, x[:, :layer.half])
        x, layer_log_det = layer.forward(x)
        log_det = log_det + layer_log_det
    return pieces + [STANDARD_NORMAL(x) + log_det]                               # the last scale


@pytest.mark.parametrize("config", [
    {"model": "realnvp-multiscale", "dim": 64, "n_scales": 3, "n_layers": 2, "hidden": [8],
     "logit_alpha": 0.05},
    {"model": "glow", "dim": 64, "n_levels": 3, "n_layers": 2, "hidden": [8], "logit_alpha": 0.05},
], ids=["realnvp-multiscale", "glow"])
def test_log_density_is_the_sum_of_its_per_scale_pieces(config):
    flow = _nudged(config)
    x = _pixels(6)
    flow.initialize(_pixels(32, seed=9))                # Glow's ActNorm initialised on other data
    pieces = _log_density_by_scale(flow.layers.layers, x)
    assert len(pieces) == 3                             # three scales, each with its own piece
    np.testing.assert_allclose(sum(pieces), flow.log_prob(x), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("model", ["realnvp-multiscale", "glow"])
def test_sampling_inverts_the_flow_and_save_load_rebuilds_it(model, tmp_path):
    flow = _nudged({"model": model, "dim": 64, "n_layers": 2, "hidden": [8], "logit_alpha": 0.05})
    x = _pixels(8)
    z, _ = flow.layers.forward(x)
    np.testing.assert_allclose(flow.layers.inverse(z)[0], x, atol=1e-10)
    samples = flow.sample(5, rng=3)
    edge = 0.05 / 0.9                                   # the logit's inverse maps onto (−a, 1 + a)/(1 − 2a)
    assert samples.shape == (5, 64) and np.all((samples > -edge) & (samples < 1 + edge))
    save_model(flow, tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    assert loaded.config == flow.config
    np.testing.assert_array_equal(loaded.log_prob(x), flow.log_prob(x))
    np.testing.assert_array_equal(loaded.sample(5, rng=3), samples)


def test_the_multiscale_couplings_alternate_their_masks_in_every_group():
    """§3.6: a scale's checkerboard couplings alternate parity, and so do its channel-wise couplings
    after the squeeze, and the last scale's checkerboards: each moves what the one before kept."""
    flow = build_model({"model": "realnvp-multiscale", "dim": 64, "n_scales": 2, "n_layers": 4,
                        "hidden": [4]})
    layers = flow.layers.layers
    squeeze = [type(layer).__name__ for layer in layers].index("Squeeze")
    groups = [layers[:squeeze], layers[squeeze + 1:-1], layers[-1].inner.layers]
    assert [len(group) for group in groups] == [4, 4, 5]
    for group in groups:
        for first, second in zip(group, group[1:]):
            np.testing.assert_array_equal(second.mask, 1 - first.mask)


@pytest.mark.parametrize("build", [build_realnvp_multiscale, build_glow])
def test_the_image_couplings_bound_their_scales_at_5_unless_told(build):
    def bounds(flow):
        return {module.scale_bound for module in flow.modules() if isinstance(module, AffineCoupling)}
    assert bounds(build(64, hidden=(4,))) == {5.0}
    assert bounds(build(64, hidden=(4,), scale_bound=None)) == {None}


def test_the_glow_step_is_actnorm_conv1x1_coupling_and_the_last_layer_holds_the_next_level():
    flow = build_model({"model": "glow", "dim": 64, "n_levels": 2, "n_layers": 2, "hidden": [8]})
    names = [type(layer).__name__ for layer in flow.layers.layers]
    assert names == ["Squeeze"] + ["ChannelActNorm", "InvertibleConv1x1", "AffineCoupling"] * 2 + [
        "FactorOut"]
    assert flow.layers.layers[-1].inner.dim == 32


def test_the_builders_refuse_shapes_they_cannot_take():
    with pytest.raises(ValueError, match=r"not a square image"):
        build_model({"model": "glow", "dim": 48})
    with pytest.raises(ValueError, match=r"cannot be squeezed 4 times"):
        build_model({"model": "glow", "dim": 64, "n_levels": 4})
    with pytest.raises(ValueError, match=r"has 48 values but dim = 64"):
        build_model({"model": "realnvp-multiscale", "dim": 64, "image_shape": [3, 4, 4]})
