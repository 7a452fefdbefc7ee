"""Real data from scikit-learn's bundled sets (optional extra: ``pip install -e ".[data]"``).

No download: the three sets ship inside scikit-learn. Each has a fixed, seeded train/test split.

* ``digits``: 1797 handwritten digits, 8×8 pixels with integer intensities v ∈ {0, ..., 16};
  1500 train / 297 test, D = 64. Uniform dequantisation (Real-NVP, arXiv 1605.08803, §4.1)

      x = (v + u) / 17,   u ~ U(0, 1)  independently per pixel,

  turns the counts into a continuous density on (0, 1)^64, ready for the
  :class:`~scratchflow.bijectors.Logit` pre-processing layer. A flow's average NLL of x (nats)
  bounds the discrete model: the density of y = v + u is p_x(y/17) / 17^D, and by Jensen
  −log P(v) ≤ E_u[−log p_y(v + u)] = NLL_x + D log 17. The usual figure is bits per dimension,
  ``(NLL_x + D log 17) / (D log 2)`` (:func:`bits_per_dim`; a uniform x gives log2 17 ≈ 4.09).
* ``wine`` (178 × 13; 142 train / 36 test) and ``breast_cancer`` (569 × 30; 455 train / 114
  test): tabular, standardised with the TRAIN split's mean and std (also applied to the test
  split). Standardising is an affine bijector with log|det| = −Σ_j log std_j, so an NLL in the
  original units is ``NLL_std + Σ_j log std_j`` (see :func:`scratchflow.standardize.standardize`).

``load_sklearn(name, split="train", seed=0)`` returns an (n, D) float64 array.
"""
from functools import lru_cache

import numpy as np

from scratchflow.standardize import standardize
from scratchflow.input_checks import check_int

SKLEARN_DATASETS = {                    # name -> (scikit-learn loader, rows in the train split)
    "digits": ("load_digits", 1500),
    "wine": ("load_wine", 142),
    "breast_cancer": ("load_breast_cancer", 455),
}
DIGITS_LEVELS = 17                      # intensities 0..16
IMAGE_SHAPES = {"digits": (8, 8)}       # drawn as images; modelled through a Logit layer first


@lru_cache(maxsize=None)
def _raw(name):
    """The full data matrix of a scikit-learn set, (n, D) float64, features only (read-only, cached)."""
    if name not in SKLEARN_DATASETS:
        raise ValueError(f"unknown scikit-learn data set {name!r}; choose one of {sorted(SKLEARN_DATASETS)}")
    try:
        # local import: scikit-learn is an optional dependency (extra "data"); only these sets need it.
        import sklearn.datasets
    except ImportError as error:
        raise ImportError(f"the data set {name!r} comes from scikit-learn, which is not installed: "
                          "pip install scikit-learn   (or, in the repository, pip install -e \".[data]\")"
                          ) from error
    loader = getattr(sklearn.datasets, SKLEARN_DATASETS[name][0])
    data = np.array(loader().data, dtype=np.float64)                    # (n, D)
    data.setflags(write=False)
    return data


def load_labels(name, split="train", seed=0):
    """The class of every row of ``load_sklearn(name, split, seed)``, (n,) ints (digits: 0..9),
    in the same order: the context of a class-conditional flow."""
    if name not in SKLEARN_DATASETS:
        raise ValueError(f"unknown scikit-learn data set {name!r}; choose one of {sorted(SKLEARN_DATASETS)}")
    _raw(name)                          # says what to install when scikit-learn is missing
    # local import: scikit-learn is an optional dependency (extra "data"); only these sets need it.
    import sklearn.datasets
    labels = np.asarray(getattr(sklearn.datasets, SKLEARN_DATASETS[name][0])().target, dtype=int)
    order = np.random.default_rng(seed).permutation(len(labels))         # as _split_rows
    n_train = SKLEARN_DATASETS[name][1]
    return labels[order[:n_train]] if split == "train" else labels[order[n_train:]]


