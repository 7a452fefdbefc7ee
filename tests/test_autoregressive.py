"""MAF and IAF beyond the contract suite: pass counts, the shared network, larger D, training."""
import json

import numpy as np
import pytest

from scratchflow.bijectors import IAF, MAF
from scratchflow.checks import check_bijector
from scratchflow.models import build_autoregressive, build_model
from scratchflow.io import load_model, save_model
from scratchflow.optim import Adam
from scratchflow.nn.made_sweep import ADJOINT_SWEEP_FROM_DIM
from scratchflow.targets import load_target, log_normalizer


def _layer(cls, dim, seed=0, hidden=(8, 8), order="random"):
    """A layer with a random (non-zero, moderate) MADE output layer."""
    rng = np.random.default_rng(seed)
    layer = cls(dim, hidden=hidden, order=order, rng=rng, zero_last=False)
    last = str(2 * len(hidden))
    layer.made.params[f"{last}.weight"][:] = rng.uniform(-0.4, 0.4, layer.made.params[f"{last}.weight"].shape)
    return layer


class _PassCounter:
    """Counts calls of a MADE's passes (``_forward``, ``_backward``, ``_input_gradient``, which MAF
    and IAF call with their own caches) by wrapping them."""

    def __init__(self, made):
        self.counts = {"forward": 0, "backward": 0, "input_gradient": 0}
        for name in self.counts:
            setattr(made, f"_{name}", self._wrap(name, getattr(made, f"_{name}")))

    def _wrap(self, name, method):
        def counted(*args):
            self.counts[name] += 1
            return method(*args)
        return counted

    def take(self):
        counts, self.counts = self.counts, dict.fromkeys(self.counts, 0)
        return counts


@pytest.mark.parametrize("cls", [MAF, IAF])
def test_one_pass_one_way_d_passes_the_other_way(cls):
    """MAF: density 1 MADE pass, sampling D (all but the last computing only what their column
    needs, see tests/test_made_sweep.py). IAF: the other way round. Gradients mirror them: the
    sequential direction's D − 1 input-gradient columns never run a whole MADE pass."""
    dim = 6
    layer = _layer(cls, dim)
    counter = _PassCounter(layer.made)
    rng = np.random.default_rng(1)
    x, grad, grad_log_det = rng.standard_normal((dim, dim)), rng.standard_normal((dim, dim)), rng.standard_normal(dim)
    fast, slow = ("forward", "inverse") if cls is MAF else ("inverse", "forward")
    fast_backward = "backward" if fast == "forward" else "inverse_backward"
    slow_backward = "backward" if slow == "forward" else "inverse_backward"

    getattr(layer, fast)(x)
    assert counter.take() == {"forward": 1, "backward": 0, "input_gradient": 0}
    getattr(layer, fast_backward)(grad, grad_log_det)
    assert counter.take() == {"forward": 0, "backward": 1, "input_gradient": 0}
    getattr(layer, slow)(x)     # D passes: D − 1 partial ones (MADESweep), the last one whole
    assert counter.take() == {"forward": 1, "backward": 0, "input_gradient": 0}
    getattr(layer, slow_backward)(grad, grad_log_det)   # D − 1 input-gradient columns by
    assert counter.take() == {"forward": 0, "backward": 1, "input_gradient": 0}   # MADEAdjointSweep
    small = _layer(cls, ADJOINT_SWEEP_FROM_DIM - 1)     # fewer dimensions: D − 1 whole passes
    counter = _PassCounter(small.made)
    getattr(small, slow)(x[:, :small.dim])
    getattr(small, slow_backward)(grad[:, :small.dim], grad_log_det)
    assert counter.take() == {"forward": 1, "backward": 1, "input_gradient": small.dim - 1}


