"""MLP: a stack of Linear layers and activations, with backward running the stack in reverse.

``MLP([d_in, h, h, d_out])`` is Linear(d_in, h) -> act -> Linear(h, h) -> act -> Linear(h, d_out).
Children are named by position, so parameters read ``"0.weight"``, ``"2.bias"``, ``"4.weight"``.
The layers and the passes are :class:`~scratchflow.nn.stack.LayerStack`'s; this class adds the
checked public ``forward`` / ``backward``.
"""
import numpy as np

from scratchflow.nn.stack import LayerStack
from scratchflow.validation import check_array, check_gradient, check_sizes


class MLP(LayerStack):
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
        sizes = list(check_sizes(sizes, "sizes"))
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size >= 1, got {sizes}")
        super().__init__(sizes, activation, rng, zero_last, dtype)
        self.sizes, self.activation = sizes, activation

    def forward(self, x):
        """x (N, sizes[0]) -> output (N, sizes[-1]). Checks x once, then runs the layers."""
        x = check_array(x, "x", dim=self.sizes[0], dtype=self.dtype).copy()   # (N, sizes[0]) ours
        out, self._forward_cache = self._forward(x)
        return out

    def backward(self, grad_out):
        """dL/doutput (N, sizes[-1]) -> dL/dx (N, sizes[0]); fills every layer's ``grads``."""
        cache = self._read_cache("forward")
        grad_out = check_gradient(grad_out, "grad_out", cache.n, self.sizes[-1], self.dtype)
        return self._backward(cache, grad_out)
