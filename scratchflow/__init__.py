"""scratchflow: normalizing flows from scratch in NumPy, following the lecture "Normalizing flows".

A flow f maps data x to latent z; ``log p_x(x) = log p_z(f(x)) + log|det ∂f/∂x|``; sampling runs
``x = f^{-1}(z)``. Every layer has an exact log-determinant and hand-written gradient passes, and
:mod:`scratchflow.checks` verifies them numerically.
"""
from scratchflow.bijectors import (IAF, MAF, ActNorm, AffineCoupling, BatchNorm, Bijector, Compose,
                                   ElementwiseAffine, Example2Map, Logit, Permutation,
                                   example1_bijector, set_training)
from scratchflow.checks import CheckReport, check_bijector, check_module
from scratchflow.distributions import StandardNormal
from scratchflow.flow import Flow

__version__ = "0.1.0"

__all__ = ["Bijector", "Compose", "ElementwiseAffine", "Example2Map", "example1_bijector",
           "AffineCoupling", "Permutation", "ActNorm", "MAF", "IAF", "BatchNorm", "set_training",
           "Logit", "StandardNormal", "Flow", "check_bijector", "check_module", "CheckReport"]
