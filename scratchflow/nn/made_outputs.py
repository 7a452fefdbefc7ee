"""MADE with P outputs per dimension (for the spline autoregressive layer's 3K − 1 numbers).

:class:`~scratchflow.nn.MADE` outputs two numbers per dimension, μ_d and s_d, and its public
methods name them. A spline needs P = 3K − 1 of them, θ_d = (θ_d,1, ..., θ_d,P), each reading only
the inputs before d in the ordering. The degrees and masks are MADE's own
(:func:`~scratchflow.nn.made.made_degrees`, :func:`~scratchflow.nn.made.made_masks` with
``outputs_per_dim = P``): output (d, p) has the degree of input d, so the Jacobian ∂θ/∂x stays
strictly triangular in the ordering. Like MADE, this is a
:class:`~scratchflow.nn.stack.LayerStack`: the unchecked ``_forward`` / ``_backward`` /
``_input_gradient`` (on the flat (N, P·D) output, column p·D + d) are the stack's; this class adds
the checked public methods on θ shaped (N, D, P).
"""
import numpy as np

from scratchflow.nn.made import made_degrees, made_masks, make_order
from scratchflow.nn.stack import LayerStack
from scratchflow.input_checks import check_array, check_gradient, check_int, check_sizes


class MADEOutputs(LayerStack):
    """Masked MLP x (N, D) -> θ (N, D, P), θ[:, d, :] autoregressive in ``order``.

    Parameters
    ----------
    dim : int
        D.
    outputs : int
        P, numbers per dimension.
    hidden, order, activation, rng, zero_last, dtype, context_dim
        As in :class:`~scratchflow.nn.MADE` (a context c (N, C) enters beside x, degree 0, so every
        θ_d may read it; the unchecked passes then take and return [x, c], (N, D + C)).
    """

    def __init__(self, dim, outputs, hidden=(64, 64), order="natural", activation="tanh", rng=None,
                 zero_last=False, dtype=np.float64, context_dim=0):
        dim, outputs = check_int(dim, "dim", 1), check_int(outputs, "outputs", 1)
        hidden = check_sizes(hidden, "hidden")
        rng = np.random.default_rng(rng)
        context_dim = check_int(context_dim, "context_dim", 0)
        order = make_order(order, dim, rng)                           # (D,)
        degrees = made_degrees(order, hidden, rng, context=context_dim > 0)
        masks = made_masks(degrees, outputs)                          # last (H_last, P·D)
        if context_dim:                                               # degree 0: reaches every unit
            masks[0] = np.vstack([masks[0], np.ones((context_dim, masks[0].shape[1]))])   # (D + C, H1)
        super().__init__((dim + context_dim,) + hidden + (outputs * dim,), activation, rng,
                         zero_last, dtype, masks)
        self.context_dim = context_dim
        self.dim, self.outputs, self.hidden, self.activation = dim, outputs, hidden, activation
        self.order = order

    def split(self, out):
        """The flat output (N, P·D) as θ (N, D, P): column p·D + d is θ[:, d, p]."""
        return out.reshape(-1, self.outputs, self.dim).transpose(0, 2, 1)   # (N, D, P)

    def flatten(self, grad_params):
        """dL/dθ (N, D, P) as the flat output's gradient (N, P·D), the inverse of :meth:`split`."""
        return grad_params.transpose(0, 2, 1).reshape(grad_params.shape[0], -1)   # (N, P·D)

    def forward(self, x):
        """x (N, D) -> θ (N, D, P); θ[:, d, :] reads the inputs before d in the ordering only."""
        x = check_array(x, "x", dim=self.dim, dtype=self.dtype)
        out, self._forward_cache = self._forward(x)                   # (N, P·D)
        return self.split(out)

    def _checked_gradient(self, grad_params, method):
        """The latest forward's cache and dL/dθ checked against it, flat (N, P·D)."""
        cache = self._read_cache("forward", method)
        grad_params = np.asarray(grad_params)
        if grad_params.shape != (cache.n, self.dim, self.outputs):
            raise ValueError(f"grad_params must have shape {(cache.n, self.dim, self.outputs)} "
                             f"(N, D, P) like the latest forward's output, got {grad_params.shape}")
        return cache, check_gradient(self.flatten(grad_params), "grad_params", cache.n,
                                     self.dim * self.outputs, self.dtype)   # (N, P·D)

    def backward(self, grad_params):
        """dL/dθ (N, D, P) -> dL/dx (N, D); adds the parameters' gradients into ``grads``."""
        cache, grad = self._checked_gradient(grad_params, "backward")
        return self._backward(cache, grad)                            # (N, D)

    def input_gradient(self, grad_params):
        """dL/dx (N, D) for the latest forward, leaving ``grads`` untouched."""
        cache, grad = self._checked_gradient(grad_params, "input_gradient")
        return self._input_gradient(cache, grad)                      # (N, D)

    def __repr__(self):
        return (f"MADEOutputs(dim={self.dim}, outputs={self.outputs}, hidden={self.hidden}, "
                f"order={self.order.tolist()})")
