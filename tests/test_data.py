"""Toy data sets: names, shapes, seeds, and the standardising helper."""
import numpy as np
import pytest

from scratchflow.data import DATASETS, load_dataset, standardize

TOY_2D = ["moons", "circles", "rings", "8gaussians", "checkerboard", "pinwheel", "2spirals", "example2"]


def test_every_promised_name_is_there():
    assert set(TOY_2D) | {"example1"} <= set(DATASETS)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_shape_dtype_finite_and_seeded(name):
    x = load_dataset(name, 501, rng=3)
    dim = 1 if name == "example1" else 2
    assert x.shape == (501, dim) and x.dtype == np.float64 and np.isfinite(x).all()
    np.testing.assert_array_equal(x, load_dataset(name, 501, rng=3))          # same seed, same data
    assert not np.array_equal(x, load_dataset(name, 501, rng=4))              # other seed, other data
    gen_a, gen_b = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(load_dataset(name, 10, gen_a), load_dataset(name, 10, gen_b))


@pytest.mark.parametrize("name", [n for n in TOY_2D if n != "example2"])
def test_toy_sets_have_order_one_scale(name):
    x = load_dataset(name, 4000, rng=0)
    assert np.all(np.abs(x.mean(axis=0)) < 1.0)
    assert np.all((x.std(axis=0) > 0.3) & (x.std(axis=0) < 2.5))
    assert np.abs(x).max() < 5.0


def test_shapes_follow_their_definition():
    circles = load_dataset("circles", 4000, rng=0)
    radius = np.hypot(circles[:, 0], circles[:, 1])
    assert np.mean(np.abs(radius - 2.0) < 0.4) == pytest.approx(0.5, abs=0.02)   # half on r = 2
    board = load_dataset("checkerboard", 4000, rng=0)
    cells = np.floor(board + 2.0).astype(int)                                   # cell index 0..3
    assert np.all((cells.sum(axis=1) % 2) == 0)                                  # black cells only
    gauss = load_dataset("8gaussians", 4000, rng=0)
    angle = np.round(np.arctan2(gauss[:, 1], gauss[:, 0]) / (np.pi / 4)) % 8
    assert len(np.unique(angle)) == 8


def test_unknown_name_and_bad_n():
    with pytest.raises(ValueError, match="unknown data set 'moon'.*moons"):
        load_dataset("moon", 10)
    with pytest.raises(ValueError, match="positive"):
        load_dataset("moons", 0)


def test_standardize_and_its_log_det():
    x = load_dataset("moons", 2000, rng=0)
    z, mean, std = standardize(x)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0)
    z_val, _, _ = standardize(x[:10], mean, std)
    np.testing.assert_allclose(z_val, z[:10])
    # NLL in original units = NLL on standardised data + Σ log std (Gaussian check, exact)
    def gaussian_nll(v, mu, sigma):
        return np.mean(np.sum(0.5 * np.log(2 * np.pi * sigma**2) + 0.5 * ((v - mu) / sigma) ** 2, axis=1))
    assert gaussian_nll(x, mean, std) == pytest.approx(gaussian_nll(z, 0.0, 1.0) + np.log(std).sum())
    with pytest.raises(ValueError, match="zero spread"):
        standardize(np.ones((5, 2)))


@pytest.mark.parametrize("n, error, message", [
    (0, ValueError, r"n must be a positive number of points, got 0"),
    (-3, ValueError, r"positive"),
    (2.5, TypeError, r"n \(the number of points\) must be an integer, got 2.5"),     # not rounded
    ("5", TypeError, r"must be an integer, got '5'"),
    (True, TypeError, r"must be an integer, got True"),
])
def test_load_dataset_counts(n, error, message):
    with pytest.raises(error, match=message):
        load_dataset("moons", n)


def test_load_dataset_unknown_name():
    with pytest.raises(ValueError, match=r"unknown data set 'mooons'; choose one of .*'moons'"):
        load_dataset("mooons", 5)
