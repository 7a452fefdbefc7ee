"""A flow that starts at the data's Gaussian: the whitening first layer, fitted to the training rows.

``build_model({..., "whiten": True})`` puts a :class:`~scratchflow.bijectors.Whitening` layer first;
:func:`start_at_gaussian` fits it to the training rows (mean and full covariance, exactly). Every
builder starts its other layers at the identity, so before training

    log p(x) = log N(W (x − μ); 0, I) + log|det W| = log N(x; μ, Σ),

the full-covariance Gaussian of the training rows, the one-line baseline for small tabular data.
``scratchflow train`` does this by default for the tabular sets (wine, breast_cancer);
``--no-whiten`` turns it off. Guide: ``docs/real_data.md``.

Keeping the start. Early stopping picks the best of the evaluated parameters on validation, but
on a hundred rows a validation gain can be noise. :func:`keep_start_unless_better` compares the
trained flow with its start row by row on the validation set, d_i = log p(v_i) − log p_start(v_i),
and keeps the training only if the mean gain exceeds ``standard_errors`` times its standard error
std(d)/√V: prefer the simpler model unless the evidence is clear. The default, 2 standard errors,
is a one-sided test at about 2 %; with 1 (the "one-standard-error rule") NICE kept a validation
gain that was noise on one wine split and lost to the Gaussian on test (docs/real_data.md).
"""
import numpy as np

from scratchflow.bijectors.whitening import Whitening
from scratchflow.history import ParameterSnapshot
from scratchflow.input_checks import check_array

TABULAR_DATASETS = ("wine", "breast_cancer")     # real rows where the flow starts at N(μ, Σ)


def start_at_gaussian(flow, data):
    """Fit the flow's first layer, a Whitening, to ``data`` (N, D); return the flow. A flow built
    without ``whiten`` is refused: there is nothing to fit."""
    first = flow.layers.layers[0]
    if not isinstance(first, Whitening):
        raise ValueError(f"the flow's first layer is a {type(first).__name__}, not a Whitening; "
                         f"build it with build_model({{..., 'whiten': True}})")
    first.fit(check_array(data, "data", dim=flow.dim, dtype=flow.dtype))
    return flow


class StartSnapshot:
    """The flow's parameters and validation log-densities at the start, for
    :func:`keep_start_unless_better`: ``StartSnapshot(flow, val)`` before training."""

    def __init__(self, flow, val):
        self.parameters = ParameterSnapshot(flow)
        self.val_log_prob = flow.log_prob(val)                               # (V,)
        self.val = val


def keep_start_unless_better(flow, start, standard_errors=2.0):
    """Restore the start's parameters unless the trained flow's mean validation log-density beats
    the start's by more than ``standard_errors`` standard errors of the row-wise gain. Returns
    ``(kept_training, gain, standard_error)`` (nats per row)."""
    gain_per_row = flow.log_prob(start.val) - start.val_log_prob              # (V,)
    gain = float(gain_per_row.mean())
    error = float(gain_per_row.std() / np.sqrt(len(gain_per_row)))
    kept = bool(np.isfinite(gain) and gain > standard_errors * error)
    if not kept:
        start.parameters.restore()
    return kept, gain, error
