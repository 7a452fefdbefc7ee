"""The two objectives :func:`scratchflow.train.fit` minimises, and the minibatches they draw.

Each objective is a small object with ``step()`` (one minibatch: the loss, gradients into
``flow.grads``) and ``evaluate()`` (the held-out number early stopping watches):

* :class:`MaximumLikelihood`: the lecture's loss on data (slide "Алгоритм обучения" / "Training
  algorithm"), L = −(1/m) Σ_{i≤m} [log p_z(f(x_i)) + log|det ∂f(x_i)/∂x_i|]; minibatches without
  replacement, a fresh seeded permutation per epoch; validation = NLL of ``val_data``;
* :class:`ReverseKL`: KL(q ‖ p*) + const to a target density known up to a constant, the objective
  IAF was designed for; validation = the same estimate on a fixed set of base draws.
"""
import contextlib
import math

import numpy as np

from scratchflow.bijectors.batchnorm import BatchNorm, set_training
from scratchflow.input_checks import check_array, check_int


def minibatch_indices(n, batch_size, rng):
    """Endless minibatches of row indices, without replacement within an epoch.

    Each epoch draws a fresh permutation of ``range(n)`` from ``rng`` and cuts it into slices of
    ``batch_size`` (the last one shorter if ``batch_size`` does not divide n), so every row is used
    exactly once per epoch. Yields ``(epoch, indices)``. A ``batch_size`` >= n gives one
    full-batch step per epoch (all n rows, shuffled).
    """
    n, batch_size = check_int(n, "n", 1), check_int(batch_size, "batch_size", 1)   # n = 0: no batch, ever
    epoch = 0
    while True:
        # >>> task training
        order = rng.permutation(n)                                    # (n,)
        for start in range(0, n, batch_size):
            yield epoch, order[start:start + batch_size]              # (m,)
        # <<< task training
        epoch += 1


class MaximumLikelihood:
    """The lecture's objective: mean NLL of a minibatch of data; validation = NLL of ``val_data``."""

    name = "data"
    context = None                           # the rows' contexts: none for an unconditional flow

    def __init__(self, flow, data, val_data, batch_size, rng):
        self.flow, self.data, self.val_data = flow, data, val_data
        self.validates = val_data is not None                         # anything to evaluate?
        self.batches = minibatch_indices(len(data), batch_size, rng)
        self.steps_per_epoch = math.ceil(len(data) / batch_size)
        self.epoch = 0

    def step(self):
        """One step's minibatch from ``self.batches``; its loss, with flow.grads filled."""
        # >>> task training
        self.epoch, indices = next(self.batches)
        return self.flow.loss_and_grad(self.data[indices])            # fills flow.grads
        # <<< task training

    def evaluate(self):
        with evaluation_mode(self.flow):
            return float(-np.mean(self.flow.log_prob(self.val_data)))

    def baseline(self):
        """The loss of the base distribution alone (an untrained flow at the identity): the NLL
        −mean log p_z(x) of ``val_data`` (of ``data`` without validation)."""
        rows = self.data if self.val_data is None else self.val_data        # (V, D)
        return float(-np.mean(self.flow.base.log_prob(rows)))


class ConditionalLikelihood(MaximumLikelihood):
    """Maximum likelihood of a conditional flow (beyond the lecture): row i of ``data`` comes with
    row i of ``context`` (N, C); L = −(1/m) Σ_i log p_x(x_i | c_i) on the same minibatch rows."""

    def __init__(self, flow, data, val_data, batch_size, rng, context, val_context):
        super().__init__(flow, data, val_data, batch_size, rng)
        self.context, self.val_context = context, val_context

    def step(self):
        # >>> task training
        self.epoch, rows = next(self.batches)
        return self.flow.loss_and_grad(self.data[rows], self.context[rows])   # context (m, C)
        # <<< task training

    def evaluate(self):
        with evaluation_mode(self.flow):
            return float(-np.mean(self.flow.log_prob(self.val_data, self.val_context)))


