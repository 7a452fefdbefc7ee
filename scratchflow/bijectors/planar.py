"""Planar flow (Rezende & Mohamed 2015, §4.1), with an exact inverse. Beyond the lecture.

Direction. The paper's explicit map sends a base draw to a sample,
``f(z) = z + û h(wᵀz + b)``. In the lecture's convention the layer maps data x to latent z, so
the paper's explicit map is our **inverse** (latent -> data, slide "Алгоритм генерации" /
"Generation algorithm"): sampling and the reverse KL (which both run ``inverse``) cost one
pass, as in the paper. Our ``forward`` (data -> latent, needed for ``log_prob``) solves a scalar
equation. With h = tanh, c = wᵀû, a = wᵀz + b::

    inverse:  x = z + û h(a),      log|det ∂x/∂z| = log(1 + c h'(a))    (matrix determinant lemma:
                                   det(I + û h' wᵀ) = 1 + h' wᵀû)
    forward:  z = x − û h(α + b),  where α = wᵀz solves  α + c h(α + b) = wᵀx,
              log|det ∂z/∂x| = −log(1 + c h'(α + b)).

Invertibility (the paper's appendix A.1). ``x = z + û h(wᵀz + b)`` only moves z along û, so it is
invertible iff its component along w, ``α ↦ α + c h(α + b)``, is. Its slope is
``q = 1 + c h'(α + b)``, and 0 < h' <= 1, so c = wᵀû > −1 makes q > 0 everywhere. The paper's
reparameterisation enforces it: from free parameters (u, w, b),

    û = u + (m(wᵀu) − wᵀu) w / ‖w‖²,    m(s) = −1 + softplus(s),    so  c = wᵀû = m(wᵀu) > −1.

Forward = solving the scalar equation. F(α) = α + c h(α + b) − y with y = wᵀx is increasing
and, since |h| < 1, its root lies in [y − |c|, y + |c|]. :func:`solve_increasing` runs Newton's
method inside that bracket (a step that would leave the bracket, or not halve the step before
it, is replaced by bisection; the bracket shrinks with the sign of F), vectorised over the batch,
until F, the step or the bracket is at round-off: the root is exact to machine precision. Then
``z = x − û h(α + b)``.

Gradients, inverse (explicit) pass. Upstream g = dL/dx (N, D), h̄ = dL/dlog_det (N,); write
t = h(a), t' = 1 − t², t'' = −2 t t', q = 1 + c t'. Then

    A = (g·û) t' + h̄ c t'' / q              dL/da per sample
    dL/dz = g + A w,  dL/dw += Σ A z,  dL/db += Σ A,  dL/dû += Σ g t,  dL/dc += Σ h̄ t' / q.

Gradients, forward pass, by implicit differentiation. z = x − û t with t = h(α + b), and
log_det = −log q. Treating α as free first:

    A = −(g·û) t' − h̄ c t'' / q,   dL/dû += −Σ g t,   dL/dc += −Σ h̄ t' / q.

α depends on (x, w, c, b) through F(α; x, w, c, b) = 0, so dα = −(∂F/∂θ) dθ / q: ∂α/∂x = w / q,
∂α/∂w = x / q, ∂α/∂c = −t / q, ∂α/∂b = −c t' / q. With λ = A / q:

    dL/dx = g + λ w,   dL/dw += Σ λ x,   dL/dc += −Σ λ t,   dL/db += Σ A (1 − c t'/q) = Σ λ.

Reparameterisation (both passes). With s = wᵀu, κ = m(s) − s, ρ = (dL/dû · w) / ‖w‖²:

    dL/ds = ρ (σ(s) − 1) + (dL/dc) σ(s),
    dL/du = dL/dû + (dL/ds) w,   dL/dw += κ (dL/dû − 2 ρ w) / ‖w‖² + (dL/ds) u.

Legend: û -> u_hat, c -> c, α -> alpha, t -> h_value, t' -> slope, q -> q, λ -> lam.

References
----------
D. J. Rezende, S. Mohamed. Variational Inference with Normalizing Flows. arXiv:1505.05770.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int

MAX_SOLVER_STEPS = 200
IDENTITY_S = float(np.log(np.e - 1.0))
"""s₀ = log(e − 1): m(s₀) = −1 + softplus(s₀) = 0, so u = s₀ w / ‖w‖² gives û = 0 (the identity)."""


def _softplus(s):
    return np.logaddexp(0.0, s)


def _sigmoid(s):
    return np.exp(-np.logaddexp(0.0, -s))


def solve_increasing(equation, low, high):
    """Root of an increasing scalar function, elementwise over a batch: bracketed Newton.

    Parameters
    ----------
    equation : callable, alpha (N,) -> (F (N,), dF/dalpha (N,), round_off (N,))
        Increasing in alpha with exactly one root in [low, high]; ``round_off`` is the size of
        F's own rounding error at alpha: |F| below it counts as a root.
    low, high : ndarray, shape (N,)
        A bracket: F(low) <= 0 <= F(high).

    Returns
    -------
    alpha : ndarray, shape (N,), a root to machine precision: |F(alpha)| at round-off level, or a
    bracket of a few ulps around it.

    Each step is Newton's if it lands strictly inside the bracket and is at most half the step
    before it, bisection otherwise (the safeguard of Numerical Recipes' ``rtsafe``): every iterate
    becomes an end of the bracket, so the bracket shrinks at every step, at least by half every
    two steps, and the iteration cannot cycle or crawl (far from the root of a steep tanh, plain
    Newton ping-pongs between the two ends of the bracket, gaining a little each time). A row stops for good once it has converged, so rows that converge at
    different steps cannot keep the batch from finishing.
    """
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise FloatingPointError("planar flow inverse: non-finite bracket (an earlier layer "
                                 "overflowed?)")
    low, high = low.copy(), high.copy()                          # (N,)
    alpha = 0.5 * (low + high)                                   # (N,)
    done = np.zeros(alpha.shape, dtype=bool)                     # (N,) frozen once converged
    previous_step = high - low                                   # (N,) length of the last step
    ulps = 4 * np.finfo(low.dtype).eps                           # the batch dtype's ulps
    for _ in range(MAX_SOLVER_STEPS):
        value, slope, round_off = equation(alpha)                # (N,) each
        low = np.where(value < 0, alpha, low)                    # the root is above alpha
        high = np.where(value > 0, alpha, high)                  # the root is below alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = alpha - value / slope                       # (N,)
        scale = ulps * (1.0 + np.abs(alpha))
        done |= ((np.abs(value) <= round_off)                    # F at its round-off level
                 | (np.abs(newton - alpha) <= scale)             # Newton's step below an ulp
                 | (high - low <= scale))                        # bracket down to an ulp
        if done.all():
            return alpha
        fast = np.abs(newton - alpha) <= 0.5 * previous_step     # Newton at least halves its step
        inside = np.isfinite(newton) & (newton > low) & (newton < high) & fast
        step_to = np.where(inside, newton, 0.5 * (low + high))   # else bisection
        previous_step = np.abs(step_to - alpha)
        alpha = np.where(done, alpha, step_to)
    raise FloatingPointError("planar flow inverse: the bracketed Newton solve did not converge "
                             f"in {MAX_SOLVER_STEPS} steps")


def _slope(h_value, c_plus_one):
    """q = 1 + c h' computed as t² + (c + 1)(1 − t²) (h' = 1 − t²): no cancellation when c ≈ −1,
    so q > 0 in floating point too, not only in exact arithmetic."""
    square = h_value * h_value                                              # (N,)
    return square + c_plus_one * (1.0 - square)


class PlanarFlow(Bijector):
    """Planar flow; ``inverse`` is the paper's map ``x = z + û tanh(wᵀz + b)``, ``forward`` solves it.

    Parameters
    ----------
    dim : int
        D >= 1.
    u, w : array_like, shape (D,), optional
        Initial free parameters (û is computed from them). Default: w ~ N(0, I/D) (‖w‖ ≈ 1) and
        u = s₀ w / ‖w‖² + N(0, 0.1² I) with s₀ = log(e − 1), where m(s₀) = 0: û = m(wᵀu) w / ‖w‖²
        for u parallel to w, so without the small draw û = 0 and the layer is the identity; with
        it the layer starts near the identity (|û| ≈ 0.1). Small draws of u and w themselves
        would not: m(0) = log 2 − 1 makes û ≈ −0.31 w / ‖w‖², large for a small w.
    b : float, optional
        Initial bias (default 0).
    rng : numpy.random.Generator or int, optional
    dtype : float64 (default) or float32

    References
    ----------
    D. J. Rezende, S. Mohamed. Variational Inference with Normalizing Flows. arXiv:1505.05770.
    """

    def __init__(self, dim, u=None, w=None, b=0.0, rng=None, dtype=np.float64):
        super().__init__()
        self.dim = check_int(dim, "dim", 1)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng(rng)
        w = rng.normal(0.0, self.dim ** -0.5, self.dim) if w is None else np.asarray(w, dtype=float)
        if u is None:                                                       # û ≈ 0: near identity
            u = IDENTITY_S * w / max(float(w @ w), 1e-12) + rng.normal(0.0, 0.1, self.dim)
        u = np.asarray(u, dtype=float)
        for name, value in (("u", u), ("w", w)):
            if value.shape != (self.dim,):
                raise ValueError(f"{name} must have shape ({self.dim},), got {value.shape}")
        if not np.any(w != 0):
            raise ValueError("w must not be zero: û = u + (m(wᵀu) − wᵀu) w / ‖w‖² divides by ‖w‖²")
        self.u = self.add_param("u", u, self.dtype)                         # (D,)
        self.w = self.add_param("w", w, self.dtype)                         # (D,)
        self.b = self.add_param("b", np.reshape(float(b), (1,)), self.dtype)   # (1,)
        self._forward_cache = None
        self._inverse_cache = None

    # ---------------------------------------------------------------- û and c = wᵀû
    def _u_hat(self):
        """û (D,), c = wᵀû, and what the reparameterisation's gradient needs."""
        w_norm2 = float(self.w @ self.w)
        if w_norm2 == 0.0:
            raise FloatingPointError("PlanarFlow: w has become zero, so û is undefined")
        s = float(self.w @ self.u)
        c_plus_one = float(_softplus(s))                                    # > 0 even where c rounds to −1
        c = -1.0 + c_plus_one                                               # m(s) > −1
        kappa = c - s
        u_hat = self.u + kappa * self.w / w_norm2                           # (D,)
        return u_hat, c, Cache(s=s, kappa=kappa, w_norm2=w_norm2, c_plus_one=c_plus_one)

    def _reparam_backward(self, grad_u_hat, grad_c, reparam):
        """dL/dû (D,), dL/dc -> add dL/du, dL/dw into grads."""
        w, u = self.w, self.u
        rho = float(grad_u_hat @ w) / reparam.w_norm2
        grad_s = rho * (_sigmoid(reparam.s) - 1.0) + grad_c * _sigmoid(reparam.s)
        self._own_grads["u"] += grad_u_hat + grad_s * w
        self._own_grads["w"] += reparam.kappa * (grad_u_hat - 2.0 * rho * w) / reparam.w_norm2 \
            + grad_s * u

    # ---------------------------------------------------------------- latent -> data (explicit)
    def _inverse(self, z, context=None):
        u_hat, c, reparam = self._u_hat()
        pre = z @ self.w + self.b[0]                                        # (N,) a = wᵀz + b
        h_value = np.tanh(pre)                                              # (N,) t
        slope = 1.0 - h_value ** 2                                          # (N,) t'
        q = _slope(h_value, reparam.c_plus_one)                             # (N,) > 0
        x = z + h_value[:, None] * u_hat                                    # (N, D)
        self._inverse_cache = Cache(z=z, u_hat=u_hat, c=c, reparam=reparam, h_value=h_value,
                                    slope=slope, q=q)
        return x, np.log(q)

    def _inverse_backward(self, grad_x, grad_log_det):
        cache = self._read_cache("inverse")
        t, slope, q, c = cache.h_value, cache.slope, cache.q, cache.c
        curvature = -2.0 * t * slope                                        # (N,) t''
        grad_pre = (grad_x @ cache.u_hat) * slope + grad_log_det * c * curvature / q   # (N,) A
        self._own_grads["w"] += grad_pre @ cache.z
        self._own_grads["b"] += grad_pre.sum()
        grad_u_hat = t @ grad_x                                             # (D,) Σ g t
        grad_c = float(np.sum(grad_log_det * slope / q))
        self._reparam_backward(grad_u_hat, grad_c, cache.reparam)
        return grad_x + grad_pre[:, None] * self.w                          # (N, D)

    # ---------------------------------------------------------------- data -> latent (solve)
    def _forward(self, x, context=None):
        u_hat, c, reparam = self._u_hat()
        w, b = self.w, self.b[0]
        target = x @ w                                                      # (N,) y = wᵀx

        def equation(alpha):
            """F = α + c tanh(α + b) − y, F' = q, and F's rounding error: a few ulps of each
            term, and of α + b as it passes through c·tanh (slope c·t')."""
            pre = alpha + b                                                 # (N,)
            t = np.tanh(pre)
            slope = _slope(t, reparam.c_plus_one)
            terms = np.abs(alpha) + abs(c) + np.abs(target) + abs(c) * (1 - t * t) * np.abs(pre)
            return alpha + c * t - target, slope, 4 * eps * terms

        eps = np.finfo(x.dtype).eps
        alpha = solve_increasing(equation, target - abs(c), target + abs(c))   # (N,)
        h_value = np.tanh(alpha + b)                                        # (N,) t
        slope = 1.0 - h_value ** 2                                          # (N,)
        q = _slope(h_value, reparam.c_plus_one)                             # (N,)
        z = x - h_value[:, None] * u_hat                                    # (N, D)
        self._forward_cache = Cache(x=x, u_hat=u_hat, c=c, reparam=reparam, h_value=h_value,
                                    slope=slope, q=q)
        return z, -np.log(q)

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        t, slope, q, c = cache.h_value, cache.slope, cache.q, cache.c
        curvature = -2.0 * t * slope                                        # (N,)
        grad_alpha = -(grad_z @ cache.u_hat) * slope - grad_log_det * c * curvature / q   # (N,) A
        lam = grad_alpha / q                                                # (N,) λ
        self._own_grads["w"] += lam @ cache.x
        self._own_grads["b"] += lam.sum()
        grad_u_hat = -(t @ grad_z)                                          # (D,)
        grad_c = -float(np.sum(grad_log_det * slope / q)) - float(lam @ t)
        self._reparam_backward(grad_u_hat, grad_c, cache.reparam)
        return grad_z + lam[:, None] * self.w                               # (N, D)

    def __repr__(self):
        return f"PlanarFlow(dim={self.dim})"
