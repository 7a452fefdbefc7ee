"""Training loop (slide "Алгоритм обучения" / "Training algorithm").

For each iteration: sample a minibatch of m real objects; compute

    L = −(1/m) Σ_{i≤m} [ log p_z(f(x_i)) + log|det ∂f(x_i)/∂x_i| ];

update θ_f ← θ_f − ∇_{θ_f} L (here with Adam or SGD from :mod:`scratchflow.optim`).

One loop serves two objectives; each is a small object with ``step()`` (one minibatch: loss,
gradients into ``flow.grads``) and ``evaluate()`` (the held-out number early stopping watches):

* maximum likelihood on data (the lecture's loss, :meth:`Flow.loss_and_grad`); minibatches are drawn
  without replacement, a fresh seeded permutation per epoch; validation = NLL of ``val_data``;
* reverse KL to a target density p* known up to a constant (:meth:`Flow.reverse_kl_loss_and_grad`),
  the objective IAF was designed for; validation = the same estimate on a fixed set of base draws.

Early stopping keeps a copy of the best parameters (and buffers) and copies it back in place. A
non-finite loss or gradient stops training with a message naming the step and puts back the last
parameters whose loss was finite; that guarantee costs one in-place copy of the parameters per step.

Example
-------
>>> from scratchflow.data import load_dataset
>>> from scratchflow.models import build_realnvp
>>> from scratchflow.train import fit
>>> flow = build_realnvp(dim=2, n_layers=8, hidden=(64, 64), seed=0)       # doctest: +SKIP
>>> history = fit(flow, load_dataset("moons", 4000, rng=0), load_dataset("moons", 1000, rng=1),
...               steps=2000, batch_size=256, lr=1e-3, seed=0)              # doctest: +SKIP
>>> history.best_val_loss                                                   # doctest: +SKIP
"""
import contextlib
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np

from scratchflow.bijectors.batchnorm import set_training
from scratchflow.progress import ProgressBar
from scratchflow.validation import check_array, check_int


@dataclass
class History:
    """What :func:`fit` did, step by step (saved by :func:`scratchflow.io.save_history`).

    Attributes
    ----------
    mode : "data" (maximum likelihood) or "target" (reverse KL)
    train_loss : list of float, one per step (the minibatch loss)
    grad_norm : list of float, one per step (before clipping; empty if the optimizer reports none)
    val_step : list of int, the number of finished steps at each evaluation
    val_loss : list of float, validation NLL (data mode) or reverse-KL estimate (target mode)
    best_step, best_val_loss : the evaluation with the lowest ``val_loss`` (None without validation)
    stopped : str, why training ended ("finished", "early stopping: ...", "non-finite loss ...")
    seconds : float, wall-clock time of the loop
    """
    mode: str
    train_loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    val_step: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    best_step: Optional[int] = None
    best_val_loss: Optional[float] = None
    stopped: str = "finished"
    seconds: float = 0.0

    @property
    def steps(self):
        """Number of optimizer steps taken."""
        return len(self.train_loss)

    def to_dict(self):
        return asdict(self)


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
        order = rng.permutation(n)                                    # (n,)
        for start in range(0, n, batch_size):
            yield epoch, order[start:start + batch_size]              # (m,)
        epoch += 1


class MaximumLikelihood:
    """The lecture's objective: mean NLL of a minibatch of data; validation = NLL of ``val_data``."""

    name = "data"

    def __init__(self, flow, data, val_data, batch_size, rng):
        self.flow, self.data, self.val_data = flow, data, val_data
        self.batches = minibatch_indices(len(data), batch_size, rng)
        self.steps_per_epoch = math.ceil(len(data) / batch_size)
        self.epoch = 0

    def step(self):
        self.epoch, indices = next(self.batches)
        return self.flow.loss_and_grad(self.data[indices])            # fills flow.grads

    def evaluate(self):
        with evaluation_mode(self.flow):
            return float(-np.mean(self.flow.log_prob(self.val_data)))


class ReverseKL:
    """KL(q ‖ p*) + const on ``batch_size`` fresh base draws per step; validation on fixed draws."""

    name = "target"

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


@contextlib.contextmanager
def evaluation_mode(flow):
    """Inside this block every BatchNorm of ``flow`` uses its running averages (evaluation mode);
    afterwards they are back in training mode. Flows without BatchNorm are unaffected."""
    switched = set_training(flow, False)
    try:
        yield flow
    finally:
        if switched:
            set_training(flow, True)


