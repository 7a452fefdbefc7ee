"""Linear and MaskedLinear layers with hand-written backward passes (cs231n-style pairs).

Row convention: a batch is ``x`` of shape (N, in_features) and ``y = x @ W + b``; a masked layer
uses ``W ⊙ M`` in place of ``W`` (M a fixed 0/1 array, not a parameter).

# >>> task mlp_backward
# --- student
Backward (task mlp_backward), for an upstream gradient ``g = dL/dy`` of shape (N, out_features):
derive dL/dx (N, in), dL/dW (in, out) and dL/db (out,) from y_nj = Σ_i x_ni W_ij + b_j, summing
over the batch where a parameter is shared by the rows. A masked layer uses W ⊙ M: a cut
connection (M = 0) must get gradient 0. Check with ``scratchflow.check_module(Linear(3, 2), x)``.
# <<< task mlp_backward

The maths is written once, as the unchecked pair ``_forward(x) -> (y, cache)`` and
``_backward(cache, grad_out) -> dL/dx``, which MLP and MADE call layer by layer; the public
``forward`` / ``backward`` check their input and keep the cache on the layer.

A masked layer multiplies by ``W ⊙ M``, made afresh in each forward pass and kept in the cache
for the backward; the parameter ``W`` itself is never written by a pass, so its masked entries
may hold anything and still cut their connections.
"""
import functools

import numpy as np

from scratchflow.nn.module import Cache, Module
from scratchflow.input_checks import check_array, check_dtype, check_gradient, check_int


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

    mask = None                          # (in, out) 0/1 for MaskedLinear; None: every connection

    def __init__(self, in_features, out_features, rng=None, zero=False, dtype=np.float64):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", 1)
        self.out_features = check_int(out_features, "out_features", 1)
        self.dtype = check_dtype(dtype)
        if zero:
            weight = np.zeros((in_features, out_features))
        else:
            rng = np.random.default_rng(rng)          # a seed or a Generator (used as it is)
            weight = rng.standard_normal((in_features, out_features)) / np.sqrt(self._fan_in())
        if self.mask is not None:
            weight = weight * self.mask                                # (in, out) cut entries 0
        self.weight = self.add_param("weight", weight, self.dtype)               # (in, out)
        self.bias = self.add_param("bias", np.zeros(out_features), self.dtype)   # (out,)
        self._forward_cache = None

    def _fan_in(self):
        """Inputs per output unit, for the initial scale: in_features (a mask may cut some)."""
        return self.in_features

    def forward(self, x):
        """y = x @ W + b. ``x`` (N, in) -> ``y`` (N, out)."""
        y, self._forward_cache = self._forward(check_array(x, "x", dim=self.in_features,
                                                           dtype=self.dtype).copy())   # cache owns x
        return y

    def backward(self, grad_out):
        """dL/dy (N, out) -> dL/dx (N, in); adds dL/dW and dL/db into ``grads``."""
        cache = self._read_cache("forward")
        grad_out = check_gradient(grad_out, "grad_out", cache.x.shape[0], self.out_features,
                                  self.dtype)
        return self._backward(cache, grad_out)

    # ---------------------------------------------------------------- the maths, unchecked
    def _forward(self, x):
        weight = self.weight if self.mask is None else self.weight * self.mask   # (in, out) W ⊙ M
        y = np.dot(x, weight)                        # (N, out); np.dot: BLAS even when in = 1
        y += self.bias
        return y, Cache(x=x, weight=weight)          # references, not copies

    def _backward(self, cache, grad_out, need_input_grad=True):
        """Adds dL/dW, dL/db into ``grads``; returns dL/dx (N, in), or None if not needed.

        Task mlp_backward: define ``grad_weight`` (in, out) and ``grad_bias`` (out,) from
        ``cache.x`` (N, in) and ``grad_out`` (N, out); the lines after the region add them.
        ``ones`` (N,) is there if you want a sum over rows as a product.
        """
        ones = _row_ones(grad_out.shape[0], grad_out.dtype)          # (N,) for a row sum by BLAS
        # >>> task mlp_backward
        raise NotImplementedError('task mlp_backward (slide «Алгоритм обучения / Training algorithm (the gradient through the networks s and t)»): Linear._backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task mlp_backward
        self._own_grads["weight"] += grad_weight                     # gradients add up
        self._own_grads["bias"] += grad_bias
        return self._input_gradient(cache, grad_out) if need_input_grad else None

    def _input_gradient(self, cache, grad_out):
        """dL/dx (N, in) with the (masked) weight forward used (``cache.weight``); ``grads``
        untouched.

        Task mlp_backward: return dL/dx from ``cache.weight`` and ``grad_out``.
        """
        # >>> task mlp_backward
        raise NotImplementedError('task mlp_backward (slide «Алгоритм обучения / Training algorithm (the gradient through the networks s and t)»): Linear._input_gradient is yours to write; the docstring above gives the formula and the contract')
        # <<< task mlp_backward


@functools.lru_cache(maxsize=64)          # a few batch sizes in practice; never grow without end
def _row_ones(n, dtype):
    """A read-only vector of n ones (N,), made once per (n, dtype) and kept: ``ones @ g`` sums the
    rows of g (N, out) in one BLAS call, faster than ``g.sum(axis=0)`` (docs/speed.md), and every
    Linear of every step needs it with the same n."""
    ones = np.ones(n, dtype=dtype)                                   # (N,)
    ones.flags.writeable = False             # shared by every caller: nobody may change it
    return ones


class MaskedLinear(Linear):
    """Linear layer with a fixed 0/1 mask on the weight: ``y = x @ (W ⊙ M) + b``.

    The mask ``M`` (in, out) is not a parameter: ``M[i, j] = 0`` cuts the connection from input i
    to output j for good (MADE builds its autoregressive masks this way). Everything else is
    :class:`Linear`'s, which reads ``self.mask``; the initial scale counts only kept inputs.
    """

    def __init__(self, in_features, out_features, mask, rng=None, zero=False, dtype=np.float64):
        in_features = check_int(in_features, "in_features", 1)
        out_features = check_int(out_features, "out_features", 1)
        mask = np.asarray(mask)
        if mask.shape != (in_features, out_features):
            raise ValueError(f"mask must have shape ({in_features}, {out_features}), got {mask.shape}")
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("mask must contain only 0 and 1")
        # C order whatever the caller's layout: W ⊙ M against a Fortran-ordered M runs strided,
        # and it runs on every forward and backward
        self.mask = np.ascontiguousarray(mask, dtype=check_dtype(dtype))   # (in, out)
        super().__init__(in_features, out_features, rng=rng, zero=zero, dtype=dtype)

    def _fan_in(self):
        return np.maximum(self.mask.sum(axis=0), 1.0)                # (out,) kept inputs per unit
