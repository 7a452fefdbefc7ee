"""Public tests of Task 1 (change of variables). Run: python -m pytest tests/test_task1_change_of_variables.py"""
import numpy as np

from task1_change_of_variables import example1_density, example2_density, numerical_log_abs_det


def test_example1_is_normal_5_2():
    x = np.linspace(-3.0, 13.0, 33)
    expected = np.exp(-((x - 5.0) ** 2) / 8.0) / (2.0 * np.sqrt(2.0 * np.pi))     # N(5, 2²)
    np.testing.assert_allclose(example1_density(x), expected, rtol=1e-10)


def test_example2_is_a_density():
    x1, x2 = np.meshgrid(np.linspace(1e-3, 60.0, 500), np.linspace(-25.0, 35.0, 500), indexing="ij")
    density = example2_density(np.column_stack([x1.ravel(), x2.ravel()]))      # (N,)
    assert density.shape == (x1.size,)
    assert np.all(density >= 0)
    cell = (x1[1, 0] - x1[0, 0]) * (x2[0, 1] - x2[0, 0])
    assert abs(density.sum() * cell - 1.0) < 0.02


def test_example2_at_one_point():
    # x = (1, 0): z = (0, 0), |det| = 1, so p_x = 1 / (2π)
    np.testing.assert_allclose(example2_density(np.array([[1.0, 0.0]])), [1.0 / (2.0 * np.pi)], rtol=1e-12)


def test_numerical_log_abs_det_of_example2_is_minus_log_x1():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(0.1, 5.0, 10), rng.normal(size=10)])       # (10, 2)

    def example2_map(x):
        log_x1 = np.log(x[:, 0])
        return np.column_stack([log_x1, x[:, 1] - 2.0 * log_x1])
    log_abs_det = numerical_log_abs_det(example2_map, x)
    assert log_abs_det.shape == (10,)
    np.testing.assert_allclose(log_abs_det, -np.log(x[:, 0]), atol=1e-6)


def test_numerical_log_abs_det_of_a_linear_map():
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(3, 3))
    x = rng.normal(size=(4, 3))
    expected = np.full(4, np.linalg.slogdet(matrix)[1])
    np.testing.assert_allclose(numerical_log_abs_det(lambda x: x @ matrix, x), expected, atol=1e-6)
