"""scikit-learn's bundled sets: fixed splits, dequantisation, train-split standardising, clear errors."""
import sys

import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.bijectors import ElementwiseAffine, Logit
from scratchflow.data import load_dataset
from scratchflow import realdata
from scratchflow.realdata import (SKLEARN_DATASETS, bits_per_dim, dequantize, load_sklearn,
                                  standardization)
from scratchflow.realdata import sample_sklearn

SIZES = {"digits": (1500, 297, 64), "wine": (142, 36, 13), "breast_cancer": (455, 114, 30)}


def _sorted_rows(a):
    return a[np.lexsort(a.T[::-1])]


@pytest.mark.parametrize("name", sorted(SKLEARN_DATASETS))
def test_fixed_split_sizes_disjoint_and_complete(name):
    n_train, n_test, dim = SIZES[name]
    train = load_sklearn(name, "train", dequantized=False)
    test = load_sklearn(name, "test", dequantized=False)
    assert train.shape == (n_train, dim) and test.shape == (n_test, dim) and train.dtype == np.float64
    np.testing.assert_array_equal(load_sklearn(name, "train", dequantized=False), train)   # fixed
    assert not np.array_equal(load_sklearn(name, "train", seed=1, dequantized=False), train)
    if name == "digits":             # the two splits together are the whole set, row for row
        everything = np.concatenate([train, test])
        np.testing.assert_array_equal(_sorted_rows(everything), _sorted_rows(realdata._raw(name)))


@pytest.mark.parametrize("split", ["train", "test"])
def test_the_labels_of_a_split_are_those_of_its_rows(split):
    import sklearn.datasets
    digits = sklearn.datasets.load_digits()
    labels_of = {}
    for row, label in zip(digits.data, digits.target):
        labels_of.setdefault(row.tobytes(), set()).add(int(label))
    rows, labels = load_sklearn("digits", split, dequantized=False), realdata.load_labels("digits", split)
    assert labels.shape == (len(rows),) == ({"train": 1500, "test": 297}[split],)
    assert all(int(label) in labels_of[row.tobytes()] for row, label in zip(rows, labels))


def test_digits_are_dequantised_into_the_unit_interval():
    counts = load_sklearn("digits", "train", dequantized=False)
    x = load_sklearn("digits", "train")
    assert ((x > 0) & (x < 1)).all()
    np.testing.assert_array_equal(np.floor(x * 17), counts)                # u only fills the bin
    np.testing.assert_array_equal(load_sklearn("digits", "train"), x)      # default noise is fixed
    assert not np.array_equal(load_sklearn("digits", "train", rng=5), x)
    assert 0.4 < (x * 17 - counts).mean() < 0.6


@pytest.mark.parametrize("name", ["wine", "breast_cancer"])
def test_tabular_sets_are_standardised_with_train_statistics(name):
    train, test = load_sklearn(name, "train"), load_sklearn(name, "test")
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(train.std(axis=0), 1.0, rtol=1e-12)
    mean, std = standardization(name)
    raw_test = realdata._split_rows(name, "test", 0)[0]
    np.testing.assert_allclose(test * std + mean, raw_test, rtol=1e-12, atol=1e-12)
    assert np.abs(test.mean(axis=0)).max() > 1e-3          # not re-centred on its own statistics


def test_load_dataset_draws_distinct_train_rows():
    x = load_dataset("wine", 100, rng=3)
    assert x.shape == (100, 13)
    assert len(np.unique(x, axis=0)) == 100
    train = load_sklearn("wine", "train")
    assert all((np.abs(train - row).max(axis=1) < 1e-12).any() for row in x)
    digits = load_dataset("digits", 50, rng=0)
    assert digits.shape == (50, 64) and ((digits > 0) & (digits < 1)).all()
    with pytest.raises(ValueError, match="1500 training rows"):
        load_dataset("digits", 2000, rng=0)


def test_bad_names_and_splits():
    with pytest.raises(ValueError, match="choose one of"):
        load_sklearn("iris")
    with pytest.raises(ValueError, match="split"):
        load_sklearn("wine", split="validation")


def test_missing_scikit_learn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    realdata._raw.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"pip install scikit-learn.*\[data\]"):
            load_sklearn("digits")
    finally:
        realdata._raw.cache_clear()


def test_logit_gaussian_beats_uniform_bits_per_dim_on_digits():
    """A diagonal Gaussian in logit space, fitted in closed form, needs fewer bits than uniform."""
    train, test = load_sklearn("digits", "train"), load_sklearn("digits", "test")
    logit = Logit(64, alpha=0.05)
    y, _ = logit.forward(train)                                           # (1500, 64)
    mean, std = y.mean(axis=0), y.std(axis=0)
    flow = Flow([logit, ElementwiseAffine(64, log_scale=-np.log(std), shift=-mean / std)])
    test_nll = -flow.log_prob(test).mean()
    assert bits_per_dim(0.0, 64) == pytest.approx(np.log2(17))            # uniform on (0, 1)^64
    assert bits_per_dim(test_nll, 64) < np.log2(17) - 0.5


@pytest.mark.parametrize("n", [2.5, "5", True])
def test_sample_sklearn_takes_an_integer_count(n):
    pytest.importorskip("sklearn")
    with pytest.raises(TypeError, match="must be an integer"):
        sample_sklearn("wine", n)


@pytest.mark.parametrize("call, message", [
    (lambda: dequantize(np.array([[0.5, 3.0]])), r"integer counts in 0..16; counts\[0, 0\] = 0.5"),
    (lambda: dequantize(np.array([[3, 17]])), r"counts\[0, 1\] = 17"),             # x would be >= 1
    (lambda: bits_per_dim(1.0, 0), r"dim must be >= 1"),
])
def test_dequantize_and_bits_per_dim_refuse_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
