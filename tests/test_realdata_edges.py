"""The real-data helpers at their edges: which counts dequantise, the bits-per-dim formula, how many
rows can be drawn, and the fixed noise streams of each split."""
import numpy as np
import pytest

from scratchflow.realdata import (SKLEARN_DATASETS, bits_per_dim, dequantize, load_sklearn,
                                  sample_sklearn, standardization)

pytest.importorskip("sklearn")


def test_dequantize_puts_count_v_into_its_own_cell():
    counts = np.array([[0.0, 16.0], [3.0, 7.0]])
    x = dequantize(counts, rng=0)
    assert np.all((x > counts / 17) & (x < (counts + 1) / 17))
    np.testing.assert_array_equal(np.floor(x * 17), counts)
    np.testing.assert_array_equal(dequantize(counts, rng=0), x)             # seeded
    assert np.all(np.floor(dequantize([[1.0]], rng=0, levels=2) * 2) == 1.0)
    for bad in (17.0, -1.0, 2.5, np.nan):
        with pytest.raises(ValueError, match="integer counts in 0..16"):
            dequantize([[1.0, bad]])
    with pytest.raises(ValueError, match="levels"):
        dequantize([[0.0]], levels=0)


def test_bits_per_dim_of_a_uniform_density_is_log2_of_the_levels():
    assert bits_per_dim(0.0, 64) == pytest.approx(np.log2(17))
    assert bits_per_dim(-64 * np.log(2.0), 64) == pytest.approx(np.log2(17) - 1.0)
    assert bits_per_dim(0.0, 1, levels=2) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        bits_per_dim(0.0, 0)


def test_sample_sklearn_row_limits():
    n_train = SKLEARN_DATASETS["wine"][1]
    assert sample_sklearn("wine", n_train, rng=0).shape == (n_train, 13)
    assert sample_sklearn("wine", 1, rng=0).shape == (1, 13)
    with pytest.raises(ValueError, match=f"{n_train} training rows"):
        sample_sklearn("wine", n_train + 1, rng=0)
    with pytest.raises(ValueError, match="must be >= 1, got 0"):
        sample_sklearn("wine", 0, rng=0)
    pixels = sample_sklearn("digits", 5, rng=1)
    assert pixels.shape == (5, 64) and np.all((pixels > 0) & (pixels < 1))


def test_digits_noise_streams_per_split_are_fixed_and_distinct():
    train = load_sklearn("digits", "train")
    np.testing.assert_array_equal(load_sklearn("digits", "train"), train)
    counts = load_sklearn("digits", "train", dequantized=False)
    np.testing.assert_array_equal(np.floor(train * 17), counts)
    noise_train = train * 17 - counts
    test = load_sklearn("digits", "test")
    noise_test = test * 17 - load_sklearn("digits", "test", dequantized=False)
    assert not np.allclose(noise_train[:len(noise_test)], noise_test)
    other_seed = load_sklearn("digits", "train", seed=1)
    assert other_seed.shape == train.shape and not np.array_equal(other_seed, train)
    with pytest.raises(ValueError, match="not standardised"):
        standardization("digits")
    from scratchflow import realdata
    realdata._raw.cache_clear()                               # load it here, not in an earlier test
    assert not realdata._raw("wine").flags.writeable          # the cached matrix cannot be changed
    mean, std = standardization("wine")
    assert mean.shape == std.shape == (13,) and np.all(std > 0)
