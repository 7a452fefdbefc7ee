"""Tasks 3 and 4 — Real-NVP affine coupling (slide "Real-NVP", arXiv 1605.08803).

The slide's map, x -> z (``forward``), for a split point d::

    z_{1:d}   = x_{1:d}
    z_{d+1:D} = x_{d+1:D} ⊙ exp(s(x_{1:d})) + t(x_{1:d})

s and t are networks with d inputs and D − d outputs (here :class:`scratchflow.nn.MLP`). The
Jacobian is block lower-triangular, ``[[I, 0], [∂z_{d+1:D}/∂x_{1:d}, diag(exp(s))]]``, so

    log|det ∂f/∂x| = Σ_j s(x_{1:d})_j.

Inverse (z -> x): ``x_{1:d} = z_{1:d}``, ``x_{d+1:D} = (z_{d+1:D} − t(z_{1:d})) ⊙ exp(−s(z_{1:d}))``,
with ``log|det ∂f^{-1}/∂z| = −Σ_j s(z_{1:d})_j``.

Task 3 (``_forward``, ``_inverse``): return ``(z, log_det)`` and ``(x, log_det)``; shapes
x, z (N, D), log_det (N,). Keep in ``self`` what the gradient pass will need.

Task 4 (``_backward``): given ``g = dL/dz`` (N, D) and ``h = dL/dlog_det`` (N,), return dL/dx and
add the parameter gradients of s and t into their ``grads`` (call ``scale_net.backward`` and
``shift_net.backward``). With ``e = exp(s)``, ``g1 = g[:, :d]``, ``g2 = g[:, d:]``::

    dL/dx_{d+1:D} = g2 ⊙ e
    dL/ds         = g2 ⊙ x_{d+1:D} ⊙ e + h[:, None]      (the log-det term: ∂log_det/∂s_j = 1)
    dL/dt         = g2
    dL/dx_{1:d}   = g1 + s.backward(dL/ds) + t.backward(dL/dt)

Careful: an MLP keeps only its latest pass. If ``inverse`` ran after ``forward``, the nets hold
the inverse's inputs; the grader calls ``backward`` after such an ``inverse`` too, so run the nets
on the kept ``x_{1:d}`` again before their ``backward`` (or keep what you need yourself).

The class follows scratchflow's contract (:mod:`scratchflow.bijectors.base`): the public
``forward``/``inverse``/``backward`` check the input and call your underscored methods.

What the public tests check (``python -m pytest tests/test_task3_coupling.py``): shapes,
``z_{1:d} = x_{1:d}``, the inverse reconstructs x, the log-det equals the numerical one, and the
backward agrees with finite differences — all through :func:`scratchflow.check_bijector`, which
you can run on your own layer::

    from scratchflow.checks import check_bijector
    print(check_bijector(layer, x, directions=("forward",)))

Not allowed in this file: scratchflow's own coupling layer (``scratchflow.bijectors.coupling``,
``AffineCoupling``), ``scratchflow.models`` and ``scratchflow.checks``.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector, require_cached


class CouplingLayer(Bijector):
    """Affine coupling: the first ``d`` coordinates condition the other ``D − d``.

    Parameters
    ----------
    dim : int            D
    d : int              number of conditioning coordinates, 1 <= d < D
    scale_net, shift_net : nn modules mapping (N, d) -> (N, D − d), the slide's s and t
    """

    def __init__(self, dim, d, scale_net, shift_net):
        super().__init__()
        if not 1 <= d < dim:
            raise ValueError(f"need 1 <= d < dim, got d={d}, dim={dim}")
        self.dim, self.d = int(dim), int(d)
        self.scale_net = self.add_child("scale_net", scale_net)
        self.shift_net = self.add_child("shift_net", shift_net)
        self._x_cond = None        # kept by forward for the gradient pass
        self._x_rest = None
        self._scale = None

    def _forward(self, x):
        ### BEGIN SOLUTION
        ### TODO slide "Real-NVP": z_{1:d} = x_{1:d}, z_{d+1:D} = x_{d+1:D} * exp(s(x_{1:d})) + t(x_{1:d})
        ### TODO log_det = sum_j s_j; keep in self what _backward needs
        x_cond, x_rest = x[:, :self.d], x[:, self.d:]               # (N, d), (N, D - d)
        log_scale = self.scale_net.forward(x_cond)                  # (N, D - d)
        shift = self.shift_net.forward(x_cond)                      # (N, D - d)
        scale = np.exp(log_scale)                                   # (N, D - d)
        self._x_cond, self._x_rest, self._scale = x_cond, x_rest, scale
        z = np.concatenate([x_cond, x_rest * scale + shift], axis=1)   # (N, D)
        return z, log_scale.sum(axis=1)
        ### END SOLUTION

    def _inverse(self, z):
        ### BEGIN SOLUTION
        ### TODO slide "Real-NVP": x_{1:d} = z_{1:d}, x_{d+1:D} = (z_{d+1:D} - t(z_{1:d})) * exp(-s(z_{1:d}))
        ### TODO log_det = -sum_j s_j
        z_cond, z_rest = z[:, :self.d], z[:, self.d:]               # (N, d), (N, D - d)
        log_scale = self.scale_net.forward(z_cond)                  # (N, D - d)
        shift = self.shift_net.forward(z_cond)                      # (N, D - d)
        x = np.concatenate([z_cond, (z_rest - shift) * np.exp(-log_scale)], axis=1)   # (N, D)
        return x, -log_scale.sum(axis=1)
        ### END SOLUTION

    def _backward(self, grad_z, grad_log_det):
        ### BEGIN SOLUTION (task coupling_backward)
        ### TODO slide "Real-NVP", gradient pass (module docstring): dL/dx_rest = g2 * e,
        ### TODO dL/ds = g2 * x_rest * e + h, dL/dt = g2, dL/dx_cond = g1 + s.backward(dL/ds) + t.backward(dL/dt)
        x_cond = require_cached(self._x_cond, self, "forward")
        x_rest, scale = self._x_rest, self._scale
        # the nets keep only their latest pass: run them on x_cond again, in case inverse ran since
        self.scale_net.forward(x_cond)
        self.shift_net.forward(x_cond)
        grad_cond, grad_rest = grad_z[:, :self.d], grad_z[:, self.d:]    # (N, d), (N, D - d)
        grad_log_scale = grad_rest * x_rest * scale + grad_log_det[:, None]   # (N, D - d)
        grad_x_cond = (grad_cond + self.scale_net.backward(grad_log_scale)
                       + self.shift_net.backward(grad_rest))             # (N, d)
        return np.concatenate([grad_x_cond, grad_rest * scale], axis=1)  # (N, D)
        ### END SOLUTION
