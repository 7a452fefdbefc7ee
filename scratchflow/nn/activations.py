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

Each activation also has an unchecked pair ``_forward_fast(x) -> (y, saved)`` and
``_backward_fast(saved, g)`` for :meth:`MLP._forward_trace`: the caller keeps ``saved``, not the
module, so one network can serve two passes (a coupling layer's forward and inverse) at once.
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
    which MLP and MADE call directly after checking their own input once."""

    def forward(self, x):
        """phi(x), element-wise, for x (N, H) -> (N, H)."""
        return self._forward(check_array(x, "x"))

    def backward(self, grad_out):
        """dL/dy (N, H) -> dL/dx (N, H) through the latest forward."""
        if self._shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        n, width = self._shape
        return self._backward(check_gradient(grad_out, "grad_out", n, width, self._dtype))

    def _remember_shape(self, x):
        self._shape, self._dtype = x.shape, x.dtype


class Tanh(_Activation):
    """y = tanh(x); dy/dx = 1 - y^2 (uses the output kept by forward)."""

    def __init__(self):
        super().__init__()
        self._y = self._shape = None

    def _forward(self, x):
        self._remember_shape(x)
        self._y = np.tanh(x)                     # (N, H)
        return self._y

    def _backward(self, grad_out):
        y = self._y
        return grad_out * (1.0 - y * y)          # (N, H)

    # unchecked fast path for MLP._forward_trace: the caller keeps `saved` (here y), not the module
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

    def __init__(self):
        super().__init__()
        self._positive = self._shape = None

    def _forward(self, x):
        self._remember_shape(x)
        self._positive = x > 0                   # (N, H) bool
        return np.where(self._positive, x, 0.0)

    def _backward(self, grad_out):
        positive = self._positive
        return np.where(positive, grad_out, 0.0)

    @staticmethod
    def _forward_fast(x):
        positive = x > 0
        return np.where(positive, x, 0.0), positive

    @staticmethod
    def _backward_fast(saved, grad_out):
        return np.where(saved, grad_out, 0.0)


class Softplus(_Activation):
    """y = log(1 + e^x) (computed as max(x, 0) + log1p(e^-|x|)); dy/dx = sigmoid(x)."""

    def __init__(self):
        super().__init__()
        self._x = self._shape = None

    def _forward(self, x):
        self._remember_shape(x)
        self._x = x
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))

    def _backward(self, grad_out):
        x = self._x
        return grad_out * _sigmoid(x)

    @staticmethod
    def _forward_fast(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), x

    @staticmethod
    def _backward_fast(saved, grad_out):
        return grad_out * _sigmoid(saved)


class SiLU(_Activation):
    """y = x * sigmoid(x) (a.k.a. swish); dy/dx = sigma + x * sigma * (1 - sigma)."""

    def __init__(self):
        super().__init__()
        self._x = self._sigma = self._shape = None

    def _forward(self, x):
        self._remember_shape(x)
        self._x = x
        self._sigma = _sigmoid(x)
        return x * self._sigma

    def _backward(self, grad_out):
        x = self._x
        sigma = self._sigma
        return grad_out * sigma * (1.0 + x * (1.0 - sigma))

    @staticmethod
    def _forward_fast(x):
        sigma = _sigmoid(x)
        return x * sigma, (x, sigma)

    @staticmethod
    def _backward_fast(saved, grad_out):
        x, sigma = saved
        return grad_out * sigma * (1.0 + x * (1.0 - sigma))


ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "softplus": Softplus, "silu": SiLU}