@pytest.mark.parametrize("cls", [MAF, IAF])
def test_gradient_passes_never_rerun_the_made_whatever_ran_in_between(cls):
    """forward, inverse, then both gradient passes: each reads its own direction's MADE trace, so
    no MADE forward runs in a gradient pass, and the gradients equal those of uninterrupted runs."""
    dim = 4
    rng = np.random.default_rng(2)
    x, z = rng.standard_normal((3, dim)), rng.standard_normal((3, dim))
    grad, grad_log_det = rng.standard_normal((3, dim)), rng.standard_normal(3)
    expected = {}
    for direction, gradient_pass, point in (("forward", "backward", x),
                                            ("inverse", "inverse_backward", z)):
        layer = _layer(cls, dim)
        getattr(layer, direction)(point)
        expected[gradient_pass] = (getattr(layer, gradient_pass)(grad, grad_log_det),
                                   {k: v.copy() for k, v in layer.grads.items()})
    layer = _layer(cls, dim)
    counter = _PassCounter(layer.made)
    layer.forward(x)
    layer.inverse(z)
    counter.take()
    for gradient_pass in ("backward", "inverse_backward"):
        layer.zero_grad()
        grad_in = getattr(layer, gradient_pass)(grad, grad_log_det)
        assert counter.take()["forward"] == 0
        np.testing.assert_allclose(grad_in, expected[gradient_pass][0], rtol=1e-12)
        for name, value in layer.grads.items():
            np.testing.assert_allclose(value, expected[gradient_pass][1][name], rtol=1e-12,
                                       atol=1e-14)


