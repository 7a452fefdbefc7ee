"""Small neural networks with hand-written backward passes (no autograd anywhere).

Every module has ``forward(x)``, which keeps what its backward needs, and ``backward(grad_out)``,
which returns the gradient for its input and adds parameter gradients into ``grads``.
"""
from scratchflow.nn.activations import ReLU, SiLU, Softplus, Tanh
from scratchflow.nn.linear import Linear, MaskedLinear
from scratchflow.nn.made import MADE
from scratchflow.nn.made_outputs import MADEOutputs
from scratchflow.nn.mlp import MLP
from scratchflow.nn.module import Cache, Module

__all__ = ["Module", "Cache", "Linear", "MaskedLinear", "Tanh", "ReLU", "Softplus", "SiLU", "MLP",
           "MADE", "MADEOutputs"]
