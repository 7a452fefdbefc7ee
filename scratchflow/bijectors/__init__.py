"""Flow layers: invertible maps x -> z with exact log|det J| and hand-written gradient passes.

See :mod:`scratchflow.bijectors.base` for the contract every layer follows.
"""
from scratchflow.bijectors.actnorm import ActNorm
from scratchflow.bijectors.autoregressive import IAF, MAF
from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.batchnorm import BatchNorm, set_training
from scratchflow.bijectors.compose import Compose
from scratchflow.bijectors.coupling import AffineCoupling
from scratchflow.bijectors.elementwise import ElementwiseAffine
from scratchflow.bijectors.examples import Example2Map, example1_bijector
from scratchflow.bijectors.logit import Logit
from scratchflow.bijectors.permutation import Permutation
from scratchflow.bijectors.spline_autoregressive import SplineAutoregressive
from scratchflow.bijectors.spline_coupling import SplineCoupling
from scratchflow.bijectors.triangular import LowerTriangular

from scratchflow.bijectors.additive import AdditiveCoupling      # beyond the lecture
from scratchflow.bijectors.lu_linear import LULinear
from scratchflow.bijectors.planar import PlanarFlow
from scratchflow.bijectors.radial import RadialFlow

from scratchflow.bijectors.channel_actnorm import ChannelActNorm       # image layers
from scratchflow.bijectors.conv1x1 import InvertibleConv1x1
from scratchflow.bijectors.factor_out import FactorOut
from scratchflow.bijectors.image_masks import channel_mask, checkerboard_mask
from scratchflow.bijectors.pixelwise import Pixelwise
from scratchflow.bijectors.squeeze import Squeeze
from scratchflow.bijectors.whitening import Whitening              # tabular data: starts at N(μ, Σ)

__all__ = ["Bijector", "Compose", "ElementwiseAffine", "Example2Map", "example1_bijector",
           "BatchNorm", "set_training", "Logit",
           "AffineCoupling", "Permutation", "ActNorm", "MAF", "IAF", "LowerTriangular",
           "SplineCoupling", "SplineAutoregressive",
           "AdditiveCoupling", "LULinear", "PlanarFlow", "RadialFlow",
           "Squeeze", "checkerboard_mask", "channel_mask", "Pixelwise", "InvertibleConv1x1",
           "ChannelActNorm", "FactorOut", "Whitening"]
