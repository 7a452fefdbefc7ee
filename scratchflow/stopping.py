"""How one training step fails cleanly: the guarded step of :func:`scratchflow.train.fit` and its
stop messages: nothing good is lost, every failure stops cleanly.

A step is: the objective's loss and gradients, then the optimizer's update. Anything non-finite on
the way — a layer's :class:`~scratchflow.divergence.DivergenceError` (it names the layer), a
non-finite loss, an optimizer that refuses a non-finite gradient, parameters that overshot to inf —
ends training: ``history.stopped`` says what, where and at which step, and the last parameters whose
loss was finite are copied back in place (``last_good``, a :class:`ParameterSnapshot`).

A run can also fail while every number stays finite: a soft scale bound, a spline's bounded bins or
a planar layer's constrained u keep a diverged model finite, at a loss of thousands of nats. The
:class:`DivergenceBound` catches that: a flow starts at (or near) the identity, whose loss is the
base distribution's alone, so a minibatch or validation loss that rises more than
:data:`DIVERGENCE_MARGIN` nats per dimension above it has diverged, and a run whose best validation
loss is worse than the base alone (beyond :data:`BASE_TOLERANCE`) has failed.
"""
import math

import numpy as np

from scratchflow.divergence import DivergenceError, DomainError

DIVERGENCE_MARGIN = 10.0
"""Nats per dimension above the base distribution's loss past which a run has diverged.

A point at that loss has e^(−10 D) of the density the untrained flow gave it. A learning rate that
trains moves the loss down from the base's, with minibatch noise of a fraction of a nat; a learning
rate that is too large leaves the bound in a few steps (Real-NVP on two moons at lr 10: thousands
of nats against the base's 2.49; a radial flow at lr 10: 126 nats at its second step)."""

BASE_TOLERANCE = 0.02
"""Nats per dimension a best validation loss may lie above the base's before the run has failed: an
untrained flow near the identity (a few steps, a random start) sits within it."""

TRY_SMALLER = ("the learning rate{lr} is the likely cause: try one 3-10 times smaller, or gradient "
               "clipping (clip_norm)")


class DivergenceBound:
    """The base distribution's loss (``baseline``) and the bound a diverged run's loss rises past."""

    def __init__(self, baseline, dim, lr=None):
        self.baseline, self.lr = baseline, lr
        self.limit = baseline + DIVERGENCE_MARGIN * dim
        self.tolerance = BASE_TOLERANCE * dim

    def exceeded(self, loss):
        """True when ``loss`` rose past the bound: the run diverged."""
        return loss > self.limit

    def worse_than_base(self, best_loss):
        """True when the best validation loss is worse than the base alone: the run failed."""
        return best_loss > self.baseline + self.tolerance

    def advice(self):
        return TRY_SMALLER.format(lr="" if self.lr is None else f" ({self.lr:g})")

    def rise_message(self, what, loss, step, good_step):
        return (f"diverged at step {step}: the {what} ({loss:.6g}) rose past {self.limit:.4f}, the "
                f"base distribution alone ({self.baseline:.4f}) plus {DIVERGENCE_MARGIN:g} nats per "
                f"dimension; {self.advice()}. Training stopped and the parameters after step "
                f"{good_step} were kept")

    def worse_than_base_message(self, best_loss, best_step):
        return (f"diverged: the best validation loss {best_loss:.4f} (step {best_step}) is worse than "
                f"the base distribution alone ({self.baseline:.4f}): training made the model worse "
                f"than no training; {self.advice()}")


def gradient_step(objective, optimizer, history, last_good, step, bound=None):
    """One minibatch and one optimizer step. Returns the loss, or None after a non-finite loss or
    gradient, or a loss past ``bound`` (a :class:`DivergenceBound`, optional), when
    ``history.stopped`` names it and ``last_good``'s parameters are back in place."""
    try:
        loss = objective.step()                                       # fills flow.grads
    except (FloatingPointError, DomainError) as error:   # a layer overflowed or left a domain
        return stop(history, last_good, divergence_message(error, "loss or gradient", step,
                                                             last_good.step))
    if not math.isfinite(loss):
        return stop(history, last_good, non_finite_message("loss", loss, step, last_good.step))
    if bound is not None and bound.exceeded(loss):
        return stop(history, last_good, bound.rise_message("minibatch loss", loss, step,
                                                           last_good.step))
    last_good.save(step - 1)                                          # the parameters that gave `loss`
    try:
        grad_norm = optimizer.step()
    except FloatingPointError as error:                               # refused a non-finite gradient
        what = "gradient" + _first_non_finite(objective.flow.grads)
        history.grad_norm.append(math.nan)
        return stop(history, last_good, divergence_message(error, what, step, step - 1))
    if grad_norm is not None:
        history.grad_norm.append(float(grad_norm))
        if not math.isfinite(grad_norm):
            what = "gradient" + _first_non_finite(objective.flow.grads)
            return stop(history, last_good, non_finite_message(what, grad_norm, step, step - 1))
    if not _all_finite(last_good.live):                               # an optimizer that overshot
        what = "parameter" + _first_non_finite(objective.flow.params)
        return stop(history, last_good, non_finite_message(what, math.nan, step, step - 1))
    history.train_loss.append(loss)
    return loss


def stop(history, last_good, message):
    """Record why training stopped, put the last good parameters back; return None (stopped)."""
    history.stopped = message
    last_good.restore()
    return None


def _all_finite(arrays):
    return all(np.isfinite(array).all() for array in arrays.values())


def _first_non_finite(arrays):
    """`` of <name>`` for the first array with NaN or inf (the name says the layer), else ""."""
    names = [name for name, array in arrays.items() if not np.isfinite(array).all()]
    return f" of {names[0]}" if names else ""


def non_finite_message(what, value, step, good_step):
    return (f"non-finite {what} ({value}) at step {step}: training stopped and the parameters "
            f"after step {good_step} (the last with a finite loss) were kept; try a smaller "
            f"learning rate or gradient clipping (clip_norm)")


def divergence_message(error, what, step, good_step):
    """The stop message for an overflow inside the model; the error names the layer."""
    if isinstance(error, (DivergenceError, DomainError)):
        error.step = step
    if isinstance(error, DomainError):
        return (f"point outside a layer's domain at step {step}: {error}. Training stopped and the "
                f"parameters after step {good_step} (the last with a finite loss) were kept; try a "
                f"smaller learning rate")
    return (f"non-finite {what} at step {step}: {error}. Training stopped and the parameters "
            f"after step {good_step} (the last with a finite loss) were kept")
