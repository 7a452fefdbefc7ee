"""Linear and MaskedLinear layers with hand-written backward passes (cs231n-style pairs).

Row convention: a batch is ``x`` of shape (N, in_features) and ``y = x @ W + b``.

Backward (for an upstream gradient ``g = dL/dy`` of shape (N, out_features)):

    dL/dx = g @ W.T            (N, in)
    dL/dW = x.T @ g            (in, out)
    dL/db = sum over rows of g (out,)
"""
import numpy as np

from scratchflow.nn.module import Module
from scratchflow.validation import check_array, check_dtype, check_gradient, check_int


def _require(cached, layer, method="forward"):
    if cached is None:
        raise RuntimeError(f"{layer}.backward() called before {layer}.{method}(): "
                           "backward needs the input that forward keeps")
    return cached


def _check_features(in_features, out_features):
    return check_int(in_features, "in_features", 1), check_int(out_features, "out_features", 1)


class Linear(Module):
    """Affine map ``y = x @ W + b``.

    Parameters
    ----------
    in_features, out_features : int
    rng : numpy.random.Generator, optional
        Source of the initial weights (LeCun normal: ``W ~ N(0, 1/in_features)``, ``b = 0``), which
        keeps the activations of a tanh network at unit scale.
    zero : bool
        Start with ``W = 0`` and ``b = 0``. Used for the last layer of a flow's conditioner so that
        the flow layer starts as the identity.
    dtype : float64 (default) or float32
    """

    def __init__(self, in_features, out_features, rng=None, zero=False, dtype=np.float64):
        super().__init__()
        self.in_features, self.out_features = _check_features(in_features, out_features)
        self.dtype = check_dtype(dtype)
        if zero:
            weight = np.zeros((in_features, out_features))
        else:
            rng = np.random.default_rng(rng)          # a seed or a Generator (used as it is)
            weight = rng.standard_normal((in_features, out_features)) / np.sqrt(in_features)
        self.weight = self.add_param("weight", weight, self.dtype)               # (in, out)
        self.bias = self.add_param("bias", np.zeros(out_features), self.dtype)   # (out,)
        self._x = None

    def forward(self, x):
        """y = x @ W + b. ``x`` (N, in) -> ``y`` (N, out)."""
        return self._forward(check_array(x, "x", dim=self.in_features, dtype=self.dtype))

    def backward(self, grad_out):
        """dL/dy (N, out) -> dL/dx (N, in); adds dL/dW and dL/db into ``grads``."""
        x = _require(self._x, type(self).__name__)
        return self._backward(check_gradient(grad_out, "grad_out", x.shape[0], self.out_features,
                                             self.dtype))

    # unchecked pair, for MLP and MADE, which check their own input once
    def _forward(self, x):
        self._x = x                                                  # (N, in)
        return x @ self.weight + self.bias                           # (N, out)

    def _backward(self, grad_out):
        x = self._x                                                  # (N, in)
        self._own_grads["weight"] += x.T @ grad_out                  # (in, out)
        self._own_grads["bias"] += grad_out.sum(axis=0)              # (out,)
        return grad_out @ self.weight.T                              # (N, in)


class MaskedLinear(Module):
    """Linear layer with a fixed 0/1 mask on the weight: ``y = x @ (W * M) + b``.

    The mask ``M`` (in, out) is not a parameter: ``M[i, j] = 0`` cuts the connection from input i
    to output j for good (MADE builds its autoregressive masks this way). The gradient of a masked
    entry is always 0: ``dL/dW = (x.T @ g) * M``; ``dL/dx = g @ (W * M).T``.
    """

    def __init__(self, in_features, out_features, mask, rng=None, zero=False, dtype=np.float64):
        super().__init__()
        self.in_features, self.out_features = _check_features(in_features, out_features)
        self.dtype = check_dtype(dtype)
        mask = np.asarray(mask)
        if mask.shape != (self.in_features, self.out_features):
            raise ValueError(f"mask must have shape ({in_features}, {out_features}), got {mask.shape}")
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("mask must contain only 0 and 1")
        self.mask = mask.astype(self.dtype)                               # (in, out)
        if zero:
            weight = np.zeros((in_features, out_features))
        else:
            rng = np.random.default_rng(rng)          # a seed or a Generator (used as it is)
            fan_in = np.maximum(self.mask.sum(axis=0), 1.0)               # (out,) inputs per unit
            weight = rng.standard_normal((in_features, out_features)) / np.sqrt(fan_in)
        self.weight = self.add_param("weight", weight, self.dtype)       # (in, out)
        self.bias = self.add_param("bias", np.zeros(out_features), self.dtype)
        self._x = None
        self._masked_weight = None

    def forward(self, x):
        """y = x @ (W * M) + b. ``x`` (N, in) -> ``y`` (N, out)."""
        return self._forward(check_array(x, "x", dim=self.in_features, dtype=self.dtype))

    def backward(self, grad_out):
        """dL/dy (N, out) -> dL/dx (N, in); adds the masked dL/dW and dL/db into ``grads``."""
        x = _require(self._x, type(self).__name__)
        return self._backward(check_gradient(grad_out, "grad_out", x.shape[0], self.out_features,
                                             self.dtype))

    # unchecked pair, for MADE, which checks its own input once
    def _forward(self, x):
        self._x = x                                                     # (N, in)
        self._masked_weight = self.weight * self.mask                   # (in, out)
        return x @ self._masked_weight + self.bias                      # (N, out)

    def _backward(self, grad_out):
        x = self._x                                                     # (N, in)
        self._own_grads["weight"] += (x.T @ grad_out) * self.mask     # (in, out)
        self._own_grads["bias"] += grad_out.sum(axis=0)               # (out,)
        return self._input_gradient(grad_out)

    def _input_gradient(self, grad_out):
        """dL/dx = g @ (W * M).T with the masked weight forward used; ``grads`` untouched."""
        return grad_out @ self._masked_weight.T                        # (N, in)
