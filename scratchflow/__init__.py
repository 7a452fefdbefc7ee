"""scratchflow: normalizing flows from scratch in NumPy, following the lecture "Normalizing flows".

A flow f maps data x to latent z; ``log p_x(x) = log p_z(f(x)) + log|det ∂f/∂x|``; sampling runs
``x = f^{-1}(z)``. Every layer has an exact log-determinant and hand-written gradient passes, and
:mod:`scratchflow.checks` verifies them numerically.
"""
from scratchflow.bijectors import Bijector, Compose, ElementwiseAffine, Example2Map, example1_bijector
from scratchflow.checks import CheckReport, check_bijector, check_module
from scratchflow.distributions import StandardNormal
from scratchflow.flow import Flow

__version__ = "0.1.0"

__all__ = ["Bijector", "Compose", "ElementwiseAffine", "Example2Map", "example1_bijector",
           "StandardNormal", "Flow", "check_bijector", "check_module", "CheckReport"]
