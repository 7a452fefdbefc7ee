"""Loss curves of a training run (a :class:`scratchflow.history.History`)."""
import matplotlib.pyplot as plt
import numpy as np

from scratchflow.plotting.figure import save_figure


def plot_loss(history, out_dir="figures", filename="loss.png", smooth=50):
    """Training loss per step (raw and a moving average) and validation loss per evaluation."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    train_loss = np.asarray(history.train_loss, dtype=np.float64)       # (S,)
    steps = np.arange(1, len(train_loss) + 1)
    label = "NLL (nats)" if history.mode == "data" else "reverse KL + const (nats)"
    if len(train_loss):
        ax.plot(steps, train_loss, color="tab:blue", alpha=0.25, lw=0.8, label="train (minibatch)")
        window = max(1, min(smooth, len(train_loss) // 5))
        if window > 1:
            moving = np.convolve(train_loss, np.ones(window) / window, mode="valid")
            ax.plot(steps[window - 1:], moving, color="tab:blue", lw=1.8,
                    label=f"train (mean of {window} steps)")
        low, high = np.percentile(train_loss, [1, 99])                   # ignore the first spikes
        if history.val_loss:
            low, high = min(low, min(history.val_loss)), max(high, max(history.val_loss))
        ax.set_ylim(low - 0.05 * (high - low + 1e-9), high + 0.1 * (high - low + 1e-9))
    if history.val_loss:
        ax.plot(history.val_step, history.val_loss, "o-", color="tab:orange", ms=3,
                label="validation")
    if history.best_step is not None:
        ax.axvline(history.best_step, color="tab:green", ls="--", lw=1,
                   label=f"best: {history.best_val_loss:.3f} at step {history.best_step}")
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.set_title("Training / обучение: " + history.stopped[:60], fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, out_dir, filename)
