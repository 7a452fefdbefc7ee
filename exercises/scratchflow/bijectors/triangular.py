"""A fixed lower-triangular linear map (slides "Masked Autoregressive Flow (MAF)": «нижнетреугольная
матрица», «значение Якобиана» / "lower-triangular Jacobian, its determinant").

    z = L x        (row vectors: z = x @ L.T),     L lower-triangular (L_ij = 0 for j > i),
    ∂z/∂x = L.

Every autoregressive flow has such a Jacobian: MAF's and IAF's ∂z/∂x is lower-triangular in the
ordering, and that is why their log-det costs D numbers, not a D×D determinant. Here L is given
(not trained), so the map is the bare lesson: its diagonal may hold NEGATIVE entries (a reflection
along that axis), which is where ``log|det|`` and ``log det`` part ways.

Gradient passes (given): z = L x gives dL/dx = Lᵀ g, i.e. ``grad_x = grad_z @ L``; the log-det does
not depend on x. The inverse x = L⁻¹ z gives ``grad_z = L⁻ᵀ g``, a second triangular solve.
"""
import numpy as np
from scipy.linalg import solve_triangular

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache


class LowerTriangular(Bijector):
    """``z = L x`` with a fixed lower-triangular L (D, D) whose diagonal has no zero.

    Task triangular: ``_forward`` returns ``(z (N, D), log_det (N,))`` with log_det =
    log|det ∂z/∂x| for every row; ``_inverse`` returns ``(x, log_det)`` with log_det =
    log|det ∂x/∂z|. Derive det L from its triangular shape; the diagonal may be negative.
    Use ``scipy.linalg.solve_triangular(self.matrix, ..., lower=True)`` for the inverse.

    Parameters
    ----------
    matrix : array_like (D, D)
        Its entries above the diagonal are ignored (set to 0).
    """

    def __init__(self, matrix):
        super().__init__()
        matrix = np.tril(np.asarray(matrix, dtype=np.float64))        # (D, D)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"matrix must be square (D, D), got shape {matrix.shape}")
        if not np.isfinite(matrix).all() or (np.diag(matrix) == 0).any():
            raise ValueError("matrix must be finite with no zero on its diagonal (else it is not invertible)")
        self.matrix = matrix
        self.dim = matrix.shape[0]
        self._forward_cache = None
        self._inverse_cache = None

    def _forward(self, x, context=None):
        # >>> task triangular
        raise NotImplementedError('task triangular (slide «MAF: нижнетреугольная матрица, значение Якобиана / lower-triangular Jacobian and its determinant»): LowerTriangular._forward is yours to write; the docstring above gives the formula and the contract')
        # <<< task triangular
        self._forward_cache = Cache()          # nothing to keep (the gradient is the fixed matrix's)
        return z, log_det

    def _inverse(self, z, context=None):
        # >>> task triangular
        raise NotImplementedError('task triangular (slide «MAF: нижнетреугольная матрица, значение Якобиана / lower-triangular Jacobian and its determinant»): LowerTriangular._inverse is yours to write; the docstring above gives the formula and the contract')
        # <<< task triangular
        self._inverse_cache = Cache()          # only that the pass ran
        return x, log_det

    def _backward(self, grad_z, grad_log_det):
        self._read_cache("forward")
        return grad_z @ self.matrix                                    # (N, D)

    def _inverse_backward(self, grad_x, grad_log_det):
        self._read_cache("inverse")
        return solve_triangular(self.matrix, grad_x.T, lower=True, trans="T").T   # (N, D)

    def __repr__(self):
        return f"LowerTriangular(dim={self.dim})"
