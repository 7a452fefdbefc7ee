"""A flow that starts at the data's Gaussian: the whitening first layer, fitted to the training rows.

``build_model({..., "whiten": True})`` puts a :class:`~scratchflow.bijectors.Whitening` layer first;
:func:`start_at_gaussian` fits it to the training rows (mean and full covariance, exactly). Every
builder starts its other layers at the identity, so before training

    log p(x) = log N(W (x − μ); 0, I) + log|det W| = log N(x; μ, Σ),

the full-covariance Gaussian of the training rows, the one-line baseline for small tabular data.
``scratchflow train`` does this by default for the tabular sets (wine, breast_cancer);
``--no-whiten`` turns it off. Guide: ``docs/real_data.md``.
"""
from scratchflow.bijectors.whitening import Whitening
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
