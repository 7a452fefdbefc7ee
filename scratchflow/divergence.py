"""DivergenceError: a layer produced NaN or ±inf from finite input (an overflow, not bad data).

Every input is checked at the public boundary, so a non-finite number that appears later was made
inside the model: ``exp`` of a large log-scale, a product that overflowed, a NaN from ``inf − inf``.
That is a divergence of the parameters (a learning rate too large), never the user's data, so it
gets its own error type naming where it happened:

    DivergenceError: layer 3 (MAF) produced a non-finite z[0, 1] = inf from finite input ...

:func:`scratchflow.train.fit` catches it, adds the step, puts back the last good parameters and
stops cleanly. It is a ``FloatingPointError``, so code that caught overflow before still does.
"""
import math

import numpy as np


class DivergenceError(FloatingPointError):
    """NaN or ±inf made inside a layer (``where`` names it); ``step`` is set by ``fit``."""

    def __init__(self, message, where=None, step=None):
        super().__init__(message)
        self.where = where
        self.step = step


class DomainError(ValueError):
    """A point the model made itself left a later layer's domain (``where`` names that layer).

    Layer k > 0 of a stack reads what layers 0..k-1 produced, not the user's checked data: in
    training this means the parameters moved the intermediate points out of, say, a ``Logit``'s
    (0, 1). ``fit`` stops on it as on a :class:`DivergenceError`; it stays a ``ValueError`` for
    code that catches domain errors."""

    def __init__(self, message, where=None, step=None):
        super().__init__(message)
        self.where = where
        self.step = step


def check_finite_output(where, **outputs):
    """Raise :class:`DivergenceError` naming ``where`` if an output array holds NaN or ±inf.

    ``outputs`` maps a name (``z``, ``log_det``) to the array a layer returned from finite input.
    It runs after every layer of every pass, so the common case (all finite) is decided by
    :func:`all_finite`; the entry-wise search runs only to name the first bad entry.
    """
    if all_finite(*outputs.values()):
        return
    for name, array in outputs.items():
        finite = np.isfinite(array)
        if not finite.all():
            position = tuple(int(i) for i in np.argwhere(~finite)[0])
            index = ", ".join(map(str, position))
            raise DivergenceError(
                f"{where} produced a non-finite {name}[{index}] = {array[position]} from finite "
                f"input: an overflow inside the model (e.g. exp of a large log-scale); in training "
                f"this means the loss diverged: try a smaller lr, clip_norm or a scale bound", where)


def all_finite(*arrays):
    """True when every entry of every array is finite.

    One dot product per array decides it: the sum of squares Σ a_i² is NaN or +inf when some
    entry is NaN or ±inf (squares are never negative, so no inf − inf), and finite means every
    entry is. Only a sum that overflowed from finite entries (|a_i| above ~1e154 in float64,
    ~1e19 in float32) needs the entry-wise ``np.isfinite`` to tell. The dot product is a single
    BLAS call without the temporary boolean array of ``np.isfinite(a).all()``, about three times
    cheaper on the small arrays a layer returns, and this runs after every layer of every pass.
    """
    for array in arrays:
        flat = np.ravel(array)                                        # a view when contiguous
        if math.isfinite(flat.dot(flat)):
            continue
        if not np.isfinite(flat).all():
            return False
    return True
