"""Builders of the flow families beyond the lecture: planar, radial (Rezende & Mohamed 2015), NICE.

:func:`scratchflow.models.build_model` dispatches here for ``"planar"``, ``"radial"`` and
``"nice"``; every builder returns a :class:`~scratchflow.flow.Flow` whose ``config`` is the
JSON-able dict that rebuilds it (what ``io.save_model`` stores). The guide is ``docs/flow_family.md``.
"""
import numpy as np

from scratchflow.bijectors.additive import AdditiveCoupling
from scratchflow.bijectors.coupling import realnvp_masks
from scratchflow.bijectors.elementwise import ElementwiseAffine
from scratchflow.bijectors.lu_linear import LULinear
from scratchflow.bijectors.planar import PlanarFlow
from scratchflow.bijectors.radial import RadialFlow
from scratchflow.flow import Flow
from scratchflow.input_checks import check_int, check_sizes


def build_planar(dim, n_layers=8, seed=0, dtype="float64"):
    """K = ``n_layers`` planar flows (Rezende & Mohamed 2015; :class:`~scratchflow.bijectors.PlanarFlow`).

    Sampling and the reverse KL run the paper's explicit map; ``log_prob`` solves it per layer.
    """
    return _simple_stack("planar", PlanarFlow, dim, n_layers, seed, dtype)


def build_radial(dim, n_layers=8, seed=0, dtype="float64"):
    """K = ``n_layers`` radial flows (Rezende & Mohamed 2015; :class:`~scratchflow.bijectors.RadialFlow`)."""
    return _simple_stack("radial", RadialFlow, dim, n_layers, seed, dtype)


def _simple_stack(model, layer_class, dim, n_layers, seed, dtype):
    """``n_layers`` layers of ``layer_class`` with parameters drawn from one seeded generator."""
    dim, n_layers = check_int(dim, "dim", 1), check_int(n_layers, "n_layers", 1)
    dtype, rng = np.dtype(dtype), np.random.default_rng(seed)
    flow = Flow([layer_class(dim, rng=rng, dtype=dtype) for _ in range(n_layers)])
    flow.config = {"model": model, "dim": dim, "n_layers": n_layers, "seed": int(seed),
                   "dtype": dtype.name}
    return flow


def build_nice(dim, n_layers=4, hidden=(64, 64), activation="tanh", lu_linear=False, seed=0,
               dtype="float64", context_dim=0):
    """NICE (Dinh et al. 2014, arXiv:1410.8516): additive couplings, then one diagonal scaling.

    ``n_layers`` :class:`~scratchflow.bijectors.AdditiveCoupling` layers with the masks of
    :func:`~scratchflow.bijectors.coupling.realnvp_masks` (volume-preserving, log-det 0) and a
    final :class:`~scratchflow.bijectors.ElementwiseAffine`, which carries the whole log-det. With
    ``lu_linear=True`` an :class:`~scratchflow.bijectors.LULinear` (Glow §3.2) precedes every
    coupling, a learned mixing of the coordinates instead of a fixed alternation. With
    ``context_dim = C`` every coupling network also reads a context (N, C) (a conditional flow).
    """
    dim, n_layers = check_int(dim, "dim"), check_int(n_layers, "n_layers", 1)
    if dim < 2:
        raise ValueError(f"NICE needs dim >= 2 (a coupling layer conditions one part on the other), "
                         f"got {dim}")
    hidden, dtype = list(check_sizes(hidden, "hidden")), np.dtype(dtype)
    rng = np.random.default_rng(seed)
    layers = []
    for mask in realnvp_masks(dim, n_layers):
        if lu_linear:
            layers.append(LULinear(dim, rng=rng, dtype=dtype))
        layers.append(AdditiveCoupling(dim, mask, hidden=hidden, activation=activation, rng=rng,
                                       dtype=dtype, context_dim=context_dim))
    layers.append(ElementwiseAffine(dim, dtype=dtype))
    flow = Flow(layers)
    flow.config = {"model": "nice", "dim": dim, "n_layers": n_layers, "hidden": hidden,
                   "activation": activation, "lu_linear": bool(lu_linear), "seed": int(seed),
                   "dtype": dtype.name}
    if context_dim:                     # conditional: recorded only then (config unchanged otherwise)
        flow.config["context_dim"] = int(context_dim)
    return flow
