"""DivergenceError: a layer produced NaN or ±inf from finite input (an overflow, not bad data).

Every input is checked at the public boundary, so a non-finite number that appears later was made
inside the model: ``exp`` of a large log-scale, a product that overflowed, a NaN from ``inf − inf``.
That is a divergence of the parameters (a learning rate too large), never the user's data, so it
gets its own error type naming where it happened:

    DivergenceError: layer 3 (MAF) produced a non-finite z[0, 1] = inf from finite input ...

:func:`scratchflow.train.fit` catches it, adds the step, puts back the last good parameters and
stops cleanly. It is a ``FloatingPointError``, so code that caught overflow before still does.
"""
import numpy as np


class DivergenceError(FloatingPointError):
    """NaN or ±inf made inside a layer (``where`` names it); ``step`` is set by ``fit``."""

    def __init__(self, message, where=None, step=None):
        super().__init__(message)
        self.where = where
        self.step = step


def check_finite_output(where, **outputs):
    """Raise :class:`DivergenceError` naming ``where`` if an output array holds NaN or ±inf.

    ``outputs`` maps a name (``z``, ``log_det``) to the array a layer returned from finite input.
    """
    for name, array in outputs.items():
        finite = np.isfinite(array)
        if not finite.all():
            position = tuple(int(i) for i in np.argwhere(~finite)[0])
            index = ", ".join(map(str, position))
            raise DivergenceError(
                f"{where} produced a non-finite {name}[{index}] = {array[position]} from finite "
                f"input: an overflow inside the model (e.g. exp of a large log-scale); in training "
                f"this means the loss diverged: try a smaller lr, clip_norm or a scale bound", where)
