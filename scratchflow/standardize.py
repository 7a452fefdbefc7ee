"""Standardising a data set: the affine bijector z = (x − mean) / std.

log|det ∂z/∂x| = −Σ_j log std_j per sample, so a model trained on standardised data that reports
NLL_std has NLL_std + Σ_j log std_j in the original units (slide "Больше слоев!" / "More layers!":
the log-dets of a stack add up). Used by :mod:`scratchflow.data` and :mod:`scratchflow.realdata`.
"""
import numpy as np

from scratchflow.input_checks import check_array


def standardize(x, mean=None, std=None):
    """Return ``((x − mean) / std, mean, std)``; mean and std are computed from x unless given.

    This is the affine bijector z = (x − mean) / std with log|det ∂z/∂x| = −Σ_j log std_j. To report
    an NLL in the original units, add ``np.log(std).sum()`` to the NLL measured on standardised
    data. Pass the training set's ``mean`` and ``std`` when standardising validation data.
    """
    x = np.asarray(x)
    if x.dtype.kind in "iu":                              # integer data (pixel counts) are fine here
        x = x.astype(np.float64)
    x = check_array(x, "x").astype(np.float64, copy=False)              # (N, D), finite
    if mean is None and x.shape[0] == 0:
        raise ValueError("cannot standardise an empty x (N = 0): no mean or spread to compute")
    mean = x.mean(axis=0) if mean is None else np.asarray(mean, dtype=np.float64)   # (D,)
    std = x.std(axis=0) if std is None else np.asarray(std, dtype=np.float64)        # (D,)
    for name, value in (("mean", mean), ("std", std)):
        if value.shape != (x.shape[1],):
            raise ValueError(f"{name} must have shape ({x.shape[1]},), one entry per column of x; "
                             f"got {value.shape}")
    if np.any(std <= 0):
        raise ValueError(f"cannot standardise: a column has zero spread (std = {std})")
    return (x - mean) / std, mean, std