def test_maf_and_iaf_with_the_same_made_are_one_network_used_in_opposite_directions():
    """With the same MADE M, each fast pass is the first step of the other's sequential solve.

    MAF's sampling solves x = z e^{s(x)} + μ(x); iterating x ← z e^{s(x)} + μ(x) from x = z, the
    first step is IAF's one-pass sampling and D steps give MAF's answer exactly (each step fixes one
    more dimension of the ordering). Likewise IAF's density solves z = (x − μ(z)) e^{−s(z)}: from
    z = x, the first step is MAF's one-pass density and D steps give IAF's answer.
    """
    dim = 5
    maf, iaf = _layer(MAF, dim, seed=4), _layer(IAF, dim, seed=4)
    for name, value in maf.params.items():
        np.testing.assert_array_equal(iaf.params[name], value)
    made = maf.made
    point = np.random.default_rng(5).uniform(-2, 2, (7, dim))

    def sampling_step(x):
        shift, log_scale = made.forward(x)
        return point * np.exp(log_scale) + shift

    def density_step(z):
        shift, log_scale = made.forward(z)
        return (point - shift) * np.exp(-log_scale)

    x, z = point.copy(), point.copy()
    for step in range(dim):
        x, z = sampling_step(x), density_step(z)
        if step == 0:
            np.testing.assert_allclose(x, iaf.inverse(point)[0], rtol=1e-14)
            np.testing.assert_allclose(z, maf.forward(point)[0], rtol=1e-14)
    np.testing.assert_allclose(x, maf.inverse(point)[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z, iaf.forward(point)[0], rtol=1e-12, atol=1e-12)
    # MAF's density log-det at x and IAF's sampling log-det at x: the same −Σ s(x), opposite signs
    np.testing.assert_allclose(maf.forward(point)[1], -iaf.inverse(point)[1], rtol=1e-14)


@pytest.mark.parametrize("cls", [MAF, IAF])
def test_sequential_direction_exact_at_larger_dimension(cls):
    """The contract suite stops at D = 4; here D = 7 with two hidden layers and a random order."""
    layer = _layer(cls, 7, seed=2, hidden=(10, 10))
    x = np.random.default_rng(3).uniform(-2, 2, (5, 7))
    check_bijector(layer, x, rng=4, check_params=False).assert_ok()


@pytest.mark.parametrize("cls", [MAF, IAF])
def test_gradient_pass_survives_the_other_direction_in_between(cls):
    """backward reads the latest forward even if inverse ran after it (MADE's caches are shared)."""
    layer = _layer(cls, 3, seed=6)
    rng = np.random.default_rng(7)
    x, z_other, grad = rng.standard_normal((3, 4, 3))
    layer.forward(x)
    expected = layer.backward(grad)
    layer.forward(x)
    layer.inverse(z_other)
    np.testing.assert_allclose(layer.backward(grad), expected, rtol=1e-13)


@pytest.mark.parametrize("cls", [MAF, IAF])
def test_zeroed_made_output_starts_as_identity(cls):
    layer = cls(3, hidden=(4,), rng=0)
    x = np.random.default_rng(0).standard_normal((4, 3))
    z, log_det = layer.forward(x)
    np.testing.assert_array_equal(z, x)
    np.testing.assert_array_equal(log_det, 0.0)


def _banana(n, rng):
    """x1 ~ N(0, 1), x2 = x1²/2 + 0.3 ε: exact mean NLL = its entropy ≈ 1.634 nats."""
    x1 = rng.standard_normal(n)
    return np.column_stack([x1, 0.5 * x1 ** 2 + 0.3 * rng.standard_normal(n)])


@pytest.mark.parametrize("model", ["maf", "iaf"])
def test_maximum_likelihood_fit_gets_near_the_entropy(model):
    """Start (identity): NLL ≈ 2.74 nats; entropy 1.63. After 300 Adam steps: below 1.75 on
    held-out data (a natural order makes μ_2(x1) = x1²/2 learnable in one layer)."""
    rng = np.random.default_rng(0)
    train, test = _banana(2048, rng), _banana(2048, rng)
    flow = build_autoregressive(model, 2, n_layers=2, hidden=(16, 16), seed=0)
    assert -flow.log_prob(test).mean() > 2.6
    optimizer = Adam(flow.params, flow.grads, lr=1e-2)
    for _ in range(300):
        flow.loss_and_grad(train[rng.integers(0, len(train), 128)])
        optimizer.step()
    assert -flow.log_prob(test).mean() < 1.75


def test_build_autoregressive_config_rebuilds_the_same_flow():
    flow = build_autoregressive("iaf", 3, n_layers=3, hidden=(5,), order="random", seed=7, batchnorm=True)
    config = json.loads(json.dumps(flow.config))
    assert config["model"] == "iaf" and config["order"] == "random" and config["batchnorm"] is True
    rebuilt = build_model(config)
    assert [type(layer).__name__ for layer in rebuilt.layers] == ["IAF", "BatchNorm", "IAF", "BatchNorm", "IAF"]
    for original, copy in zip(flow.layers, rebuilt.layers):
        if isinstance(original, IAF):
            np.testing.assert_array_equal(original.order, copy.order)
            for mask, mask_copy in zip(original.made.masks, copy.made.masks):
                np.testing.assert_array_equal(mask, mask_copy)
    orders = [layer.order.tolist() for layer in build_autoregressive("maf", 3, n_layers=3).layers]
    assert orders == [[0, 1, 2], [2, 1, 0], [0, 1, 2]]
    with pytest.raises(ValueError, match="unknown order"):
        build_autoregressive("maf", 3, order="zigzag")
    with pytest.raises(ValueError, match="'maf' or 'iaf'"):
        build_autoregressive("realnvp", 3)


def test_iaf_fits_a_target_density_by_reverse_kl():
    """IAF's home ground: sampling and its gradient are one pass per layer. KL(q‖p*) for target
    u2 starts at 3.96 nats (identity flow) and falls below 0.7 in 300 Adam steps."""
    target = load_target("u2")
    log_z = log_normalizer(target)
    flow = build_autoregressive("iaf", 2, n_layers=3, hidden=(16, 16), seed=0)
    assert flow.reverse_kl_loss_and_grad(target, 4096, rng=123) + log_z > 3.5
    optimizer = Adam(flow.params, flow.grads, lr=1e-2)
    for step in range(300):
        flow.reverse_kl_loss_and_grad(target, 128, rng=step)
        optimizer.step()
    assert flow.reverse_kl_loss_and_grad(target, 4096, rng=123) + log_z < 0.7


def test_saved_maf_loads_with_the_same_masks_and_density(tmp_path):
    flow = build_autoregressive("maf", 3, n_layers=2, hidden=(6,), order="random", seed=3)
    rng = np.random.default_rng(0)
    for value in flow.params.values():
        value[...] = 0.2 * rng.standard_normal(value.shape)
    path = str(tmp_path / "maf.npz")
    save_model(flow, path)
    loaded = load_model(path)
    x = rng.standard_normal((5, 3))
    np.testing.assert_array_equal(loaded.log_prob(x), flow.log_prob(x))


@pytest.mark.parametrize("cls", [MAF, IAF])
def test_sequential_gradient_by_the_adjoint_sweep_matches_finite_differences(cls):
    """D = ADJOINT_SWEEP_FROM_DIM + 1: the sequential direction's gradient pass runs through
    MADEAdjointSweep; input and parameter gradients against central differences."""
    dim = ADJOINT_SWEEP_FROM_DIM + 1
    layer = _layer(cls, dim, seed=5, hidden=(9, 8))
    x = np.random.default_rng(6).uniform(-2, 2, (4, dim))
    check_bijector(layer, x, rng=7).assert_ok()
