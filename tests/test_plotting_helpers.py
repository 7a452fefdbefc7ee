"""What every figure shares, against its docstring: limits around the bulk of the points, padded;
subsampling without repeats; the grid; the dimension check."""
import numpy as np
import pytest

from scratchflow.plotting.figure import bounds, check_plot_dim, grid_points, subsample


def test_bounds_pad_the_central_99_percent():
    points = np.column_stack([np.linspace(0.0, 10.0, 100001), np.linspace(-1.0, 1.0, 100001)])
    low, high = bounds(points)
    np.testing.assert_allclose(low, [0.05 - 0.15 * 9.9, -0.99 - 0.15 * 1.98], atol=1e-6)
    np.testing.assert_allclose(high, [9.95 + 0.15 * 9.9, 0.99 + 0.15 * 1.98], atol=1e-6)
    low, high = bounds(np.ones((10, 2)), pad=0.0)
    assert np.all(high > low)                                # a single point still gets a box
    low, high = bounds(np.column_stack([np.linspace(0.0, 4.0, 11), np.full(11, 3.0)]))
    np.testing.assert_allclose([low[1], high[1]], [2.5, 3.5])  # a constant coordinate: ±0.5
    assert low[0] < 0.0 and high[0] > 4.0
    low, high = bounds(np.column_stack([np.linspace(0.0, 4.0, 11)] * 2), pad=0.0)
    np.testing.assert_allclose([low, high], np.percentile(np.linspace(0.0, 4.0, 11), [[0.5] * 2, [99.5] * 2]))


def test_subsample_keeps_small_sets_and_draws_distinct_rows():
    points = np.arange(20.0).reshape(10, 2)
    assert subsample(points, n_max=10) is points
    shown = subsample(points, n_max=4, seed=1)
    assert shown.shape == (4, 2) and len(np.unique(shown[:, 0])) == 4
    np.testing.assert_array_equal(shown, subsample(points, n_max=4, seed=1))
    assert len(subsample(np.zeros((5000, 2)))) == 3000


def test_grid_points_cover_the_box_row_by_row():
    g1, g2, points = grid_points(np.array([0.0, -1.0]), np.array([1.0, 1.0]), 3)
    assert g1.shape == (3, 3) and points.shape == (9, 2)
    np.testing.assert_array_equal(points[:3], [[0.0, -1.0], [0.5, -1.0], [1.0, -1.0]])
    np.testing.assert_array_equal(points[-1], [1.0, 1.0])


def test_check_plot_dim_names_the_allowed_dimensions():
    class Flow3:
        dim = 3
    check_plot_dim(Flow3(), (3,))
    with pytest.raises(ValueError, match="1-D or 2-D flows; the flow has dimension 3"):
        check_plot_dim(Flow3(), (1, 2))
