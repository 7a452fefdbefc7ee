"""Permutation of the coordinates: the "swap the roles" step between coupling or MAF layers.

The slide "Real-NVP" asks that layers alternate which part is conditioned; an autoregressive stack
(MAF, IAF) likewise changes the variable order between layers. A fixed permutation π does it::

    z_j = x_{π(j)}            (z = x[:, perm])

Its Jacobian is a permutation matrix, |det| = 1, so ``log|det ∂z/∂x| = 0`` in both directions.
Inverse: ``x = z[:, π⁻¹]`` with π⁻¹ = argsort(π).

Gradient passes (a permutation matrix P has P⁻¹ = Pᵀ):

    forward  z = x[:, π]   ->  dL/dx = g[:, π⁻¹]
    inverse  x = z[:, π⁻¹] ->  dL/dz = g[:, π]

No parameters; the permutation is kept as an int64 buffer so a saved model keeps it.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.input_checks import check_dtype, check_int


class Permutation(Bijector):
    """z = x[:, perm].

    Parameters
    ----------
    perm : sequence of int
        A permutation of 0..D−1; ``z[:, j] = x[:, perm[j]]``.
    dtype : float64 (default) or float32
        The dtype of the inputs it accepts (no parameters of its own).

    Examples
    --------
    >>> Permutation.reverse(3).perm
    array([2, 1, 0])
    """

    def __init__(self, perm, dtype=np.float64):
        super().__init__()
        perm = np.asarray(perm)
        if perm.ndim != 1 or perm.size == 0 or perm.dtype.kind not in "iu":
            raise ValueError(f"perm must be a non-empty 1-D sequence of integers, got {perm!r}")
        if not np.array_equal(np.sort(perm), np.arange(perm.size)):
            raise ValueError(f"perm must contain each of 0..{perm.size - 1} exactly once, got {perm}")
        self.dim = int(perm.size)
        self.dtype = check_dtype(dtype)
        self.perm = self.add_buffer("perm", perm, dtype=np.int64)          # (D,)

    @classmethod
    def reverse(cls, dim, dtype=np.float64):
        """The order-reversing permutation [D−1, ..., 1, 0]."""
        return cls(np.arange(check_int(dim, "dim", 1))[::-1], dtype=dtype)

    @classmethod
    def random(cls, dim, rng=None, dtype=np.float64):
        """A uniformly random permutation of ``dim`` coordinates (``rng``: seed or Generator)."""
        return cls(np.random.default_rng(rng).permutation(check_int(dim, "dim", 1)), dtype=dtype)

    @property
    def inverse_perm(self):
        """π⁻¹ = argsort(π), recomputed from the buffer (D is small), so a loaded perm is honoured."""
        return np.argsort(self.perm)

    def _forward(self, x, context=None):
        return x[:, self.perm], np.zeros(x.shape[0], dtype=x.dtype)        # (N, D), (N,)

    def _backward(self, grad_z, grad_log_det):
        return grad_z[:, self.inverse_perm]                                # (N, D)

    def _inverse(self, z, context=None):
        return z[:, self.inverse_perm], np.zeros(z.shape[0], dtype=z.dtype)

    def _inverse_backward(self, grad_x, grad_log_det):
        return grad_x[:, self.perm]                                        # (N, D)

    def __repr__(self):
        return f"Permutation({self.perm.tolist()})"
