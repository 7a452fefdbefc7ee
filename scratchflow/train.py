"""Training loop (slide "Алгоритм обучения" / "Training algorithm").

For each iteration: sample a minibatch of m real objects; compute

    L = −(1/m) Σ_{i≤m} [ log p_z(f(x_i)) + log|det ∂f(x_i)/∂x_i| ];

update θ_f ← θ_f − ∇_{θ_f} L (here with Adam or SGD from :mod:`scratchflow.optim`).

One loop serves two objectives (:mod:`scratchflow.objectives`); each is a small object with
``step()`` (one minibatch: loss, gradients into ``flow.grads``) and ``evaluate()`` (the held-out
number early stopping watches):

* maximum likelihood on data (the lecture's loss, :meth:`Flow.loss_and_grad`); minibatches are drawn
  without replacement, a fresh seeded permutation per epoch; validation = NLL of ``val_data``. The
  data is checked once, when ``fit`` starts, and the steps run the flow's unchecked pass on it.
  A flow with layers that take their start from data (ActNorm, Whitening) and were not initialised
  yet is initialised first (:meth:`Flow.initialize`), on the training rows (and their contexts);
* reverse KL to a target density p* known up to a constant (:meth:`Flow.reverse_kl_loss_and_grad`),
  the objective IAF was designed for; validation = the same estimate on a fixed set of base draws.

Early stopping keeps a copy of the best parameters (and buffers) and copies it back in place. A
divergence (a layer's :class:`~scratchflow.divergence.DivergenceError`, a non-finite loss, gradient,
parameter or validation loss, or a loss that stays finite but rises past the base distribution's by
:data:`~scratchflow.stopping.DIVERGENCE_MARGIN` nats per dimension) never escapes ``fit``: it stops
training with a message naming the step, the likely cause (the learning rate) and what to try, and
puts back the last parameters whose loss was finite; that guarantee costs one in-place copy of the
parameters per step. A run whose best validation loss is worse than the base distribution alone
ends the same way. Either sets ``history.diverged`` and ``fit`` warns (``RuntimeWarning``). Ctrl-C
stops cleanly too ("interrupted ..."), keeping the best parameters so far, and ``fit`` returns
normally so the caller can save them.

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

import numpy as np
from threadpoolctl import threadpool_limits

from scratchflow.divergence import DivergenceError, DomainError
from scratchflow.history import History, ParameterSnapshot
from scratchflow.objectives import (MaximumLikelihood, ReverseKL, evaluation_mode,
                                    likelihood_objective, minibatch_indices)
from scratchflow.optim import SGD, Adam
from scratchflow.reporting import progress_bar
from scratchflow.stopping import DivergenceBound, divergence_message, gradient_step, stop
from scratchflow.input_checks import check_int

__all__ = ["fit", "History", "ParameterSnapshot", "MaximumLikelihood", "ReverseKL", "evaluation_mode",
           "minibatch_indices", "make_optimizer", "limit_blas_threads"]


def make_optimizer(flow, optimizer=None, lr=1e-3, clip_norm=None):
    """``None`` or ``"adam"`` -> Adam, ``"sgd"`` -> SGD on the flow's params; an object is returned
    as it is (anything with ``step()`` that updates ``flow.params`` in place)."""
    if optimizer is not None and not isinstance(optimizer, str):
        if not callable(getattr(optimizer, "step", None)):
            raise TypeError(f"optimizer must be None, 'adam', 'sgd' or an object with step(); got "
                            f"{optimizer!r} ({type(optimizer).__name__})")
        return optimizer
    name = (optimizer or "adam").lower()
    if name == "adam":
        return Adam(flow.params, flow.grads, lr=lr, clip_norm=clip_norm)
    if name == "sgd":
        return SGD(flow.params, flow.grads, lr=lr, clip_norm=clip_norm)
    raise ValueError(f"unknown optimizer {optimizer!r}; choose 'adam' or 'sgd'")


def fit(flow, data=None, val_data=None, *, target=None, steps=None, epochs=None, batch_size=256,
        optimizer=None, lr=1e-3, clip_norm=None, seed=0, eval_every=None, patience=None,
        restore_best=True, val_size=1024, progress=True, blas_threads=1, context=None,
        val_context=None):
    """Train ``flow`` in place and return its :class:`History`.

    (Over 60 lines only by this docstring: the body is 17 lines; the argument checks are in
    ``_objective``, the loop in ``_train_loop``.)

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
        Show a ``tqdm`` progress bar with the running loss and the latest validation loss: a
        widget in a notebook, a bar on a terminal, a line every 10 s at most in a log
        (:mod:`scratchflow.reporting`).
    blas_threads : int or None
        Cap on BLAS threads during training (with ``threadpoolctl``, an install requirement). The
        matrices of a small flow (256 × 64) are far too small for threads to pay for themselves.
        ``None`` leaves the BLAS setting alone.
    context, val_context : array (N, C), (V, C), optional
        A conditional flow's contexts, row i beside row i of ``data`` / ``val_data`` (required
        for a conditional flow, refused otherwise).

    Returns
    -------
    History
        A run that failed is returned, not raised: ``history.diverged`` is True,
        ``history.stopped`` names the step, the likely cause (the learning rate) and what to try,
        and ``fit`` warns (``RuntimeWarning``); see the module docstring.

    Raises
    ------
    ValueError, TypeError
        Both or neither of data and target; val_data with a target; data or val_data that is not
        a finite float (N, D) batch with N >= 1 and the flow's D; steps, epochs, batch_size,
        eval_every, patience or val_size that is not an integer >= 1. float64 data for a float32
        flow is converted once (not an error, unlike ``flow.log_prob``).
    """
    objective, steps, eval_every, patience = _objective(flow, data, val_data, target, steps, epochs,
                                                        batch_size, eval_every, patience, val_size, seed,
                                                        (context, val_context))
    if data is not None and not flow.initialized:    # ActNorm, Whitening: Glow's start, once,
        flow.initialize(objective.data, objective.context)           # on the training rows
    optimizer = make_optimizer(flow, optimizer, lr, clip_norm)
    history = History(mode=objective.name)
    last_good = ParameterSnapshot(flow)       # parameters whose loss was finite
    best = ParameterSnapshot(flow) if objective.validates else None
    start = time.perf_counter()
    with limit_blas_threads(blas_threads), np.errstate(all="ignore"):   # overflow: DivergenceError
        history.baseline_loss = objective.baseline()
        bound = DivergenceBound(history.baseline_loss, flow.dim, getattr(optimizer, "lr", None))
        with progress_bar(steps, desc="train", enabled=progress) as bar:
            try:
                _train_loop(objective, optimizer, history, last_good, best, bar, steps, eval_every,
                            patience, bound)
            except KeyboardInterrupt as interruption:          # Ctrl-C: keep what was good so far
                last_good.restore()                            # a step may have been half done
                by = getattr(interruption, "signal_name", "Ctrl-C")   # or SIGTERM, SIGHUP (CLI)
                history.stopped = (f"interrupted ({by}) after {history.steps} steps: the "
                                   f"parameters after step {last_good.step} were kept"
                                   + ("" if best is None or not restore_best
                                      or history.best_step is None
                                      else f", then the best (validation, step {history.best_step})"))
    history.seconds = time.perf_counter() - start
    if best is not None and restore_best and history.best_step is not None:
        best.restore()
    if (not history.diverged and not history.stopped.startswith("interrupted")
            and history.best_step is not None and bound.worse_than_base(history.best_val_loss)):
        history.stopped = bound.worse_than_base_message(history.best_val_loss, history.best_step)
    if history.diverged:
        warnings.warn(history.stopped, RuntimeWarning, stacklevel=2)
    return history


def _objective(flow, data, val_data, target, steps, epochs, batch_size, eval_every, patience,
               val_size, seed, contexts=(None, None)):
    """Check :func:`fit`'s arguments; return ``(objective, steps, eval_every, patience)``.

    ``objective.validates`` says whether there is a validation loss to watch.
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
        objective = likelihood_objective(flow, data, val_data, batch_size, rng, *contexts)
        if epochs is not None:
            steps = check_int(epochs, "epochs", 1) * objective.steps_per_epoch
        eval_every = eval_every or objective.steps_per_epoch
    else:
        if epochs is not None:
            raise ValueError("epochs need a data set; with a target give steps")
        if flow.context_dim or any(c is not None for c in contexts):
            raise ValueError("reverse KL to a target is for unconditional flows (no context)")
        objective = ReverseKL(flow, target, batch_size, rng, check_int(val_size, "val_size", 1))
        eval_every = eval_every or 100
    steps = 1000 if steps is None else check_int(steps, "steps", 1)
    if patience is not None and not objective.validates:
        raise ValueError("early stopping (patience) needs val_data to watch")
    return objective, steps, eval_every, patience