class ParameterSnapshot:
    """A saved copy of every parameter and buffer of a module, restored in place on request."""

    def __init__(self, module):
        self.live = {**{f"param:{k}": v for k, v in module.params.items()},
                     **{f"buffer:{k}": v for k, v in module.buffers.items()}}
        self.saved = {name: array.copy() for name, array in self.live.items()}
        self.step = 0

    def save(self, step):
        for name, array in self.live.items():
            np.copyto(self.saved[name], array)
        self.step = step

    def restore(self):
        for name, array in self.live.items():
            np.copyto(array, self.saved[name])


def make_optimizer(flow, optimizer=None, lr=1e-3, clip_norm=None):
    """``None`` or ``"adam"`` -> Adam, ``"sgd"`` -> SGD on the flow's params; an object is returned
    as it is (anything with ``step()`` that updates ``flow.params`` in place)."""
    if optimizer is not None and not isinstance(optimizer, str):
        return optimizer
    from scratchflow.optim import SGD, Adam
    name = (optimizer or "adam").lower()
    if name == "adam":
        return Adam(flow.params, flow.grads, lr=lr, clip_norm=clip_norm)
    if name == "sgd":
        return SGD(flow.params, flow.grads, lr=lr, clip_norm=clip_norm)
    raise ValueError(f"unknown optimizer {optimizer!r}; choose 'adam' or 'sgd'")


