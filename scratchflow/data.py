"""Toy data sets in pure NumPy, seeded, plus the lecture's two examples.

``load_dataset(name, n, rng)`` returns an (n, D) float64 array; ``DATASETS`` lists the names.
"""
import numpy as np

from scratchflow.bijectors.examples import Example2Map


def make_moons(n, rng=None, noise=0.1):
    """Two interleaving half circles in 2-D, with Gaussian noise of std ``noise``."""
    rng = np.random.default_rng(rng)
    n_upper = n // 2
    angle = rng.uniform(0.0, np.pi, n)                                   # (n,)
    upper = np.arange(n) < n_upper
    x = np.where(upper, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.column_stack([x, y]) + noise * rng.standard_normal((n, 2))   # (n, 2)
    return points[rng.permutation(n)]


def make_example1(n, rng=None):
    """Lecture Example 1: x = f^{-1}(z) = 2 z + 5 with z ~ N(0, 1), i.e. N(5, 2²); shape (n, 1)."""
    rng = np.random.default_rng(rng)
    return 2.0 * rng.standard_normal((n, 1)) + 5.0


def make_example2(n, rng=None):
    """Lecture Example 2: x = f^{-1}(z), x1 = e^{z1}, x2 = z2 + 2 z1, z ~ N(0, I); shape (n, 2)."""
    rng = np.random.default_rng(rng)
    x, _ = Example2Map().inverse(rng.standard_normal((n, 2)))
    return x


DATASETS = {
    "moons": make_moons,
    "example1": make_example1,
    "example2": make_example2,
}


def load_dataset(name, n, rng=None):
    """Draw ``n`` points of the data set ``name`` (see ``DATASETS``) with a seed or Generator."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    if int(n) < 1:
        raise ValueError(f"n must be a positive number of points, got {n}")
    return DATASETS[name](int(n), rng)
