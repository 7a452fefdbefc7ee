"""MADE: Masked Autoencoder for Distribution Estimation (Germain et al. 2015, arXiv 1502.03509).

The conditioner of the slides "Masked Autoregressive Flow (MAF)" and "Inverse Autoregressive Flow
(IAF)": the lecture writes μ_d(x_{1:d−1}) and s_d(x_{1:d−1}) as D separate networks "with d − 1
inputs and 1 output"; MADE computes all 2D of them in **one pass** of a single MLP whose weights
are multiplied by 0/1 masks, so that output d never sees inputs d, d+1, ..., D.

Degrees (the MADE paper, Sec. 4). Choose an ordering ``order`` of the D dimensions (``order[0]`` is
generated first). Every unit gets a degree m, and a connection is kept when it cannot carry
information "from the future":

# >>> task made_masks
# --- student
* input unit of dimension ``order[i]``: m = ?  (its place in the ordering decides it; 1 .. D)
* hidden unit of layer l: m drawn uniformly from {min m^{l−1}, ..., D − 1}
* output units μ_d and s_d: m = the degree of input d

    hidden layer l:  M^l[j, k] = 1  iff  (compare m^l(k) with m^{l−1}(j): which comparison?)
    output layer:    M^L[k, d] = 1  iff  (compare m_input(d) with m^{L−1}(k): which comparison?)
    (task made_masks: choose each comparison so that the sentence below holds — and ask yourself
    whether output d may see input d itself.)
# <<< task made_masks

A unit of degree m depends only on inputs of degree ≤ m, so output d depends only on the inputs
that come before d in the ordering: the Jacobian ∂(μ, s)/∂x is strictly triangular in the ordering.
The degrees are random (the paper's rule), so with very few hidden units some degree may be
missing by chance; the network stays autoregressive, it just reads fewer inputs for some outputs.

Context (conditional flows, beyond the lecture). With ``context_dim = C`` the network also reads a
context c (N, C): the C context inputs get degree 0, so the rule M^1 connects them to every unit
of the first hidden layer (m ≥ 0 always; with no hidden layer, to every output), and hidden
degrees start at 0 instead of 1: the output of the first dimension, which reads units of degree
< 1 only, would otherwise never see c. Units of degree 0 read c alone. Nothing of x changes: output d still reads x only before d in the ordering, now also c, and the triangular
structure in x, which is all the flows need, is untouched.

Gradient pass: the network is Linear → activation → ... → Linear with masked weights, so backward
runs the layers in reverse (see :class:`~scratchflow.nn.MaskedLinear`); a masked weight always gets
gradient 0. :meth:`MADE.input_gradient` runs the same pass without touching ``grads``; MAF's
sampling direction and IAF's density direction need it D times for their triangular solve.
"""
import numpy as np

from scratchflow.nn.stack import LayerStack
from scratchflow.input_checks import check_array, check_gradient, check_int, check_sizes

ORDERS = ("natural", "reversed", "random")


def make_order(order, dim, rng=None):
    """The ordering as an int array: ``order[i]`` is the dimension generated i-th.

    ``order`` is "natural" (0, 1, ..., D−1), "reversed" (D−1, ..., 0), "random" (a permutation
    drawn from ``rng``) or an explicit permutation of range(D).
    """
    if isinstance(order, str):
        if order == "natural":
            return np.arange(dim)
        if order == "reversed":
            return np.arange(dim)[::-1].copy()
        if order == "random":
            return np.random.default_rng(rng).permutation(dim)
        raise ValueError(f"unknown order {order!r}; choose one of {ORDERS} or pass a permutation")
    order = np.asarray(order)
    if order.shape != (dim,) or not np.array_equal(np.sort(order), np.arange(dim)):
        raise ValueError(f"order must be a permutation of range({dim}), got {order.tolist()}")
    return order.astype(int)


