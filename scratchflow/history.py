"""What training did and the parameters it keeps: :class:`History` and :class:`ParameterSnapshot`.

``History`` is what :func:`scratchflow.train.fit` returns and :mod:`scratchflow.io` saves;
``ParameterSnapshot`` is the in-place copy of a module's parameters and buffers that early stopping
(best parameters) and the non-finite guard (last parameters with a finite loss) restore.
"""
from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np


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
    val_bits_per_dim : list of float, image data only: each ``val_loss`` in bits per dimension of
        the discrete pixels (:func:`scratchflow.realdata.bits_per_dim`), the figure image papers
        quote; empty for other data
    best_step, best_val_loss : the evaluation with the lowest ``val_loss`` (None without validation)
    baseline_loss : float, the same loss for the base distribution alone (the flow at the identity):
        the validation NLL of p_z (data mode) or the reverse-KL estimate with q = p_z (target mode)
    stopped : str, why training ended ("finished", "early stopping: ...", "non-finite ..." naming
        the layer or array and the step, "point outside a layer's domain ..." naming the layer and
        the step, "diverged: ..." when a loss rose past the divergence bound or the best validation
        loss is worse than ``baseline_loss``, "interrupted (Ctrl-C) ..." or "interrupted (SIGTERM)
        ...")
    seconds : float, wall-clock time of the loop
    """
    mode: str
    train_loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    val_step: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_bits_per_dim: list = field(default_factory=list)
    best_step: Optional[int] = None
    best_val_loss: Optional[float] = None
    baseline_loss: Optional[float] = None
    stopped: str = "finished"
    seconds: float = 0.0

    @property
    def steps(self):
        """Number of optimizer steps taken."""
        return len(self.train_loss)

    @property
    def diverged(self):
        """True when the run failed: a non-finite value, points the model made outside a later
        layer's domain, a loss past the divergence bound, or a best validation loss worse than the
        base distribution alone (see :attr:`stopped`)."""
        return self.stopped.startswith(("non-finite", "point outside", "diverged"))

    def to_dict(self):
        return asdict(self)


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
