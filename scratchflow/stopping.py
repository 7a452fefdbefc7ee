"""How one training step fails cleanly: the guarded step of :func:`scratchflow.train.fit` and its
stop messages: nothing good is lost, every failure stops cleanly.

A step is: the objective's loss and gradients, then the optimizer's update. Anything non-finite on
the way — a layer's :class:`~scratchflow.divergence.DivergenceError` (it names the layer), a
non-finite loss, an optimizer that refuses a non-finite gradient, parameters that overshot to inf —
ends training: ``history.stopped`` says what, where and at which step, and the last parameters whose
loss was finite are copied back in place (``last_good``, a :class:`ParameterSnapshot`).
"""
import math

import numpy as np

from scratchflow.divergence import DivergenceError, DomainError


def gradient_step(objective, optimizer, history, last_good, step):
    """One minibatch and one optimizer step. Returns the loss, or None after a non-finite loss or
    gradient, when ``history.stopped`` names it and ``last_good``'s parameters are back in place."""
    try:
        loss = objective.step()                                       # fills flow.grads
    except (FloatingPointError, DomainError) as error:   # a layer overflowed or left a domain
        return stop(history, last_good, divergence_message(error, "loss or gradient", step,
                                                             last_good.step))
    if not math.isfinite(loss):
        return stop(history, last_good, non_finite_message("loss", loss, step, last_good.step))
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
