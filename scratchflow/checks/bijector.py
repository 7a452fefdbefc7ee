"""check_bijector: one call that checks a flow layer against the contract, in both directions.

The report's lines, per direction:

* ``reconstruction``: max|x − f⁻¹(f(x))| / (1 + max|x|) (and z − f(f⁻¹(z)) for inverse);
* ``log-det vs numerical Jacobian``: max |log_det − log|det J_num|| / (1 + |log_det|); when rows
  depend on each other (BatchNorm in training mode) J_num is the per-sample Jacobian of
  ``layer.with_statistics_fixed()``, the same map with the batch statistics held fixed;
* ``log-det consistency`` (forward): max |log_det_f(x) + log_det_f⁻¹(f(x))| / (1 + |log_det|);
* ``gradient wrt x`` (or ``z``) and ``gradient wrt <param>``: relative error of backward (or
  inverse_backward) against finite differences.

A line that is not checked is reported "skipped" with its reason: the other direction when
``directions`` names one, the parameter lines when ``check_params`` is False, the log-det line of a
layer whose rows depend on each other and that offers no ``with_statistics_fixed()``, and a
gradient line with nothing to compare (both sides exactly 0, or an empty array: "vacuous", which
the report does not count as passed; ``perturb`` checks at perturbed parameters instead).
"""
import numpy as np

from scratchflow.checks.numerical import (DEFAULT_STEP, GRADIENT_TOL, LOG_DET_TOL,
                                          RECONSTRUCTION_TOL, check_perturbed, checked_points,
                                          loss_scale, numerical_gradient, numerical_input_gradient,
                                          numerical_log_abs_det)
from scratchflow.checks.report import CheckReport

DIRECTIONS = ("forward", "inverse")


def check_bijector(layer, x, z=None, rng=0, step=DEFAULT_STEP, directions=DIRECTIONS,
                   reconstruction_tol=RECONSTRUCTION_TOL, log_det_tol=LOG_DET_TOL,
                   gradient_tol=GRADIENT_TOL, check_params=True, perturb="auto"):
    """Check a bijector against the contract, numerically, in both directions.

    Parameters
    ----------
    layer : Bijector
    x : ndarray, shape (N, D)
        Points in the layer's domain, where the forward direction is checked.
    z : ndarray, shape (M, D), optional
        Points where the inverse direction is checked; default ``layer.forward(x)[0]``.
    rng : int or Generator
        Seed for the random upstream gradients (default 0: a report is reproducible).
    directions : tuple
        ``("forward", "inverse")`` or one of them; the other one's checks are reported skipped.
    check_params : bool
        Also check every parameter gradient entry by entry (the slow part); if False, the
        parameter lines are reported skipped.
    perturb : "auto" (default), True or False
        A gradient line whose two sides are both exactly 0 compares nothing (a freshly built
        coupling's zero-initialised last layer cuts the layers before it off: a wrong backward
        there would pass). ``"auto"``: if a line is such, run the whole check again with
        N(0, 0.1²) noise added to every parameter, and put the parameters back afterwards (the
        report says so); ``True``: always check at perturbed parameters; ``False``: never, and a
        line that compares nothing is reported skipped as vacuous (the report has not passed).

    Returns
    -------
    CheckReport
        The lines listed in this module's docstring, per direction.
    """
    if isinstance(directions, str):
        directions = (directions,)
    if not directions or not set(directions) <= set(DIRECTIONS):
        raise ValueError(f"directions must be a non-empty subset of {DIRECTIONS}, got {directions!r}")
    x = checked_points(x, "x", layer, "check_bijector")               # (N, D)
    options = dict(step=step, directions=directions, reconstruction_tol=reconstruction_tol,
                   log_det_tol=log_det_tol, gradient_tol=gradient_tol, check_params=check_params)
    return check_perturbed(lambda: _check_bijector(layer, x, z, np.random.default_rng(rng),
                                                   **options),
                           layer, perturb, np.random.default_rng(rng))


