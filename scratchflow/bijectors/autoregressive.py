"""MAF and IAF (slides "Masked Autoregressive Flow (MAF)" and "Inverse Autoregressive Flow (IAF)").

Both are the affine map of one dimension at a time with a MADE conditioner (μ, s) = MADE(·):

    MAF:  z_d = (x_d − μ_d(x_{1:d−1})) ⊙ exp(−s_d(x_{1:d−1}))      the conditioner reads x
    IAF:  z_d = (x_d − μ_d(z_{1:d−1})) ⊙ exp(−s_d(z_{1:d−1}))      the conditioner reads z

Both have a triangular Jacobian ∂z/∂x with diagonal exp(−s_d), so log|det ∂f/∂x| = −Σ_d s_d.
They are the same network used in opposite directions: the direction whose conditioner reads the
*input* is one MADE pass (MAF's density, IAF's sampling); the direction whose conditioner reads the
*output* must build the output one dimension at a time, D passes (MAF's sampling, IAF's density).

Gradient of the sequential direction
------------------------------------
# >>> task adjoint
Exactly, by an adjoint triangular solve. Let φ be the layer's one-pass map, b ↦ a = φ(b) with log-det ℓ_φ(b) (MAF: φ = forward, b = x;
IAF: φ = inverse, b = z). The sequential direction computes b = φ⁻¹(a), with log-det −ℓ_φ(b).
For a loss L(b, −ℓ_φ(b)) with g = dL/db and h = dL/dlog_det, the chain rule through the implicit
equation φ(b) = a (∂b/∂a = J_φ⁻¹, ∂b/∂θ = −J_φ⁻¹ ∂φ/∂θ, J_φ = ∂φ/∂b) gives

    dL/da = u   where   J_φᵀ u + h ∇_b ℓ_φ = g,
    dL/dθ = −(uᵀ ∂φ/∂θ + h ∂ℓ_φ/∂θ).

The left side of the first equation is exactly φ's own gradient pass fed with (u, h), and the
right side of the second is minus the parameter gradient φ's pass would add. J_φ is triangular in
the ordering (φ's output d reads b before d, plus b_d itself through the diagonal), so u is found by
back-substitution, last dimension of the ordering first:

    u_d = (g_d − c_d) / diag_d,     c = MADE vector-Jacobian product of φ's (dL/dμ, dL/ds)(u, h),

where column d of c only reads u at dimensions after d (those already solved). The last
dimension of the ordering feeds no output, so its c is 0: D − 1 columns of MADE input-gradient
passes plus one MADE backward for the parameters, D passes in all,
mirroring the D forward passes. The finite-difference checks of the contract suite confirm it.

The D passes of either kind compute only what their column needs (``scratchflow.nn.made_sweep``:
``MADESweep`` for the values, ``MADEAdjointSweep`` for the columns of c); the numbers are those
of whole passes.

With a context c (below) the sequential direction treats c like θ: dL/dc = −(uᵀ ∂φ/∂c +
h ∂ℓ_φ/∂c), the c columns of the same final MADE pass.
# <<< task adjoint

Conditional MAF / IAF (beyond the lecture; ``context_dim = C``). The MADE also reads a context c
(N, C): μ_d = μ_d(x_{1:d−1}, c), s_d = s_d(x_{1:d−1}, c) (MAF; z for IAF). c is not transformed,
so for fixed c the Jacobian ∂z/∂x is the same triangular matrix with diagonal exp(−s_d) and the
log-det is still −Σ_d s_d. dL/dc: the one-pass direction reads it off the MADE's input gradient
(c columns); either direction's lands in ``grad_context``.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.made import MADE
from scratchflow.nn.made_sweep import MADEAdjointSweep, MADESweep
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int


class _MadeAffine(Bijector):
    """Shared plumbing of MAF and IAF: the MADE and the adjoint solve.

    Each direction keeps the MADE's cache of its own pass in its own Cache (``made``), so a forward,
    an inverse and both gradient passes run in any order and no gradient pass re-runs the MADE.
    """

    def __init__(self, dim, hidden=(64, 64), order="natural", activation="tanh", rng=None,
                 zero_last=True, dtype=np.float64, context_dim=0):
        super().__init__()
        self.dtype = check_dtype(dtype)
        self.context_dim = check_int(context_dim, "context_dim", 0)
        self.made = self.add_child("made", MADE(dim, hidden, order, activation, rng,   # checks dim
                                                zero_last, self.dtype, self.context_dim))
        self.dim = self.made.dim
        self.order = self.made.order                  # (D,) order[0] is generated first
        self._forward_cache = None                    # what forward keeps for backward
        self._inverse_cache = None                    # what inverse keeps for inverse_backward

    def _conditioner(self, point, context=None):
        """One unchecked MADE pass on point (N, D) and the context (N, C) or None: μ (N, D),
        s (N, D) and the MADE's cache of this pass."""
        if context is not None:
            point = np.concatenate([point, context], axis=1)          # (N, D + C)
        out, made_cache = self.made._forward(point)                  # (N, 2D)
        return out[:, :self.dim], out[:, self.dim:], made_cache

    def _made_backward(self, made_cache, grad_shift, grad_log_scale):
        """MADE's gradient pass of the pass that kept ``made_cache``: dL/d(input) (N, D); the
        context's columns, if any, go to ``grad_context`` (N, C)."""
        grad_out = np.concatenate([grad_shift, grad_log_scale], axis=1)   # (N, 2D)
        grad_in = self.made._backward(made_cache, grad_out)           # (N, D + C)
        return self._keep_context_gradient(grad_in, self.dim)         # (N, D)

    def _solve_adjoint(self, made_cache, point, grad_out, inv_diag, conditioner_grads):
        """The sequential direction's gradient pass, shared by MAF and IAF.

        # >>> task adjoint
        Back-substitution for u in  diag ⊙ u + MADE-VJP(conditioner_grads(u)) = grad_out.

        ``conditioner_grads(u)`` returns φ's (dL/dμ, dL/ds), both (N, D), given its upstream u and
        the fixed h; ``point`` (N, D) is the MADE's input of the pass that kept ``made_cache``.
        Column d of the MADE-VJP comes from a :class:`~scratchflow.nn.made_sweep.MADEAdjointSweep`
        (only the units whose gradient just became final). Adds dL/dθ = −(φ's parameter gradient
        at u) into ``grads``; returns u (N, D).
        # <<< task adjoint
        """
        # >>> task adjoint
        adjoint = np.zeros_like(grad_out)                             # (N, D) u, solved backwards
        sweep = MADEAdjointSweep(self.made, made_cache, point)
        for step, d in enumerate(self.order[::-1]):
            if step == 0:
                coupling = 0.0                                        # nothing reads the last one
            else:
                grad_made = np.concatenate(conditioner_grads(adjoint), axis=1)      # (N, 2D)
                coupling = sweep.column(grad_made, d)                 # (N,) column d of the VJP
            adjoint[:, d] = (grad_out[:, d] - coupling) * inv_diag[:, d]
        grad_shift, grad_log_scale = conditioner_grads(adjoint)       # (N, D) each
        self._made_backward(made_cache, -grad_shift, -grad_log_scale)   # dL/dθ = −(uᵀ∂φ/∂θ + h∂ℓ_φ/∂θ)
        return adjoint
        # <<< task adjoint

    def __repr__(self):
        return (f"{type(self).__name__}(dim={self.dim}, hidden={self.made.hidden}, "
                f"order={self.order.tolist()}"
                + (f", context_dim={self.context_dim})" if self.context_dim else ")"))


