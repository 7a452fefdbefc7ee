"""Element-wise affine bijector: the simplest learnable flow (slide "Пример 1" is one instance).

    z = x ⊙ exp(a) + b,      a = log_scale (D,), b = shift (D,)

The Jacobian is ``diag(exp(a))``, the same for every sample, so

    log|det ∂z/∂x| = Σ_j a_j,      inverse: x = (z − b) ⊙ exp(−a),  log|det ∂x/∂z| = −Σ_j a_j.

The scale is parametrised by its logarithm, so it stays positive whatever the optimizer does.

# >>> task coupling_backward
Gradient pass of forward (g = dL/dz, h = dL/dlog_det, one row per sample):

    dL/dx = g ⊙ exp(a)
    dL/da = Σ_n g_n ⊙ x_n ⊙ exp(a) + Σ_n h_n        (each log_det_n = Σ_j a_j)
    dL/db = Σ_n g_n

Gradient pass of inverse (g = dL/dx): ∂x/∂z = exp(−a), ∂x/∂a = −x, ∂x/∂b = −exp(−a), so

    dL/dz = g ⊙ exp(−a),   dL/da = −Σ_n g_n ⊙ x_n − Σ_n h_n,   dL/db = −Σ_n g_n ⊙ exp(−a).
# <<< task coupling_backward
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int


class ElementwiseAffine(Bijector):
    """z = x * exp(log_scale) + shift, per dimension.

    Parameters
    ----------
    dim : int
    log_scale, shift : array_like of shape (dim,), optional
        Initial values (default 0: the identity map).
    dtype : float64 (default) or float32
    """

    def __init__(self, dim, log_scale=None, shift=None, dtype=np.float64):
        super().__init__()
        self.dim = check_int(dim, "dim", 1)
        self.dtype = check_dtype(dtype)
        self.log_scale = self.add_vector_param("log_scale", log_scale)         # (D,)
        self.shift = self.add_vector_param("shift", shift)                     # (D,)
        self._forward_cache = None                    # Cache(x, scale), kept by forward
        self._inverse_cache = None                    # Cache(x, inv_scale), kept by inverse

    def _forward(self, x, context=None):
        scale = np.exp(self.log_scale)                                # (D,)
        z = x * scale + self.shift                                    # (N, D)
        log_det = np.full(x.shape[0], self.log_scale.sum(), dtype=x.dtype)   # (N,)
        self._forward_cache = Cache(x=x, scale=scale)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        # >>> task omitted
        cache = self._read_cache("forward")
        scaled_grad = grad_z * cache.scale                            # (N, D) = dL/dx
        self._own_grads["log_scale"] += (scaled_grad * cache.x).sum(axis=0) + grad_log_det.sum()
        self._own_grads["shift"] += grad_z.sum(axis=0)
        return scaled_grad
        # <<< task omitted

    def _inverse(self, z, context=None):
        inv_scale = np.exp(-self.log_scale)                           # (D,)
        x = (z - self.shift) * inv_scale                              # (N, D)
        log_det = np.full(z.shape[0], -self.log_scale.sum(), dtype=z.dtype)
        self._inverse_cache = Cache(x=x, inv_scale=inv_scale)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        # >>> task omitted
        cache = self._read_cache("inverse")
        grad_z = grad_x * cache.inv_scale                             # (N, D)
        self._own_grads["log_scale"] -= (grad_x * cache.x).sum(axis=0) + grad_log_det.sum()
        self._own_grads["shift"] -= grad_z.sum(axis=0)
        return grad_z
        # <<< task omitted
