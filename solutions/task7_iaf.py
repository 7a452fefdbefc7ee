"""Task 7 — Inverse Autoregressive Flow: sampling in one pass, density in D passes (slide "Inverse
Autoregressive Flow, IAF", arXiv 1606.04934).

The slide's map: the conditioner reads **z**, not x::

    x_d = z_d exp(s_d(z_{1:d−1})) + μ_d(z_{1:d−1})              (sampling, z -> x: one pass)
    z_d = (x_d − μ_d(z_{1:d−1})) exp(−s_d(z_{1:d−1}))           (density, x -> z: D passes)
    log|det ∂f/∂x| = −Σ_d s_d(z_{1:d−1})

``mu, log_scale = conditioner(z)`` is autoregressive (column d depends on z_{1:d−1} only), as in
Task 6 (use :func:`make_conditioner`, given). MAF and IAF are the same network used in opposite
directions: each is fast where the other is slow.

You write ``iaf_inverse(z, conditioner) -> (x, log_det)`` (one pass; log_det = log|det ∂f^{-1}/∂z|
= +Σ_d s_d), ``iaf_forward(x, conditioner) -> (z, log_det)`` (sequential: start from z = 0 and fill
one column per pass; log_det = −Σ_d s_d) and ``iaf_log_prob(x, conditioner) -> (N,)``.
Shapes: x, z, mu, log_scale (N, D); log_det and log_prob (N,).

What the public tests check (``python -m pytest tests/test_task7_iaf.py``): ``iaf_forward`` undoes
``iaf_inverse``; the log-dets match the numerical Jacobian
(:func:`scratchflow.checks.numerical_log_abs_det`, which you can point at your own functions);
log_prob integrates to about 1 in 2-D.

Not allowed in this file: ``scratchflow.bijectors.autoregressive`` (MAF, IAF) and ``scratchflow.flow``.
"""
import numpy as np

LOG_2PI = float(np.log(2.0 * np.pi))


def make_conditioner(dim, rng=0, hidden=8, scale=0.5):
    """A small autoregressive conditioner (given, the same as Task 6's): z (N, D) -> (mu, log_scale)."""
    rng = np.random.default_rng(rng)
    unit_degree = np.arange(hidden * dim) % dim + 1                            # (H,)
    mask_in = (unit_degree[None, :] >= np.arange(1, dim + 1)[:, None] + 1)     # (D, H)
    mask_out = (np.arange(1, dim + 1)[None, :] >= unit_degree[:, None])        # (H, D)
    weight_in = rng.normal(size=(dim, hidden * dim)) * mask_in
    bias_in = rng.normal(size=hidden * dim) * 0.5
    weight_mu = rng.normal(size=(hidden * dim, dim)) * mask_out / np.sqrt(hidden)
    weight_s = rng.normal(size=(hidden * dim, dim)) * mask_out / np.sqrt(hidden)
    bias_mu, bias_s = rng.normal(size=dim), rng.normal(size=dim) * 0.5

    def conditioner(z):
        h = np.tanh(z @ weight_in + bias_in)                                   # (N, H)
        return h @ weight_mu + bias_mu, scale * np.tanh(h @ weight_s + bias_s)
    return conditioner


def iaf_inverse(z, conditioner):
    """Sampling direction z -> x in one pass -> ``(x (N, D), log|det ∂f^{-1}/∂z| (N,))``."""
    ### BEGIN SOLUTION
    ### TODO slide "IAF": mu, s = conditioner(z); x = z * exp(s) + mu; log_det = +sum_d s_d
    mu, log_scale = conditioner(z)                                # (N, D), (N, D)
    return z * np.exp(log_scale) + mu, log_scale.sum(axis=1)
    ### END SOLUTION


def iaf_forward(x, conditioner):
    """Density direction x -> z, sequentially (D passes) -> ``(z (N, D), log|det ∂f/∂x| (N,))``."""
    ### BEGIN SOLUTION
    ### TODO slide "IAF": z = 0; for d in range(D): mu, s = conditioner(z)
    ### TODO z[:, d] = (x[:, d] - mu[:, d]) * exp(-s[:, d]); log_det = -sum_d s_d
    z = np.zeros_like(x)                                          # (N, D)
    log_scale = np.zeros_like(x)
    for d in range(x.shape[1]):                                   # sequential by construction
        mu, log_scale = conditioner(z)                            # (N, D): column d is final now
        z[:, d] = (x[:, d] - mu[:, d]) * np.exp(-log_scale[:, d])
    return z, -log_scale.sum(axis=1)
    ### END SOLUTION


def iaf_log_prob(x, conditioner):
    """log p_x(x) = log N(z; 0, I) + log|det ∂f/∂x| -> (N,)."""
    ### BEGIN SOLUTION
    ### TODO slide "Теорема о замене переменных": z, log_det = iaf_forward(x);
    ### TODO log p_x = -(D/2) log 2pi - |z|^2/2 + log_det
    z, log_det = iaf_forward(x, conditioner)                      # (N, D), (N,)
    return -0.5 * (z.shape[1] * LOG_2PI + np.sum(z * z, axis=1)) + log_det
    ### END SOLUTION


def iaf_sample(n, conditioner, dim, rng=None):
    """Generation algorithm (given): z ~ N(0, I), x = f^{-1}(z) in one pass -> (n, dim)."""
    z = np.random.default_rng(rng).standard_normal((n, dim))     # (n, D)
    return iaf_inverse(z, conditioner)[0]
