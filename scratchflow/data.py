"""Toy data sets in pure NumPy, seeded, plus the lecture's two examples.

This file is the one table of data sets: ``DATASETS`` (the toy sets, name -> generator) and
``REAL_DATASETS`` (the scikit-learn sets of :mod:`scratchflow.realdata`). ``load_dataset(name, n, rng)``
returns an (n, D) float64 array of either kind.
Every generator takes ``rng`` (a seed or a numpy Generator), so the same seed gives the same
points. The 2-D sets live roughly in [-4, 4]² with spread O(1): a flow with N(0, I) as its base can
learn them as they are, no standardising needed.

Standardising (``standardize``, defined in :mod:`scratchflow.standardize` and importable from here)
is itself an affine bijector, z = (x − mean) / std, with log|det| = −Σ_j log std_j per sample. A model
trained on standardised data reports NLL_std; the NLL of the same model in the original units is
``NLL_std + Σ_j log std_j`` (slide "Больше слоев!" / "More layers!": the log-dets of a stack add up).
"""
import numpy as np

from scratchflow.bijectors.examples import Example2Map
from scratchflow.realdata import SKLEARN_DATASETS, sample_sklearn
from scratchflow.standardize import standardize  # noqa: F401  (public here: scratchflow.data.standardize)
from scratchflow.input_checks import check_int


def make_moons(n, rng=None, noise=0.1, return_labels=False):
    """Two interleaving half circles in 2-D, with Gaussian noise of std ``noise``.

    ``return_labels=True`` also returns each point's moon, (n,) ints: 0 upper, 1 lower (the
    context of the conditional flows' demonstration); the points are the same either way."""
    rng = np.random.default_rng(rng)
    n_upper = n // 2
    angle = rng.uniform(0.0, np.pi, n)                                   # (n,)
    upper = np.arange(n) < n_upper
    x = np.where(upper, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.column_stack([x, y]) + noise * rng.standard_normal((n, 2))   # (n, 2)
    order = rng.permutation(n)                                           # (n,)
    if return_labels:
        return points[order], (~upper[order]).astype(int)
    return points[order]


def make_circles(n, rng=None, noise=0.05, factor=0.5):
    """Two concentric circles of radius 2 and ``2 * factor``, half the points each, plus noise."""
    rng = np.random.default_rng(rng)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)                             # (n,)
    radius = np.where(np.arange(n) < n // 2, 2.0, 2.0 * factor)          # (n,)
    points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])   # (n, 2)
    points += noise * 2.0 * rng.standard_normal((n, 2))
    return points[rng.permutation(n)]


def make_rings(n, rng=None, n_rings=4, noise=0.08):
    """``n_rings`` concentric rings with radii 0.75, 1.5, ... and points in proportion to radius."""
    rng = np.random.default_rng(rng)
    radii = 0.75 * np.arange(1, n_rings + 1)                             # (R,)
    ring = rng.choice(n_rings, size=n, p=radii / radii.sum())           # (n,) ring of each point
    angle = rng.uniform(0.0, 2.0 * np.pi, n)                             # (n,)
    points = radii[ring][:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return points + noise * rng.standard_normal((n, 2))                  # (n, 2)


def make_eight_gaussians(n, rng=None, radius=2.5, std=0.2):
    """A mixture of eight Gaussians of std ``std`` with centres evenly spaced on a circle."""
    rng = np.random.default_rng(rng)
    angles = 2.0 * np.pi * np.arange(8) / 8                              # (8,)
    centres = radius * np.column_stack([np.cos(angles), np.sin(angles)])  # (8, 2)
    component = rng.integers(0, 8, n)                                    # (n,)
    return centres[component] + std * rng.standard_normal((n, 2))        # (n, 2)


def make_checkerboard(n, rng=None, n_cells=4, half_width=2.0):
    """Uniform on the black squares of an ``n_cells`` × ``n_cells`` board on [-w, w]²."""
    if check_int(n_cells, "n_cells") < 2 or n_cells % 2:
        raise ValueError(f"n_cells must be even and >= 2 (each column then has n_cells / 2 black "
                         f"cells, drawn uniformly), got {n_cells}")
    rng = np.random.default_rng(rng)
    cell = 2.0 * half_width / n_cells
    col = rng.integers(0, n_cells, n)                                    # (n,)
    row = 2 * rng.integers(0, n_cells // 2, n) + (col % 2)               # black: row + col even
    corner = np.column_stack([col, row]) * cell - half_width             # (n, 2)
    return corner + cell * rng.uniform(0.0, 1.0, (n, 2))                 # (n, 2)


def make_pinwheel(n, rng=None, n_arms=5, radial_std=0.3, tangential_std=0.1, rate=0.25):
    """Gaussian blobs stretched along x, pushed out to radius 1 and swirled: a pinwheel of arms."""
    rng = np.random.default_rng(rng)
    arm = rng.integers(0, n_arms, n)                                     # (n,)
    points = rng.standard_normal((n, 2)) * np.array([radial_std, tangential_std])   # (n, 2)
    points[:, 0] += 1.0
    angle = 2.0 * np.pi * arm / n_arms + rate * np.exp(points[:, 0])     # (n,) swirl grows with r
    cos, sin = np.cos(angle), np.sin(angle)
    rotated = np.column_stack([cos * points[:, 0] - sin * points[:, 1],
                               sin * points[:, 0] + cos * points[:, 1]])  # (n, 2)
    return 2.0 * rotated


def make_two_spirals(n, rng=None, noise=0.1, turns=1.5):
    """Two interleaved Archimedean spirals (the second is the first rotated by 180°), plus noise."""
    rng = np.random.default_rng(rng)
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * turns * 2.0 * np.pi          # (n,) denser far out
    sign = np.where(np.arange(n) < n // 2, 1.0, -1.0)                    # (n,) which spiral
    radius = 3.0 * t / (turns * 2.0 * np.pi)                             # (n,) in [0, 3]
    points = sign[:, None] * radius[:, None] * np.column_stack([np.cos(t), np.sin(t)])
    points += noise * rng.standard_normal((n, 2))                        # (n, 2)
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
    "circles": make_circles,
    "rings": make_rings,
    "8gaussians": make_eight_gaussians,
    "checkerboard": make_checkerboard,
    "pinwheel": make_pinwheel,
    "2spirals": make_two_spirals,
    "example1": make_example1,
    "example2": make_example2,
}
REAL_DATASETS = tuple(SKLEARN_DATASETS)     # digits, wine, breast_cancer: need scikit-learn


def load_dataset(name, n, rng=None):
    """Draw ``n`` points of the data set ``name`` (``DATASETS`` or ``REAL_DATASETS``) with a seed or Generator."""
    n = check_int(n, "n (the number of points)")          # 2.5 or "5" is an error, not 2 or 5
    if n < 1:
        raise ValueError(f"n must be a positive number of points, got {n}")
    if name in REAL_DATASETS:              # n rows of the fixed train split; needs scikit-learn
        return sample_sklearn(name, int(n), rng)
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name](int(n), rng)
