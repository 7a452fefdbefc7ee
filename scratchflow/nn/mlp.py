"""MLP: a stack of Linear layers and activations, with backward running the stack in reverse.

``MLP([d_in, h, h, d_out])`` is Linear(d_in, h) -> act -> Linear(h, h) -> act -> Linear(h, d_out).
Children are named by position, so parameters read ``"0.weight"``, ``"2.bias"``, ``"4.weight"``.
"""
import numpy as np

from scratchflow.nn.activations import ACTIVATIONS
from scratchflow.nn.linear import Linear
from scratchflow.nn.module import Module
from scratchflow.validation import check_array, check_dtype, check_gradient, check_sizes


class MLP(Module):
    """Multi-layer perceptron with manual backprop.

    Parameters
    ----------
    sizes : sequence of int
        ``[in_features, hidden_1, ..., out_features]`` (at least two entries).
    activation : {"tanh", "relu", "softplus", "silu"}
        Activation after every Linear layer but the last.
    rng : numpy.random.Generator, optional
        Initial weights (LeCun normal, see :class:`Linear`).
    zero_last : bool
        Zero the last layer's weight and bias, so the network outputs 0 at the start. A coupling
        layer whose s and t start at 0 is the identity map.
    dtype : float64 (default) or float32
    """

    def __init__(self, sizes, activation="tanh", rng=None, zero_last=False, dtype=np.float64):
        super().__init__()
        sizes = list(check_sizes(sizes, "sizes"))
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size >= 1, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.sizes, self.activation = sizes, activation
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng(rng)              # a seed or a Generator (used as it is)
        self.layers = []
        n_linear = len(sizes) - 1
        for i in range(n_linear):
            last = i == n_linear - 1
            self.layers.append(Linear(sizes[i], sizes[i + 1], rng=rng, zero=last and zero_last,
                                      dtype=self.dtype))
            if not last:
                self.layers.append(ACTIVATIONS[activation]())
        for position, layer in enumerate(self.layers):
            self.add_child(str(position), layer)
        self._forward_n = None      # batch size of the latest forward, for backward's checks

    def forward(self, x):
        """x (N, sizes[0]) -> output (N, sizes[-1]). Checks x once, then runs the layers."""
        x = check_array(x, "x", dim=self.sizes[0], dtype=self.dtype)     # (N, sizes[0])
        for layer in self.layers:
            x = layer._forward(x)
        self._forward_n = x.shape[0]
        return x

    def backward(self, grad_out):
        """dL/doutput (N, sizes[-1]) -> dL/dx (N, sizes[0]); fills every layer's ``grads``."""
        if self._forward_n is None:
            raise RuntimeError("MLP.backward() called before MLP.forward()")
        grad_out = check_gradient(grad_out, "grad_out", self._forward_n, self.sizes[-1], self.dtype)
        for layer in reversed(self.layers):
            grad_out = layer._backward(grad_out)
        return grad_out

    # ------------------------------------------------------------------ internal fast path
    def _forward_trace(self, x):
        """Unchecked forward for callers that checked ``x`` already (flow layers, in their inner loop).

        Same maths as :meth:`forward`, but what the backward needs is returned as ``trace`` (the
        input of every Linear layer and what every activation saved) instead of being kept on the
        layers, so the caller can hold two traces of one network (a coupling layer's forward and
        inverse passes). Returns ``(output (N, sizes[-1]), trace)``.
        """
        trace = []
        for layer in self.layers:
            if isinstance(layer, Linear):
                trace.append(x)                                         # (N, in)
                out = np.dot(x, layer.weight)      # (N, out); np.dot: BLAS even when in = 1
                out += layer.bias
                x = out
            else:
                x, saved = layer._forward_fast(x)
                trace.append(saved)
        return x, trace

    def _backward_trace(self, trace, grad_out, need_input_grad=True):
        """Unchecked gradient pass of the :meth:`_forward_trace` call that returned ``trace``.

        Adds dL/dW and dL/db into ``grads`` and returns dL/dx (N, sizes[0]), or ``None`` when
        ``need_input_grad`` is False (saves the first layer's ``g @ W.T``).
        """
        last = len(self.layers) - 1
        ones = np.ones(grad_out.shape[0], dtype=grad_out.dtype)         # (N,) row sums by BLAS
        for position in range(last, -1, -1):
            layer, saved = self.layers[position], trace[position]
            if isinstance(layer, Linear):
                grads = layer._own_grads
                grads["weight"] += saved.T @ grad_out                   # (in, out)
                grads["bias"] += ones @ grad_out                        # (out,) = Σ_n g_n
                if position == 0 and not need_input_grad:
                    return None
                grad_out = grad_out @ layer.weight.T                    # (N, in)
            else:
                grad_out = layer._backward_fast(saved, grad_out)        # (N, H)
        return grad_out
