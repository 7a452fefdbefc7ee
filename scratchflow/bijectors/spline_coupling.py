"""Rational-quadratic spline coupling (beyond the lecture; Durkan et al., arXiv 1906.04068, §3).

The slide "Real-NVP" with its affine map swapped for a spline. With ``mask`` choosing the
conditioning part c (unchanged) and the rest r, as in :mod:`scratchflow.bijectors.coupling`::

    z_c = x_c,     z_r,j = Φ(x_r,j; θ_j(x_c)),     θ_j = (ŵ, ĥ, δ̂) = 3K − 1 outputs of an MLP

where Φ is the monotone rational-quadratic spline of :mod:`scratchflow.bijectors.spline` on
[−B, B] (identity outside). The Jacobian is block lower-triangular as on the Real-NVP slide, with
the diagonal block diag(Φ'(x_r,j)), so

    log|det ∂z/∂x| = Σ_j log Φ'(x_r,j; θ_j(x_c)),

and the inverse recomputes θ from z_c = x_c and inverts each Φ: x_r,j = Φ⁻¹(z_r,j; θ_j(z_c)).

Gradient passes (g = dL/dz, h = dL/dlog_det): the spline's own pass gives dL/dx_r and dL/dθ
(:func:`~scratchflow.bijectors.spline.rq_backward`, every coordinate of a row sharing h), and
dL/dx_c = g_c + MLP-backward(dL/dθ). The inverse is the same with
:func:`~scratchflow.bijectors.spline.rq_inverse_backward` (implicit differentiation).

Legend: θ -> ``unnormalised`` (N·k, 3K − 1); Φ -> ``rq_forward``; K -> ``bins``; B -> ``bound``.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.coupling import coupling_split
from scratchflow.bijectors.spline import rq_backward, rq_forward, rq_inverse, rq_inverse_backward
from scratchflow.bijectors.spline_knots import (MIN_HEIGHT, MIN_SLOPE, MIN_WIDTH,
                                                check_spline_options, make_knots, n_spline_params)
from scratchflow.nn.mlp import MLP
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_array, check_dtype, check_int, check_sizes


class SplineCoupling(Bijector):
    """Coupling layer with a rational-quadratic spline per transformed coordinate.

    Parameters
    ----------
    dim : int
        D >= 2.
    mask : array_like of 0/1, shape (D,)
        1 = conditioning (unchanged), 0 = transformed, as in :class:`AffineCoupling`.
    bins : int
        K >= 2 bins; the MLP outputs k (3K − 1) numbers.
    bound : float
        B: the spline acts on [−B, B]; outside, the layer is the identity (log-det 0).
    hidden, activation, rng, zero_init, dtype
        As in :class:`AffineCoupling`; ``zero_init`` starts the layer as the identity.
    min_width, min_height, min_slope : float
        Smallest bin width/height (fractions of 2B) and smallest knot slope.
    context_dim : int
        C >= 1: the MLP reads [x_c, c] with a context c (N, C) (a conditional layer, beyond the
        lecture). c is not transformed: for fixed c the Jacobian in x is the same triangular one
        and the log-det the same sum of spline slopes; dL/dc goes to ``grad_context``.

    References
    ----------
    C. Durkan, A. Bekasov, I. Murray, G. Papamakarios. Neural Spline Flows. arXiv:1906.04068.
    """

    def __init__(self, dim, mask, bins=8, bound=3.0, hidden=(64, 64), activation="tanh", rng=None,
                 zero_init=True, min_width=MIN_WIDTH, min_height=MIN_HEIGHT, min_slope=MIN_SLOPE,
                 dtype=np.float64, context_dim=0):
        super().__init__()
        self.context_dim = check_int(context_dim, "context_dim", 0)
        self.dim, self.mask, self.kept_index, self.moved_index = coupling_split(dim, mask)
        self.dtype = check_dtype(dtype)
        (self.bins, self.bound, self.min_width, self.min_height,
         self.min_slope) = check_spline_options(bins, bound, min_width, min_height, min_slope)
        self.hidden = check_sizes(hidden, "hidden")
        self.activation = activation
        n_out = len(self.moved_index) * n_spline_params(self.bins)
        self.net = self.add_child("net", MLP([len(self.kept_index) + self.context_dim, *self.hidden, n_out], activation,
                                             rng=np.random.default_rng(rng), zero_last=zero_init,
                                             dtype=self.dtype))
        self._forward_cache = None
        self._inverse_cache = None

    def _knots(self, kept, context=None):
        """θ(kept) (θ(kept, context) if conditional) from the MLP, as the spline's knots for the
        N·k transformed coordinates."""
        if context is not None:
            kept = np.concatenate([kept, context], axis=1)            # (N, d + C)
        out, trace = self.net._forward(kept)                          # (N, k (3K − 1))
        unnormalised = out.reshape(-1, n_spline_params(self.bins))    # (N·k, 3K − 1)
        knots = make_knots(unnormalised, self.bound, self.min_width, self.min_height,
                           self.min_slope)
        return knots, trace

    def spline_knots(self, x, context=None):
        """The knots of the spline each transformed coordinate gets at the points ``x`` (N, D):
        a record with ``x_knots``, ``y_knots``, ``slopes`` (N·k, K + 1), row n·k + j for the j-th
        transformed dimension of point n. For figures; keeps no cache. A conditional layer needs
        ``context`` (N, C)."""
        x = check_array(x, "x", dim=self.dim, dtype=self.dtype)       # (N, D)
        return self._knots(x[:, self.kept_index], self._checked_context(context, len(x)))[0]

    def _run(self, values, spline_map, context=None):
        """One direction: the spline on the transformed columns, conditioned on the others."""
        kept, moved = self.kept_index, self.moved_index
        knots, trace = self._knots(values[:, kept], context)
        mapped, log_det, spline_cache = spline_map(values[:, moved].ravel(), knots)  # (N·k,) each
        out = values.copy()                                           # (N, D): the c part unchanged
        out[:, moved] = mapped.reshape(-1, len(moved))
        return out, log_det.reshape(-1, len(moved)).sum(axis=1), Cache(net=trace,
                                                                       spline=spline_cache)

    def _run_backward(self, cache, grad_out, grad_log_det, spline_backward):
        """The gradient pass of the ``_run`` that kept ``cache``: dL/d(its input) (N, D)."""
        kept, moved = self.kept_index, self.moved_index
        per_coordinate = np.repeat(grad_log_det, len(moved))          # (N·k,) h of each row
        grad_moved, grad_params = spline_backward(cache.spline, grad_out[:, moved].ravel(),
                                                  per_coordinate)     # (N·k,), (N·k, 3K − 1)
        grad_params = grad_params.reshape(grad_out.shape[0], -1)      # (N, k (3K − 1))
        grad_kept = self._keep_context_gradient(self.net._backward(cache.net, grad_params),
                                                len(kept))            # (N, d); c's in grad_context
        grad_in = np.empty_like(grad_out)                             # (N, D)
        grad_in[:, kept] = grad_out[:, kept] + grad_kept
        grad_in[:, moved] = grad_moved.reshape(-1, len(moved))
        return grad_in

    def _forward(self, x, context=None):
        z, log_det, self._forward_cache = self._run(x, rq_forward, context)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        return self._run_backward(self._read_cache("forward"), grad_z, grad_log_det, rq_backward)

    def _inverse(self, z, context=None):
        x, log_det, self._inverse_cache = self._run(z, rq_inverse, context)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        return self._run_backward(self._read_cache("inverse"), grad_x, grad_log_det,
                                  rq_inverse_backward)

    def __repr__(self):
        mask = "".join(str(int(m)) for m in self.mask)
        return (f"SplineCoupling(dim={self.dim}, mask={mask}, bins={self.bins}, "
                f"bound={self.bound}, hidden={self.hidden}"
                + (f", context_dim={self.context_dim})" if self.context_dim else ")"))
