"""Shared Hypothesis strategies and test targets (one place; the test files import from here)."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

SEEDS = st.integers(0, 2**32 - 1)


def bounded_floats(low=-2.0, high=2.0):
    """Finite floats in [low, high]."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def batches(n, dim, low=-2.0, high=2.0):
    """A float64 (n, dim) batch of bounded finite entries (n, dim ints or strategies)."""
    return arrays(np.float64, (n, dim), elements=bounded_floats(low, high))


@st.composite
def layer_and_batch(draw, case):
    """(layer, x, seed) for a registry case: a drawn dimension, parameter seed and batch."""
    dim = draw(st.integers(*case.dims))
    n = draw(st.integers(case.min_rows, 5))
    seed = draw(SEEDS)
    x = draw(batches(n, dim))
    if case.to_domain is not None:
        x = case.to_domain(x)
    return case.factory(dim, np.random.default_rng(seed)), x, seed


class GaussianTarget:
    """A target for reverse-KL tests: p*(x) = N(mean, diag(std²)), normalised, so that
    KL(q ‖ p*) → 0 at the optimum; the ``log_prob`` / ``grad_log_prob`` interface of
    :mod:`scratchflow.targets`."""

    def __init__(self, mean, std=1.0):
        self.mean = np.asarray(mean, dtype=float)                      # (D,)
        self.std = np.broadcast_to(np.asarray(std, dtype=float), self.mean.shape)   # (D,)
        self.dim = len(self.mean)

    def log_prob(self, x):
        u = (x - self.mean) / self.std                                 # (N, D)
        return -0.5 * np.sum(u * u + np.log(2 * np.pi * self.std**2), axis=1)   # (N,)

    def grad_log_prob(self, x):
        return -(x - self.mean) / self.std**2                          # (N, D)


class MisshapenTarget(GaussianTarget):
    """N(0, I) as a reverse-KL target, whose ``log_prob`` or ``grad_log_prob`` can be made to return
    zeros of a wrong shape (``log_prob_shape``, ``grad_shape``), to test the checks on a target."""

    def __init__(self, dim=2, log_prob_shape=None, grad_shape=None):
        super().__init__(np.zeros(dim))
        self.log_prob_shape, self.grad_shape = log_prob_shape, grad_shape

    def log_prob(self, x):
        return super().log_prob(x) if self.log_prob_shape is None else np.zeros(self.log_prob_shape)

    def grad_log_prob(self, x):
        return super().grad_log_prob(x) if self.grad_shape is None else np.zeros(self.grad_shape)

