"""Numerical checkers: point them at your own layer (the cs231n ``gradient_check`` idea, for flows).

Everything here is computed by finite differences, independently of the code under test:

* :func:`numerical_jacobian` — ∂f(x_n)/∂x_n for every sample, by central differences;
* :func:`numerical_log_abs_det` — log|det| of it, by ``numpy.linalg.slogdet``;
* :func:`numerical_gradient` — dL/dθ of a scalar function, entry by entry;
* :func:`relative_error` — max over entries of |a − b| / max(ε, |a| + |b|);
* :func:`check_module` — an ``nn`` module's backward against finite differences;
* :func:`check_bijector` — one call that checks a flow layer in both directions and returns a
  :class:`CheckReport` you can print or assert on.

Central differences use the five-point stencil

    f'(t) ≈ [f(t − 2h) − 8 f(t − h) + 8 f(t + h) − f(t + 2h)] / (12 h),

whose truncation error is O(h⁴): with the default h = 1e-4 it is far below float64 round-off in
the function values (≈ 1e-16 · |f| / h ≈ 1e-12 · |f|). Run the checks in float64.

How gradients are checked. A layer's backward is a vector-Jacobian product, so the checker draws
random "upstream" gradients ``g`` (N, D) and ``h`` (N,) and checks the gradient of the scalar

    L = Σ_n g_n · z_n + Σ_n h_n log_det_n

with respect to the input and to every parameter entry. Entries whose gradient is tiny compared
with L's own size cannot be resolved by finite differences, so the relative error of each entry
uses ``ε = 1e-4 · S`` with ``S = Σ_n (|g_n| · |z_n| + |h_n| |log_det_n|)`` (the scale of L): an error
that large relative to L would still fail.

Example
-------
>>> import numpy as np
>>> from scratchflow import ElementwiseAffine
>>> from scratchflow.checks import check_bijector
>>> layer = ElementwiseAffine(3, log_scale=[0.1, -0.2, 0.3], shift=[1.0, 0.0, -1.0])
>>> report = check_bijector(layer, np.random.default_rng(0).normal(size=(4, 3)))
>>> report.passed
True
>>> print(report)                               # doctest: +SKIP
"""
from dataclasses import dataclass, field

import numpy as np

from scratchflow.validation import check_array

DEFAULT_STEP = 1e-4
RECONSTRUCTION_TOL = 1e-10
LOG_DET_TOL = 1e-7
GRADIENT_TOL = 1e-6


# ---------------------------------------------------------------------------- primitives
def relative_error(a, b, eps=1e-8):
    """max over entries of |a − b| / max(eps, |a| + |b|) (0.0 for empty arrays)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(eps, np.abs(a) + np.abs(b))))


def _five_point(evaluate, step):
    """Apply the five-point stencil to ``evaluate(offset)`` (returns an array or a float)."""
    return (evaluate(-2 * step) - 8 * evaluate(-step) + 8 * evaluate(step) - evaluate(2 * step)) / (12 * step)


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
    n, d = x.shape
    columns = []
    for k in range(d):             # perturb column k of every sample at once: rows are independent
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


def _numerical_input_gradient(per_sample_fn, x, independent, step):
    """dL/dx for L = Σ_n per_sample_fn(x)_n; column-at-once when samples are independent."""
    x = np.asarray(x, dtype=np.float64)
    if independent:
        return numerical_jacobian(lambda x_: per_sample_fn(x_)[:, None], x, step)[:, 0, :]
    x_live = x.copy()
    return numerical_gradient(lambda: per_sample_fn(x_live).sum(), x_live, step)


def _gradient_error(analytic, numeric, scale):
    """Relative error with ε scaled to the size of the checked scalar (see module docstring)."""
    return relative_error(analytic, numeric, eps=max(1e-12, 1e-4 * scale))


# ---------------------------------------------------------------------------- report
@dataclass
class CheckResult:
    """One line of a report: which check, how far off, against which tolerance."""
    name: str
    error: float
    tol: float
    note: str = ""

    @property
    def passed(self):
        return bool(np.isfinite(self.error) and self.error <= self.tol)


@dataclass
class CheckReport:
    """The outcome of :func:`check_bijector` or :func:`check_module`.

    ``report.passed`` is True when every check passed; ``print(report)`` shows a table;
    ``report.assert_ok()`` raises ``AssertionError`` with the failing lines.
    """
    subject: str
    results: list = field(default_factory=list)

    def add(self, name, error, tol, note=""):
        self.results.append(CheckResult(name, float(error), float(tol), note))

    @property
    def passed(self):
        return all(result.passed for result in self.results)

    def failures(self):
        return [result for result in self.results if not result.passed]

    def __getitem__(self, name):
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no check named {name!r}; checks: {[r.name for r in self.results]}")

    def __str__(self):
        width = max([len(r.name) for r in self.results] + [5])
        lines = [f"check report for {self.subject}",
                 f"  {'check'.ljust(width)}  {'error':>9}  {'tol':>7}  result"]
        for r in self.results:
            verdict = "ok" if r.passed else "FAIL"
            note = f"  ({r.note})" if r.note else ""
            lines.append(f"  {r.name.ljust(width)}  {r.error:9.2e}  {r.tol:7.0e}  {verdict}{note}")
        failed = len(self.failures())
        lines.append(f"  {len(self.results) - failed} passed, {failed} failed")
        return "\n".join(lines)

    def assert_ok(self):
        if not self.passed:
            raise AssertionError(str(self))
        return self


# ---------------------------------------------------------------------------- input checks
DIRECTIONS = ("forward", "inverse")


def _checked_points(x, name, layer, caller):
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


def _pass_outputs(result, point, what):
    """Check that a bijector pass returned ``(out (N, D), log_det (N,))`` for ``point`` (N, D)."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"{what} must return a pair (output, log_det), got {type(result).__name__}")
    out, log_det = np.asarray(result[0]), np.asarray(result[1])
    if out.shape != point.shape:
        raise ValueError(f"{what} returned an output of shape {out.shape}; expected {point.shape}")
    if log_det.shape != (point.shape[0],):
        raise ValueError(f"{what} returned log_det of shape {log_det.shape}; expected "
                         f"({point.shape[0]},), one value per row (nothing is broadcast)")
    return out, log_det


