"""Loss curves of a training run (a :class:`scratchflow.history.History`)."""
import matplotlib.pyplot as plt
import numpy as np

from scratchflow.plotting.figure import save_figure

FLAT_RANGE = 1e-3       # nats: the range of a flat training curve (or of one validation value)


def plot_loss(history, out_dir="figures", filename="loss.png", smooth=50):
    """Training loss per step (raw and a moving average) and validation loss per evaluation.

    The moving average spans ``smooth`` steps, at most a fifth of the run (no average when that
    leaves one step or none).

    The y-axis follows the training curve (its 1st to 99th percentile) and the validation values
    within one such range above it; validation that explodes past that is drawn as triangles on
    the top edge (with its largest value in the legend), so the training curve stays readable.
    A flat curve's range counts as :data:`FLAT_RANGE`; a run without any finite loss is drawn on
    the range [0, 1]. Margins: 5 % of the range below, 10 % above.
    The title says why training stopped: the stop reason up to its first colon ("early stopping at
    step 120").
    """
    fig, ax = plt.subplots(figsize=(6.5, 4))
    train_loss = np.asarray(history.train_loss, dtype=np.float64)       # (S,)
    val_step = np.asarray(history.val_step, dtype=np.float64)            # (E,)
    val_loss = np.asarray(history.val_loss, dtype=np.float64)            # (E,)
    steps = np.arange(1, len(train_loss) + 1)
    label = "NLL (nats)" if history.mode == "data" else "reverse KL + const (nats)"
    if len(train_loss):
        ax.plot(steps, train_loss, color="tab:blue", alpha=0.25, lw=0.8, label="train (minibatch)")
        window = min(smooth, len(train_loss) // 5)
        if window > 1:
            moving = np.convolve(train_loss, np.ones(window) / window, mode="valid")
            ax.plot(steps[window - 1:], moving, color="tab:blue", lw=1.8,
                    label=f"train (mean of {window} steps)")
    low, high = _loss_range(train_loss, val_loss)
    if len(val_loss):
        shown = np.isfinite(val_loss) & (val_loss <= high)
        ax.plot(val_step[shown], val_loss[shown], "o-", color="tab:orange", ms=3, label="validation")
        if not shown.all():
            ax.plot(val_step[~shown], np.full((~shown).sum(), high), "^", color="tab:red", ms=6,
                    clip_on=False, label=f"validation above the scale (up to {np.max(val_loss):.3g})")
    ax.set_ylim(low, high)
    if history.best_step is not None:
        ax.axvline(history.best_step, color="tab:green", ls="--", lw=1,
                   label=f"best: {history.best_val_loss:.3f} at step {history.best_step}")
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.set_title("Training / обучение: " + history.stopped.split(":")[0], fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, out_dir, filename)


def _loss_range(train_loss, val_loss):
    """y-limits: the training curve's bulk, widened by the validation values within its reach."""
    values = train_loss[np.isfinite(train_loss)]                        # (S,)
    if len(values):
        low, high = np.percentile(values, [1, 99])                      # ignore the first spikes
    else:
        low, high = 0.0, 1.0
    finite_val = val_loss[np.isfinite(val_loss)]                        # (E,)
    if len(values) and len(finite_val):
        reach = high + max(high - low, FLAT_RANGE)
        low = min(low, finite_val.min())
        high = max(high, finite_val[finite_val <= reach].max(initial=high))
    elif len(finite_val):
        low, high = finite_val.min(), finite_val.max()
    span = max(high - low, FLAT_RANGE)
    return low - 0.05 * span, high + 0.1 * span
