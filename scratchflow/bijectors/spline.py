"""The monotone rational-quadratic spline and its exact gradients (Durkan et al., arXiv 1906.04068).

Beyond the lecture. Slide "Выбор функции" / "Choosing the function" asks for a map that is
differentiable, invertible, with a cheap determinant; the slides' layers use x ↦ x·e^s + t. A
spline is a far more flexible elementwise map with the same three properties. Knots
(x_k, y_k, δ_k), k = 0..K, come from :mod:`scratchflow.bijectors.spline_knots`.

The map (Gregory & Delbourgo's rational quadratic, one bin). For x in bin k, [x_k, x_{k+1}],
write w = x_{k+1} − x_k, h = y_{k+1} − y_k, s = h / w, ξ = (x − x_k) / w ∈ [0, 1], t = ξ(1 − ξ):

    y = y_k + h N / Q,          N = s ξ² + δ_k t,        Q = s + (δ_k + δ_{k+1} − 2s) t
    dy/dx = s² P / Q²,          P = δ_{k+1} ξ² + 2 s t + δ_k (1 − ξ)²
    log|dy/dx| = 2 log s + log P − 2 log Q

At ξ = 0 and 1 it passes through the knots with slopes δ_k and δ_{k+1}; P, Q > 0, so it is
strictly increasing. Outside [−B, B] the map is the identity (y = x, log-det 0); the end slopes
are 1, so the map is C¹. Both directions treat |x| ≥ B as tail: there the parameters' gradients
are exactly 0.

Inverse. Given y in bin k (found among the y_k), Δ = δ_k + δ_{k+1} − 2s, e = y − y_k, clearing
the denominator of y = y_k + hN/Q gives a ξ² + b ξ + c = 0 with

    a = h (s − δ_k) + e Δ,      b = h δ_k − e Δ,      c = −s e,      (a + b = h s > 0, c ≤ 0)

whose root in [0, 1] is ξ = (−b + √(b² − 4ac)) / (2a) = 2c / (−b − √(b² − 4ac)). The first form
subtracts nearly equal numbers when b > 0, the second when b < 0; we use the one without
cancellation (for b < 0, a = hs − b > 0). b² − 4ac ≥ 0 in exact arithmetic; it is clamped at 0.

Gradients of the forward map. With R = N/Q, y = y_k + h R(ξ, s, δ_k, δ_{k+1}); by the quotient rule

    ∂R/∂ξ = s P / Q²,   ∂R/∂s = (ξ² Q − N (1 − 2t)) / Q²,
    ∂R/∂δ_k = t (Q − N) / Q²,   ∂R/∂δ_{k+1} = −t N / Q²,

and ℓ = log|dy/dx| has ∂ℓ/∂u = ∂_u P / P − 2 ∂_u Q / Q (+ 2/s for u = s), with ∂_ξ P = 2δ_{k+1}ξ +
2s(1 − 2ξ) − 2δ_k(1 − ξ), ∂_s P = 2t, ∂_{δ_k} P = (1 − ξ)², ∂_{δ_{k+1}} P = ξ², ∂_ξ Q = Δ(1 − 2ξ),
∂_s Q = 1 − 2t, ∂_δ Q = t. Then ξ = (x − x_k)/w and s = h/w carry them to the bin's numbers:

    ∂/∂x = (1/w) ∂/∂ξ,   ∂/∂x_k = −∂/∂x,   ∂/∂w = −(ξ ∂/∂ξ + s ∂/∂s)/w,   ∂/∂h = (∂/∂s)/w,

and y itself adds ∂y/∂y_k = 1, ∂y/∂h = R + s ∂R/∂s (h appears outside R too), ∂y/∂w = −s(ξ ∂R/∂ξ +
s ∂R/∂s), ∂y/∂δ = h ∂R/∂δ: the list in :func:`_partials`.
Since w = x_{k+1} − x_k, the knot x_{k+1} gets ∂/∂w and x_k gets ∂/∂x_k − ∂/∂w (y_k, h alike);
:func:`~scratchflow.bijectors.spline_knots.knots_backward` then goes through the softmaxes.

Gradient of the inverse, by implicit differentiation. x = Φ⁻¹(y; θ) solves Φ(x; θ) = y, so
∂x/∂y = 1/Φ_x and ∂x/∂θ = −Φ_θ/Φ_x; its log-det is ℓ_inv(y) = −ℓ(x(y); θ). For a loss with
g = dL/dx and q = dL/dℓ_inv (q, not h: h is a bin height),

    dL/dy = u = (g − q ℓ_x) / Φ_x,          dL/dθ = −(u Φ_θ + q ℓ_θ):

minus the forward pass's parameter gradient, fed with (u, q) at the point x. So
:func:`rq_inverse_backward` is :func:`rq_backward` at x plus one division.

Legend: Φ_x -> ``derivative`` = dy/dx; ℓ -> ``log_det``; ξ -> ``xi``; δ_k, δ_{k+1} -> ``slope_left``,
``slope_right``; M = number of coordinates (a layer flattens its (N, k) block to M = N·k).
"""
import numpy as np

