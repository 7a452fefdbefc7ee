"""Rational-quadratic spline autoregressive layer (beyond the lecture; arXiv 1906.04068, §3).

The slide "Masked Autoregressive Flow (MAF)" with each dimension's affine map swapped for a
spline: the conditioner reads x, so density is one pass and sampling D passes, as in MAF::

    z_d = Φ(x_d; θ_d(x_{1:d−1})),      θ = MADE(x),  3K − 1 numbers per dimension
    log|det ∂f/∂x| = Σ_d log Φ'(x_d; θ_d)           (lower-triangular Jacobian, diagonal Φ')
    x_d = Φ⁻¹(z_d; θ_d(x_{1:d−1})),    d = 1, ..., D in the ordering  (D MADE passes)

Φ is the spline of :mod:`scratchflow.bijectors.spline` (identity outside [−B, B]).

Gradient of forward (g = dL/dz, h = dL/dlog_det): the spline's pass gives the direct
dL/dx_d = g_d Φ' + h ℓ_x and dL/dθ; then dL/dx += MADE-backward(dL/dθ).

# >>> task omitted
Gradient of the inverse: exactly as for MAF (:mod:`scratchflow.bijectors.autoregressive`), x solves
forward(x) = z, so dL/dz = u with  J_fᵀ u + h ∇ℓ = g,  i.e. forward's own gradient pass fed with
(u, h) must return g. That pass is diag(Φ') u + h ℓ_x + MADE-VJP(dL/dθ(u, h)), triangular in the
ordering, so back-substitution, last dimension first:

    u_d = (g_d − h ℓ_x,d − c_d) / Φ'_d,       c = MADE.input_gradient(dL/dθ(u, h)),

and dL/dθ_MADE = −MADE-backward(dL/dθ(u, h)): D − 1 input-gradient passes and one backward.
# <<< task omitted

Legend: θ -> ``params`` (N, D, 3K − 1); Φ' -> ``derivative``; ℓ_x -> ``log_det_slope``.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.spline import rq_backward, rq_forward, rq_inverse, rq_slopes
from scratchflow.bijectors.spline_knots import (MIN_HEIGHT, MIN_SLOPE, MIN_WIDTH,
                                                check_spline_options, make_knots, n_spline_params)
from scratchflow.nn.made_outputs import MADEOutputs
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_array, check_dtype, check_int


class SplineAutoregressive(Bijector):
    """MAF-direction autoregressive layer with a rational-quadratic spline per dimension.

    Parameters
    ----------
    dim : int
        D >= 1.
    bins, bound, min_width, min_height, min_slope
        As in :class:`SplineCoupling`.
    hidden, order, activation, rng, zero_last, dtype
        As in :class:`MAF`; ``zero_last`` (default) starts the layer as the identity.
    context_dim : int
        C >= 1: the MADE also reads a context c (N, C), θ_d = θ_d(x_{1:d−1}, c) (a conditional
        layer, beyond the lecture). c is not transformed, so for fixed c the Jacobian is the same
        triangular matrix and the log-det the same sum of spline slopes; dL/dc goes to
        ``grad_context`` (in the sampling direction's gradient, the c columns of the final MADE
        backward, as for θ).

    References
    ----------
    Durkan, Bekasov, Murray, Papamakarios. Neural Spline Flows. arXiv:1906.04068.
    Papamakarios, Pavlakou, Murray. Masked Autoregressive Flow. arXiv:1705.07057.
    """

    def __init__(self, dim, bins=8, bound=3.0, hidden=(64, 64), order="natural", activation="tanh",
                 rng=None, zero_last=True, min_width=MIN_WIDTH, min_height=MIN_HEIGHT,
                 min_slope=MIN_SLOPE, dtype=np.float64, context_dim=0):
        super().__init__()
        self.dtype = check_dtype(dtype)
        self.context_dim = check_int(context_dim, "context_dim", 0)   # C > 0: θ also reads c
        (self.bins, self.bound, self.min_width, self.min_height,
         self.min_slope) = check_spline_options(bins, bound, min_width, min_height, min_slope)
        self.made = self.add_child("made", MADEOutputs(dim, n_spline_params(self.bins), hidden,
                                                       order, activation, rng, zero_last,
                                                       self.dtype, self.context_dim))   # checks dim
        self.dim = self.made.dim
        self.order = self.made.order                                  # (D,)
        self._forward_cache = None          # Cache(made, spline) of the latest forward
        self._inverse_cache = None          # Cache(made, spline) of the latest inverse

    def _knots(self, params):
        """θ (N, D', 3K − 1) -> knots of the N·D' coordinates."""
        return make_knots(params.reshape(-1, params.shape[-1]), self.bound, self.min_width,
                          self.min_height, self.min_slope)

    def _conditioner(self, point, context=None):
        """One unchecked MADE pass on point (N, D) and the context (N, C) or None: θ (N, D, 3K − 1)
        and the MADE's cache of this pass."""
        if context is not None:
            point = np.concatenate([point, context], axis=1)          # (N, D + C)
        out, made_cache = self.made._forward(point)                   # (N, D (3K − 1))
        return self.made.split(out), made_cache

    def spline_knots(self, x, context=None):
        """The knots of the spline each dimension gets at the points ``x`` (N, D): a record with
        ``x_knots``, ``y_knots``, ``slopes`` (N·D, K + 1), row n·D + d for dimension d of point n.
        For figures; keeps no cache. A conditional layer needs ``context`` (N, C)."""
        x = check_array(x, "x", dim=self.dim, dtype=self.dtype)         # (N, D)
        params = self._conditioner(x, self._checked_context(context, len(x)))[0]
        return self._knots(params)

    def _forward(self, x, context=None):
        params, made_cache = self._conditioner(x, context)            # (N, D, 3K − 1)
        z, log_det, spline_cache = rq_forward(x.ravel(), self._knots(params))   # (N·D,) each
        self._forward_cache = Cache(made=made_cache, spline=spline_cache)
        return z.reshape(x.shape), log_det.reshape(x.shape).sum(axis=1)

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        grad_direct, grad_params = rq_backward(cache.spline, grad_z.ravel(),
                                               np.repeat(grad_log_det, self.dim))   # (N·D,), (N·D, P)
        grad_made = self.made.flatten(grad_params.reshape(grad_z.shape[0], self.dim, -1))
        grad_in = self.made._backward(cache.made, grad_made)         # (N, D + C)
        return grad_direct.reshape(grad_z.shape) + self._keep_context_gradient(grad_in, self.dim)

    def _inverse(self, z, context=None):
        # >>> task omitted
        x = np.zeros_like(z)                                          # (N, D) one column per pass
        for d in self.order[:-1]:
            params = self._conditioner(x, context)[0]                 # column d reads x before d
            x[:, d] = rq_inverse(z[:, d], self._knots(params[:, d:d + 1]))[0]
        # the last column reads every other one and nothing reads it: one more pass gives the
        # parameters of every column at the final x (its MADE cache is the one the gradient pass
        # needs); the spline on all columns then gives the last column, the log-det and the cache
        params, made_cache = self._conditioner(x, context)            # (N, D, 3K − 1)
        x_flat, log_det, spline_cache = rq_inverse(z.ravel(), self._knots(params))   # (N·D,)
        self._inverse_cache = Cache(made=made_cache, spline=spline_cache)
        return x_flat.reshape(z.shape), log_det.reshape(z.shape).sum(axis=1)
        # <<< task omitted

    def _inverse_backward(self, grad_x, grad_log_det):
        # >>> task omitted
        cache = self._read_cache("inverse")
        n = grad_x.shape[0]
        per_coordinate = np.repeat(grad_log_det, self.dim)            # (N·D,)
        derivative, log_det_slope = rq_slopes(cache.spline)           # (N·D,) each
        target = grad_x - (per_coordinate * log_det_slope).reshape(n, self.dim)   # g − h ℓ_x
        derivative = derivative.reshape(n, self.dim)                  # (N, D)

        def made_grads(adjoint):                                      # forward's dL/dθ at (u, h)
            grad_params = rq_backward(cache.spline, adjoint.ravel(), per_coordinate)[1]
            return self.made.flatten(grad_params.reshape(n, self.dim, -1))   # (N, D (3K − 1))

        adjoint = np.zeros_like(grad_x)                               # (N, D) u, solved backwards
        for step, d in enumerate(self.order[::-1]):
            if step == 0:
                coupling = 0.0                                        # nothing reads the last one
            else:
                coupling = self.made._input_gradient(cache.made, made_grads(adjoint))[:, d]   # (N,)
            adjoint[:, d] = (target[:, d] - coupling) / derivative[:, d]
        # dL/dθ_MADE = −(forward's parameter gradient at (u, h)); dL/dz is u itself
        # and, for a conditional layer, dL/dc = the c columns of that same pass (c enters like θ)
        grad_in = self.made._backward(cache.made, -made_grads(adjoint),
                                      need_input_grad=bool(self.context_dim))
        if self.context_dim:
            self._keep_context_gradient(grad_in, self.dim)            # grad_context (N, C)
        return adjoint
        # <<< task omitted

    def __repr__(self):
        return (f"SplineAutoregressive(dim={self.dim}, bins={self.bins}, bound={self.bound}, "
                f"hidden={self.made.hidden}, order={self.order.tolist()}"
                + (f", context_dim={self.context_dim})" if self.context_dim else ")"))
