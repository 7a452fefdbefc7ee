"""The knots of a rational-quadratic spline, from 3K − 1 unconstrained numbers (arXiv 1906.04068, §3.1).

Beyond the lecture: the slides' layers move each coordinate by an affine map, x ↦ x·e^s + t; a
neural spline flow replaces it by a monotone rational-quadratic spline (see
:mod:`scratchflow.bijectors.spline` for the map itself). This file turns what a network outputs,
3K − 1 numbers per coordinate, into a valid spline: K bins on [−B, B] with positive widths and
heights that fill the interval, and positive derivatives at the K + 1 knots.

    widths    w_k = 2B (m_w + (1 − K m_w) softmax(ŵ)_k),      k = 1..K      (Σ_k w_k = 2B)
    heights   h_k = 2B (m_h + (1 − K m_h) softmax(ĥ)_k)                     (Σ_k h_k = 2B)
    knots     x_0 = −B,  x_k = −B + w_1 + ... + w_k,  x_K = B;   y_k the same with h
    slopes    δ_0 = δ_K = 1,   δ_k = m_δ + softplus(δ̂_k + c),   k = 1..K−1,
              c = log(e^{1 − m_δ} − 1), so δ̂ = 0 gives δ = 1

m_w, m_h, m_δ (1e-3 by default) keep every bin and slope away from 0. The boundary slopes are 1,
the slope of the identity tails, so the whole map is C¹ on R. With ŵ = ĥ = δ̂ = 0 the bins are
equal, every slope is 1 and the spline is the identity: a layer whose network starts at 0 starts
as the identity map.

Gradient pass (G = dL/dknot, for the interior knots x_1..x_{K−1}, y_1..y_{K−1}, δ_1..δ_{K−1}):

* x_k = −B + Σ_{i≤k} w_i, so dL/dw_i = Σ_{k=i}^{K−1} G_{x_k}  (a reverse cumulative sum). The end
  knots ±B are constants: since Σ_i w_i = 2B whatever ŵ is, their gradient through ŵ is 0.
* w = 2B (m + (1 − K m) p), p = softmax(ŵ), ∂p_i/∂ŵ_j = p_i (1[i = j] − p_j), so
  dL/dŵ = 2B (1 − K m) p ⊙ (dL/dw − Σ_i p_i dL/dw_i).
* dL/dδ̂_k = dL/dδ_k · sigmoid(δ̂_k + c).

Legend: ŵ, ĥ, δ̂ -> the three blocks of ``unnormalised`` (M, 3K − 1); x_k -> ``x_knots``,
y_k -> ``y_knots``, δ_k -> ``slopes``, all (M, K + 1).
"""
import numpy as np

from scratchflow.nn.activations import sigmoid
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_int, check_number

MIN_WIDTH = 1e-3
MIN_HEIGHT = 1e-3
MIN_SLOPE = 1e-3


def n_spline_params(bins):
    """3K − 1: K widths, K heights and K − 1 interior slopes per transformed coordinate."""
    return 3 * bins - 1


def check_spline_options(bins, bound, min_width, min_height, min_slope):
    """Check K, B and the minimums once, at construction; return them as int and floats."""
    bins = check_int(bins, "bins", 2)
    bound = check_number(bound, "bound (half-width B of the spline's interval)", 0, low_open=True)
    for value, name in ((min_width, "min_width"), (min_height, "min_height")):
        check_number(value, name, 0, 1.0 / bins, high_open=True)    # K m < 1 leaves room for softmax
    check_number(min_slope, "min_slope", 0, low_open=True)
    return bins, float(bound), float(min_width), float(min_height), float(min_slope)


def _bin_sizes(logits, minimum, bound):
    """2B (m + (1 − K m) softmax(logits)): sizes (M, K) summing to 2B, and the softmax (M, K)."""
    shifted = logits - logits.max(axis=1, keepdims=True)            # (M, K), max 0: no overflow
    probs = np.exp(shifted)                                         # (M, K)
    probs /= probs.sum(axis=1, keepdims=True)
    n_bins = logits.shape[1]
    return 2 * bound * (minimum + (1 - n_bins * minimum) * probs), probs