from scratchflow.bijectors.spline_knots import knots_backward
from scratchflow.nn.module import Cache


def _bin(values, knots, rows):
    """Per row, the index k of the bin [knots_k, knots_{k+1}] holding ``values`` (inside points)."""
    return (values[:, None] >= knots[rows, 1:-1]).sum(axis=1)       # (m,) in 0..K−1


def _local(knots, rows, index):
    """The bin's own numbers: x_k, w, y_k, h, δ_k, δ_{k+1} (each (m,)) for the given rows."""
    left = rows * knots.x_knots.shape[1] + index                    # (m,) flat index of knot k
    x_left, x_right = knots.x_knots.take(left), knots.x_knots.take(left + 1)
    y_left, y_right = knots.y_knots.take(left), knots.y_knots.take(left + 1)
    return Cache(x_left=x_left, width=x_right - x_left, y_left=y_left, height=y_right - y_left,
                 slope_left=knots.slopes.take(left), slope_right=knots.slopes.take(left + 1))


def _terms(xi, b):
    """s, t, N, Q, P of the module doc for positions ξ (m,) in bins ``b``."""
    slope = b.height / b.width                                      # (m,) s
    t = xi * (1 - xi)                                               # (m,)
    numerator = slope * xi * xi + b.slope_left * t                  # (m,) N
    denominator = slope + (b.slope_left + b.slope_right - 2 * slope) * t   # (m,) Q
    derivative_top = (b.slope_right * xi * xi + 2 * slope * t
                      + b.slope_left * (1 - xi) * (1 - xi))          # (m,) P
    return slope, t, numerator, denominator, derivative_top


def _value(xi, b):
    """y and log dy/dx at ξ (m,) inside bins ``b``."""
    slope, t, numerator, denominator, derivative_top = _terms(xi, b)
    y = b.y_left + b.height * (numerator / denominator)             # (m,)
    log_det = 2 * np.log(slope) + np.log(derivative_top) - 2 * np.log(denominator)   # (m,)
    return y, log_det


def _pass(values, knots, which):
    """Split M values into tails (|v| ≥ B) and inside points; find each inside point's bin."""
    rows = np.flatnonzero(np.abs(values) < knots.bound)             # (m,)
    inside = values[rows]                                           # (m,)
    index = _bin(inside, knots.x_knots if which == "x" else knots.y_knots, rows)   # (m,)
    return rows, inside, index, _local(knots, rows, index)


def rq_forward(x, knots):
    """y = Φ(x) elementwise. x (M,) -> y (M,), log|dy/dx| (M,), cache for :func:`rq_backward`."""
    rows, inside, index, b = _pass(x, knots, "x")
    xi = np.clip((inside - b.x_left) / b.width, 0.0, 1.0)           # (m,)
    y, log_det = x.copy(), np.zeros_like(x)                         # (M,): identity tails
    y[rows], log_det[rows] = _value(xi, b)
    return y, log_det, Cache(knots=knots, size=x.shape[0], rows=rows, index=index, xi=xi, bin=b)


def rq_inverse(y, knots):
    """x = Φ⁻¹(y) by the stable root. y (M,) -> x (M,), log|dx/dy| (M,), cache (kept at the point x)."""
    rows, inside, index, b = _pass(y, knots, "y")
    slope = b.height / b.width                                      # (m,)
    offset = inside - b.y_left                                      # (m,) e
    excess = b.slope_left + b.slope_right - 2 * slope               # (m,) Δ
    a = b.height * (slope - b.slope_left) + offset * excess         # (m,)
    bb = b.height * b.slope_left - offset * excess                  # (m,) b
    c = -slope * offset                                             # (m,)
    root = np.sqrt(np.maximum(bb * bb - 4 * a * c, 0.0))            # (m,)
    with np.errstate(divide="ignore", invalid="ignore"):            # the unused form may be 0/0
        xi = np.where(bb >= 0, 2 * c / (-bb - root), (root - bb) / (2 * a))   # (m,) no cancellation
    xi = np.clip(xi, 0.0, 1.0)
    x, log_det = y.copy(), np.zeros_like(y)                         # (M,): identity tails
    x[rows] = b.x_left + xi * b.width
    log_det[rows] = -_value(xi, b)[1]
    return x, log_det, Cache(knots=knots, size=y.shape[0], rows=rows, index=index, xi=xi, bin=b)