# ---------------------------------------------------------------------------- nn modules
def check_module(module, x, rng=0, step=DEFAULT_STEP, tol=GRADIENT_TOL):
    """Check an ``nn`` module's backward (input and every parameter) against finite differences.

    Draws a random upstream gradient g and checks the gradient of L = Σ g ⊙ module.forward(x).
    """
    rng = np.random.default_rng(rng)
    x = _checked_points(x, "x", module, "check_module")               # (N, D)
    y = module.forward(x)
    if not (isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[0] == x.shape[0]):
        raise TypeError(f"check_module needs forward(x) to return one ({x.shape[0]}, out) array; "
                        f"{type(module).__name__}.forward returned a {type(y).__name__}"
                        + (" (check each output of a multi-output module through a wrapper)"
                           if isinstance(y, tuple) else ""))
    upstream = rng.standard_normal(y.shape)
    scale = float(np.sum(np.abs(upstream * y))) + 1.0

    module.zero_grad()
    module.forward(x)
    grad_x = module.backward(upstream)
    analytic = {name: grad.copy() for name, grad in module.grads.items()}

    report = CheckReport(type(module).__name__)
    numeric_x = _numerical_input_gradient(lambda x_: np.sum(upstream * module.forward(x_), axis=1),
                                          x, True, step)
    report.add("gradient wrt input x", _gradient_error(grad_x, numeric_x, scale), tol)
    params = module.params
    for name, array in params.items():
        numeric = numerical_gradient(lambda: np.sum(upstream * module.forward(x)), array, step)
        report.add(f"gradient wrt {name}", _gradient_error(analytic[name], numeric, scale), tol)
    return report