def _train_loop(objective, optimizer, history, last_good, best, bar, steps, eval_every, patience,
                bound=None):
    """Run up to ``steps`` steps, filling ``history``; ``history.stopped`` says why it ended early.

    ``best`` is None without validation; otherwise it holds the best evaluated parameters.
    ``bound`` (a :class:`~scratchflow.stopping.DivergenceBound`, optional) stops a run whose
    minibatch or validation loss rises past it.
    """
    evals_without_improvement = 0
    running_loss = None
    for step in range(1, steps + 1):
        loss = gradient_step(objective, optimizer, history, last_good, step, bound)
        if loss is None:                                              # non-finite or past bound
            return
        running_loss = loss if running_loss is None else 0.95 * running_loss + 0.05 * loss
        if best is not None and (step % eval_every == 0 or step == steps):
            try:
                val_loss, improved = _evaluate(objective, history, best, step)
            except (FloatingPointError, DomainError) as error:       # validation diverged
                stop(history, last_good, divergence_message(error, "validation loss", step,
                                                              step - 1))
                return
            if bound is not None and bound.exceeded(val_loss):
                stop(history, last_good, bound.rise_message("validation loss", val_loss, step,
                                                           last_good.step))
                return
            evals_without_improvement = 0 if improved else evals_without_improvement + 1
            if patience is not None and evals_without_improvement >= patience:
                history.stopped = (f"early stopping at step {step}: no better validation loss in "
                                   f"{patience} evaluations; best {history.best_val_loss:.4f} at "
                                   f"step {history.best_step}")
                _show_progress(bar, step, running_loss, history)
                return
        _show_progress(bar, step, running_loss, history)


