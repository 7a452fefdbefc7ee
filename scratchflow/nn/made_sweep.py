"""A MADE run one output dimension at a time, each pass computing only what that dimension needs.

The sequential directions of the slides "Masked Autoregressive Flow (MAF)" (sampling) and "Inverse
Autoregressive Flow (IAF)" (density) fill their output one dimension per pass, in the ordering:
pass i needs only μ_d and s_d for d = order[i], which read the inputs before d. Running the whole
MADE each time (the lecture's "D networks", one full pass each) costs D full passes. The degrees
say what pass i really needs (:mod:`scratchflow.nn.made`):

# >>> task made_masks
* output d (input degree i + 1) reads the last hidden units of degree ≤ i only;
* a hidden unit of degree m reads units of degree ≤ m below it, and finally the inputs of degree
  ≤ m, which were all filled before pass m + 1 and never change afterwards.
# <<< task made_masks

So every hidden unit is computed once, at the first pass that needs it, with its final inputs;
pass i adds the units of degree exactly i in every hidden layer and two output columns. With the
units sorted by degree (once, when the sweep starts), "degree ≤ i" is a leading block of columns,
and each pass is a few products on slices, no gathers. The D − 1 first passes together cost less
than one full pass. The last dimension of the ordering feeds no unit (hidden degrees are at most
D − 1), so the last pass is one ordinary full pass at the current input: its μ and s are all
columns at the final input, and its trace is the one the gradient pass needs, exactly as if it
had been run after the last column was filled.

The numbers are the full pass's up to rounding: the products skip only masked (zero) weights.
An autoregressive conditioner that is not a MADE (any module with MADE's unchecked
``_forward(point) -> (out (N, 2D), cache)``) has no degrees to read: it gets one full pass per
step, the lecture's way, and so does a conditional MADE (``context_dim > 0``, beyond the
lecture): its hidden units of degree 0 read the context only, and the sweep's blocks start at
degree 1, so it is run whole at every step (exact, at the lecture's cost).
"""
import numpy as np

from scratchflow.nn.linear import Linear
from scratchflow.nn.made import MADE

# Below this D the adjoint's D − 1 whole input-gradient passes cost less than the sweep's forward,
# input-gradient pass and setup (bench/bench_autoregressive_scaling.py finds the cross-over).
ADJOINT_SWEEP_FROM_DIM = 6


