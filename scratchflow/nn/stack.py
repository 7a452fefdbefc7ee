"""LayerStack: Linear (or MaskedLinear) layers with an activation between them, run in order.

The one place that builds a network's layer list and checks the activation's name; MLP and MADE
are LayerStacks. ``sizes = [d_in, h, h, d_out]`` gives Linear(d_in, h) -> act -> Linear(h, h) ->
act -> Linear(h, d_out). Children are named by position, so parameters read ``"0.weight"``,
``"2.bias"``, ``"4.weight"``.

The unchecked pass ``_forward(x) -> (out, cache)`` calls every layer's ``_forward`` and returns
their caches as one :class:`~scratchflow.nn.module.Cache` (the trace) instead of keeping them, so a
flow layer can hold two traces of one network at once (its forward and its inverse pass) and hand
the right one to ``_backward(cache, grad_out)``, which runs the layers' ``_backward`` in reverse.
"""
import numpy as np

from scratchflow.nn.activations import activation_class
from scratchflow.nn.linear import Linear, MaskedLinear
from scratchflow.nn.module import Cache, Module
from scratchflow.input_checks import check_dtype


class LayerStack(Module):
    """Linear layers (masked if ``masks`` is given) with ``activation`` between them.

    Parameters
    ----------
    sizes : list of int
        ``[in_features, hidden_1, ..., out_features]``, checked by the caller.
    activation : {"tanh", "relu", "softplus", "silu"}
    rng : numpy.random.Generator or int, optional
    zero_last : bool
        Zero the last layer's weight and bias.
    dtype : float64 or float32
    masks : list of (in, out) 0/1 arrays, optional
        One per Linear layer; makes every layer a MaskedLinear.
    """

    def __init__(self, sizes, activation, rng, zero_last, dtype, masks=None):
        super().__init__()
        self.dtype = check_dtype(dtype)
        make_activation = activation_class(activation)   # checked even when no layer uses it
        rng = np.random.default_rng(rng)              # a seed or a Generator (used as it is)
        n_linear = len(sizes) - 1
        self.layers = []
        for i in range(n_linear):
            last = i == n_linear - 1
            zero = last and zero_last
            if masks is None:
                layer = Linear(sizes[i], sizes[i + 1], rng=rng, zero=zero, dtype=self.dtype)
            else:
                layer = MaskedLinear(sizes[i], sizes[i + 1], masks[i], rng=rng, zero=zero,
                                     dtype=self.dtype)
            self.layers.append(layer)
            if not last:
                self.layers.append(make_activation())
        for position, layer in enumerate(self.layers):
            self.add_child(str(position), layer)
        self._forward_cache = None

    def _forward(self, x):
        """Unchecked: x (N, sizes[0]) -> (output (N, sizes[-1]), trace)."""
        caches = []
        for layer in self.layers:
            x, cache = layer._forward(x)
            caches.append(cache)
        return x, Cache(layers=caches, n=caches[0].x.shape[0])

    def _backward(self, cache, grad_out, need_input_grad=True):
        """Unchecked gradient pass of the ``_forward`` that returned ``cache``.

        Adds every parameter's gradient into ``grads``; returns dL/dx (N, sizes[0]), or ``None``
        when ``need_input_grad`` is False (saves the first layer's ``g @ W.T``).
        """
        for position in range(len(self.layers) - 1, 0, -1):
            grad_out = self.layers[position]._backward(cache.layers[position], grad_out)
        return self.layers[0]._backward(cache.layers[0], grad_out, need_input_grad)

    def _input_gradient(self, cache, grad_out):
        """dL/dx of the ``_forward`` that returned ``cache``, leaving ``grads`` untouched."""
        for layer, layer_cache in zip(reversed(self.layers), reversed(cache.layers)):
            if isinstance(layer, Linear):
                grad_out = layer._input_gradient(layer_cache, grad_out)   # (N, in)
            else:
                grad_out = layer._backward(layer_cache, grad_out)         # activation: no params
        return grad_out