def fit(flow, data=None, val_data=None, *, target=None, steps=None, epochs=None, batch_size=256,
        optimizer=None, lr=1e-3, clip_norm=None, seed=0, eval_every=None, patience=None,
        restore_best=True, val_size=1024, progress=True, blas_threads=1):
    """Train ``flow`` in place and return its :class:`History`.

    Parameters
    ----------
    flow : Flow
    data : array (N, D), optional
        Training data (maximum likelihood). Give either ``data`` or ``target``.
    val_data : array (V, D), optional
        Held-out data: its NLL is evaluated every ``eval_every`` steps and at the end.
    target : object with ``dim``, ``log_prob(x)`` (n,) and ``grad_log_prob(x)`` (n, D), optional
        Fit by reverse KL instead of data; validation uses ``val_size`` fixed base draws.
    steps, epochs : int
        Length of training; give one (``epochs`` needs data). Default: 1000 steps.
    batch_size : int
        m, the minibatch size (data rows, or base draws for reverse KL). With data, a batch_size
        larger than N is allowed and means full-batch steps: every step uses all N rows.
    optimizer : None, "adam", "sgd" or an optimizer object
        ``None`` builds ``Adam(flow.params, flow.grads, lr=lr, clip_norm=clip_norm)``.
    seed : int
        Seeds the minibatch order (and the base draws of reverse KL).
    eval_every : int, optional
        Steps between evaluations; default once per epoch (data) or every 100 steps (target).
    patience : int, optional
        Early stopping: stop after this many evaluations in a row without a new best.
    restore_best : bool
        If there was validation, copy the best evaluated parameters back into the flow at the end.
    progress : bool
        Show a progress bar on stderr (only drawn when stderr is a terminal).
    blas_threads : int or None
        Cap on BLAS threads during training (needs ``threadpoolctl``; without it, no effect). The
        matrices of a small flow (256 × 64) are far too small for threads to pay: on a busy 2-core
        machine one thread trained Real-NVP on moons 17× faster than OpenBLAS's default.
        ``None`` leaves the BLAS setting alone.

    Returns
    -------
    History

    Raises
    ------
    ValueError, TypeError
        Both or neither of data and target; val_data with a target; data or val_data that is not
        a finite float (N, D) batch with N >= 1 and the flow's D; steps, epochs, batch_size,
        eval_every, patience or val_size that is not an integer >= 1. float64 data for a float32
        flow is converted once (not an error, unlike ``flow.log_prob``).
    """
    if (data is None) == (target is None):
        raise ValueError("give either data (maximum likelihood) or target (reverse KL), not both")
    if target is not None and val_data is not None:
        raise ValueError("val_data is for maximum likelihood; with a target, validation uses "
                         "val_size fixed base draws")
    if steps is not None and epochs is not None:
        raise ValueError("give steps or epochs, not both")
    batch_size = check_int(batch_size, "batch_size", 1)
    if eval_every is not None:
        eval_every = check_int(eval_every, "eval_every", 1)
    if patience is not None:
        patience = check_int(patience, "patience", 1)
    rng = np.random.default_rng(seed)
    if data is not None:
        data = _as_flow_array(flow, data, "data")
        val_data = None if val_data is None else _as_flow_array(flow, val_data, "val_data")
        objective = MaximumLikelihood(flow, data, val_data, batch_size, rng)
        validates = val_data is not None
        if epochs is not None:
            steps = check_int(epochs, "epochs", 1) * objective.steps_per_epoch
        eval_every = eval_every or objective.steps_per_epoch
    else:
        if epochs is not None:
            raise ValueError("epochs need a data set; with a target give steps")
        objective = ReverseKL(flow, target, batch_size, rng, check_int(val_size, "val_size", 1))
        validates = True
        eval_every = eval_every or 100
    steps = 1000 if steps is None else check_int(steps, "steps", 1)
    if patience is not None and not validates:
        raise ValueError("early stopping (patience) needs val_data to watch")

    optimizer = make_optimizer(flow, optimizer, lr, clip_norm)
    history = History(mode=objective.name)
    last_good = ParameterSnapshot(flow)       # parameters whose loss was finite
    best = ParameterSnapshot(flow) if validates else None
    bar = ProgressBar(steps, desc="train", enabled=None if progress else False)
    start = time.perf_counter()
    evals_without_improvement = 0
    running_loss = None
    with limit_blas_threads(blas_threads):                     # small matrices: threads only cost
        for step in range(1, steps + 1):
            try:
                loss = objective.step()                               # fills flow.grads
            except FloatingPointError:                                # a layer overflowed
                loss = math.nan
            if not math.isfinite(loss):
                history.stopped = _non_finite_message("loss", loss, step, last_good.step)
                last_good.restore()
                break
            last_good.save(step - 1)                                  # the parameters that gave `loss`
            try:
                grad_norm = optimizer.step()
            except FloatingPointError:                                # refused a non-finite gradient
                grad_norm = math.nan
            if grad_norm is not None:
                history.grad_norm.append(float(grad_norm))
                if not math.isfinite(grad_norm):
                    history.stopped = _non_finite_message("gradient", grad_norm, step, step - 1)
                    last_good.restore()
                    break
            history.train_loss.append(loss)
            running_loss = loss if running_loss is None else 0.95 * running_loss + 0.05 * loss
            shown = {"loss": running_loss}
            if validates and (step % eval_every == 0 or step == steps):
                val_loss = objective.evaluate()
                history.val_step.append(step)
                history.val_loss.append(val_loss)
                if history.best_val_loss is None or val_loss < history.best_val_loss:
                    history.best_step, history.best_val_loss = step, val_loss
                    best.save(step)
                    evals_without_improvement = 0
                else:
                    evals_without_improvement += 1
                if patience is not None and evals_without_improvement >= patience:
                    history.stopped = (f"early stopping at step {step}: no better validation loss in "
                                       f"{patience} evaluations; best {history.best_val_loss:.4f} at "
                                       f"step {history.best_step}")
                    bar.update(step, **shown, val=val_loss)
                    break
            if history.val_loss:
                shown["val"] = history.val_loss[-1]
            bar.update(step, **shown)
    bar.close()
    history.seconds = time.perf_counter() - start
    if best is not None and restore_best and history.best_step is not None:
        best.restore()
    if history.stopped.startswith("non-finite"):
        warnings.warn(history.stopped, RuntimeWarning, stacklevel=2)
    return history


def limit_blas_threads(limit=1):
    """Context manager capping BLAS threads at ``limit`` if ``threadpoolctl`` is installed."""
    if limit is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(limit), user_api="blas")


def _as_flow_array(flow, x, name):
    x = check_array(x, name, dim=flow.dim)                       # (N, D), finite
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}); training needs at least one row")
    return x.astype(flow.dtype, copy=False)                      # once, not per step


def _non_finite_message(what, value, step, good_step):
    return (f"non-finite {what} ({value}) at step {step}: training stopped and the parameters "
            f"after step {good_step} (the last with a finite loss) were kept; try a smaller "
            f"learning rate or gradient clipping (clip_norm)")
