"""Invertible linear layer with an LU parameterisation (Glow §3.2, its 1×1 convolution for vectors).
Beyond the lecture.

    z = W x,    W = P L (U + diag(s))         (per sample; for a batch Z = X Wᵀ)

P a fixed permutation, L unit lower-triangular (free entries below the diagonal), U strictly
upper-triangular, s = sign ⊙ exp(log_scale) the diagonal (its sign fixed at initialisation, so W
stays invertible whatever the optimizer does). Write Ũ = U + diag(s).

Log-det. det W = det P · det L · det Ũ = ±1 · 1 · Π_j s_j, so

    log|det ∂z/∂x| = Σ_j log|s_j| = Σ_j log_scale_j,     the same for every sample.

That costs O(D). A plain linear layer with a free matrix W needs ``slogdet(W)`` (an LU
factorisation, O(D³)) at every step, and its gradient W⁻ᵀ another O(D³) inverse; storing W
already factorised makes the log-det a sum and the inverse two triangular solves (O(D²) per
sample, SciPy's ``solve_triangular``), and W still ranges over all invertible matrices with the
given P and signs.

Inverse. x = Ũ⁻¹ L⁻¹ Pᵀ z: un-permute (b = Pᵀ z), solve L a = b (forward substitution, unit
diagonal), solve Ũ x = a (back substitution). log|det ∂x/∂z| = −Σ_j log_scale_j.

Gradient pass of forward, a = Ũ x, b = L a, z = P b (rows of a batch; G = dL/dZ (N, D)):

    dL/dB = G Pᵀ-unpermuted,   dL/dA = dL/dB · L,   dL/dX = dL/dA · Ũ,
    dL/dL = (dL/dB)ᵀ A  (kept below the diagonal),   dL/dŨ = (dL/dA)ᵀ X,
    dL/dU = dL/dŨ above the diagonal,   dL/dlog_scale = diag(dL/dŨ) ⊙ s + Σ_n h̄_n.

Gradient pass of inverse. From d(Ũ⁻¹) = −Ũ⁻¹ dŨ Ũ⁻¹ (and the same for L), with G = dL/dX:

    dL/dA = G Ũ⁻¹  (solve Ũᵀ yᵀ = Gᵀ),   dL/dŨ = −(dL/dA)ᵀ X,
    dL/dB = dL/dA · L⁻¹ (solve Lᵀ),       dL/dL = −(dL/dB)ᵀ A,
    dL/dZ = dL/dB permuted,   dL/dlog_scale = diag(dL/dŨ) ⊙ s − Σ_n h̄_n.

Initialisation, as in Glow: a random rotation Q (QR of a Gaussian matrix), factorised Q = P L Ũ
by ``scipy.linalg.lu``; P and sign(diag Ũ) become buffers, the rest parameters.

Legend: L -> lower (strictly lower part used), U -> upper (strictly upper part used),
s -> sign * exp(log_scale), P -> perm (``(P v)_i = v_perm[i]``).

References
----------
D. P. Kingma, P. Dhariwal. Glow: Generative Flow with Invertible 1×1 Convolutions, §3.2.
arXiv:1807.03039.
"""
import numpy as np
from scipy.linalg import lu, solve_triangular

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int