class MAF(_MadeAffine):
    """Masked Autoregressive Flow layer (slide "Masked Autoregressive Flow (MAF)", arXiv 1705.07057).

    Forward x → z, the density direction, **one MADE pass**::

        z_1 = (x_1 − μ_1) exp(−s_1)
        z_d = (x_d − μ_d(x_{1:d−1})) ⊙ exp(−s_d(x_{1:d−1})),     (μ, s) = MADE(x)
        log|det ∂f/∂x| = −Σ_d s_d(x_{1:d−1})        (lower-triangular Jacobian, diagonal exp(−s_d))

    Inverse z → x, the sampling direction, **D MADE passes**, one dimension per pass::

        x_1 = z_1 exp(s_1) + μ_1,    x_d = z_d exp(s_d(x_{1:d−1})) + μ_d(x_{1:d−1})
        log|det ∂f⁻¹/∂z| = +Σ_d s_d(x_{1:d−1})

    "1, d" are positions in the ``order`` of the MADE (natural order: dimension indices).

    Notes
    -----
    Gradient of forward (g = dL/dz, h = dL/dlog_det): ∂z/∂μ = −exp(−s), ∂z/∂s = −z,
    ∂log_det/∂s = −1, so

        dL/dμ = −g ⊙ exp(−s),    dL/ds = −g ⊙ z − h,
        dL/dx = g ⊙ exp(−s) + MADE.backward(dL/dμ, dL/ds)        (direct path + through (μ, s)).

    # >>> task adjoint
    Gradient of the inverse (g = dL/dx): x solves forward(x) = z, so by the module's adjoint
    solve with φ = forward, diag = exp(−s), dL/dz = u where

        u_d = exp(s_d) (g_d − c_d),    c = MADE.input_gradient(−u ⊙ exp(−s), −u ⊙ z − h),

    d running through the ordering backwards, and dL/dθ = MADE.backward(u ⊙ exp(−s), u ⊙ z + h).
    # <<< task adjoint

    Parameters
    ----------
    dim : int
    hidden : sequence of int
        MADE hidden widths.
    order : {"natural", "reversed", "random"} or permutation
        The autoregressive ordering (see :class:`~scratchflow.nn.MADE`).
    activation : str
    rng : int or numpy.random.Generator, optional
    zero_last : bool
        Start as the identity (μ = s = 0); default True.
    dtype : float64 (default) or float32

    References
    ----------
    Papamakarios, Pavlakou, Murray. Masked Autoregressive Flow for Density Estimation.
    arXiv:1705.07057. Germain et al. MADE, arXiv:1502.03509.
    """

    def _forward(self, x, context=None):
        """Density direction, one pass of the conditioner."""
        # >>> task maf
        shift, log_scale, made_cache = self._conditioner(x, context)  # μ(x), s(x): (N, D) each
        inv_scale = np.exp(-log_scale)                                # (N, D) exp(−s)
        z = (x - shift) * inv_scale                                   # (N, D)
        log_det = -log_scale.sum(axis=1)                              # (N,)
        # <<< task maf
        self._forward_cache = Cache(made=made_cache, z=z, inv_scale=inv_scale)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        scaled = grad_z * cache.inv_scale                             # (N, D) g ⊙ exp(−s)
        grad_log_scale = -grad_z * cache.z - grad_log_det[:, None]    # (N, D) dL/ds
        return scaled + self._made_backward(cache.made, -scaled, grad_log_scale)   # dL/dμ = −scaled

    def _inverse(self, z, context=None):
        """Sampling direction, D passes of the conditioner, dimensions in ``self.order``."""
        # >>> task maf
        x = np.zeros_like(z)                                          # (N, D) filled one column per pass
        sweep = MADESweep(self.made, context)                         # the D passes share their work
        for d in self.order:
            shift, log_scale, made_cache = sweep.step(x, d)           # column d reads x before d only
            x[:, d] = z[:, d] * np.exp(log_scale[:, d]) + shift[:, d]
        inv_scale = np.exp(-log_scale)                                # (N, D)
        log_det = log_scale.sum(axis=1)                               # (N,) log|det ∂f⁻¹/∂z| = +Σ s
        # <<< task maf
        self._inverse_cache = Cache(made=made_cache, x=x, z=z, inv_scale=inv_scale)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        cache = self._read_cache("inverse")
        # >>> task adjoint
        inv_scale, z = cache.inv_scale, cache.z                       # (N, D) each
        grad_log_det = grad_log_det[:, None]                          # (N, 1)

        def forward_grads(u):                                         # forward's (dL/dμ, dL/ds) at u, h
            return -u * inv_scale, -u * z - grad_log_det
        return self._solve_adjoint(cache.made, cache.x, grad_x, 1.0 / inv_scale, forward_grads)
        # <<< task adjoint


