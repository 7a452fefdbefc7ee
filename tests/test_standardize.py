"""standardize at its edges: integer counts, given statistics, shapes, zero spread, empty input."""
import numpy as np
import pytest

from scratchflow.standardize import standardize


def test_integer_counts_and_given_statistics():
    z, mean, std = standardize(np.array([[1, 10], [3, 30]]))
    np.testing.assert_array_equal(z, [[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(mean, [2.0, 20.0])
    np.testing.assert_array_equal(std, [1.0, 10.0])
    z, _, _ = standardize(np.zeros((0, 2)), mean=[0.0, 1.0], std=[1.0, 2.0])   # empty is fine then
    assert z.shape == (0, 2)
    z, _, _ = standardize([[4.0, 5.0]], mean=[2.0, 1.0], std=[2.0, 0.5])
    np.testing.assert_array_equal(z, [[1.0, 8.0]])


def test_bad_statistics_and_empty_input():
    with pytest.raises(ValueError, match="empty"):
        standardize(np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"mean must have shape \(2,\)"):
        standardize(np.ones((3, 2)), mean=[0.0], std=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"std must have shape \(2,\)"):
        standardize(np.ones((3, 2)), mean=[0.0, 0.0], std=[1.0])
    for std in ([1.0, 0.0], [1.0, -1.0]):
        with pytest.raises(ValueError, match="zero spread"):
            standardize(np.ones((3, 2)), mean=[0.0, 0.0], std=std)


@pytest.mark.parametrize("args, message", [
    ((np.array([[np.nan, 1.0], [1.0, 2.0]]),), r"x contains NaN or inf"),
    ((np.ones(5),), r"x must be 2-D"),
    ((np.zeros((0, 2)),), r"cannot standardise an empty x"),
    ((np.random.default_rng(0).normal(size=(5, 2)), np.zeros(3), np.ones(3)),
     r"mean must have shape \(2,\), one entry per column"),                        # not broadcast
    ((np.random.default_rng(0).normal(size=(5, 2)), None, np.ones((1, 2))), r"std must have shape \(2,\)"),
])
def test_standardize_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        standardize(*args)
