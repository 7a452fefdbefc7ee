"""Element-wise activations, each one forward/backward pair with its derivative right under it.

============  ===========================  ==========================================
name          phi(x)                       phi'(x), written with what forward kept
============  ===========================  ==========================================
# >>> task mlp_backward
# --- student
Tanh          tanh(x)                      task mlp_backward: derive it, written with y = tanh x
# <<< task mlp_backward
ReLU          max(x, 0)                    1 where x > 0, else 0
Softplus      log(1 + exp(x))              sigmoid(x)
SiLU          x * sigmoid(x)               sigmoid(x) * (1 + x * (1 - sigmoid(x)))
============  ===========================  ==========================================

Softplus and SiLU are smooth and do not saturate for large positive x.

Each activation writes its maths once, as the unchecked pair ``_forward(x) -> (y, cache)`` and
``_backward(cache, grad_out) -> dL/dx`` (``backward(g) = g * phi'(x)``). The pair returns its
:class:`~scratchflow.nn.module.Cache` instead of keeping it, so that a network (MLP, MADE) can hold
the caches of two passes at once; the public ``forward`` / ``backward`` of :class:`_Activation`
check their input and keep the cache on the module. ``Tanh._forward`` overwrites its input (a fresh
pre-activation inside a network) to save an allocation, so the public ``forward`` passes a copy.
"""
import numpy as np

from scratchflow.nn.module import Cache, Module
from scratchflow.input_checks import check_array, check_gradient


def sigmoid(x):
    """1 / (1 + exp(-x)), element-wise, written so that no exp overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class _Activation(Module):
    """No parameters; the checked ``forward`` / ``backward`` around the subclass's pair."""

    def __init__(self):
        super().__init__()
        self._forward_cache = None

    def forward(self, x):
        """phi(x), element-wise, for x (N, H) -> (N, H)."""
        x = check_array(x, "x").copy()                               # (N, H) _forward may overwrite
        y, cache = self._forward(x)
        self._forward_cache = Cache(inner=cache, shape=x.shape, dtype=x.dtype)
        return y.copy()                                               # the cache may hold y

    def backward(self, grad_out):
        """dL/dy (N, H) -> dL/dx (N, H) through the latest forward."""
        cache = self._read_cache("forward")
        n, width = cache.shape
        return self._backward(cache.inner, check_gradient(grad_out, "grad_out", n, width,
                                                          cache.dtype))


class Tanh(_Activation):
    """y = tanh(x).

    # >>> task mlp_backward
    # --- student
    Task mlp_backward: ``_backward`` returns g ⊙ dy/dx, with dy/dx written with the output
    ``cache.y`` forward kept (no second tanh).
    # <<< task mlp_backward
    """

    def _forward(self, x):
        y = np.tanh(x, out=x)                    # (N, H), in place: x is a fresh pre-activation
        return y, Cache(y=y)

    def _backward(self, cache, grad_out):
        # >>> task mlp_backward
        raise NotImplementedError('task mlp_backward (slide «Алгоритм обучения / Training algorithm (the gradient through the networks s and t)»): Tanh._backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task mlp_backward


class ReLU(_Activation):
    """y = max(x, 0); dy/dx = 1[x > 0]."""

    def _forward(self, x):
        positive = x > 0                         # (N, H) bool
        return np.where(positive, x, 0.0), Cache(positive=positive)

    def _backward(self, cache, grad_out):
        return np.where(cache.positive, grad_out, 0.0)                # (N, H)


class Softplus(_Activation):
    """y = log(1 + e^x) (computed as max(x, 0) + log1p(e^-|x|)); dy/dx = sigmoid(x)."""

    def _forward(self, x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), Cache(x=x)

    def _backward(self, cache, grad_out):
        return grad_out * sigmoid(cache.x)                            # (N, H)


class SiLU(_Activation):
    """y = x * sigmoid(x) (a.k.a. swish); dy/dx = sigma + x * sigma * (1 - sigma)."""

    def _forward(self, x):
        sigma = sigmoid(x)                       # (N, H)
        return x * sigma, Cache(x=x, sigma=sigma)

    def _backward(self, cache, grad_out):
        sigma = cache.sigma                      # (N, H)
        return grad_out * sigma * (1.0 + cache.x * (1.0 - sigma))


ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "softplus": Softplus, "silu": SiLU}


def activation_class(name):
    """The activation class of that name, or a ``ValueError`` listing the names."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