def _check_bijector(layer, x, z, rng, step, directions, reconstruction_tol, log_det_tol,
                    gradient_tol, check_params):
    """:func:`check_bijector` at the layer's current parameters."""
    report = CheckReport(repr(layer))

    z_of_x, log_det_fwd = _pass_outputs(layer.forward(x), x, "layer.forward(x)")
    x_back, log_det_inv_at_fx = _pass_outputs(layer.inverse(z_of_x), x, "layer.inverse(z)")
    z = checked_points(z_of_x.copy() if z is None else z, "z", layer, "check_bijector")   # (M, D)
    options = dict(rng=rng, step=step, log_det_tol=log_det_tol, gradient_tol=gradient_tol,
                   check_params=check_params)

    if "forward" in directions:
        report.add("forward: reconstruction x -> z -> x", _max_change(x_back, x), reconstruction_tol)
        report.add("forward: log-det consistency f and f^-1",
                   np.max(np.abs(log_det_fwd + log_det_inv_at_fx) / (1.0 + np.abs(log_det_fwd)),
                          initial=0.0), log_det_tol)
        _check_direction(report, layer, x, "forward", **options)
    else:
        report.skip("forward: every check", f"directions={tuple(directions)}")
    if "inverse" in directions:
        x_of_z, _ = _pass_outputs(layer.inverse(z), z, "layer.inverse(z)")
        z_back, _ = _pass_outputs(layer.forward(x_of_z), z, "layer.forward(x)")
        report.add("inverse: reconstruction z -> x -> z", _max_change(z_back, z), reconstruction_tol)
        _check_direction(report, layer, z, "inverse", **options)
    else:
        report.skip("inverse: every check", f"directions={tuple(directions)}")
    return report


def _max_change(back, start):
    """max|back − start| / (1 + max|start|): the round trip's error relative to the data's size."""
    return np.max(np.abs(back - start), initial=0.0) / (1.0 + np.max(np.abs(start), initial=0.0))


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


def _passes(layer, direction):
    """(the pass, its gradient pass, the input's letter) of ``direction``."""
    if direction == "forward":
        return layer.forward, layer.backward, "x"
    return layer.inverse, layer.inverse_backward, "z"


def _check_direction(report, layer, point, direction, rng, step, log_det_tol, gradient_tol,
                     check_params):
    """Log-det and gradient lines for one direction of ``layer`` at ``point`` (N, D)."""
    run, run_backward, wrt = _passes(layer, direction)
    out, log_det = _pass_outputs(run(point), point, f"layer.{direction}({wrt})")
    _check_log_det(report, layer, point, direction, log_det, step, log_det_tol)

    upstream_out = rng.standard_normal(out.shape)                       # g (N, D)
    upstream_log_det = rng.standard_normal(log_det.shape)               # h (N,)
    scale = loss_scale((upstream_out, out), (upstream_log_det, log_det))

    def per_sample_loss(p):
        out_p, log_det_p = run(p)
        return np.sum(upstream_out * out_p, axis=1) + upstream_log_det * log_det_p   # (N,)

    layer.zero_grad()
    run(point)
    try:
        grad_point = run_backward(upstream_out, upstream_log_det)       # (N, D)
    except NotImplementedError as error:        # a homework gap (this layer's or a network's)
        report.skip(f"{direction}: gradients", f"the gradient pass is not written yet: {error}")
        return
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}

    independent = getattr(layer, "samples_independent", True)
    numeric_point = numerical_input_gradient(per_sample_loss, point, independent, step)
    report.add_gradient(f"{direction}: gradient wrt {wrt}", grad_point, numeric_point, scale,
                        gradient_tol)
    if not check_params:
        report.skip(f"{direction}: gradient wrt parameters", "check_params=False")
        return
    for name, array in layer.params.items():
        numeric = numerical_gradient(lambda: per_sample_loss(point).sum(), array, step)
        report.add_gradient(f"{direction}: gradient wrt {name}", analytic[name], numeric, scale,
                            gradient_tol)


def _check_log_det(report, layer, point, direction, log_det, step, tol):
    """The log-det line: ``log_det`` (N,) of the latest pass against slogdet of the numerical
    per-sample Jacobian, of the layer itself or, when its rows depend on each other, of
    ``layer.with_statistics_fixed()`` (called right after the pass, so it holds this batch's
    statistics). Skipped, with the reason, when the layer offers no such map."""
    name = f"{direction}: log-det vs numerical Jacobian"
    if getattr(layer, "samples_independent", True):
        fixed, note = layer, ""
    else:
        fix = getattr(layer, "with_statistics_fixed", None)
        fixed, note = (fix() if fix else None), "batch statistics held fixed"
    if fixed is None:
        report.skip(name, "rows depend on each other and the layer offers no "
                          "with_statistics_fixed() map to take a per-sample Jacobian of")
        return
    run_fixed = _passes(fixed, direction)[0]
    numeric = numerical_log_abs_det(lambda p: run_fixed(p)[0], point, step)   # (N,)
    report.add(name, np.max(np.abs(log_det - numeric) / (1.0 + np.abs(log_det)), initial=0.0), tol,
               note=note)