def made_degrees(order, hidden, rng=None, context=False):
    """Degrees of the input units and of every hidden layer (MADE paper's rule, see module doc).

    Returns ``[input_degrees (D,), hidden_1 (H1,), ...]``; the output degrees equal the inputs'.
    With D = 1 the hidden degrees are 0 (the single output is a constant, as μ_1 and s_1 are).
    With ``context`` (a conditional MADE) hidden degrees are drawn from {0, ..., D − 1}: a unit
    of degree 0 reads the context only, and the first dimension's μ_1, s_1 read it through them.

    Task made_masks: ``input_degrees[d]`` is the degree of dimension d (``order[i]`` is the
    dimension generated i-th); read the module docstring's rule for input units.
    """
    rng = np.random.default_rng(rng)
    dim = len(order)
    input_degrees = np.empty(dim, dtype=int)                          # (D,)
    # >>> task made_masks
    raise NotImplementedError('task made_masks (slide «μ_d(x_{1:d−1}) и s_d(x_{1:d−1}) – нейронные сети с d − 1 входами / MADE»): made_degrees is yours to write; the docstring above gives the formula and the contract')
    # <<< task made_masks
    degrees = [input_degrees]
    for width in hidden:
        low = 0 if context else min(int(degrees[-1].min()), dim - 1)
        degrees.append(rng.integers(low, dim, size=width))           # (H,) in {low, ..., D−1}
    return degrees


def made_masks(degrees, outputs_per_dim=2):
    """0/1 masks, shape (in, out) per layer, from the degrees; the last one is (H_last, P·D).

    ``degrees`` = ``[input_degrees (D,), hidden_1 (H1,), ...]`` as :func:`made_degrees` returns.
    The output mask is repeated ``outputs_per_dim`` = P times: block p holds output p of every
    dimension (MADE's P = 2 blocks are μ then s).

    Task made_masks: ``masks`` is the list of hidden masks, (H_{l−1}, H_l) each, one per pair of
    consecutive layers (rule M^l of the module docstring), and ``output`` the (H_last, D) output
    mask (rule M^L); the line after the region repeats it P times.
    """
    # >>> task made_masks
    raise NotImplementedError('task made_masks (slide «μ_d(x_{1:d−1}) и s_d(x_{1:d−1}) – нейронные сети с d − 1 входами / MADE»): made_masks is yours to write; the docstring above gives the formula and the contract')
    # <<< task made_masks
    masks.append(np.tile(output, (1, outputs_per_dim)))               # (H_last, P·D)
    return masks


