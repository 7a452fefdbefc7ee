"""Additive coupling layer (NICE; Dinh, Krueger, Bengio, arXiv 1410.8516). Beyond the lecture.

The slide "Real-NVP" without the scale: with ``c`` the conditioning part (mask 1) and ``r`` the
rest (mask 0), and t any network,

    z_c = x_c,      z_r = x_r + t(x_c).

Jacobian (rows and columns ordered c, r): ``[[I, 0], [∂t/∂x_c, I]]``, unit lower-triangular, so
``det ∂z/∂x = 1`` and ``log|det ∂z/∂x| = 0`` for every x: the layer **preserves volume**.

Why volume preservation is the point. The change-of-variables theorem (slide "Теорема о замене
переменных") charges every layer a log-det; here it is exactly zero, whatever t is, so t can be as
large a network as we like at no cost to the density and with nothing to overflow. A stack of
additive layers alone cannot change volume, so it cannot map a wide data cloud onto N(0, I): NICE
ends with one diagonal scaling, ``z ← z ⊙ exp(a)`` (our
:class:`~scratchflow.bijectors.ElementwiseAffine`), which carries the whole log-det ``Σ_j a_j``.
That is NICE's full model (``build_model({"model": "nice", ...})``). Real-NVP's
``exp(s(x_c))`` is what you add when the volume change should depend on x.

Inverse (x_c = z_c, so t(x_c) = t(z_c) is known):  x_r = z_r − t(z_c),  log|det ∂x/∂z| = 0.

# >>> task coupling_backward
# --- student
Gradient passes: derive them as in task coupling_backward (here s = 0 and log_det = 0).
# <<< task coupling_backward

The MLP runs through its unchecked pair (``_forward(x) -> (t, cache)`` /
``_backward(cache, grad)``, :class:`~scratchflow.nn.stack.LayerStack`), which hands its cache back
instead of keeping it: the layer keeps one per direction (``Cache(net=...)``), so a forward, an
inverse, then both gradient passes each read their own pass.

Conditional (``context_dim = C``): t reads [x_c, c] for a context c (N, C). c is not transformed,
so the Jacobian in x is still unit lower-triangular and the log-det still 0; dL/dc is the MLP's
input gradient in the c columns (``grad_context``).

Legend: t -> shift, x_c -> x[:, kept_index], x_r -> x[:, moved_index].

References
----------
L. Dinh, D. Krueger, Y. Bengio. NICE: Non-linear Independent Components Estimation.
arXiv:1410.8516.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.coupling import coupling_split
from scratchflow.nn.mlp import MLP
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int, check_sizes


class AdditiveCoupling(Bijector):
    """NICE additive coupling: ``z_r = x_r + t(x_c)``, ``z_c = x_c``, log-det 0.

    Parameters
    ----------
    dim : int
        D >= 2.
    mask : array_like of 0/1, shape (D,)
        1 = conditioning (unchanged), 0 = transformed; at least one of each.
    hidden : sequence of int
        Hidden sizes of the MLP t.
    activation : {"tanh", "relu", "softplus", "silu"}
    rng : numpy.random.Generator or int, optional
    zero_init : bool
        Zero the MLP's last layer, so t = 0 and the layer starts as the identity (default).
    dtype : float64 (default) or float32
    context_dim : int
        C >= 1: t reads [x_c, c] (a conditional layer); 0 (default): t reads x_c.

    References
    ----------
    L. Dinh, D. Krueger, Y. Bengio. NICE. arXiv:1410.8516.
    """

    def __init__(self, dim, mask, hidden=(64, 64), activation="tanh", rng=None, zero_init=True,
                 dtype=np.float64, context_dim=0):
        super().__init__()
        self.dim, self.mask, self.kept_index, self.moved_index = coupling_split(dim, mask)
        self.dtype = check_dtype(dtype)
        self.context_dim = check_int(context_dim, "context_dim", 0)
        self.hidden = check_sizes(hidden, "hidden")
        self.activation = activation
        self.net = self.add_child("net", MLP(
            [len(self.kept_index) + self.context_dim, *self.hidden, len(self.moved_index)], activation,
            rng=np.random.default_rng(rng), zero_last=zero_init, dtype=self.dtype))
        self._forward_cache = None      # Cache(net) of the forward: the MLP's own cache
        self._inverse_cache = None      # Cache(net) of the inverse

    def _shift(self, kept, context):
        """t (N, k) from the conditioning columns (N, d) and the context (N, C) or None; the
        MLP's cache."""
        if context is not None:
            kept = np.concatenate([kept, context], axis=1)                 # (N, d + C)
        return self.net._forward(kept)

    def _kept_gradient(self, trace, grad_shift):
        """dL/dt (N, k) -> dL/dx_c (N, d); the context's share goes to ``grad_context``."""
        grad_in = self.net._backward(trace, grad_shift)                    # (N, d + C)
        return self._keep_context_gradient(grad_in, len(self.kept_index))  # (N, d)

    def _forward(self, x, context=None):
        raise NotImplementedError('AdditiveCoupling._forward is not part of the homework release; it is in the public library')

    def _backward(self, grad_z, grad_log_det):
        raise NotImplementedError('AdditiveCoupling._backward is not part of the homework release; it is in the public library')

    def _inverse(self, z, context=None):
        raise NotImplementedError('AdditiveCoupling._inverse is not part of the homework release; it is in the public library')

    def _inverse_backward(self, grad_x, grad_log_det):
        raise NotImplementedError('AdditiveCoupling._inverse_backward is not part of the homework release; it is in the public library')

    def __repr__(self):
        mask = "".join(str(int(m)) for m in self.mask)
        return (f"AdditiveCoupling(dim={self.dim}, mask={mask}, hidden={self.hidden}, "
                f"activation={self.activation!r}"
                + (f", context_dim={self.context_dim})" if self.context_dim else ")"))
