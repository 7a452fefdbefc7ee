"""AffineCoupling beyond the contract suite: identity at init, any mask, the bounded scale, the
slide's formula, caches kept apart, and the Real-NVP builder."""
import json

import numpy as np
import pytest

from scratchflow.bijectors import AffineCoupling
from scratchflow.checks import check_bijector
from scratchflow.divergence import DivergenceError
from scratchflow.data import load_dataset
from scratchflow.models import build_model, build_realnvp, realnvp_masks
from scratchflow.optim import Adam


def _randomised(dim, mask, rng, **options):
    return AffineCoupling(dim, mask, hidden=(5,), rng=rng, zero_init=False, **options)


def test_zero_initialised_layer_is_the_identity():
    rng = np.random.default_rng(0)
    layer = AffineCoupling(3, [0, 1, 0], hidden=(8, 8), rng=rng)
    x = rng.normal(size=(6, 3)) * 3
    z, log_det = layer.forward(x)
    np.testing.assert_array_equal(z, x)
    np.testing.assert_array_equal(log_det, 0.0)
    x_back, log_det_inv = layer.inverse(x)
    np.testing.assert_array_equal(x_back, x)
    np.testing.assert_array_equal(log_det_inv, 0.0)


def test_forward_matches_the_slide():
    """z_c = x_c, z_r = x_r ⊙ exp(s(x_c)) + t(x_c), log_det = Σ s, with s, t read off the MLP."""
    rng = np.random.default_rng(1)
    mask = np.array([1, 0, 0, 1])
    layer = _randomised(4, mask, rng)
    x = rng.normal(size=(7, 4))
    out = layer.net.forward(x[:, mask == 1])                   # (7, 4): [ŝ (2), t (2)]
    s, t = out[:, :2], out[:, 2:]
    z, log_det = layer.forward(x)
    np.testing.assert_array_equal(z[:, mask == 1], x[:, mask == 1])
    np.testing.assert_allclose(z[:, mask == 0], x[:, mask == 0] * np.exp(s) + t, rtol=1e-14)
    np.testing.assert_allclose(log_det, s.sum(axis=1), rtol=1e-14)


def test_random_mask_passes_check_bijector():
    rng = np.random.default_rng(2)
    mask = np.array([0, 1, 1, 0, 1])                           # not a half split
    layer = _randomised(5, mask, rng)
    report = check_bijector(layer, rng.normal(size=(4, 5)), rng=0)
    report.assert_ok()


def test_bounded_scale():
    """s = b·tanh(ŝ/b): |s| < b, log-det = Σ of the clamped s; the contract (grads) still holds."""
    rng = np.random.default_rng(3)
    bound = 0.3
    layer = _randomised(2, [1, 0], rng, scale_bound=bound)
    layer.net.layers[-1].weight *= 6                           # push ŝ past the bound
    x = rng.normal(size=(50, 2)) * 2
    raw = layer.net.forward(x[:, :1])[:, :1]                   # ŝ (50, 1)
    assert np.abs(raw).max() > 3 * bound
    z, log_det = layer.forward(x)
    clamped = bound * np.tanh(raw / bound)
    np.testing.assert_allclose(log_det, clamped[:, 0], rtol=1e-14)
    assert np.abs(log_det).max() <= bound
    np.testing.assert_allclose(z[:, 1], x[:, 1] * np.exp(clamped[:, 0]) + layer.net.forward(x[:, :1])[:, 1])
    check_bijector(layer, x[:4], rng=1).assert_ok()
    # the plain form overflows where the bounded one does not
    plain = _randomised(2, [1, 0], np.random.default_rng(3))
    plain.net.layers[-1].weight[...] = 0.0
    plain.net.layers[-1].bias[0] = 1000.0                       # ŝ = 1000: exp overflows
    with np.errstate(over="ignore"), pytest.raises(DivergenceError, match="AffineCoupling"):
        plain.forward(np.full((1, 2), 1.0))
    plain.scale_bound = 5.0
    assert np.isfinite(plain.forward(np.full((1, 2), 1.0))[0]).all()


def test_forward_and_inverse_keep_separate_caches():
    """forward(x), inverse(w), then backward must still be the gradient pass of forward(x)."""
    rng = np.random.default_rng(4)
    layer = _randomised(3, [1, 0, 1], rng)
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    g, h = rng.normal(size=(4, 3)), rng.normal(size=4)
    layer.zero_grad()
    layer.forward(x)
    expected = layer.backward(g, h)
    expected_grads = {k: v.copy() for k, v in layer.grads.items()}
    layer.zero_grad()
    layer.forward(x)
    layer.inverse(w)
    np.testing.assert_array_equal(layer.backward(g, h), expected)
    for name, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, expected_grads[name])


def test_scale_bound_must_be_positive():
    for bound in (0.0, -1.0):
        with pytest.raises(ValueError, match="scale_bound"):
            AffineCoupling(2, [1, 0], scale_bound=bound)
    assert AffineCoupling(2, [1, 0], scale_bound=0.5).scale_bound == 0.5


def test_bad_masks_are_rejected():
    with pytest.raises(ValueError, match="at least one 1"):
        AffineCoupling(3, [1, 1, 1])
    with pytest.raises(ValueError, match="shape"):
        AffineCoupling(3, [1, 0])
    with pytest.raises(ValueError, match="only 0"):
        AffineCoupling(2, [2, 0])


def test_realnvp_masks_alternate():
    assert [m.tolist() for m in realnvp_masks(2, 4)] == [[1, 0], [0, 1], [1, 0], [0, 1]]
    masks = realnvp_masks(4, 4)
    assert [m.tolist() for m in masks] == [[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
    for dim in (3, 5):                    # every dimension is transformed by some layer
        assert (np.array(realnvp_masks(dim, 4)) == 0).any(axis=0).all()


def test_build_realnvp_config_round_trip_and_training():
    flow = build_realnvp(2, n_layers=4, hidden=(16,), actnorm=True, seed=3)
    config = json.loads(json.dumps(flow.config))               # JSON-able
    assert config["model"] == "realnvp" and config["actnorm"] is True
    rebuilt = build_model(config)
    assert rebuilt.config == flow.config
    for name, value in flow.params.items():
        np.testing.assert_array_equal(rebuilt.params[name], value)
    data = load_dataset("moons", 256, rng=0)
    optimizer = Adam(flow.params, flow.grads, lr=1e-2)
    first = flow.loss_and_grad(data)
    for _ in range(60):
        flow.loss_and_grad(data)
        optimizer.step()
    assert flow.loss_and_grad(data) < first - 0.1
    assert flow.sample(10, rng=0).shape == (10, 2)


def test_float32_builds_and_trains():
    flow = build_realnvp(3, n_layers=2, hidden=(8,), dtype="float32")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    assert np.isfinite(flow.loss_and_grad(x))
    assert all(g.dtype == np.float32 for g in flow.grads.values())
    assert flow.sample(4, rng=0).dtype == np.float32
