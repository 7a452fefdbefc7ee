"""Permutation and ActNorm beyond the contract suite: the classmethods, exact gradients, and
ActNorm's data-dependent initialisation and its saved flag."""
import numpy as np
import pytest

from scratchflow.bijectors import ActNorm, Compose, Permutation
from scratchflow.io import load_model, save_model
from scratchflow.models import build_realnvp


def test_permutation_maps_and_gradients():
    layer = Permutation([2, 0, 1])
    x = np.arange(6.0).reshape(2, 3)
    z, log_det = layer.forward(x)
    np.testing.assert_array_equal(z, [[2, 0, 1], [5, 3, 4]])
    np.testing.assert_array_equal(log_det, 0.0)
    grad_z = np.array([[10.0, 20.0, 30.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(layer.backward(grad_z), [[20, 30, 10], [2, 3, 1]])
    x_back, log_det_inv = layer.inverse(z)
    np.testing.assert_array_equal(x_back, x)
    np.testing.assert_array_equal(log_det_inv, 0.0)
    np.testing.assert_array_equal(layer.inverse_backward(grad_z), grad_z[:, [2, 0, 1]])


def test_permutation_classmethods_and_errors():
    np.testing.assert_array_equal(Permutation.reverse(4).perm, [3, 2, 1, 0])
    first = Permutation.random(6, rng=5).perm
    np.testing.assert_array_equal(np.sort(first), np.arange(6))
    np.testing.assert_array_equal(Permutation.random(6, rng=5).perm, first)     # seeded
    assert "perm" in Permutation.reverse(3).buffers                             # saved with a model
    with pytest.raises(ValueError, match="exactly once"):
        Permutation([0, 0, 1])
    with pytest.raises(ValueError, match="integers"):
        Permutation([0.0, 1.0])
    for not_a_permutation in ([[0, 1]], np.array([], dtype=int)):
        with pytest.raises(ValueError, match="non-empty 1-D sequence of integers"):
            Permutation(not_a_permutation)
    z, log_det = Permutation([0]).forward(np.array([[2.5], [-1.0]]))            # D = 1: identity
    np.testing.assert_array_equal(z, [[2.5], [-1.0]])
    for make in (Permutation.reverse, Permutation.random):
        with pytest.raises(ValueError, match="dim must be >= 1"):
            make(0)


def test_actnorm_data_dependent_initialisation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3)) * [0.1, 2.0, 30.0] + [5.0, -1.0, 0.0]
    layer = ActNorm(3)
    assert not layer.initialized
    z, log_det = layer.forward(x)
    assert layer.initialized and layer.buffers["initialized"] == 1.0
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-4)
    np.testing.assert_allclose(log_det, -np.log(x.std(axis=0) + 1e-6).sum())
    loc, log_scale = layer.loc.copy(), layer.log_scale.copy()
    layer.forward(rng.normal(size=(10, 3)))                     # a second batch does not re-initialise
    np.testing.assert_array_equal(layer.loc, loc)
    np.testing.assert_array_equal(layer.log_scale, log_scale)


def test_actnorm_initialises_inside_a_stack_and_flag_survives_load():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2)) * 4 + 3
    stack = Compose([ActNorm(2), ActNorm(2)])
    z, _ = stack.forward(x)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-4)
    # "loading" into a fresh layer: copy params and buffers, then no re-initialisation happens
    fresh = ActNorm(2)
    for name, value in stack.layers[0].params.items():
        fresh.params[name][...] = value
    for name, value in stack.layers[0].buffers.items():
        fresh.buffers[name][...] = value
    z_fresh, _ = fresh.forward(x[:5])
    np.testing.assert_allclose(z_fresh, (x[:5] - stack.layers[0].loc) * np.exp(-stack.layers[0].log_scale))


def test_actnorm_inverse_before_forward_is_the_identity():
    layer = ActNorm(2)
    z = np.array([[1.0, -2.0]])
    np.testing.assert_array_equal(layer.inverse(z)[0], z)
    assert not layer.initialized


def test_realnvp_with_actnorm_save_load_keeps_the_initialisation(tmp_path):
    x = np.random.default_rng(2).normal(size=(128, 2)) * [3.0, 0.2] + 1.0
    flow = build_realnvp(2, n_layers=2, hidden=(8,), actnorm=True, seed=1)
    flow.loss_and_grad(x)                                    # runs the data-dependent init
    path = str(tmp_path / "model.npz")
    save_model(flow, path)
    loaded = load_model(path)
    assert all(value == 1.0 for name, value in loaded.buffers.items() if name.endswith("initialized"))
    np.testing.assert_array_equal(loaded.log_prob(x[:7]), flow.log_prob(x[:7]))


def test_actnorm_initialises_on_two_rows_and_refuses_one():
    x = np.array([[1.0, 5.0], [3.0, 1.0]])                    # (2, 2)
    layer = ActNorm(2)
    z, _ = layer.forward(x)
    np.testing.assert_allclose(np.abs(z), 1.0, rtol=1e-5)    # two rows: mean 0, std 1 -> ±1
    with pytest.raises(ValueError, match="at least 2"):
        ActNorm(2).forward(x[:1])
    with pytest.raises(ValueError, match="dim"):
        ActNorm(0)


def test_permutation_refuses_empty_nested_and_zero_sized():
    for bad in ([], [[0, 1]], [0.0, 1.0]):
        with pytest.raises(ValueError, match="non-empty 1-D sequence of integers"):
            Permutation(bad)
    for build in (Permutation.reverse, Permutation.random):
        with pytest.raises(ValueError, match="dim must be >= 1"):
            build(0)
        assert build(1).dim == 1