class LULinear(Bijector):
    """z = W x with W = P L (U + diag(sign ⊙ exp(log_scale))); log-det Σ log_scale.

    Parameters
    ----------
    dim : int
        D >= 1.
    rng : numpy.random.Generator or int, optional
        Draws the initial rotation (Glow's initialisation).
    dtype : float64 (default) or float32

    Attributes
    ----------
    perm, sign : buffers (D,) (int64, float): the fixed permutation and diagonal signs.

    References
    ----------
    D. P. Kingma, P. Dhariwal. Glow, §3.2. arXiv:1807.03039.
    """

    def __init__(self, dim, rng=None, dtype=np.float64):
        super().__init__()
        self.dim = check_int(dim, "dim", 1)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng(rng)
        rotation, _ = np.linalg.qr(rng.standard_normal((self.dim, self.dim)))   # (D, D)
        perm_matrix, lower, upper = lu(rotation)                 # rotation = P L Ũ
        diagonal = np.diag(upper)                                                # (D,)
        self.lower_mask = np.tril(np.ones((self.dim, self.dim), self.dtype), -1)  # (D, D)
        self.upper_mask = self.lower_mask.T.copy()
        self.perm = self.add_buffer("perm", np.argmax(perm_matrix, axis=1), dtype=np.int64)
        self.sign = self.add_buffer("sign", np.sign(diagonal), dtype=self.dtype)  # (D,)
        self.lower = self.add_param("lower", lower * self.lower_mask, self.dtype)  # (D, D)
        self.upper = self.add_param("upper", upper * self.upper_mask, self.dtype)  # (D, D)
        self.log_scale = self.add_param("log_scale", np.log(np.abs(diagonal)), self.dtype)  # (D,)
        self._forward_cache = None
        self._inverse_cache = None

    def _factors(self):
        """L (unit lower), Ũ = U + diag(s) and s, from the parameters (masked)."""
        scale = self.sign * np.exp(self.log_scale)                               # (D,)
        lower = self.lower * self.lower_mask + np.eye(self.dim, dtype=self.dtype)   # (D, D)
        upper = self.upper * self.upper_mask + np.diag(scale)                    # (D, D)
        return lower, upper, scale

    def weight(self):
        """W = P L Ũ as a dense (D, D) matrix (for tests and inspection)."""
        lower, upper, _ = self._factors()
        return (lower @ upper)[self.perm]                                        # (D, D)

    def _add_factor_grads(self, grad_lower, grad_upper, scale, grad_log_det_total):
        self._own_grads["lower"] += grad_lower * self.lower_mask
        self._own_grads["upper"] += grad_upper * self.upper_mask
        self._own_grads["log_scale"] += np.diag(grad_upper) * scale + grad_log_det_total

    def _forward(self, x, context=None):
        lower, upper, scale = self._factors()
        a = x @ upper.T                                                          # (N, D) a = Ũ x
        b = a @ lower.T                                                          # (N, D) b = L a
        z = b[:, self.perm]                                                      # (N, D) z = P b
        self._forward_cache = Cache(x=x, a=a, lower=lower, upper=upper, scale=scale)
        return z, np.full(x.shape[0], self.log_scale.sum(), dtype=x.dtype)

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        grad_b = np.empty_like(grad_z)                                           # (N, D)
        grad_b[:, self.perm] = grad_z
        grad_a = grad_b @ cache.lower                                            # (N, D)
        self._add_factor_grads(grad_b.T @ cache.a, grad_a.T @ cache.x, cache.scale,
                               grad_log_det.sum())
        return grad_a @ cache.upper                                              # (N, D)

    def _inverse(self, z, context=None):
        lower, upper, scale = self._factors()
        b = np.empty_like(z)                                                     # (N, D)
        b[:, self.perm] = z                                                      # b = Pᵀ z
        a = solve_triangular(lower, b.T, lower=True, unit_diagonal=True).T       # (N, D)
        x = solve_triangular(upper, a.T, lower=False).T                          # (N, D)
        self._inverse_cache = Cache(x=x, a=a, lower=lower, upper=upper, scale=scale)
        return x, np.full(z.shape[0], -self.log_scale.sum(), dtype=z.dtype)

    def _inverse_backward(self, grad_x, grad_log_det):
        cache = self._read_cache("inverse")
        grad_a = solve_triangular(cache.upper, grad_x.T, trans="T", lower=False).T   # (N, D)
        grad_b = solve_triangular(cache.lower, grad_a.T, trans="T", lower=True,
                                  unit_diagonal=True).T                          # (N, D)
        self._add_factor_grads(-grad_b.T @ cache.a, -grad_a.T @ cache.x, cache.scale,
                               -grad_log_det.sum())
        return grad_b[:, self.perm]                                              # (N, D)

    def __repr__(self):
        return f"LULinear(dim={self.dim})"