class MADESweep:
    """One sequential sweep through a :class:`~scratchflow.nn.MADE`'s ordering.

    Parameters
    ----------
    made : MADE
        Its current weights are read once, here (a sweep lives for one pass of a flow layer). Any
        other module with ``dim`` and ``_forward`` is run whole at every step.
    context : ndarray (N, C) or None
        The context of a conditional MADE, read beside the point at every (whole) pass.

    Call :meth:`step` for ``d`` in ``made.order``, in that order, on the same point array, after
    filling column ``order[i - 1]`` before step i. Columns after d may hold anything finite (the
    masks cut them).
    """

    def __init__(self, made, context=None):
        self.made = made
        self.dim = made.dim
        self.context = context                                        # (N, C) or None
        self.whole_passes = not isinstance(made, MADE) or context is not None or made.context_dim
        if self.whole_passes:
            return
        linears = [layer for layer in made.layers if isinstance(layer, Linear)]
        self.activations = [layer for layer in made.layers if not isinstance(layer, Linear)]
        self.input_degrees = made.degrees[0]                          # (D,)
        sorts = [np.argsort(degrees, kind="stable") for degrees in made.degrees[1:]]
        # ends[l][m] = number of hidden units of layer l with degree <= m, m = 0 .. D−1
        self.ends = [np.searchsorted(degrees[sort], np.arange(self.dim), side="right")
                     for degrees, sort in zip(made.degrees[1:], sorts)]
        rows = [np.arange(self.dim)] + sorts                          # each layer's input order
        columns = sorts + [np.arange(2 * self.dim)]                   # each layer's output order
        self.weights = [(layer.weight * layer.mask)[np.ix_(row, column)]   # (in, out) sorted
                        for layer, row, column in zip(linears, rows, columns)]
        self.biases = [layer.bias[column] for layer, column in zip(linears, columns)]
        self.hidden = None                                            # per layer (N, H_l), sorted
        self.position = 0                                             # index in the ordering
        self.done = 0                                                 # units of degree <= done exist

    def step(self, point, d):
        """Pass for dimension d: ``(shift, log_scale, made_cache)``.

        ``shift`` and ``log_scale`` (N, D) are current in column d and every column before it in
        the ordering. ``made_cache`` is ``None`` except at the last pass, which runs the MADE's full
        ``_forward`` and returns its trace (all of μ and s are then final).
        """
        if self.whole_passes:
            if self.context is not None:
                point = np.concatenate([point, self.context], axis=1)   # (N, D + C)
            out, made_cache = self.made._forward(point)               # (N, 2D)
            return out[:, :self.dim], out[:, self.dim:], made_cache
        if d != self.made.order[self.position]:
            raise RuntimeError(f"MADESweep.step: expected dimension {self.made.order[self.position]} "
                               f"(position {self.position} of the ordering), got {d}")
        self.position += 1
        if self.position == self.dim:                                 # nothing reads the last one
            out, made_cache = self.made._forward(point)               # (N, 2D)
            return out[:, :self.dim], out[:, self.dim:], made_cache
        if self.hidden is None:
            self.hidden = [np.zeros((point.shape[0], len(bias)), dtype=point.dtype)
                           for bias in self.biases[:-1]]              # (N, H_l) each
            self.shift = np.zeros_like(point)                         # (N, D)
            self.log_scale = np.zeros_like(point)                     # (N, D)
        degree = int(self.input_degrees[d]) - 1                       # units of degree <= this
        self._add_hidden_units(point, degree)
        last = self.hidden[-1][:, :self.ends[-1][degree]] if self.hidden else point   # (N, k)
        weight = self.weights[-1][:last.shape[1]]                     # (k, 2D)
        for block, out in ((0, self.shift), (self.dim, self.log_scale)):
            out[:, d] = last @ weight[:, block + d] + self.biases[-1][block + d]      # (N,)
        return self.shift, self.log_scale, None

    def _add_hidden_units(self, point, degree):
        """Compute, layer by layer, the hidden units of degree in (done, degree]."""
        below = point                                                 # (N, D): the input layer
        for layer, hidden in enumerate(self.hidden):
            start, stop = self.ends[layer][self.done], self.ends[layer][degree]
            if stop > start:                                          # units in (done, degree]?
                weight = self.weights[layer][:below.shape[1], start:stop]    # (k, new)
                pre = below @ weight + self.biases[layer][start:stop]        # (N, new)
                hidden[:, start:stop] = self.activations[layer]._forward(pre)[0]
            below = hidden[:, :stop]                                  # (N, units of degree <= it)
        self.done = degree


