"""Public tests of Task 7 (IAF). Run: python -m pytest tests/test_task7_iaf.py"""
import numpy as np

from scratchflow.checks import numerical_log_abs_det
from task7_iaf import iaf_forward, iaf_inverse, iaf_log_prob, iaf_sample, make_conditioner


def test_forward_undoes_inverse():
    conditioner = make_conditioner(3, rng=0)
    z = np.random.default_rng(1).normal(size=(10, 3))
    x, log_det_inverse = iaf_inverse(z, conditioner)
    z_back, log_det = iaf_forward(x, conditioner)
    np.testing.assert_allclose(z_back, z, atol=1e-10)
    np.testing.assert_allclose(log_det + log_det_inverse, 0.0, atol=1e-10)


def test_log_dets_match_numerical_jacobian():
    conditioner = make_conditioner(3, rng=2)
    z = np.random.default_rng(3).normal(size=(6, 3))
    _, log_det_inverse = iaf_inverse(z, conditioner)
    np.testing.assert_allclose(log_det_inverse,
                               numerical_log_abs_det(lambda p: iaf_inverse(p, conditioner)[0], z), atol=1e-7)
    x = iaf_inverse(z, conditioner)[0]
    np.testing.assert_allclose(iaf_forward(x, conditioner)[1],
                               numerical_log_abs_det(lambda p: iaf_forward(p, conditioner)[0], x), atol=1e-7)


def test_density_integrates_to_one():
    conditioner = make_conditioner(2, rng=4)
    grid = np.linspace(-12.0, 12.0, 401)
    x1, x2 = np.meshgrid(grid, grid, indexing="ij")
    density = np.exp(iaf_log_prob(np.column_stack([x1.ravel(), x2.ravel()]), conditioner))
    assert abs(density.sum() * (grid[1] - grid[0]) ** 2 - 1.0) < 1e-3


def test_samples_have_the_right_shape():
    assert iaf_sample(5, make_conditioner(3), 3, rng=0).shape == (5, 3)