def _show_progress(bar, step, running_loss, history):
    """Move the tqdm ``bar`` to ``step``, showing the running loss and the latest validation loss:
    ``val_nll`` with data, ``val_kl`` (the reverse-KL estimate, up to log Z) with a target."""
    shown = {"loss": f"{running_loss:.4f}"}
    if history.val_loss:
        shown["val_nll" if history.mode == "data" else "val_kl"] = f"{history.val_loss[-1]:.4f}"
    bar.set_postfix(shown, refresh=False)
    bar.update(step - bar.n)


def _evaluate(objective, history, best, step):
    """Evaluate, record it in ``history``, save ``best`` on a new best; return (loss, improved).
    A non-finite validation loss raises :class:`DivergenceError`."""
    val_loss = objective.evaluate()
    if not math.isfinite(val_loss):
        raise DivergenceError(f"the validation loss is {val_loss}", "the validation pass")
    history.val_step.append(step)
    history.val_loss.append(val_loss)
    if history.best_val_loss is None or val_loss < history.best_val_loss:
        history.best_step, history.best_val_loss = step, val_loss
        best.save(step)
        return val_loss, True
    return val_loss, False


def limit_blas_threads(limit=1):
    """Context manager capping BLAS threads at ``limit`` (``None``: leave the BLAS setting alone)."""
    if limit is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(limit), user_api="blas")
