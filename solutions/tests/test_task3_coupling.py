"""Public tests of Tasks 3 and 4 (Real-NVP coupling). Run: python -m pytest tests/test_task3_coupling.py

The checker used here is the one you can run on any layer of your own:
``print(scratchflow.checks.check_bijector(layer, x, directions=("forward",)))``.
"""
import numpy as np

from scratchflow.checks import check_bijector
from scratchflow.nn import MLP
from task3_coupling import CouplingLayer


def make_layer(dim=3, d=1, seed=0):
    rng = np.random.default_rng(seed)
    return CouplingLayer(dim, d, MLP([d, 8, dim - d], rng=rng), MLP([d, 8, dim - d], rng=rng))


def test_forward_keeps_the_first_part_and_shapes():
    layer = make_layer()
    x = np.random.default_rng(1).normal(size=(6, 3))
    z, log_det = layer.forward(x)
    assert z.shape == (6, 3) and log_det.shape == (6,)
    np.testing.assert_array_equal(z[:, :1], x[:, :1])


def test_inverse_reconstructs_and_log_dets_cancel():
    layer = make_layer()
    x = np.random.default_rng(2).normal(size=(6, 3))
    z, log_det = layer.forward(x)
    x_back, log_det_inverse = layer.inverse(z)
    np.testing.assert_allclose(x_back, x, atol=1e-10)
    np.testing.assert_allclose(log_det + log_det_inverse, 0.0, atol=1e-10)


def test_log_det_matches_numerical_jacobian():                      # Task 3
    report = check_bijector(make_layer(4, 2), np.random.default_rng(3).normal(size=(5, 4)),
                            directions=("forward",), check_params=False)
    assert report["forward: log-det vs numerical Jacobian"].passed, str(report)


def test_backward_matches_finite_differences():                     # Task 4
    report = check_bijector(make_layer(3, 1), np.random.default_rng(4).normal(size=(5, 3)),
                            directions=("forward",))
    assert report.passed, str(report)