class MADE(LayerStack):
    """Masked MLP with outputs ``shift`` μ (N, D) and ``log_scale`` s (N, D), autoregressive in ``order``.

    Parameters
    ----------
    dim : int
        D, the number of inputs (and of μ's and s's).
    hidden : sequence of int
        Hidden layer widths, e.g. ``(64, 64)``; ``()`` gives a single masked linear map.
    order : {"natural", "reversed", "random"} or permutation of range(D)
        Which dimension comes first, second, ...: μ_d and s_d read the dimensions before d.
    activation : {"tanh", "relu", "softplus", "silu"}
    rng : int or numpy.random.Generator, optional
        Seed for the random ordering, the hidden degrees and the initial weights.
    zero_last : bool
        Zero the output layer: μ = 0 and s = 0 at the start, so a MAF/IAF layer starts as the
        identity map.
    dtype : float64 (default) or float32
    context_dim : int
        C >= 1: the network reads [x, c], c (N, C) connected to every first-layer unit; 0: x only.

    Attributes
    ----------
    order : ndarray (D,), degrees : list of ndarrays, masks : list of (in, out) 0/1 arrays.
    Parameters are named ``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ... (layer positions).

    References
    ----------
    Germain, Gregor, Murray, Larochelle. MADE: Masked Autoencoder for Distribution Estimation.
    arXiv:1502.03509.

    Examples
    --------
    >>> made = MADE(3, hidden=(8,), order="reversed", rng=0)
    >>> shift, log_scale = made.forward(np.zeros((5, 3)))      # (5, 3) each
    """

    def __init__(self, dim, hidden=(64, 64), order="natural", activation="tanh", rng=None,
                 zero_last=False, dtype=np.float64, context_dim=0):
        dim = check_int(dim, "dim", 1)
        hidden = check_sizes(hidden, "hidden")
        context_dim = check_int(context_dim, "context_dim", 0)
        rng = np.random.default_rng(rng)
        order = make_order(order, dim, rng)                           # (D,)
        degrees = made_degrees(order, hidden, rng, context=context_dim > 0)
        masks = made_masks(degrees)
        if context_dim:                                               # degree 0: reaches every unit
            masks[0] = np.vstack([masks[0], np.ones((context_dim, masks[0].shape[1]))])   # (D + C, H1)
        super().__init__((dim + context_dim,) + hidden + (2 * dim,), activation, rng, zero_last,
                         dtype, masks)
        self.dim, self.hidden, self.activation = dim, hidden, activation
        self.context_dim = context_dim
        self.order, self.degrees, self.masks = order, degrees, masks

    def forward(self, x, context=None):
        """x (N, D) -> (shift μ(x) (N, D), log_scale s(x) (N, D)); row d reads x before d only.

        With ``context_dim = C`` pass ``context`` (N, C) too; :meth:`backward` then returns
        dL/d[x, c] (N, D + C)."""
        x = check_array(x, "x", dim=self.dim, dtype=self.dtype).copy()   # the cache owns x
        if self.context_dim or context is not None:
            x = np.concatenate([x, self._checked_context(context, len(x))], axis=1)   # (N, D + C)
        out, self._forward_cache = self._forward(x)                   # (N, 2D)
        return out[:, :self.dim], out[:, self.dim:]

    def _checked_context(self, context, n):
        """The context (n, C) of a conditional MADE, checked."""
        if not self.context_dim:
            raise ValueError("this MADE has context_dim=0 and reads no context")
        if context is None:
            raise ValueError(f"this MADE has context_dim={self.context_dim}: pass context (N, C)")
        context = check_array(context, "context", dim=self.context_dim, dtype=self.dtype)   # (N, C)
        if len(context) != n:
            raise ValueError(f"context has N={len(context)} rows but x has N={n}: one per row")
        return context

    def _output_gradient(self, grad_shift, grad_log_scale, method):
        """Check dL/dμ and dL/ds against the latest forward; return the cache and the gradients
        side by side (N, 2D)."""
        cache = self._read_cache("forward", method)
        grad_shift = check_gradient(grad_shift, "grad_shift", cache.n, self.dim, self.dtype)
        grad_log_scale = check_gradient(grad_log_scale, "grad_log_scale", cache.n, self.dim,
                                        self.dtype)
        return cache, np.concatenate([grad_shift, grad_log_scale], axis=1)   # (N, 2D)

    def backward(self, grad_shift, grad_log_scale):
        """dL/dμ, dL/ds (N, D) each -> dL/dx (N, D); adds every parameter's gradient into ``grads``."""
        cache, grad = self._output_gradient(grad_shift, grad_log_scale, "backward")
        return self._backward(cache, grad)                            # (N, D)

    def input_gradient(self, grad_shift, grad_log_scale):
        """dL/dx for the latest forward, like :meth:`backward` but leaving ``grads`` untouched.

        A vector-Jacobian product ``J^T g`` of the network alone (J = ∂(μ, s)/∂x), used by the
        triangular solves in :mod:`scratchflow.bijectors.autoregressive` (through the unchecked
        ``_input_gradient`` with the cache of their own pass).
        """
        cache, grad = self._output_gradient(grad_shift, grad_log_scale, "input_gradient")
        return self._input_gradient(cache, grad)                      # (N, D)

    def __repr__(self):
        return (f"MADE(dim={self.dim}, hidden={self.hidden}, order={self.order.tolist()}, "
                f"activation={self.activation!r}"
                + (f", context_dim={self.context_dim})" if self.context_dim else ")"))
