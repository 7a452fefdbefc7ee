"""LULinear beyond the registry's contract: W = P L Ũ, the O(D) log-det, the triangular solves."""
import numpy as np
import pytest

from scratchflow.bijectors import LULinear


def _perturbed(dim, seed):
    rng = np.random.default_rng(seed)
    layer = LULinear(dim, rng=rng)
    for array in layer.params.values():
        array += rng.uniform(-0.5, 0.5, array.shape)
    return layer, rng


def test_initialisation_is_a_rotation():
    weight = LULinear(5, rng=0).weight()
    np.testing.assert_allclose(weight @ weight.T, np.eye(5), atol=1e-12)
    # Glow's start: the rotation Q of a Gaussian matrix's QR, drawn from rng, factorised exactly
    rotation, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 5)))
    np.testing.assert_allclose(weight, rotation, atol=1e-12)


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_forward_is_w_x_and_log_det_is_slogdet(dim):
    layer, rng = _perturbed(dim, dim)
    x = rng.normal(size=(4, dim))
    z, log_det = layer.forward(x)
    weight = layer.weight()
    np.testing.assert_allclose(z, x @ weight.T, atol=1e-12)
    np.testing.assert_allclose(log_det, np.linalg.slogdet(weight)[1], atol=1e-12)
    x_back, log_det_inverse = layer.inverse(z)
    np.testing.assert_allclose(x_back, np.linalg.solve(weight, z.T).T, atol=1e-12)
    np.testing.assert_allclose(log_det_inverse, -log_det, atol=1e-14)


def test_masked_entries_never_matter_and_get_no_gradient():
    layer, rng = _perturbed(4, 7)
    x = rng.normal(size=(3, 4))
    z = layer.forward(x)[0]
    layer.lower[np.triu_indices(4)] += 5.0                # on and above the diagonal: unused
    layer.upper[np.tril_indices(4)] += 5.0
    np.testing.assert_array_equal(layer.forward(x)[0], z)
    layer.zero_grad()
    layer.forward(x)
    layer.backward(rng.normal(size=(3, 4)), rng.normal(size=3))
    assert np.all(layer.grads["lower"][np.triu_indices(4)] == 0)
    assert np.all(layer.grads["upper"][np.tril_indices(4)] == 0)


def test_float32_stays_float32():
    layer = LULinear(3, rng=0, dtype=np.float32)
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    z, log_det = layer.forward(x)
    x_back, _ = layer.inverse(z)
    assert z.dtype == log_det.dtype == x_back.dtype == np.float32
    assert layer.backward(np.ones_like(z)).dtype == np.float32
    np.testing.assert_allclose(x_back, x, atol=1e-5)


def test_no_dimension_is_refused():
    with pytest.raises(ValueError, match="dim must be >= 1"):
        LULinear(0)