def likelihood_objective(flow, data, val_data, batch_size, rng, context, val_context):
    """The maximum-likelihood objective of ``fit``; a conditional flow's with its contexts.

    Checks ``data``, ``val_data`` and the contexts here, once (float64 rows for a float32 flow are
    converted once), and hands the objective the flow's passes on checked rows
    (:class:`CheckedRowsFlow`), so no step or evaluation checks them again."""
    data = _as_flow_array(flow, data, "data")                                # (N, D)
    val_data = None if val_data is None else _as_flow_array(flow, val_data, "val_data")
    if not flow.context_dim:
        if context is not None or val_context is not None:
            raise ValueError("context given but the flow is not conditional (context_dim=0)")
        return MaximumLikelihood(CheckedRowsFlow(flow), data, val_data, batch_size, rng)
    pairs = [("context", context, "data", data), ("val_context", val_context, "val_data", val_data)]
    for name, rows, data_name, data_rows in pairs:
        if (rows is None) != (data_rows is None):
            raise ValueError(f"a conditional flow needs {name} exactly when {data_name} is given: "
                             f"one context row per {data_name} row")
        if rows is not None:
            rows = check_array(rows, name, dim=flow.context_dim)          # (N, C), finite
            if rows.shape[0] != data_rows.shape[0]:
                raise ValueError(f"{name} has {rows.shape[0]} rows but {data_name} has "
                                 f"{data_rows.shape[0]}: one context row per {data_name} row")
    context = check_array(context, "context").astype(flow.dtype, copy=False)
    if val_context is not None:
        val_context = check_array(val_context, "val_context").astype(flow.dtype, copy=False)
    return ConditionalLikelihood(CheckedRowsFlow(flow), data, val_data, batch_size, rng, context,
                                 val_context)


def _as_flow_array(flow, x, name):
    x = check_array(x, name, dim=flow.dim)                       # (N, D), finite
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}); training needs at least one row")
    return x.astype(flow.dtype, copy=False)                      # once, not per step


class CheckedRowsFlow:
    """A flow as ``fit``'s maximum-likelihood objective calls it: on rows checked once, before.

    :func:`likelihood_objective` checks the training and validation rows and their contexts
    (finite, the flow's D and dtype); every step then calls ``loss_and_grad`` on a minibatch of
    them, and every evaluation ``log_prob`` on the validation rows. Here those two are the flow's
    unchecked passes (:meth:`Flow._loss_and_grad <scratchflow.flow.Flow._loss_and_grad>`,
    :meth:`Flow._log_prob <scratchflow.flow.Flow._log_prob>`), as a stack calls its layers'
    underscored passes on what it checked. The rest is the flow's own: ``flow``, ``params``,
    ``grads`` (live arrays), ``base``, ``modules()``. ``Flow.loss_and_grad`` called directly
    still checks its input.
    """

    def __init__(self, flow):
        self.flow = flow
        self.params, self.grads, self.base = flow.params, flow.grads, flow.base

    def loss_and_grad(self, x, context=None):
        """L on checked minibatch rows x (m, D) (and contexts (m, C)), dL/dθ into ``grads``."""
        return self.flow._loss_and_grad(x, context)

    def log_prob(self, x, context=None):
        """log p_x(x) (N,) of checked rows x (N, D) (and contexts (N, C))."""
        return self.flow._log_prob(x, context)

    def modules(self):
        return self.flow.modules()


class ReverseKL:
    """KL(q ‖ p*) + const on ``batch_size`` fresh base draws per step; validation on fixed draws."""

    name = "target"
    validates = True                                                  # always: fixed base draws

    def __init__(self, flow, target, batch_size, rng, val_size=1024):
        if getattr(target, "dim", flow.dim) != flow.dim:
            raise ValueError(f"target has dimension {target.dim} but the flow has {flow.dim}")
        self.flow, self.target, self.batch_size, self.rng = flow, target, batch_size, rng
        self.val_z = flow.base.sample(val_size, rng, dtype=flow.dtype)   # (V, D), fixed
        self.epoch = 0

    def step(self):
        return self.flow.reverse_kl_loss_and_grad(self.target, self.batch_size, self.rng)

    def evaluate(self):
        with evaluation_mode(self.flow):
            return self.flow.reverse_kl(self.target, self.val_z)[0]      # on fixed draws (V, D)

    def baseline(self):
        """The loss of the base distribution alone (q = p_z, the flow at the identity): the same
        estimate mean_i [log p_z(z_i) − log p*(z_i)] on the fixed draws."""
        log_target = np.asarray(self.target.log_prob(self.val_z), dtype=float)  # (V,)
        return float(np.mean(self.flow.base.log_prob(self.val_z) - log_target))


@contextlib.contextmanager
def evaluation_mode(flow):
    """Inside this block every BatchNorm of ``flow`` uses its running averages (evaluation mode);
    afterwards each is back in the mode it had before (one the user set to evaluation stays so).
    Flows without BatchNorm are unaffected."""
    layers = [module for module in flow.modules() if isinstance(module, BatchNorm)]
    modes = [layer.training for layer in layers]
    set_training(flow, False)
    try:
        yield flow
    finally:
        for layer, training in zip(layers, modes):
            layer.train(training)
