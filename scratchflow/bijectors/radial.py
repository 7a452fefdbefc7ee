"""Radial flow (Rezende & Mohamed 2015, §4.1), with an exact inverse. Beyond the lecture.

Direction, as for :mod:`~scratchflow.bijectors.planar`: the paper's explicit map (base draw ->
sample) is our **inverse** (latent -> data); ``forward`` (data -> latent, for ``log_prob``)
solves it. With z₀ the centre, d = z − z₀, r = ‖d‖, s = α + r, h = 1/s::

    inverse:  x = z₀ + k d,   k = 1 + β̂ / s,
              log|det ∂x/∂z| = (D − 1) log k + log q,    q = 1 + β̂ α / s²

(∂x/∂z = k I + β̂ h'(r) d dᵀ / r with h' = −1/s²: eigenvalue k on the D − 1 directions ⟂ d and
k + β̂ h' r = q along d).

Invertibility. x − z₀ = k d points along d, so the map is invertible iff its radial part
r ↦ ρ = k r = r + β̂ r / (α + r) is; its slope is q, and q > 0 for all r >= 0 iff β̂ >= −α (the
paper's appendix A.2). We take α = exp(log_alpha) > 0 and β̂ = −α + softplus(beta) > −α.

Forward = solving the scalar equation in r. Given x, ρ = ‖x − z₀‖ and r solves
``F(r) = r + β̂ r/(α + r) − ρ = 0``. Multiplying by α + r gives the quadratic
r² + (α + β̂ − ρ) r − αρ = 0 with exactly one root r >= 0 (the product of the roots is −αρ <= 0):

    r = 2αρ / (B + √(B² + 4αρ))   if B = α + β̂ − ρ > 0,    else   r = (−B + √(B² + 4αρ)) / 2,

each branch free of cancellation, so r is exact to round-off (the issue expected a numerical
solve; for the radial flow the scalar equation happens to be a quadratic). Then
``z = z₀ + (x − z₀) / k``, ``log|det ∂z/∂x| = −(D − 1) log k − log q``.

Gradients, inverse (explicit) pass; g = dL/dx, h̄ = dL/dlog_det, per sample:

    dL/dk = g·d + h̄ (D − 1)/k,   dL/dq = h̄ / q,
    dL/ds = dL/dk (−β̂/s²) + dL/dq (−2β̂α/s³)    (= dL/dr: s = α + r)
    dL/dα = dL/ds + dL/dq β̂/s²,   dL/dβ̂ = dL/dk / s + dL/dq α/s²,
    dL/dz = g k + dL/dr · d/r,    dL/dz₀ = Σ g − Σ dL/dz.

Gradients, forward pass, by implicit differentiation. z = z₀ + d_x / k with d_x = x − z₀ and
log_det = −(D − 1) log k − log q, all functions of (r, α, β̂). Treating r as free:

    dL/dk = −(g·d_x)/k² − h̄ (D − 1)/k,   dL/dq = −h̄/q,   G = dL/dk (−β̂/s²) + dL/dq (−2β̂α/s³),
    dL/dα = G + dL/dq β̂/s²,   dL/dβ̂ = dL/dk / s + dL/dq α/s².

F(r; ρ, α, β̂) = 0 gives ∂F/∂r = q, ∂F/∂ρ = −1, ∂F/∂α = −β̂ r/s², ∂F/∂β̂ = r/s, so with λ = G/q

    dL/dρ = λ,   dL/dα += λ β̂ r / s²,   dL/dβ̂ += −λ r / s,
    dL/dx = g / k + λ d_x / ρ,   dL/dz₀ = Σ g − Σ dL/dx.

Reparameterisation: dL/dlog_alpha = α (dL/dα − dL/dβ̂) (β̂ falls as α grows),
dL/dbeta = σ(beta) dL/dβ̂.

Legend: z₀ -> center, β̂ -> beta_hat, ρ -> radius_x, r -> radius.

References
----------
D. J. Rezende, S. Mohamed. Variational Inference with Normalizing Flows. arXiv:1505.05770.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.divergence import check_finite_output
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int


def _sigmoid(t):
    return np.exp(-np.logaddexp(0.0, -t))


def _safe_unit(d, radius):
    """d / ‖d‖ row by row, 0 where ‖d‖ = 0 (N, D)."""
    return np.divide(d, radius[:, None], out=np.zeros_like(d), where=radius[:, None] > 0)


class RadialFlow(Bijector):
    """Radial flow; ``inverse`` is the paper's map ``x = z₀ + (1 + β̂/(α + r)) (z − z₀)``.

    Parameters
    ----------
    dim : int
        D >= 1.
    center : array_like, shape (D,), optional
        z₀; default independent N(0, 0.1²) draws from ``rng``.
    log_alpha, beta : float, optional
        α = exp(log_alpha), β̂ = −α + softplus(beta); defaults 0 and log(e^α − 1) plus an
        N(0, 0.1²) draw: softplus(log(e^α − 1)) = α makes β̂ = 0 (the identity), so the layer
        starts near the identity (|β̂| ≈ 0.06).
    rng : numpy.random.Generator or int, optional
    dtype : float64 (default) or float32

    References
    ----------
    D. J. Rezende, S. Mohamed. Variational Inference with Normalizing Flows. arXiv:1505.05770.
    """

    def __init__(self, dim, center=None, log_alpha=0.0, beta=None, rng=None, dtype=np.float64):
        super().__init__()
        self.dim = check_int(dim, "dim", 1)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng(rng)
        center = rng.normal(0.0, 0.1, self.dim) if center is None else np.asarray(center, float)
        if center.shape != (self.dim,):
            raise ValueError(f"center must have shape ({self.dim},), got {center.shape}")
        if beta is None:                                   # β̂ ≈ 0: near the identity
            beta = np.log(np.expm1(np.exp(float(log_alpha)))) + rng.normal(0.0, 0.1)
        self.center = self.add_param("center", center, self.dtype)                         # (D,)
        self.log_alpha = self.add_param("log_alpha", np.reshape(float(log_alpha), (1,)), self.dtype)
        self.beta = self.add_param("beta", np.reshape(float(beta), (1,)), self.dtype)      # (1,)
        self._forward_cache = None
        self._inverse_cache = None

    def _alpha_beta(self):
        """α, β̂ and ε = β̂ + α = softplus(beta) > 0 (kept apart: α + β̂ may round to 0)."""
        alpha = float(np.exp(self.log_alpha[0]))
        margin = float(np.logaddexp(0.0, self.beta[0]))
        return alpha, margin - alpha, margin

    def _factors(self, radius, alpha, margin):
        """s = α + r, k = 1 + β̂/s = (r + ε)/s, q = 1 + β̂α/s² = (r (2α + r) + εα)/s², each (N,).

        Written with ε = α + β̂ so that nothing cancels when β̂ is close to −α: k, q > 0 in
        floating point too."""
        s = alpha + radius
        return s, (radius + margin) / s, (radius * (2.0 * alpha + radius) + margin * alpha) / s ** 2

    def _param_backward(self, grad_alpha, grad_beta_hat, grad_center):
        alpha = float(np.exp(self.log_alpha[0]))
        self._own_grads["log_alpha"] += alpha * (grad_alpha - grad_beta_hat)
        self._own_grads["beta"] += _sigmoid(self.beta[0]) * grad_beta_hat
        self._own_grads["center"] += grad_center

    # ---------------------------------------------------------------- latent -> data (explicit)
    def _inverse(self, z, context=None):
        alpha, beta_hat, margin = self._alpha_beta()
        d = z - self.center                                                 # (N, D)
        radius = np.sqrt(np.einsum("nd,nd->n", d, d))                       # (N,) r
        s, k, q = self._factors(radius, alpha, margin)                      # (N,) each
        x = self.center + k[:, None] * d                                    # (N, D)
        log_det = (self.dim - 1) * np.log(k) + np.log(q)                    # (N,)
        self._inverse_cache = Cache(d=d, radius=radius, s=s, k=k, q=q, alpha=alpha,
                                    beta_hat=beta_hat)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        c = self._read_cache("inverse")
        grad_k = np.einsum("nd,nd->n", grad_x, c.d) + grad_log_det * (self.dim - 1) / c.k   # (N,)
        grad_q = grad_log_det / c.q                                         # (N,)
        grad_s = -grad_k * c.beta_hat / c.s ** 2 - grad_q * 2 * c.beta_hat * c.alpha / c.s ** 3
        grad_alpha = np.sum(grad_s + grad_q * c.beta_hat / c.s ** 2)
        grad_beta_hat = np.sum(grad_k / c.s + grad_q * c.alpha / c.s ** 2)
        grad_z = grad_x * c.k[:, None] + grad_s[:, None] * _safe_unit(c.d, c.radius)   # (N, D)
        self._param_backward(grad_alpha, grad_beta_hat, grad_x.sum(axis=0) - grad_z.sum(axis=0))
        return grad_z

    # ---------------------------------------------------------------- data -> latent (solve)
    def _forward(self, x, context=None):
        alpha, beta_hat, margin = self._alpha_beta()
        d_x = x - self.center                                               # (N, D)
        radius_x = np.sqrt(np.einsum("nd,nd->n", d_x, d_x))                 # (N,) ρ
        b = margin - radius_x                                               # (N,) B = α + β̂ − ρ
        root = np.sqrt(b * b + 4.0 * alpha * radius_x)                      # (N,)
        with np.errstate(divide="ignore", invalid="ignore"):
            radius = np.where(b > 0, 2.0 * alpha * radius_x / (b + root), 0.5 * (root - b))   # (N,)
        s, k, q = self._factors(radius, alpha, margin)
        d = d_x / k[:, None]                                                # (N, D) z − z₀
        z = self.center + d                                                 # (N, D)
        log_det = -(self.dim - 1) * np.log(k) - np.log(q)                   # (N,)
        self._forward_cache = Cache(d_x=d_x, d=d, radius_x=radius_x, radius=radius, s=s, k=k,
                                    q=q, alpha=alpha, beta_hat=beta_hat)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        c = self._read_cache("forward")
        grad_k = -(np.einsum("nd,nd->n", grad_z, c.d)                       # (g·d_x)/k² as (g·d)/k:
                   + grad_log_det * (self.dim - 1)) / c.k                   # (N,) k² may underflow
        grad_q = -grad_log_det / c.q                                        # (N,)
        grad_s = -grad_k * c.beta_hat / c.s ** 2 - grad_q * 2 * c.beta_hat * c.alpha / c.s ** 3
        lam = np.divide(grad_s, c.q, out=np.zeros_like(grad_s),            # (N,) λ = dL/dρ; every
                        where=c.radius_x > 0)                               # term has r or d_x/ρ: 0
        grad_alpha = np.sum(grad_s + grad_q * c.beta_hat / c.s ** 2
                            + lam * c.beta_hat * c.radius / c.s ** 2)
        grad_beta_hat = np.sum(grad_k / c.s + grad_q * c.alpha / c.s ** 2 - lam * c.radius / c.s)
        grad_x = grad_z / c.k[:, None] + lam[:, None] * _safe_unit(c.d_x, c.radius_x)   # (N, D)
        check_finite_output("RadialFlow backward (the slope 1/k at the centre overflows when "
                            "softplus(beta) underflows)", grad_x=grad_x)
        self._param_backward(grad_alpha, grad_beta_hat, grad_z.sum(axis=0) - grad_x.sum(axis=0))
        return grad_x

    def __repr__(self):
        return f"RadialFlow(dim={self.dim})"
