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
# --- student
Extra credit (task adjoint, optional: its points come on top of the 100, and nothing regular is lost
by leaving it). The sequential direction — MAF's inverse (sampling) and IAF's forward (density) —
builds its output b one dimension at a time, each column read by the conditioner for the next
ones. Its gradient pass is yours to derive and write: given g = dL/db (N, D) and h = dL/dlog_det
(N,), return dL/d(input) (N, D) and add the conditioner's parameter gradients into its ``grads``,
exactly, in about D conditioner passes, without re-running the fill.

Start from what the fill computes: b is the solution of φ(b) = a, where φ is the same layer's
one-pass direction, whose gradient pass is given (``MAF._backward``, ``IAF._inverse_backward``).
Settle in your derivation: which Jacobian is triangular and in which ordering; in which order the
columns of the answer can be found, and why; where h enters; where the parameter gradient comes
from and its sign; why reading the conditioner's last pass (in the cache) is enough. Read
Papamakarios, Pavlakou, Murray 2017 (arXiv 1705.07057), Sec. 3, and Kingma et al. 2016 (arXiv
1606.04934), Sec. 3–4. Check your passes with ``scratchflow.check_bijector`` on a MAF and an IAF
built with ``order="random", zero_last=False`` (it needs tasks made_masks, mlp_backward, maf, iaf).
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
        # --- student
        A helper the two gradient passes below may share (task adjoint): use it, change its body, or leave
        it unused and write each pass on its own. Its arguments are a suggestion.
        # <<< task adjoint
        """
        # >>> task adjoint
        raise NotImplementedError("task adjoint (extra credit, slide «Masked Autoregressive Flow (MAF); Inverse Autoregressive Flow (IAF)»): _MadeAffine._solve_adjoint is yours to write if you take the optional extra-credit task adjoint; until it is written, the library's passes that need it raise this error: IAF.backward (maximum-likelihood training of an IAF: scratchflow train --model iaf --data ...) and MAF.inverse_backward (reverse-KL training of a MAF: scratchflow train --model maf --target ...); every regular task's tests, and training and sampling otherwise, run without it")
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
    # --- student
    Gradient of the inverse (the sampling direction): the extra-credit task adjoint (see the module's
    docstring). ``inverse_backward(grad_x, grad_log_det)`` returns dL/dz (N, D) and adds the MADE's
    parameter gradients; it reads the inverse's cache (``made``, ``x``, ``z``, ``inv_scale``) and leaves
    it, and the arrays handed in, unchanged (it may be called twice on one cache), in the layer's dtype.
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
        """Density direction, one pass of the conditioner.

        Task maf: one pass of ``self._conditioner(x, context)``. Define ``made_cache``,
        ``inv_scale`` = exp(−s) (N, D), ``z`` (N, D) and ``log_det`` (N,).
        """
        # >>> task maf
        raise NotImplementedError('task maf (slide «Masked Autoregressive Flow (MAF)»): MAF._forward is yours to write; the docstring above gives the formula and the contract')
        # <<< task maf
        self._forward_cache = Cache(made=made_cache, z=z, inv_scale=inv_scale)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        scaled = grad_z * cache.inv_scale                             # (N, D) g ⊙ exp(−s)
        grad_log_scale = -grad_z * cache.z - grad_log_det[:, None]    # (N, D) dL/ds
        return scaled + self._made_backward(cache.made, -scaled, grad_log_scale)   # dL/dμ = −scaled

    def _inverse(self, z, context=None):
        """Sampling direction, D passes of the conditioner, dimensions in ``self.order``.

        Task maf: define ``x``, ``log_det`` and, from the LAST pass (it read the final x),
        ``made_cache`` and ``inv_scale`` = exp(−s) (N, D). A pass is ``sweep.step(x, d)`` with
        ``sweep = MADESweep(self.made, context)`` made before the loop: it computes only what column
        d needs (:class:`~scratchflow.nn.made_sweep.MADESweep`); ``self._conditioner(x, context)``
        gives the same numbers at D times the cost.
        """
        # >>> task maf
        raise NotImplementedError('task maf (slide «Masked Autoregressive Flow (MAF)»): MAF._inverse is yours to write; the docstring above gives the formula and the contract')
        # <<< task maf
        self._inverse_cache = Cache(made=made_cache, x=x, z=z, inv_scale=inv_scale)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        cache = self._read_cache("inverse")
        # >>> task adjoint
        raise NotImplementedError("task adjoint (extra credit, slide «Masked Autoregressive Flow (MAF); Inverse Autoregressive Flow (IAF)»): MAF._inverse_backward is yours to write if you take the optional extra-credit task adjoint; until it is written, the library's passes that need it raise this error: IAF.backward (maximum-likelihood training of an IAF: scratchflow train --model iaf --data ...) and MAF.inverse_backward (reverse-KL training of a MAF: scratchflow train --model maf --target ...); every regular task's tests, and training and sampling otherwise, run without it")
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
    # --- student
    Gradient of forward (the density direction): the extra-credit task adjoint (see the module's
    docstring). ``backward(grad_z, grad_log_det)`` returns dL/dx (N, D) and adds the MADE's parameter
    gradients; it reads the forward's cache (``made``, ``z``, ``scale``) and leaves it, and the arrays
    handed in, unchanged (it may be called twice on one cache), in the layer's dtype.
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
        """Sampling direction, one pass of the conditioner on z (and context).

        Task iaf: one pass of ``self._conditioner(z, context)``. Define ``made_cache``,
        ``scale`` = exp(s) (N, D), ``x`` and ``log_det`` = log|det ∂f⁻¹/∂z|.
        """
        # >>> task iaf
        raise NotImplementedError('task iaf (slide «Inverse Autoregressive Flow (IAF)»): IAF._inverse is yours to write; the docstring above gives the formula and the contract')
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
        ``self.order``.

        Task iaf: define ``z``, ``log_det`` and, from the LAST pass, ``made_cache`` and ``scale`` =
        exp(s) (N, D). A pass is ``sweep.step(z, d)`` with ``sweep = MADESweep(self.made, context)``
        made before the loop: it computes only what column d needs
        (:class:`~scratchflow.nn.made_sweep.MADESweep`); ``self._conditioner(z, context)`` gives the
        same numbers at D times the cost.
        """
        # >>> task iaf
        raise NotImplementedError('task iaf (slide «Inverse Autoregressive Flow (IAF)»): IAF._forward is yours to write; the docstring above gives the formula and the contract')
        # <<< task iaf
        self._forward_cache = Cache(made=made_cache, z=z, scale=scale)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        # >>> task adjoint
        raise NotImplementedError("task adjoint (extra credit, slide «Masked Autoregressive Flow (MAF); Inverse Autoregressive Flow (IAF)»): IAF._backward is yours to write if you take the optional extra-credit task adjoint; until it is written, the library's passes that need it raise this error: IAF.backward (maximum-likelihood training of an IAF: scratchflow train --model iaf --data ...) and MAF.inverse_backward (reverse-KL training of a MAF: scratchflow train --model maf --target ...); every regular task's tests, and training and sampling otherwise, run without it")
        # <<< task adjoint