def _cumulative_knots(sizes, bound):
    """Knots −B, −B + s_1, ..., B (M, K + 1); the last is set to B exactly (no round-off drift)."""
    knots = np.empty((sizes.shape[0], sizes.shape[1] + 1), dtype=sizes.dtype)   # (M, K + 1)
    knots[:, 0] = -bound
    knots[:, 1:] = -bound + np.cumsum(sizes, axis=1)
    knots[:, -1] = bound
    return knots


def make_knots(unnormalised, bound, min_width=MIN_WIDTH, min_height=MIN_HEIGHT,
               min_slope=MIN_SLOPE):
    """The spline's knots from the network's outputs.

    Parameters
    ----------
    unnormalised : ndarray, shape (M, 3K − 1)
        [ŵ (K), ĥ (K), δ̂ (K − 1)] for each of M coordinates.
    bound : float
        B: the spline lives on [−B, B], the identity outside.
    min_width, min_height, min_slope : float
        m_w, m_h (K m < 1 needed) and m_δ.

    Returns
    -------
    Cache
        ``x_knots``, ``y_knots``, ``slopes`` (M, K + 1), ``bound``, and what
        :func:`knots_backward` needs (the two softmaxes, the slopes' sigmoid, the minimums).
    """
    n_bins = (unnormalised.shape[1] + 1) // 3
    width_logits = unnormalised[:, :n_bins]                         # (M, K)
    height_logits = unnormalised[:, n_bins:2 * n_bins]              # (M, K)
    slope_logits = unnormalised[:, 2 * n_bins:] + float(np.log(np.expm1(1 - min_slope)))  # (M, K − 1)
    widths, width_probs = _bin_sizes(width_logits, min_width, bound)        # (M, K) each
    heights, height_probs = _bin_sizes(height_logits, min_height, bound)    # (M, K) each
    slopes = np.ones((unnormalised.shape[0], n_bins + 1), dtype=unnormalised.dtype)   # (M, K + 1)
    slopes[:, 1:-1] = min_slope + np.logaddexp(0.0, slope_logits)   # softplus, no overflow
    return Cache(x_knots=_cumulative_knots(widths, bound), y_knots=_cumulative_knots(heights, bound),
                 slopes=slopes, bound=bound, width_probs=width_probs, height_probs=height_probs,
                 slope_sigmoid=sigmoid(slope_logits), min_width=min_width, min_height=min_height)


def _sizes_backward(grad_knots, probs, minimum, bound):
    """dL/d(interior knots) (M, K + 1; ends ignored) -> dL/d(logits) (M, K), see the module doc."""
    interior = grad_knots[:, 1:-1]                                  # (M, K − 1)
    grad_sizes = np.zeros_like(probs)                               # (M, K); w_K moves only x_K
    grad_sizes[:, :-1] = np.cumsum(interior[:, ::-1], axis=1)[:, ::-1]   # Σ_{k ≥ i} G_{x_k}
    mean = (probs * grad_sizes).sum(axis=1, keepdims=True)          # (M, 1)
    n_bins = probs.shape[1]
    return 2 * bound * (1 - n_bins * minimum) * probs * (grad_sizes - mean)   # (M, K)


def knots_backward(knots, grad_x_knots, grad_y_knots, grad_slopes):
    """dL/d(knots) -> dL/d(unnormalised) (M, 3K − 1), through the cumulative sums, softmaxes and
    softplus. The end knots and boundary slopes are constants: their entries are ignored."""
    return np.concatenate([
        _sizes_backward(grad_x_knots, knots.width_probs, knots.min_width, knots.bound),
        _sizes_backward(grad_y_knots, knots.height_probs, knots.min_height, knots.bound),
        grad_slopes[:, 1:-1] * knots.slope_sigmoid], axis=1)        # (M, 3K − 1)
