"""MADE with P outputs per dimension (for the spline autoregressive layer's 3K − 1 numbers).

:class:`~scratchflow.nn.MADE` outputs two numbers per dimension, μ_d and s_d. A spline needs
P = 3K − 1 of them, θ_d = (θ_d,1, ..., θ_d,P), each reading only the inputs before d in the
ordering. The degrees and masks are MADE's own (:func:`~scratchflow.nn.made.made_degrees`); the
output mask of one block of D outputs is repeated P times, so output (d, p) has the degree of
input d and the Jacobian ∂θ/∂x stays strictly triangular in the ordering.

(MADE itself could take the number of outputs per dimension as an argument; until it does, this
class keeps MADE's file untouched.)
"""
import numpy as np

from scratchflow.nn.activations import ACTIVATIONS
from scratchflow.nn.linear import MaskedLinear
from scratchflow.nn.made import made_degrees, made_masks, make_order
from scratchflow.nn.module import Module
from scratchflow.validation import check_array, check_dtype, check_int, check_sizes


class MADEOutputs(Module):
    """Masked MLP x (N, D) -> θ (N, D, P), θ[:, d, :] autoregressive in ``order``.

    Parameters
    ----------
    dim : int
        D.
    outputs : int
        P, numbers per dimension.
    hidden, order, activation, rng, zero_last, dtype
        As in :class:`~scratchflow.nn.MADE`.
    """

    def __init__(self, dim, outputs, hidden=(64, 64), order="natural", activation="tanh", rng=None,
                 zero_last=False, dtype=np.float64):
        super().__init__()
        self.dim, self.outputs = check_int(dim, "dim", 1), check_int(outputs, "outputs", 1)
        self.hidden = check_sizes(hidden, "hidden")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.activation, self.dtype = activation, check_dtype(dtype)
        rng = np.random.default_rng(rng)
        self.order = make_order(order, self.dim, rng)                 # (D,)
        masks = made_masks(made_degrees(self.order, self.hidden, rng))
        masks[-1] = np.tile(masks[-1][:, :self.dim], (1, self.outputs))   # (H_last, P·D)
        sizes = (self.dim,) + self.hidden + (self.outputs * self.dim,)
        self.layers = []
        for i, mask in enumerate(masks):
            last = i == len(masks) - 1
            self.layers.append(MaskedLinear(sizes[i], sizes[i + 1], mask, rng=rng,
                                            zero=last and zero_last, dtype=self.dtype))
            if not last:
                self.layers.append(ACTIVATIONS[activation]())
        for position, layer in enumerate(self.layers):
            self.add_child(str(position), layer)

    def forward(self, x):
        """x (N, D) -> θ (N, D, P); column block p of the last layer holds θ[:, :, p]."""
        out = check_array(x, "x", dim=self.dim, dtype=self.dtype)
        for layer in self.layers:
            out = layer._forward(out)                                 # (N, H_l), last (N, P·D)
        return out.reshape(-1, self.outputs, self.dim).transpose(0, 2, 1)   # (N, D, P)

    def _flat(self, grad_params):
        return grad_params.transpose(0, 2, 1).reshape(grad_params.shape[0], -1)   # (N, P·D)

    def backward(self, grad_params):
        """dL/dθ (N, D, P) -> dL/dx (N, D); adds the parameters' gradients into ``grads``."""
        grad = self._flat(grad_params)
        for layer in reversed(self.layers):
            grad = layer._backward(grad)
        return grad                                                   # (N, D)

    def input_gradient(self, grad_params):
        """dL/dx (N, D) for the latest forward, leaving ``grads`` untouched (the triangular solve)."""
        grad = self._flat(grad_params)
        for layer in reversed(self.layers):
            if isinstance(layer, MaskedLinear):
                grad = layer._input_gradient(grad)                    # (N, in)
            else:
                grad = layer._backward(grad)                          # activation: no parameters
        return grad                                                   # (N, D)

    def __repr__(self):
        return (f"MADEOutputs(dim={self.dim}, outputs={self.outputs}, hidden={self.hidden}, "
                f"order={self.order.tolist()})")
