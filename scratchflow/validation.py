"""Input checks used at the public boundary of every module.

Each check raises an error that names the problem (which argument, which shape, which dtype, where
the NaN is) instead of letting NumPy broadcast, up-cast or propagate NaN silently. Internal calls
between layers skip these checks: a composite checks its input once.
"""
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(dtype):
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise ``TypeError``."""
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float64 (default) or float32, got {dtype}")
    return dtype


def check_array(x, name="x", dim=None, dtype=None, n=None, finite=True):
    """Check a batch of row vectors and return it as an ndarray (never a copy of a valid array).

    Parameters
    ----------
    x : array_like, shape (N, D)
        The batch; a Python list is accepted if it converts to a float array.
    name : str
        The argument's name, used in error messages.
    dim : int or None
        Required number of columns D.
    dtype : numpy dtype or None
        Required float dtype (the layer's parameter dtype). ``None`` accepts float32 and float64.
    n : int or None
        Required number of rows N (for gradients, which must match their forward pass).
    finite : bool
        Reject NaN and inf.

    Raises
    ------
    TypeError
        Integer, boolean, complex or object dtype, or a float dtype other than the layer's.
    ValueError
        Wrong number of dimensions, wrong D, wrong N, NaN or inf.
    """
    if isinstance(x, np.ndarray) and type(x) is not np.ndarray:   # np.matrix: `*` would be a
        x = np.asarray(x)                                             # matrix product; plain view
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except ValueError as error:        # ragged nested lists
            raise ValueError(f"{name} is not a rectangular (N, D) batch: rows of different lengths? "
                             f"({error})") from None
        if x.dtype.kind in "iub":          # a list of Python ints: a float64 batch was meant
            x = x.astype(np.float64)
    if x.dtype.kind != "f":
        raise TypeError(f"{name} must be a float array (float64 or float32), got dtype {x.dtype}; "
                        f"convert it with {name}.astype(np.float64)")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but this model computes in {np.dtype(dtype)}; "
                        f"pass {name}.astype(np.{np.dtype(dtype).name}) or build the model with "
                        f"dtype=np.{x.dtype.name}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (N, D), one row per sample; got ndim={x.ndim}, "
                         f"shape {x.shape}" + _reshape_hint(name, x, dim))
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} has D={x.shape[1]} columns but this layer has dimension {dim}")
    if n is not None and x.shape[0] != n:
        raise ValueError(f"{name} has N={x.shape[0]} rows but the latest pass had N={n}")
    if finite and not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name} contains NaN or inf (first at row {bad[0]}, column {bad[1]}: "
                         f"{x[bad[0], bad[1]]})")
    return x


def _reshape_hint(name, x, dim):
    """What to do with a 1-D array: N samples of D = 1, or one sample of D values."""
    if x.ndim != 1:
        return ""
    if dim is None or dim == 1:
        return f"; use {name}.reshape(-1, 1) for one-dimensional data"
    return f"; use {name}.reshape(1, -1) for one sample of D={dim} values, or {name}.reshape(-1, {dim})"


def check_vector(v, name, n, dtype=None):
    """Check a per-sample vector of shape (N,), such as ``grad_log_det``."""
    if not isinstance(v, np.ndarray):
        v = np.asarray(v, dtype=np.float64)
    if v.dtype.kind != "f":
        raise TypeError(f"{name} must be a float array, got dtype {v.dtype}")
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one value per sample; got {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} contains NaN or inf")
    if dtype is not None and v.dtype != dtype:
        v = v.astype(dtype)
    return v


def check_gradient(grad, name, n, dim, dtype, finite=True):
    """Check an upstream gradient against the pass it belongs to and return it in the model's dtype.

    ``grad`` must be a float array of shape (n, dim), the shape of that pass's output; nothing is
    broadcast. A float64 gradient for a float32 model is cast (so its grads stay float32).
    """
    grad = check_array(grad, name, dim=dim, n=n, finite=finite)
    return grad if grad.dtype == dtype else grad.astype(dtype)


def check_int(value, name, minimum=None):
    """Return ``value`` as an int if it is an integer (Python or NumPy, not bool) >= ``minimum``.

    Floats are refused rather than truncated (2.5 samples, a layer of width 2.5), and so are strings.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_sizes(sizes, name, minimum=1):
    """Return a tuple of ints >= ``minimum`` from a sequence such as hidden widths ``(64, 64)``."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"{name} must be a sequence of integers such as (64, 64), got {sizes!r}")
    return tuple(check_int(size, f"{name} entry", minimum) for size in sizes)


def check_number(value, name, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float in the given range, or raise naming ``name`` and the range.

    ``low_open`` / ``high_open`` exclude the bound itself: ``check_number(lr, "lr", 0, low_open=True)``
    asks for lr > 0.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        if high is None:
            wanted = f"{'>' if low_open else '>='} {low}"
        elif low is None:
            wanted = f"{'<' if high_open else '<='} {high}"
        else:
            wanted = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be {wanted}, got {value}")
    return value