def _split_rows(name, split, seed):
    """Rows of the ``split`` ("train" or "test") of ``name``: a seeded permutation, cut once."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    data = _raw(name)                                                    # (n, D)
    order = np.random.default_rng(seed).permutation(len(data))           # (n,)
    n_train = SKLEARN_DATASETS[name][1]
    train, test = data[order[:n_train]], data[order[n_train:]]
    return (train if split == "train" else test), train


def dequantize(counts, rng=None, levels=DIGITS_LEVELS):
    """x = (v + u) / levels with u ~ U(0, 1) per entry: integer counts (N, D) -> (0, 1)^D."""
    counts = np.asarray(counts, dtype=np.float64)                       # (N, D)
    levels = check_int(levels, "levels", 1)
    bad = ~np.isfinite(counts) | (counts != np.round(counts)) | (counts < 0) | (counts >= levels)
    if bad.any():                       # (v + u) / levels would leave (0, 1), or v is not a count
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"dequantize expects integer counts in 0..{levels - 1}; counts{list(index)} "
                         f"= {float(counts[index])!r}")
    rng = np.random.default_rng(rng)
    return (counts + rng.uniform(size=counts.shape)) / levels


def load_sklearn(name, split="train", seed=0, dequantized=True, rng=None):
    """One split of a scikit-learn data set as an (n, D) float64 array.

    Parameters
    ----------
    name : {"digits", "wine", "breast_cancer"}
    split : {"train", "test"}
    seed : int
        Seed of the train/test permutation (the split is the same for every call with this seed).
    dequantized : bool
        digits only: return (v + u)/17 in (0, 1) (default) or the raw counts v ∈ {0..16}
        (then call :func:`dequantize` afresh every epoch, as the Real-NVP paper does).
    rng : seed or Generator, optional
        digits only: the dequantisation noise; default a fixed stream derived from ``seed`` and
        ``split``, so repeated calls return the same array.

    Returns
    -------
    ndarray, shape (n, D)
        digits: dequantised pixels (or counts); wine, breast_cancer: standardised with the train
        split's statistics.

    Raises
    ------
    ImportError
        scikit-learn is missing (the message says what to install).
    """
    rows, train = _split_rows(name, split, seed)                         # (n, D), (n_train, D)
    if name == "digits":
        if not dequantized:
            return rows.copy()
        if rng is None:
            rng = np.random.default_rng([seed, 0 if split == "train" else 1])
        return dequantize(rows, rng)
    _, mean, std = standardize(train)
    return standardize(rows, mean, std)[0]


def standardization(name, seed=0):
    """(mean, std) of the train split of a tabular set, (D,) each: what :func:`load_sklearn` divides by."""
    if name == "digits":
        raise ValueError("digits is dequantised into (0, 1), not standardised")
    _, mean, std = standardize(_split_rows(name, "train", seed)[1])
    return mean, std


def sample_sklearn(name, n, rng=None):
    """``n`` distinct rows of the TRAIN split (seed 0), chosen by ``rng``; what ``load_dataset`` returns.

    digits rows are dequantised with noise from the same ``rng``. For a held-out set use
    ``load_sklearn(name, split="test")``: rows drawn here never come from the test split.
    """
    n = check_int(n, "n (the number of rows)", 1)                       # 2.5 and "5" are errors
    n_train = SKLEARN_DATASETS[name][1] if name in SKLEARN_DATASETS else None
    rng = np.random.default_rng(rng)
    if n_train is not None and n > n_train:                              # n >= 1 is checked above
        raise ValueError(f"{name!r} has {n_train} training rows; ask for at most {n_train} "
                         f"(e.g. --n-train {n_train}), or use "
                         f"scratchflow.realdata.load_sklearn({name!r}, split='train'|'test')")
    pool = load_sklearn(name, "train", seed=0, dequantized=False)         # (n_train, D)
    rows = pool[rng.choice(len(pool), size=int(n), replace=False)]       # (n, D)
    return dequantize(rows, rng) if name == "digits" else rows


def bits_per_dim(nll_x, dim, levels=DIGITS_LEVELS):
    """Bits per dimension of the discrete data from a flow's mean NLL (nats) of x = (v + u)/levels."""
    dim = check_int(dim, "dim", 1)
    return (float(nll_x) + dim * np.log(levels)) / (dim * np.log(2.0))
