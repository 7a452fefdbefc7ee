"""Permutation and ActNorm beyond the contract suite: the classmethods, exact gradients, and
ActNorm's data-dependent initialisation (an explicit step: the layer's and the flow's
``initialize``) and its saved flag."""
import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.bijectors import ActNorm, ElementwiseAffine, Permutation
from scratchflow.io import load_model, save_model
from scratchflow.models import build_model, build_realnvp
from scratchflow.train import fit


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
    z, log_det = layer.forward(x)                    # uninitialised: the identity, left as it is
    np.testing.assert_array_equal(z, x)
    assert not layer.initialized
    layer.initialize(x)
    assert layer.initialized and layer.buffers["initialized"] == 1.0
    z, log_det = layer.forward(x)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-4)
    np.testing.assert_allclose(log_det, -np.log(x.std(axis=0) + 1e-6).sum())
    layer.initialize(x[:10] * 2)                     # the layer's own initialize always runs
    np.testing.assert_allclose(layer.loc, x[:10].mean(axis=0) * 2)


def test_flow_initialize_runs_each_actnorm_on_what_the_layers_before_it_make():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2)) * 4 + 3
    flow = Flow([ElementwiseAffine(2, log_scale=[1.0, -0.5], shift=[2.0, 0.0]), ActNorm(2),
                 ActNorm(2)])
    assert not flow.initialized
    assert flow.initialize(x) is flow and flow.initialized
    first, second = flow.layers.layers[1], flow.layers.layers[2]
    affine_out, _ = flow.layers.layers[0].forward(x)
    np.testing.assert_allclose(first.loc, affine_out.mean(axis=0))          # not x's mean
    np.testing.assert_allclose(second.loc, 0.0, atol=1e-12)                # its input: mean 0, std 1
    np.testing.assert_allclose(second.log_scale, 0.0, atol=2e-6)                 # std ≈ 1
    z, _ = flow.layers.forward(x)
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-4)
    before = {name: value.copy() for name, value in flow.params.items()}
    flow.initialize(x[:50] * 7)                      # initialised layers keep their parameters
    for name, value in flow.params.items():
        np.testing.assert_array_equal(value, before[name])


def test_flow_initialize_reaches_every_actnorm_of_glow_and_multiscale_models():
    rng = np.random.default_rng(4)
    x = rng.uniform(0.1, 0.9, size=(24, 64))
    for config in ({"model": "glow", "dim": 64, "n_levels": 3, "n_layers": 2, "hidden": [8]},
                   {"model": "realnvp", "dim": 4, "n_layers": 3, "hidden": [8], "actnorm": True},
                   {"model": "maf", "dim": 4, "n_layers": 1, "hidden": [8], "whiten": True}):
        flow = build_model(config)
        flags = [module.initialized for module in flow.modules()
                 if "initialized" in module._own_buffers]
        assert flags and not any(flags) and not flow.initialized
        flow.initialize(x[:, :config["dim"]])
        assert flow.initialized and all(flags), config["model"]   # the buffers, set in place


def test_actnorm_inverse_before_forward_is_the_identity():
    layer = ActNorm(2)
    z = np.array([[1.0, -2.0]])
    np.testing.assert_array_equal(layer.inverse(z)[0], z)
    assert not layer.initialized


def test_realnvp_with_actnorm_save_load_keeps_the_initialisation(tmp_path):
    x = np.random.default_rng(2).normal(size=(128, 2)) * [3.0, 0.2] + 1.0
    flow = build_realnvp(2, n_layers=2, hidden=(8,), actnorm=True, seed=1)
    flow.initialize(x)                                       # the data-dependent start
    path = str(tmp_path / "model.npz")
    save_model(flow, path)
    loaded = load_model(path)
    assert loaded.initialized
    assert all(value == 1.0 for name, value in loaded.buffers.items() if name.endswith("initialized"))
    np.testing.assert_array_equal(loaded.log_prob(x[:7]), flow.log_prob(x[:7]))
    fit(loaded, x[:64], steps=1, batch_size=16, optimizer=_Still(), progress=False)
    for name, value in loaded.params.items():        # not re-initialised on its first batch
        np.testing.assert_array_equal(value, flow.params[name])


class _Still:
    """An optimizer that moves nothing: what changes in ``fit`` is then the initialisation only."""

    def step(self):
        pass


def test_actnorm_initialises_on_two_rows_and_refuses_one():
    x = np.array([[1.0, 5.0], [3.0, 1.0]])                    # (2, 2)
    layer = ActNorm(2)
    layer.initialize(x)
    z, _ = layer.forward(x)
    np.testing.assert_allclose(np.abs(z), 1.0, rtol=1e-5)    # two rows: mean 0, std 1 -> ±1
    with pytest.raises(ValueError, match="at least 2"):
        ActNorm(2).initialize(x[:1])
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
