"""Element-wise activations with their derivatives, each next to its forward.

Every activation keeps what its derivative needs, and ``backward(g) = g * phi'(x)``.

============  ===========================  ==========================================
name          phi(x)                       phi'(x), written with what forward kept
============  ===========================  ==========================================
Tanh          tanh(x)                      1 - y**2                  (y = tanh x)
ReLU          max(x, 0)                    1 where x > 0, else 0
Softplus      log(1 + exp(x))              sigmoid(x)
SiLU          x * sigmoid(x)               sigmoid(x) * (1 + x * (1 - sigmoid(x)))
============  ===========================  ==========================================

Softplus and SiLU are smooth and do not saturate for large positive x.

Each activation's maths is the pair ``_forward_fast(x) -> (y, saved)`` and
``_backward_fast(saved, g)``; see :class:`_Activation` for who keeps ``saved``.
``Tanh._forward_fast`` overwrites its input (a fresh pre-activation) to save an allocation.
"""
import numpy as np

from scratchflow.nn.module import Module
from scratchflow.validation import check_array, check_gradient


def _sigmoid(x):
    """1 / (1 + exp(-x)), written so that no exp overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class _Activation(Module):
    """Shared plumbing: no parameters; the public ``forward`` / ``backward`` check their input (a
    float (N, H) batch; a gradient of the output's shape) and call ``_forward`` / ``_backward``,
    which MLP and MADE call directly after checking their own input once.

    Each activation writes its maths once, as the pair ``_forward_fast(x) -> (y, saved)`` and
    ``_backward_fast(saved, g) -> dL/dx``. ``_forward`` keeps ``saved`` on the module;
    :meth:`MLP._forward_trace` keeps it itself, so one network can serve two passes (a coupling
    layer's forward and inverse) at once. ``_forward_fast`` may overwrite its input, a fresh
    pre-activation (tanh does, to save an allocation), so the public ``forward`` passes a copy.
    """

    def __init__(self):
        super().__init__()
        self._saved = self._shape = None      # what backward needs; forward's output shape

    def forward(self, x):
        """phi(x), element-wise, for x (N, H) -> (N, H)."""
        return self._forward(check_array(x, "x").copy())

    def backward(self, grad_out):
        """dL/dy (N, H) -> dL/dx (N, H) through the latest forward."""
        if self._shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        n, width = self._shape
        return self._backward(check_gradient(grad_out, "grad_out", n, width, self._dtype))

    def _forward(self, x):
        self._shape, self._dtype = x.shape, x.dtype
        y, self._saved = self._forward_fast(x)
        return y

    def _backward(self, grad_out):
        return self._backward_fast(self._saved, grad_out)


class Tanh(_Activation):
    """y = tanh(x); dy/dx = 1 - y^2 (uses the output kept by forward)."""

    @staticmethod
    def _forward_fast(x):
        y = np.tanh(x, out=x)                    # (N, H), in place: x is a fresh pre-activation
        return y, y

    @staticmethod
    def _backward_fast(saved, grad_out):
        local = saved * saved                    # (N, H) y^2
        np.subtract(1.0, local, out=local)       # 1 - y^2
        local *= grad_out
        return local


class ReLU(_Activation):
    """y = max(x, 0); dy/dx = 1[x > 0]."""

    @staticmethod
    def _forward_fast(x):
        positive = x > 0                         # (N, H) bool
        return np.where(positive, x, 0.0), positive

    @staticmethod
    def _backward_fast(saved, grad_out):
        return np.where(saved, grad_out, 0.0)


class Softplus(_Activation):
    """y = log(1 + e^x) (computed as max(x, 0) + log1p(e^-|x|)); dy/dx = sigmoid(x)."""

    @staticmethod
    def _forward_fast(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), x

    @staticmethod
    def _backward_fast(saved, grad_out):
        return grad_out * _sigmoid(saved)


class SiLU(_Activation):
    """y = x * sigmoid(x) (a.k.a. swish); dy/dx = sigma + x * sigma * (1 - sigma)."""

    @staticmethod
    def _forward_fast(x):
        sigma = _sigmoid(x)                      # (N, H)
        return x * sigma, (x, sigma)

    @staticmethod
    def _backward_fast(saved, grad_out):
        x, sigma = saved
        return grad_out * sigma * (1.0 + x * (1.0 - sigma))


ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "softplus": Softplus, "silu": SiLU}
