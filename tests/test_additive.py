"""AdditiveCoupling (NICE) beyond the registry's contract: volume preservation and NICE's model."""
import numpy as np

from scratchflow.bijectors import AdditiveCoupling
from scratchflow.checks import numerical_jacobian
from scratchflow.io import load_model, save_model
from scratchflow.models import build_model


def test_volume_preserving_whatever_the_network():
    rng = np.random.default_rng(0)
    layer = AdditiveCoupling(4, [1, 0, 1, 0], hidden=(8,), rng=rng, zero_init=False)
    for array in layer.params.values():
        array *= 3.0                                                  # a large, far-from-identity t
    x = rng.normal(size=(6, 4))
    z, log_det = layer.forward(x)
    assert np.all(log_det == 0.0)
    jacobians = numerical_jacobian(lambda p: layer.forward(p)[0], x)     # (6, 4, 4)
    np.testing.assert_allclose(np.linalg.det(jacobians), 1.0, atol=1e-8)
    assert np.abs(z - x).max() > 0.1                                  # and it does move the points
    np.testing.assert_array_equal(z[:, [0, 2]], x[:, [0, 2]])          # z_c = x_c


def test_zero_init_is_the_identity():
    layer = AdditiveCoupling(3, [1, 1, 0], rng=0)
    x = np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_array_equal(layer.forward(x)[0], x)


def test_nice_model_log_det_comes_from_the_scaling_only(tmp_path):
    flow = build_model({"model": "nice", "dim": 2, "n_layers": 4, "hidden": [8], "lu_linear": True})
    rng = np.random.default_rng(2)
    for array in flow.params.values():
        array += rng.uniform(-0.3, 0.3, array.shape)
    x = rng.normal(size=(7, 2))
    scaling = flow.layers.layers[-1]
    lu_layers = [layer for layer in flow.layers.layers if type(layer).__name__ == "LULinear"]
    expected = scaling.log_scale.sum() + sum(layer.log_scale.sum() for layer in lu_layers)
    z, log_det = flow.layers.forward(x)
    np.testing.assert_allclose(log_det, expected, atol=1e-12)
    path = save_model(flow, str(tmp_path / "nice.npz"))               # the LU perm buffer survives
    np.testing.assert_array_equal(load_model(path).log_prob(x), flow.log_prob(x))


def test_additive_coupling_starts_as_the_identity_by_default():
    x = np.random.default_rng(0).normal(size=(5, 3)) * 3
    z, log_det = AdditiveCoupling(3, [1, 0, 1], hidden=(4,), rng=0).forward(x)
    np.testing.assert_array_equal(z, x)
    np.testing.assert_array_equal(log_det, np.zeros(5))
