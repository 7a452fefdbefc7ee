"""The input checks one by one, at their edges: what passes unchanged, what is converted, and the
first value refused on each side of every bound."""
import numpy as np
import pytest

from scratchflow.input_checks import (check_array, check_dtype, check_gradient, check_int,
                                    check_number, check_sizes, check_vector)


def test_check_array_passes_valid_batches_through_and_converts_int_lists():
    x = np.zeros((3, 2))
    assert check_array(x, dim=2, dtype=np.float64, n=3) is x
    converted = check_array([[1, 2], [3, 4]])
    assert converted.dtype == np.float64 and converted.shape == (2, 2)
    assert check_array(np.array([[np.nan]]), finite=False).shape == (1, 1)
    assert check_array(np.zeros((2, 2), dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("bad, options, error, words", [
    (np.zeros((2, 2), dtype=np.int64), {}, TypeError, "float array"),
    (np.zeros((2, 2), dtype=np.float32), {"dtype": np.float64}, TypeError, "float32 but this model"),
    (np.zeros(3), {}, ValueError, "reshape"),
    (np.zeros((2, 2, 2)), {}, ValueError, "ndim=3"),
    (np.zeros((2, 3)), {"dim": 2}, ValueError, "D=3"),
    (np.zeros((2, 2)), {"n": 3}, ValueError, "N=2"),
    (np.array([[0.0, 1.0], [2.0, np.inf]]), {}, ValueError, "row 1, column 1"),
    ([[1.0], [1.0, 2.0]], {}, ValueError, "rectangular"),
])
def test_check_array_refuses_with_the_reason(bad, options, error, words):
    with pytest.raises(error, match=words):
        check_array(bad, "x", **options)


def test_check_vector_and_check_gradient():
    assert check_vector([1.0, 2.0], "h", 2).dtype == np.float64
    assert check_vector(np.ones(2), "h", 2, dtype=np.float32).dtype == np.float32
    assert check_vector(np.ones(2, dtype=np.float32), "h", 2).dtype == np.float32   # kept
    same = np.ones(2)
    assert check_vector(same, "h", 2, dtype=np.float64) is same      # valid: passed through
    for bad, words in (([1.0], "shape"), (np.array([1, 2]), "float"), ([1.0, np.nan], "NaN")):
        with pytest.raises((TypeError, ValueError), match=words):
            check_vector(bad, "h", 2)
    grad = check_gradient(np.ones((2, 3)), "g", 2, 3, np.dtype(np.float32))
    assert grad.dtype == np.float32
    same = np.ones((2, 3))
    assert check_gradient(same, "g", 2, 3, np.dtype(np.float64)) is same
    assert check_gradient(np.full((1, 1), np.inf), "g", 1, 1, np.dtype(np.float64), finite=False).size == 1


def test_integer_and_size_checks():
    assert check_int(np.int64(3), "n", 3) == 3 and type(check_int(np.int64(3), "n")) is int
    assert check_int(-5, "n") == -5
    for bad, error in ((2, ValueError), (True, TypeError), (2.0, TypeError), ("3", TypeError)):
        with pytest.raises(error):
            check_int(bad, "n", 3)
    assert check_sizes([4, 1], "hidden") == (4, 1)
    assert check_sizes([], "hidden") == ()
    for bad in ([4, 0], "64", 64):
        with pytest.raises((TypeError, ValueError)):
            check_sizes(bad, "hidden")


def test_number_bounds_open_and_closed():
    assert check_number(0, "a", 0) == 0.0 and check_number(1, "a", high=1) == 1.0
    assert check_number(np.float32(0.5), "a", 0, 1, low_open=True, high_open=True) == 0.5
    for value, options, words in ((0, {"low": 0, "low_open": True}, "> 0"),
                                  (1, {"high": 1, "high_open": True}, "< 1"),
                                  (-0.1, {"low": 0}, ">= 0"), (1.1, {"high": 1}, "<= 1"),
                                  (1, {"low": 0, "high": 1, "high_open": True}, r"in \[0, 1\)"),
                                  (0, {"low": 0, "high": 1, "low_open": True}, r"in \(0, 1\]")):
        with pytest.raises(ValueError, match=words):
            check_number(value, "a", **options)
    for bad, error in ((np.nan, ValueError), (np.inf, ValueError), (True, TypeError), ("1", TypeError)):
        with pytest.raises(error):
            check_number(bad, "a")


def test_dtype_check():
    assert check_dtype("float32") == np.float32 and check_dtype(np.float64) == np.float64
    with pytest.raises(TypeError, match="float64 \\(default\\) or float32"):
        check_dtype(np.float16)


@pytest.mark.parametrize("value, error, message", [
    (2.0, TypeError, r"n must be an integer, got 2.0"), (np.int64(-1), ValueError, r"n must be >= 0"),
])
def test_check_int(value, error, message):
    with pytest.raises(error, match=message):
        check_int(value, "n", 0)
    assert check_int(np.int64(3), "n", 0) == 3 and type(check_int(np.int64(3), "n")) is int


def test_check_number():
    assert check_number(np.float32(0.5), "alpha", 0, 0.5, high_open=False) == 0.5
    with pytest.raises(ValueError, match=r"lr must be > 0, got 0.0"):
        check_number(0, "lr", 0, low_open=True)
    with pytest.raises(TypeError, match=r"flag must be a number, got True"):
        check_number(True, "flag")
