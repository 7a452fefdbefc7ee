"""Base densities p_z for the latent space.

The lecture fixes ``p_z = N(0, I)``: its log-density and gradient are

    log p_z(z) = −(D/2) log(2π) − ½ ‖z‖²,        ∇_z log p_z(z) = −z.
"""
import numpy as np

from scratchflow.input_checks import check_array, check_dtype, check_int

LOG_2PI = float(np.log(2.0 * np.pi))


class StandardNormal:
    """Standard normal N(0, I_D): ``log_prob``, ``grad_log_prob`` and seeded ``sample``."""

    def __init__(self, dim):
        self.dim = check_int(dim, "dimension", 1)

    def log_prob(self, z):
        """log p_z(z) for z (N, D) -> (N,)."""
        z = check_array(z, "z", dim=self.dim)
        return -0.5 * (self.dim * LOG_2PI + np.einsum("nd,nd->n", z, z))

    def grad_log_prob(self, z):
        """∇_z log p_z(z) = −z, shape (N, D)."""
        z = check_array(z, "z", dim=self.dim)
        return -z

    def sample(self, n, rng=None, dtype=np.float64):
        """n draws, shape (n, D). ``rng`` is a seed or a numpy Generator (reproducible)."""
        n, dtype = check_int(n, "n (the number of samples)", 0), check_dtype(dtype)
        rng = np.random.default_rng(rng)
        return rng.standard_normal((n, self.dim)).astype(dtype, copy=False)

    def __repr__(self):
        return f"StandardNormal(dim={self.dim})"
