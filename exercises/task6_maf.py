"""Task 6 — Masked Autoregressive Flow: density in one pass, sampling in D passes (slide "Masked
Autoregressive Flow, MAF", arXiv 1705.07057).

The slide's map, x -> z::

    z_d = (x_d − μ_d(x_{1:d−1})) ⊙ exp(−s_d(x_{1:d−1})),     log|det ∂f/∂x| = −Σ_d s_d(x_{1:d−1}).

A *conditioner* computes every μ_d and s_d at once: ``mu, log_scale = conditioner(x)``, both (N, D),
with column d depending on x_{1:d−1} only (a MADE network; here a given small one, see
:func:`make_conditioner`). So the density needs one pass:

    log p_x(x) = log N(z; 0, I) + log|det ∂f/∂x|,   log N(z; 0, I) = −(D/2) log 2π − ½‖z‖².

Sampling inverts the map, one dimension at a time (slide: "x_d = z_d exp(s_d(x_{1:d−1})) +
μ_d(x_{1:d−1})"): start from x = 0, and for d = 1..D run the conditioner on the current x and fill
column d. That is D passes; ``log|det ∂f^{-1}/∂z| = +Σ_d s_d``.

You write ``maf_forward(x, conditioner) -> (z, log_det)``, ``maf_log_prob(x, conditioner) -> (N,)``
and ``maf_inverse(z, conditioner) -> (x, log_det)``; shapes x, z (N, D), log_det (N,). A Python loop
over the D dimensions is right in ``maf_inverse``; no loop over samples anywhere.

What the public tests check (``python -m pytest tests/test_task6_maf.py``): ``maf_inverse``
undoes ``maf_forward``; the log-det matches the numerical Jacobian
(:func:`scratchflow.checks.numerical_log_abs_det`); the density integrates to about 1 in 2-D.

Not allowed in this file: ``scratchflow.bijectors.autoregressive`` (MAF, IAF) and ``scratchflow.flow``.
"""
import numpy as np

LOG_2PI = float(np.log(2.0 * np.pi))


def make_conditioner(dim, rng=0, hidden=8, scale=0.5):
    """A small autoregressive conditioner (given): ``x`` (N, D) -> ``(mu, log_scale)``, each (N, D).

    ``h = tanh(x @ (A ⊙ U) + a)`` and ``mu = h @ (B ⊙ L) + b``, ``log_scale = scale · tanh(h @ (C ⊙ L)
    + c)``, where U and L are masks that keep column d of the outputs a function of x_{1:d−1} only.
    """
    rng = np.random.default_rng(rng)
    unit_degree = np.arange(hidden * dim) % dim + 1                            # (H,) in 1..D
    mask_in = (unit_degree[None, :] >= np.arange(1, dim + 1)[:, None] + 1)     # (D, H): unit sees x_i, i < degree
    mask_out = (np.arange(1, dim + 1)[None, :] >= unit_degree[:, None])        # (H, D): output d reads degree <= d
    weight_in = rng.normal(size=(dim, hidden * dim)) * mask_in                 # (D, H)
    bias_in = rng.normal(size=hidden * dim) * 0.5
    weight_mu = rng.normal(size=(hidden * dim, dim)) * mask_out / np.sqrt(hidden)
    weight_s = rng.normal(size=(hidden * dim, dim)) * mask_out / np.sqrt(hidden)
    bias_mu, bias_s = rng.normal(size=dim), rng.normal(size=dim) * 0.5

    def conditioner(x):
        h = np.tanh(x @ weight_in + bias_in)                                   # (N, H)
        return h @ weight_mu + bias_mu, scale * np.tanh(h @ weight_s + bias_s)
    return conditioner


def maf_forward(x, conditioner):
    """x -> z in one pass: ``z = (x − μ(x)) ⊙ exp(−s(x))``, ``log_det = −Σ_d s_d`` -> ((N, D), (N,))."""
    # TODO slide "MAF": mu, s = conditioner(x); z = (x - mu) * exp(-s); log|det| = -sum_d s_d
    raise NotImplementedError('Task 6. MAF: density in one pass, sequential sampling: maf_forward is not written yet (see the TODO above)')


def maf_log_prob(x, conditioner):
    """log p_x(x) = log N(z; 0, I) + log|det ∂f/∂x| with z = f(x) -> (N,)."""
    # TODO slide "Теорема о замене переменных": log p_x = -(D/2) log 2pi - |z|^2 / 2 + log_det
    raise NotImplementedError('Task 6. MAF: density in one pass, sequential sampling: maf_log_prob is not written yet (see the TODO above)')


def maf_inverse(z, conditioner):
    """z -> x sequentially (D passes): ``x_d = z_d exp(s_d(x_{1:d−1})) + μ_d(x_{1:d−1})``.

    Returns ``(x (N, D), log_det (N,))`` with ``log_det = log|det ∂f^{-1}/∂z| = Σ_d s_d``.
    """
    # TODO slide "MAF" inverse: x = 0; for d in range(D): mu, s = conditioner(x)
    # TODO x[:, d] = z[:, d] * exp(s[:, d]) + mu[:, d]
    raise NotImplementedError('Task 6. MAF: density in one pass, sequential sampling: maf_inverse is not written yet (see the TODO above)')


def maf_sample(n, conditioner, dim, rng=None):
    """Generation algorithm (given): z ~ N(0, I), x = f^{-1}(z) -> (n, dim)."""
    z = np.random.default_rng(rng).standard_normal((n, dim))     # (n, D)
    return maf_inverse(z, conditioner)[0]