def _partials(cache):
    """∂y and ∂ℓ with respect to x, w, h, δ_k, δ_{k+1} at the cached point (module doc), each (m,).

    Computed once per pass and kept on the cache: the autoregressive layer's triangular solve
    calls :func:`rq_backward` D times on one cache.
    """
    if getattr(cache, "partials", None) is not None:
        return cache.partials
    xi, b = cache.xi, cache.bin
    slope, t, numerator, denominator, derivative_top = _terms(xi, b)
    ratio = numerator / denominator                                 # (m,) R
    ratio_xi = slope * derivative_top / denominator / denominator   # (m,) ∂R/∂ξ
    ratio_s = (xi * xi - ratio * (1 - 2 * t)) / denominator         # (m,) ∂R/∂s
    excess = b.slope_left + b.slope_right - 2 * slope               # (m,) Δ
    top_xi = 2 * (b.slope_right * xi + slope * (1 - 2 * xi) - b.slope_left * (1 - xi))   # ∂P/∂ξ
    log_xi = top_xi / derivative_top - 2 * excess * (1 - 2 * xi) / denominator            # ∂ℓ/∂ξ
    log_s = 2 / slope + 2 * t / derivative_top - 2 * (1 - 2 * t) / denominator           # ∂ℓ/∂s
    cache.partials = Cache(
        y_x=slope * ratio_xi,                                       # dy/dx = s ∂R/∂ξ
        y_width=-slope * (xi * ratio_xi + slope * ratio_s),
        y_height=ratio + slope * ratio_s,
        y_slope_left=b.height * t * (1 - ratio) / denominator,
        y_slope_right=-b.height * t * ratio / denominator,
        log_x=log_xi / b.width,
        log_width=-(xi * log_xi + slope * log_s) / b.width,
        log_height=log_s / b.width,
        log_slope_left=(1 - xi) * (1 - xi) / derivative_top - 2 * t / denominator,
        log_slope_right=xi * xi / derivative_top - 2 * t / denominator)
    return cache.partials


def rq_slopes(cache):
    """dy/dx and dℓ/dx (M,) at the cached point: 1 and 0 in the tails."""
    p = _partials(cache)
    dtype = cache.knots.slopes.dtype
    derivative = np.ones(cache.size, dtype=dtype)                  # (M,)
    log_det_slope = np.zeros(cache.size, dtype=dtype)               # (M,)
    derivative[cache.rows], log_det_slope[cache.rows] = p.y_x, p.log_x
    return derivative, log_det_slope


def rq_backward(cache, grad_y, grad_log_det):
    """Gradient pass of :func:`rq_forward`: dL/dy, dL/dℓ (M,) -> dL/dx (M,), dL/d(unnormalised) (M, 3K − 1).

    Also accepts a :func:`rq_inverse` cache: then it is the forward map's vector-Jacobian product
    at the point x that the inverse found. Tail rows get dL/dx = dL/dy and parameter gradient 0.
    """
    p, rows, index, knots = _partials(cache), cache.rows, cache.index, cache.knots
    g, q = grad_y[rows], grad_log_det[rows]                         # (m,) each
    grad_x = grad_y.copy()                                          # (M,): identity tails
    grad_x[rows] = g * p.y_x + q * p.log_x
    grad_width = g * p.y_width + q * p.log_width                    # (m,)
    grad_height = g * p.y_height + q * p.log_height                 # (m,)
    grad_x_knots = np.zeros_like(knots.x_knots)                     # (M, K + 1)
    grad_y_knots = np.zeros_like(knots.y_knots)                     # (M, K + 1)
    grad_slopes = np.zeros_like(knots.slopes)                       # (M, K + 1)
    grad_x_knots[rows, index] = -grad_x[rows] - grad_width          # w = x_{k+1} − x_k
    grad_x_knots[rows, index + 1] = grad_width
    grad_y_knots[rows, index] = g - grad_height                     # y = y_k + ..., h = y_{k+1} − y_k
    grad_y_knots[rows, index + 1] = grad_height
    grad_slopes[rows, index] = g * p.y_slope_left + q * p.log_slope_left
    grad_slopes[rows, index + 1] = g * p.y_slope_right + q * p.log_slope_right
    return grad_x, knots_backward(knots, grad_x_knots, grad_y_knots, grad_slopes)


def rq_inverse_backward(cache, grad_x, grad_log_det):
    """Gradient pass of :func:`rq_inverse` by implicit differentiation (module doc):
    dL/dx, dL/dℓ_inv (M,) -> dL/dy (M,), dL/d(unnormalised) (M, 3K − 1)."""
    derivative, log_det_slope = rq_slopes(cache)                    # (M,) each
    grad_y = (grad_x - grad_log_det * log_det_slope) / derivative   # (M,) u
    _, grad_params = rq_backward(cache, grad_y, grad_log_det)       # u Φ_θ + h ℓ_θ
    return grad_y, -grad_params