# ---------------------------------------------------------------------------- bijectors
def check_bijector(layer, x, z=None, rng=0, step=DEFAULT_STEP, directions=("forward", "inverse"),
                   reconstruction_tol=RECONSTRUCTION_TOL, log_det_tol=LOG_DET_TOL,
                   gradient_tol=GRADIENT_TOL, check_params=True):
    """Check a bijector against the contract, numerically, in both directions.

    Parameters
    ----------
    layer : Bijector
    x : ndarray, shape (N, D)
        Points in the layer's domain, where the forward direction is checked.
    z : ndarray, shape (N, D), optional
        Points where the inverse direction is checked; default ``layer.forward(x)[0]``.
    rng : int or Generator
        Seed for the random upstream gradients.
    directions : tuple
        ``("forward", "inverse")`` or one of them.
    check_params : bool
        Also check every parameter gradient entry by entry (the slow part).

    Returns
    -------
    CheckReport
        Lines, per direction:

        * ``reconstruction``: max|x − f⁻¹(f(x))| / (1 + max|x|) (and z − f(f⁻¹(z)) for inverse);
        * ``log-det vs numerical Jacobian``: max |log_det − log|det J_num|| / (1 + |log_det|);
        * ``log-det consistency``: max |log_det_f(x) + log_det_f⁻¹(f(x))| / (1 + |log_det|);
        * ``gradient wrt x`` (or ``z``) and ``gradient wrt <param>``: relative error of backward
          (or inverse_backward) against finite differences.
    """
    rng = np.random.default_rng(rng)
    if isinstance(directions, str):
        directions = (directions,)
    if not directions or not set(directions) <= set(DIRECTIONS):
        raise ValueError(f"directions must be a non-empty subset of {DIRECTIONS}, got {directions!r}")
    x = _checked_points(x, "x", layer, "check_bijector")              # (N, D)
    report = CheckReport(repr(layer))
    independent = getattr(layer, "samples_independent", True)

    z_of_x, log_det_fwd = _pass_outputs(layer.forward(x), x, "layer.forward(x)")
    x_back, log_det_inv_at_fx = _pass_outputs(layer.inverse(z_of_x), x, "layer.inverse(z)")
    if z is None:
        z = z_of_x.copy()
    z = _checked_points(z, "z", layer, "check_bijector")              # (M, D)

    if "forward" in directions:
        report.add("forward: reconstruction x -> z -> x",
                   np.max(np.abs(x_back - x), initial=0.0) / (1.0 + np.max(np.abs(x), initial=0.0)),
                   reconstruction_tol)
        report.add("forward: log-det consistency f and f^-1",
                   np.max(np.abs(log_det_fwd + log_det_inv_at_fx) / (1.0 + np.abs(log_det_fwd)),
                          initial=0.0), log_det_tol)
        _check_direction(report, layer, x, "forward", rng, step, independent, log_det_tol,
                         gradient_tol, check_params)
    if "inverse" in directions:
        x_of_z, log_det_inv = layer.inverse(z)
        z_back, _ = layer.forward(x_of_z)
        report.add("inverse: reconstruction z -> x -> z",
                   np.max(np.abs(z_back - z), initial=0.0) / (1.0 + np.max(np.abs(z), initial=0.0)),
                   reconstruction_tol)
        _check_direction(report, layer, z, "inverse", rng, step, independent, log_det_tol,
                         gradient_tol, check_params)
    return report


def _check_direction(report, layer, point, direction, rng, step, independent, log_det_tol,
                     gradient_tol, check_params):
    """Log-det and gradient lines for one direction of ``layer`` at ``point`` (N, D)."""
    if direction == "forward":
        run, run_backward, wrt = layer.forward, layer.backward, "x"
    else:
        run, run_backward, wrt = layer.inverse, layer.inverse_backward, "z"
    out, log_det = _pass_outputs(run(point), point, f"layer.{direction}({wrt})")

    if independent:
        numeric_log_det = numerical_log_abs_det(lambda p: run(p)[0], point, step)
        report.add(f"{direction}: log-det vs numerical Jacobian",
                   np.max(np.abs(log_det - numeric_log_det) / (1.0 + np.abs(log_det)), initial=0.0),
                   log_det_tol)
    else:
        report.add(f"{direction}: log-det vs numerical Jacobian", 0.0, log_det_tol,
                   note="skipped: rows are not independent (batch statistics)")

    upstream_out = rng.standard_normal(out.shape)                       # g (N, D)
    upstream_log_det = rng.standard_normal(log_det.shape)               # h (N,)
    scale = float(np.sum(np.abs(upstream_out * out)) + np.sum(np.abs(upstream_log_det * log_det))) + 1.0

    def per_sample_loss(p):
        out_p, log_det_p = run(p)
        return np.sum(upstream_out * out_p, axis=1) + upstream_log_det * log_det_p   # (N,)

    layer.zero_grad()
    run(point)
    grad_point = run_backward(upstream_out, upstream_log_det)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}

    numeric_point = _numerical_input_gradient(per_sample_loss, point, independent, step)
    report.add(f"{direction}: gradient wrt {wrt}", _gradient_error(grad_point, numeric_point, scale),
               gradient_tol)
    if check_params:
        for name, array in layer.params.items():
            numeric = numerical_gradient(lambda: per_sample_loss(point).sum(), array, step)
            report.add(f"{direction}: gradient wrt {name}",
                       _gradient_error(analytic[name], numeric, scale), gradient_tol)