class IAF(_MadeAffine):
    """Inverse Autoregressive Flow layer (slide "Inverse Autoregressive Flow (IAF)", arXiv 1606.04934).

    The conditioner reads z. Inverse z → x, the sampling direction, **one MADE pass**::

        x_1 = z_1 exp(s_1) + μ_1
        x_d = z_d exp(s_d(z_{1:d−1})) + μ_d(z_{1:d−1}),           (μ, s) = MADE(z)
        log|det ∂f⁻¹/∂z| = +Σ_d s_d(z_{1:d−1})

    Forward x → z, the density direction, **D MADE passes**, one dimension per pass::

        z_1 = (x_1 − μ_1) exp(−s_1),    z_d = (x_d − μ_d(z_{1:d−1})) exp(−s_d(z_{1:d−1}))
        log|det ∂f/∂x| = −Σ_d s_d(z_{1:d−1})

    The lecture's direction is kept: ``forward`` is x → z (here the slow one), so an IAF stack is
    a drop-in replacement for a MAF stack that is fast at sampling and at reverse-KL training
    (:meth:`scratchflow.flow.Flow.reverse_kl_loss_and_grad`) and slow at density evaluation.

    Notes
    -----
    Gradient of the inverse (g = dL/dx, h = dL/dlog_det): ∂x/∂μ = 1, ∂x/∂s = z ⊙ exp(s), so

        dL/dμ = g,    dL/ds = g ⊙ z ⊙ exp(s) + h,
        dL/dz = g ⊙ exp(s) + MADE.backward(dL/dμ, dL/ds).

    # >>> task adjoint
    Gradient of forward (g = dL/dz): z solves inverse(z) = x, so by the module's adjoint solve with
    φ = inverse, diag = exp(s), dL/dx = u where

        u_d = exp(−s_d) (g_d − c_d),    c = MADE.input_gradient(u, u ⊙ z ⊙ exp(s) + h),

    d running through the ordering backwards, and dL/dθ = MADE.backward(−u, −(u ⊙ z ⊙ exp(s) + h)).
    # <<< task adjoint

    Parameters
    ----------
    Same as :class:`MAF`.

    References
    ----------
    Kingma, Salimans, Jozefowicz, Chen, Sutskever, Welling. Improving Variational Inference with
    Inverse Autoregressive Flow. arXiv:1606.04934.
    """

    def _inverse(self, z, context=None):
        """Sampling direction, one pass of the conditioner on z (and context)."""
        # >>> task iaf
        shift, log_scale, made_cache = self._conditioner(z, context)  # μ(z), s(z): (N, D) each
        scale = np.exp(log_scale)                                     # (N, D) exp(s)
        x = z * scale + shift                                         # (N, D)
        log_det = log_scale.sum(axis=1)                               # (N,)
        # <<< task iaf
        self._inverse_cache = Cache(made=made_cache, z=z, scale=scale)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        cache = self._read_cache("inverse")
        scaled = grad_x * cache.scale                                 # (N, D) g ⊙ exp(s)
        grad_log_scale = scaled * cache.z + grad_log_det[:, None]     # (N, D) dL/ds
        return scaled + self._made_backward(cache.made, grad_x, grad_log_scale)   # dL/dμ = g

    def _forward(self, x, context=None):
        """Density direction, D passes of the conditioner on z (and context), dimensions in
        ``self.order``."""
        # >>> task iaf
        z = np.zeros_like(x)                                          # (N, D) filled one column per pass
        sweep = MADESweep(self.made, context)                         # the D passes share their work
        for d in self.order:
            shift, log_scale, made_cache = sweep.step(z, d)           # column d reads z before d only
            z[:, d] = (x[:, d] - shift[:, d]) * np.exp(-log_scale[:, d])
        scale = np.exp(log_scale)                                     # (N, D) last pass = at final z
        log_det = -log_scale.sum(axis=1)                              # (N,) log|det ∂f/∂x| = −Σ s
        # <<< task iaf
        self._forward_cache = Cache(made=made_cache, z=z, scale=scale)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        # >>> task adjoint
        z, scale = cache.z, cache.scale                               # (N, D) each
        grad_log_det = grad_log_det[:, None]                          # (N, 1)

        def inverse_grads(u):                                         # inverse's (dL/dμ, dL/ds) at u, h
            return u, u * z * scale + grad_log_det
        return self._solve_adjoint(cache.made, z, grad_z, 1.0 / scale, inverse_grads)
        # <<< task adjoint