class MADEAdjointSweep:
    """Columns of a MADE's input gradient, one dimension per step, each step computing only the
    hidden units whose gradient has just become final.

    # >>> task omitted
    The gradient pass of a sequential direction (the adjoint triangular solve of
    :mod:`scratchflow.bijectors.autoregressive`) needs, for d = order[D−2], ..., order[0], the
    column d of the MADE's vector-Jacobian product c = J_MADEᵀ g, where g is the output gradient
    and column e of g is final once dimension e is solved (later in the ordering). Reading the
    degrees backwards:
    # <<< task omitted

    # >>> task made_masks
    * input d (degree i) feeds the first-layer units of degree ≥ i only;
    * a hidden unit of degree m feeds units of degree ≥ m above it, and the outputs of degree > m,
      all of them solved before input d is (their degrees exceed i).
    # <<< task made_masks

    # >>> task omitted
    So the step for d adds, from the top layer down, the gradient of the units of degree exactly i
    (units sorted by degree: a block of columns), and c_d is one product with row d of the first
    layer. The activation derivatives come from one forward at the final point, run block by
    block at the start (each block's own activation cache, the activation's own ``_backward``).
    Altogether: one forward and one input-gradient pass, instead of D − 1 whole input-gradient
    passes. The numbers are the whole pass's up to rounding (only masked weights are skipped).
    Below ``ADJOINT_SWEEP_FROM_DIM`` dimensions the whole passes are cheaper and are used.
    # <<< task omitted

    Parameters
    ----------
    made : MADE
        Any other conditioner and a conditional MADE get whole ``_input_gradient`` passes.
    made_cache : Cache
        The trace of the MADE's pass at ``point`` (used only by whole passes).
    point : ndarray (N, D)
        The MADE's input of that pass.
    """

    def __init__(self, made, made_cache, point):
        self.made, self.made_cache, self.dim = made, made_cache, made.dim
        self.whole_passes = (not isinstance(made, MADE) or made.context_dim
                             or self.dim < ADJOINT_SWEEP_FROM_DIM)
        if self.whole_passes:
            return
        self.sweep = MADESweep(made)                  # sorted weights, biases and degree ends
        self.positions = np.empty(self.dim, dtype=int)
        self.positions[made.order] = np.arange(self.dim)              # (D,) place in the ordering
        self._forward_blocks(point)
        self.pre_grads = [np.zeros_like(hidden) for hidden in self.hidden]   # (N, H_l), sorted
        weight, order = self.sweep.weights[-1], made.order             # (in, 2D), columns natural
        # the output layer's μ and s columns, and their gradients, by position in the ordering
        self.out_weights = (weight[:, order], weight[:, self.dim + order])   # (in, D) each
        self.out_grads = (np.zeros_like(point), np.zeros_like(point))        # (N, D) each

    def _forward_blocks(self, point):
        """Every hidden unit at ``point``, one degree block at a time, keeping each block's
        activation cache for the backward steps."""
        sweep = self.sweep
        self.hidden, self.caches = [], []
        below = point                                                 # (N, D)
        for layer, ends in enumerate(sweep.ends):
            hidden = np.empty((point.shape[0], ends[-1]), dtype=point.dtype)   # (N, H_l)
            caches = {}
            for degree in range(1, self.dim):
                start, stop = ends[degree - 1], ends[degree]
                if stop > start:                                      # any unit of this degree?
                    width = below.shape[1] if layer == 0 else sweep.ends[layer - 1][degree]
                    pre = below[:, :width] @ sweep.weights[layer][:width, start:stop] \
                        + sweep.biases[layer][start:stop]             # (N, block)
                    hidden[:, start:stop], caches[degree] = sweep.activations[layer]._forward(pre)
            self.hidden.append(hidden)
            self.caches.append(caches)
            below = hidden

    def column(self, grad_out, d):
        """Column d of dL/d(input) for the output gradient ``grad_out`` (N, 2D); returns (N,).

        # >>> task omitted
        The columns of ``grad_out`` of every dimension after d in the ordering are final (and read
        only there).
        # <<< task omitted
        """
        if self.whole_passes:
            return self.made._input_gradient(self.made_cache, grad_out)[:, d]
        sweep, position = self.sweep, int(self.positions[d])          # d has degree position + 1
        solved = self.made.order[position + 1]                        # final since the last step
        self.out_grads[0][:, position + 1] = grad_out[:, solved]
        self.out_grads[1][:, position + 1] = grad_out[:, self.dim + solved]
        degree = position + 1
        pairs = [(grad[:, degree:], weight[:, degree:])               # the outputs it reaches
                 for grad, weight in zip(self.out_grads, self.out_weights)]
        for layer in reversed(range(len(self.hidden))):
            start, stop = sweep.ends[layer][degree - 1], sweep.ends[layer][degree]
            if stop > start:
                post = sum(above @ weight[start:stop].T for above, weight in pairs)   # (N, block)
                self.pre_grads[layer][:, start:stop] = sweep.activations[layer]._backward(
                    self.caches[layer][degree], post)
            pairs = [(self.pre_grads[layer][:, start:], sweep.weights[layer][:, start:])]
        return sum(above @ weight[d] for above, weight in pairs)      # (N,)
