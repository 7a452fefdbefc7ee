"""Element-wise affine bijector: the simplest learnable flow (slide "Пример 1" is one instance).

    z = x ⊙ exp(a) + b,      a = log_scale (D,), b = shift (D,)

The Jacobian is ``diag(exp(a))``, the same for every sample, so

    log|det ∂z/∂x| = Σ_j a_j,      inverse: x = (z − b) ⊙ exp(−a),  log|det ∂x/∂z| = −Σ_j a_j.

The scale is parametrised by its logarithm, so it stays positive whatever the optimizer does.

# >>> task coupling_backward
# --- student
Gradient passes: derive them yourself, as in task coupling_backward (the coupling's moved half is
this layer with a and b computed by a network). ``scratchflow.check_bijector`` checks them.
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
        raise NotImplementedError('ElementwiseAffine._backward is not part of the homework release; it is in the public library')

    def _inverse(self, z, context=None):
        inv_scale = np.exp(-self.log_scale)                           # (D,)
        x = (z - self.shift) * inv_scale                              # (N, D)
        log_det = np.full(z.shape[0], -self.log_scale.sum(), dtype=z.dtype)
        self._inverse_cache = Cache(x=x, inv_scale=inv_scale)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        raise NotImplementedError('ElementwiseAffine._inverse_backward is not part of the homework release; it is in the public library')
