"""Finite differences (five-point stencil), relative errors and the float64 points they need."""
import contextlib
import textwrap

import numpy as np

from scratchflow.input_checks import check_array

DEFAULT_STEP = 1e-4
RECONSTRUCTION_TOL = 1e-10
LOG_DET_TOL = 1e-7
GRADIENT_TOL = 1e-6
PERTURBATION = 0.1
"""Standard deviation of the noise ``perturb`` adds to every parameter entry for a check."""
PERTURB_CHOICES = (True, False, "auto")


def relative_error(a, b, eps=1e-8):
    """max over entries of |a − b| / max(eps, |a| + |b|) (0.0 for empty arrays; NaN stays NaN)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(eps, np.abs(a) + np.abs(b))))


def loss_scale(*pairs):
    """S = 1 + Σ |upstream ⊙ value| over the (upstream, value) pairs: the size of the checked
    scalar L = Σ upstream · value, at least 1 (see the package docstring)."""
    return 1.0 + sum(float(np.sum(np.abs(upstream * value))) for upstream, value in pairs)


def gradient_eps(scale):
    """ε of :func:`gradient_error`: 1e-4 times the size of the checked scalar, at least 1e-12."""
    return max(1e-12, 1e-4 * scale)


def gradient_error(analytic, numeric, scale):
    """Relative error with ε scaled to the size of the checked scalar (see the package docstring)."""
    return relative_error(analytic, numeric, eps=gradient_eps(scale))


def _five_point(evaluate, step):
    """Apply the five-point stencil to ``evaluate(offset)`` (returns an array or a float)."""
    return (evaluate(-2 * step) - 8 * evaluate(-step) + 8 * evaluate(step)
            - evaluate(2 * step)) / (12 * step)


def numerical_jacobian(fn, x, step=DEFAULT_STEP):
    """Per-sample Jacobian ∂fn(x)_n / ∂x_n by central differences.

    Parameters
    ----------
    fn : callable
        Maps x (N, D) to y (N, K) row by row: row n of y depends on row n of x only.
    x : ndarray, shape (N, D)
    step : float

    Returns
    -------
    jacobian : ndarray, shape (N, K, D), entry (n, j, k) = ∂y_nj / ∂x_nk.
    """
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for k in range(x.shape[1]):    # perturb column k of every sample at once: rows are independent
        def shifted(offset, k=k):
            x_shift = x.copy()
            x_shift[:, k] += offset
            return np.asarray(fn(x_shift), dtype=np.float64)
        columns.append(_five_point(shifted, step))                  # (N, K)
    return np.stack(columns, axis=2)                                # (N, K, D)


def numerical_log_abs_det(fn, x, step=DEFAULT_STEP):
    """log|det ∂fn(x_n)/∂x_n| for every sample, from :func:`numerical_jacobian` and ``slogdet``."""
    _, log_abs_det = np.linalg.slogdet(numerical_jacobian(fn, x, step))
    return log_abs_det                                              # (N,)


def numerical_gradient(fn, array, step=DEFAULT_STEP):
    """Gradient of the scalar ``fn()`` with respect to every entry of ``array``.

    ``array`` is perturbed in place (and restored), so it must be the live array that ``fn`` reads,
    such as a layer's ``params["weight"]``.
    """
    grad = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        original = array[index]

        def shifted(offset):
            array[index] = original + offset
            return float(fn())
        try:
            grad[index] = _five_point(shifted, step)
        finally:
            array[index] = original
    return grad


def numerical_input_gradient(per_sample_fn, x, independent, step):
    """dL/dx for L = Σ_n per_sample_fn(x)_n; column-at-once when samples are independent."""
    x = np.asarray(x, dtype=np.float64)
    if independent:
        return numerical_jacobian(lambda x_: per_sample_fn(x_)[:, None], x, step)[:, 0, :]
    x_live = x.copy()
    return numerical_gradient(lambda: per_sample_fn(x_live).sum(), x_live, step)


def checked_points(x, name, layer, caller):
    """``x`` as a finite float64 (N, D) batch with N >= 1, for a float64 layer.

    The checks compare against finite differences in float64, so a float32 layer is refused (its
    rounding alone is far above the tolerances), and an empty batch is refused (nothing checked
    must not read as "passed").
    """
    layer_dtype = np.dtype(getattr(layer, "dtype", np.float64))
    if layer_dtype != np.float64:
        raise TypeError(f"{caller} compares with finite differences in float64; build the layer "
                        f"with dtype=np.float64 to check it (it has {layer_dtype})")
    x = check_array(np.asarray(x, dtype=np.float64), name)            # (N, D), finite
    if x.shape[0] == 0:
        raise ValueError(f"{caller} needs at least one point; {name} is empty (shape {x.shape})")
    return x


@contextlib.contextmanager
def perturbed_parameters(module, rng, scale=PERTURBATION):
    """Inside the block every parameter of ``module`` has N(0, scale²) noise added in place;
    afterwards each holds exactly its old values again (also when the block raises)."""
    saved = {name: array.copy() for name, array in module.params.items()}
    try:
        for array in module.params.values():
            array += scale * rng.standard_normal(array.shape)
        yield module
    finally:
        for name, array in module.params.items():
            np.copyto(array, saved[name])


def check_perturbed(check, module, perturb, rng):
    """Run ``check()`` (returns a CheckReport); with ``perturb=True``, or ``"auto"`` when a line
    compared nothing, run it again on perturbed parameters (restored afterwards) and return that."""
    if perturb not in PERTURB_CHOICES or not isinstance(perturb, (bool, str)):
        raise ValueError(f"perturb must be True, False or 'auto', got {perturb!r}")
    report = None if perturb is True else check()
    if perturb is False or (report is not None and not report.vacuous()):
        return report
    names = dict.fromkeys(line.name.split(" wrt ")[-1] for line in report.vacuous()) if report else {}
    reason = ("perturb=True" if report is None else
              f"at the given ones the gradients wrt {', '.join(names)} were 0 on both sides: "
              f"nothing to compare")
    with perturbed_parameters(module, rng):
        perturbed = check()
    note = (f"parameters perturbed by N(0, {PERTURBATION:g}²) for this check, then restored "
            f"({reason})")
    perturbed.notes.extend(textwrap.wrap(note, 96, initial_indent="  ", subsequent_indent="  "))
    return perturbed
