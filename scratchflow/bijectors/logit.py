"""Logit pre-processing: data in (0, 1) to all of R^D (Real-NVP, arXiv 1605.08803, §4.1).

Slide "Выбор функции" / "Choosing the function": a flow's base density lives on all of R^D, but
pixel intensities live in (0, 1). Real-NVP first maps them through a logit, after squeezing them
away from 0 and 1 by α (the paper uses α = 0.05):

    p = α + (1 − 2α) x,        y = logit(p) = log p − log(1 − p)

Its Jacobian is diagonal, ∂y_j/∂x_j = (1 − 2α) / (p_j (1 − p_j)), so

    log|det ∂y/∂x| = Σ_j [ log(1 − 2α) − log p_j − log(1 − p_j) ]

Inverse: ``p = σ(y) = 1 / (1 + e^{−y})``, ``x = (p − α) / (1 − 2α)``, with log-det
``Σ_j [ log p_j + log(1 − p_j) − log(1 − 2α) ]``. Densities of x and of y differ by this log-det,
so a model's log-likelihood of the data in (0, 1) includes it (report bits per dimension of x).

Gradient pass of forward (g = dL/dy, h = dL/dlog_det); ∂(−log p − log(1 − p))/∂x = (1 − 2α)(2p − 1)/(p(1 − p))::

    dL/dx = [ g + h (2p − 1) ] ⊙ (1 − 2α) / (p (1 − p))

Gradient pass of inverse (g = dL/dx, h = dL/dlog_det); ∂p/∂y = p(1 − p), so ∂x/∂y = p(1 − p)/(1 − 2α)
and ∂(log p + log(1 − p))/∂y = (1 − p) − p = 1 − 2p::

    dL/dy = g ⊙ p (1 − p) / (1 − 2α) + h (1 − 2p)

The map is defined where 0 < p < 1, that is for −α/(1 − 2α) < x < 1 + α/(1 − 2α): the interval
(0, 1) with a margin when α > 0. Every output of ``inverse`` lies there, so ``forward`` accepts that
whole interval and rejects anything outside with an error naming the entry (in float64, σ(y) rounds
to 0 or 1 beyond |y| ≈ 36, so such extreme latents land on the boundary). No parameters.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int, check_number


class Logit(Bijector):
    """y = logit(α + (1 − 2α) x) for data x in (0, 1); inverse via the sigmoid.

    Parameters
    ----------
    dim : int
    alpha : float in [0, 0.5)
        Squeeze towards the centre (Real-NVP: 0.05, the default). With α = 0 the domain is exactly
        the open cube (0, 1)^D.
    dtype : float64 (default) or float32

    References
    ----------
    Dinh, Sohl-Dickstein, Bengio. Density estimation using Real NVP, §4.1. arXiv:1605.08803.
    """

    def __init__(self, dim, alpha=0.05, dtype=np.float64):
        super().__init__()
        self.dim = check_int(dim, "dim", 1)
        self.dtype = check_dtype(dtype)
        self.alpha = check_number(alpha, "alpha", 0.0, 0.5, high_open=True)
        self._forward_cache = None      # Cache(p), kept by forward for backward
        self._inverse_cache = None      # Cache(p, one_minus_p), kept by inverse for inverse_backward

    def domain(self):
        """The open interval (low, high) of x where the map is defined (each coordinate)."""
        margin = self.alpha / (1.0 - 2.0 * self.alpha)
        return -margin, 1.0 + margin

    def _check_domain(self, x):
        low, high = self.domain()
        outside = (x <= low) | (x >= high)
        if outside.any():
            row, col = np.argwhere(outside)[0]
            raise ValueError(
                f"Logit expects data in (0, 1) (defined on ({low:.4g}, {high:.4g}) with "
                f"alpha={self.alpha}); x[{row}, {col}] = {float(x[row, col])!r}. Scale the data first, e.g. "
                "dequantised pixels (v + u) / (v_max + 1) with u ~ U(0, 1)")

    def _forward(self, x, context=None):
        squeeze = 1.0 - 2.0 * self.alpha
        p = self.alpha + squeeze * x                                  # (N, D)
        log_p, log_one_minus_p = np.log(p), np.log1p(-p)              # (N, D) each
        y = log_p - log_one_minus_p                                   # (N, D)
        log_squeeze = float(np.log(squeeze))       # a Python float keeps a float32 batch float32
        log_det = np.sum(log_squeeze - log_p - log_one_minus_p, axis=1)      # (N,)
        self._forward_cache = Cache(p=p)
        return y, log_det

    def _backward(self, grad_y, grad_log_det):
        p = self._read_cache("forward").p                             # (N, D)
        squeeze = 1.0 - 2.0 * self.alpha
        return (grad_y + grad_log_det[:, None] * (2.0 * p - 1.0)) * (squeeze / (p * (1.0 - p)))

    def _inverse(self, y, context=None):
        softplus_neg_y = np.logaddexp(0.0, -y)                        # (N, D) −log p
        softplus_y = np.logaddexp(0.0, y)                             # (N, D) −log(1 − p)
        p = np.exp(-softplus_neg_y)                                   # (N, D) σ(y), no overflow
        one_minus_p = np.exp(-softplus_y)                             # (N, D) σ(−y), not 1 − p:
        x = (p - self.alpha) / (1.0 - 2.0 * self.alpha)               # exact where p rounds to 1
        # log p + log(1 − p) = −softplus(−y) − softplus(y), stable for large |y|
        log_p_one_minus_p = -softplus_neg_y - softplus_y              # (N, D)
        log_squeeze = float(np.log(1.0 - 2.0 * self.alpha))   # Python float: float32 stays float32
        log_det = np.sum(log_p_one_minus_p - log_squeeze, axis=1)             # (N,)
        self._inverse_cache = Cache(p=p, one_minus_p=one_minus_p)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        cache = self._read_cache("inverse")
        p, one_minus_p = cache.p, cache.one_minus_p                   # (N, D) σ(y), σ(−y)
        squeeze = 1.0 - 2.0 * self.alpha
        return (grad_x * (p * one_minus_p / squeeze)                  # (N, D)
                + grad_log_det[:, None] * (one_minus_p - p))

    def __repr__(self):
        return f"Logit(dim={self.dim}, alpha={self.alpha})"
