"""check_conditional: the contract of a conditional layer, context gradient included (beyond the lecture).

A conditional layer (``context_dim = C > 0``) computes ``z = f(x; c)`` with a context c (N, C)
that it never transforms. For each fixed c it is an ordinary bijector of x, so
:func:`check_conditional` first runs every line of :func:`check_bijector` on the layer with c
held at ``context``; then it adds, per direction, the line

* ``gradient wrt context``: ``grad_context`` of the gradient pass against finite differences of

      L(c) = Σ_n g_n · out_n(c) + Σ_n h_n log_det_n(c)

  in c, at the same random upstream g (N, D), h (N,) and with the same relative error and ε as
  every other gradient line (see :mod:`scratchflow.checks`). When rows are independent a column of c
  is perturbed in every row at once, otherwise entry by entry.
"""
import numpy as np

from scratchflow.checks.bijector import DIRECTIONS, check_bijector
from scratchflow.checks.numerical import (DEFAULT_STEP, GRADIENT_TOL, checked_points,
                                          gradient_error, loss_scale,
                                          numerical_input_gradient)


class _FixedContext:
    """``layer`` with its context held at ``context`` (N, C): a bijector of x alone, for
    :func:`check_bijector`. Its parameters and gradients are the layer's own arrays."""

    def __init__(self, layer, context):
        self.layer, self.context = layer, context
        self.dim, self.dtype = layer.dim, layer.dtype

    samples_independent = property(lambda self: getattr(self.layer, "samples_independent", True))
    params = property(lambda self: self.layer.params)
    grads = property(lambda self: self.layer.grads)

    def with_statistics_fixed(self):
        """The layer's map with its batch statistics held fixed, at the same context (or None)."""
        fix = getattr(self.layer, "with_statistics_fixed", None)
        fixed = fix() if fix else None
        return None if fixed is None else _FixedContext(fixed, self.context)

    def zero_grad(self):
        self.layer.zero_grad()

    def forward(self, x):
        return self.layer.forward(x, self.context)

    def inverse(self, z):
        return self.layer.inverse(z, self.context)

    def backward(self, grad_z, grad_log_det=None):
        return self.layer.backward(grad_z, grad_log_det)

    def inverse_backward(self, grad_x, grad_log_det=None):
        return self.layer.inverse_backward(grad_x, grad_log_det)

    def __repr__(self):
        return f"{self.layer!r} at a fixed context"


def check_conditional(layer, x, context, rng=0, step=DEFAULT_STEP, directions=DIRECTIONS,
                      gradient_tol=GRADIENT_TOL, **options):
    """Check a conditional layer at the points x (N, D) and the context (N, C), both directions.

    Returns the :class:`CheckReport` of :func:`check_bijector` (further ``options`` go to it) with
    a ``gradient wrt context`` line per direction. The inverse direction is checked at
    ``z = layer.forward(x, context)``, so that z and the context keep their row pairing.
    """
    x = checked_points(x, "x", layer, "check_conditional")                   # (N, D)
    context = checked_points(context, "context", layer, "check_conditional")   # (N, C)
    if not getattr(layer, "context_dim", 0):
        raise ValueError(f"check_conditional needs a conditional layer (context_dim > 0); "
                         f"{type(layer).__name__} has none: use check_bijector")
    if context.shape != (x.shape[0], layer.context_dim):
        raise ValueError(f"context must have shape {(x.shape[0], layer.context_dim)}, one row "
                         f"per point, got {context.shape}")
    rng = np.random.default_rng(rng)
    if isinstance(directions, str):
        directions = (directions,)
    report = check_bijector(_FixedContext(layer, context), x, rng=rng, step=step,
                            directions=directions, gradient_tol=gradient_tol, **options)
    points = {"forward": x, "inverse": layer.forward(x, context)[0]}
    for direction in DIRECTIONS:
        if direction not in directions:
            report.skip(f"{direction}: gradient wrt context", f"directions={tuple(directions)}")
            continue
        error = _context_gradient_error(layer, points[direction], context, direction, rng, step)
        report.add(f"{direction}: gradient wrt context", error, gradient_tol)
    return report


def _context_gradient_error(layer, point, context, direction, rng, step):
    """Relative error of ``grad_context`` after one ``direction`` pass at ``point`` and ``context``."""
    run = layer.forward if direction == "forward" else layer.inverse
    run_backward = layer.backward if direction == "forward" else layer.inverse_backward
    out, log_det = run(point, context)                                  # (N, D), (N,)
    upstream_out = rng.standard_normal(out.shape)                       # g (N, D)
    upstream_log_det = rng.standard_normal(log_det.shape)               # h (N,)
    scale = loss_scale((upstream_out, out), (upstream_log_det, log_det))

    def per_sample_loss(context_p):
        out_p, log_det_p = run(point, context_p)
        return np.sum(upstream_out * out_p, axis=1) + upstream_log_det * log_det_p   # (N,)

    layer.zero_grad()
    run(point, context)
    run_backward(upstream_out, upstream_log_det)
    analytic = np.array(layer.grad_context)                             # (N, C)
    independent = getattr(layer, "samples_independent", True)
    numeric = numerical_input_gradient(per_sample_loss, context, independent, step)
    return gradient_error(analytic, numeric, scale)
