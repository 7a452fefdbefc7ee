"""Public tests of Task 6 (MAF). Run: python -m pytest tests/test_task6_maf.py"""
import numpy as np

from scratchflow.checks import numerical_log_abs_det
from task6_maf import make_conditioner, maf_forward, maf_inverse, maf_log_prob, maf_sample


def test_inverse_undoes_forward():
    conditioner = make_conditioner(3, rng=0)
    x = np.random.default_rng(1).normal(size=(10, 3))
    z, log_det = maf_forward(x, conditioner)
    x_back, log_det_inverse = maf_inverse(z, conditioner)
    np.testing.assert_allclose(x_back, x, atol=1e-10)
    np.testing.assert_allclose(log_det + log_det_inverse, 0.0, atol=1e-10)


def test_log_det_matches_numerical_jacobian():
    conditioner = make_conditioner(3, rng=2)
    x = np.random.default_rng(3).normal(size=(6, 3))
    _, log_det = maf_forward(x, conditioner)
    np.testing.assert_allclose(log_det, numerical_log_abs_det(lambda p: maf_forward(p, conditioner)[0], x),
                               atol=1e-7)


def test_density_integrates_to_one():
    conditioner = make_conditioner(2, rng=4)
    grid = np.linspace(-12.0, 12.0, 401)
    x1, x2 = np.meshgrid(grid, grid, indexing="ij")
    density = np.exp(maf_log_prob(np.column_stack([x1.ravel(), x2.ravel()]), conditioner))
    assert abs(density.sum() * (grid[1] - grid[0]) ** 2 - 1.0) < 1e-3


def test_samples_have_the_right_shape():
    assert maf_sample(5, make_conditioner(3), 3, rng=0).shape == (5, 3)
