"""Ready-made flows by name, built from a plain JSON-able config dict (also what ``io`` saves).

``build_model({"model": "realnvp", "dim": 2, ...})`` returns a :class:`~scratchflow.flow.Flow` whose
``config`` attribute is that dict, so a saved model can be rebuilt and its parameters filled in.
The lecture's families (Real-NVP, MAF, IAF) and those beyond it (neural spline flows; planar and
radial flows, Rezende & Mohamed 2015; NICE, guide ``docs/flow_family.md``) are built here, one
builder per family, and :data:`MODELS` maps each name to its builder. ``realnvp_masks`` lives
beside the coupling layer (``bijectors/coupling.py``) and is importable from here too.
"""
import functools

import numpy as np

from scratchflow.bijectors.actnorm import ActNorm
from scratchflow.bijectors.additive import AdditiveCoupling
from scratchflow.bijectors.autoregressive import IAF, MAF
from scratchflow.bijectors.batchnorm import BatchNorm
from scratchflow.bijectors.coupling import AffineCoupling, realnvp_masks   # masks: re-exported
from scratchflow.bijectors.elementwise import ElementwiseAffine
from scratchflow.bijectors.logit import Logit
from scratchflow.bijectors.lu_linear import LULinear
from scratchflow.bijectors.planar import PlanarFlow
from scratchflow.bijectors.radial import RadialFlow
from scratchflow.bijectors.spline_autoregressive import SplineAutoregressive
from scratchflow.bijectors.spline_coupling import SplineCoupling
from scratchflow.bijectors.whitening import Whitening
from scratchflow.flow import Flow
from scratchflow.image_models import build_glow, build_realnvp_multiscale
from scratchflow.input_checks import check_int, check_sizes


def build_model(config):
    """Build the flow that ``config`` describes; ``config["model"]`` names the family.

    ``config["logit_alpha"]`` (optional, e.g. 0.05 for pixel data in (0, 1)) puts a
    :class:`~scratchflow.bijectors.Logit` layer first, so ``log_prob`` is the density of the data
    in (0, 1) itself: the logit's log-det is part of the stack (Real-NVP §4.1).
    """
    full_config = dict(config)
    options = dict(config)
    model = options.pop("model", None)
    logit_alpha = options.pop("logit_alpha", None)
    whiten = options.pop("whiten", False)
    if not isinstance(model, str) or model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    flow = MODELS[model](**options)
    if logit_alpha is not None:
        flow = _with_first_layer(flow, Logit(flow.dim, alpha=float(logit_alpha), dtype=flow.dtype),
                                 full_config)
    if whiten:
        flow = _with_first_layer(flow, Whitening(flow.dim, dtype=flow.dtype), full_config)
    return flow


def _with_first_layer(flow, first, config):
    """A new flow: ``first``, then the layers of ``flow`` (which is dropped), with ``config``."""
    flow = Flow([first, *flow.layers.layers], base=flow.base)
    flow.config = config
    return flow


def build_realnvp(dim, n_layers=8, hidden=(64, 64), activation="tanh", scale_bound=5.0,
                  actnorm=False, seed=0, dtype="float64", context_dim=0):
    """Real-NVP (slide "Real-NVP"): ``n_layers`` affine coupling layers with alternating masks.

    Parameters
    ----------
    dim : int
        Data dimension D >= 2.
    n_layers : int
        Number of :class:`~scratchflow.bijectors.AffineCoupling` layers; masks from
        :func:`realnvp_masks`.
    hidden : sequence of int
        Hidden sizes of each layer's MLP, which outputs s and t together (2(D − d) outputs).
    activation : str
        MLP activation ("tanh", "relu", "softplus", "silu").
    scale_bound : float or None
        Soft clamp s = b·tanh(ŝ/b) of the log-scale (default 5: a layer scales by at most e^5);
        ``None`` is the slide's plain exp(s).
    actnorm : bool
        Put an :class:`~scratchflow.bijectors.ActNorm` before every coupling layer.
    seed : int
        Seed of the initial weights (each layer starts as the identity: zeroed last layer).
    dtype : "float64" (default) or "float32"
    context_dim : int
        C >= 1: a conditional flow whose every coupling network also reads a context (N, C)
        (beyond the lecture; :mod:`scratchflow.flow`); 0 (default): the slide's flow.

    Returns
    -------
    Flow
        With ``flow.config`` = the JSON-able dict of all these options (and ``"model": "realnvp"``),
        which :func:`build_model` turns back into the same architecture.
    """
    dim, n_layers, hidden, dtype, rng = _checked_options(
        dim, n_layers, hidden, dtype, seed, min_dim=2,
        dim_rule="Real-NVP needs dim >= 2 (a coupling layer conditions one part on the other)")
    layers = []
    for mask in realnvp_masks(dim, n_layers):
        if actnorm:
            layers.append(ActNorm(dim, dtype=dtype))
        layers.append(AffineCoupling(dim, mask, hidden=hidden, activation=activation,
                                     scale_bound=scale_bound, rng=rng, dtype=dtype,
                                     context_dim=context_dim))
    flow = Flow(layers)
    flow.config = {"model": "realnvp", "dim": dim, "n_layers": n_layers, "hidden": hidden,
                   "activation": activation,
                   "scale_bound": None if scale_bound is None else float(scale_bound),
                   "actnorm": bool(actnorm), "seed": int(seed), "dtype": dtype.name}
    return with_context_config(flow, context_dim)


def with_context_config(flow, context_dim):
    """Record a conditional flow's context size C in ``flow.config`` (absent when C = 0, so an
    unconditional model's config and file stay what they were); return the flow."""
    context_dim = check_int(context_dim, "context_dim", 0)
    if context_dim:
        flow.config["context_dim"] = context_dim
    return flow


AUTOREGRESSIVE_ORDERS = ("reversed-between-layers", "natural", "random")


def autoregressive_orders(dim, n_layers, order="reversed-between-layers", rng=None):
    """The ordering of each MADE layer, as a list of permutations of range(dim).

    ``"reversed-between-layers"`` (default): natural (0, 1, ..., D−1) in even layers, reversed in
    odd ones, so a dimension generated last in one layer is generated first in the next and every
    dimension gets to condition the others (the MAF paper's choice). ``"natural"``: the same order
    in every layer (a weaker model: dimension 0 only ever gets an elementwise affine map).
    ``"random"``: a fresh random permutation per layer, drawn from ``rng``.
    """
    if order == "reversed-between-layers":
        return [np.arange(dim) if k % 2 == 0 else np.arange(dim)[::-1].copy() for k in range(n_layers)]
    if order == "natural":
        return [np.arange(dim) for _ in range(n_layers)]
    if order == "random":
        rng = np.random.default_rng(rng)
        return [rng.permutation(dim) for _ in range(n_layers)]
    raise ValueError(f"unknown order {order!r}; choose one of {AUTOREGRESSIVE_ORDERS}")


def build_autoregressive(model, dim, n_layers=5, hidden=(64, 64), activation="tanh",
                         order="reversed-between-layers", seed=0, dtype="float64", batchnorm=False,
                         context_dim=0):
    """MAF or IAF (slides "Masked Autoregressive Flow (MAF)", "Inverse Autoregressive Flow (IAF)").

    Parameters
    ----------
    model : {"maf", "iaf"}
        MAF: density in one MADE pass per layer, sampling in D passes. IAF: the other way round.
    dim : int
        Data dimension D >= 1.
    n_layers : int
        Number of MAF/IAF layers (each with its own MADE).
    hidden : sequence of int
        Hidden widths of every MADE.
    activation : str
        MADE activation ("tanh", "relu", "softplus", "silu").
    order : {"reversed-between-layers", "natural", "random"}
        Orderings of the layers, see :func:`autoregressive_orders`.
    seed : int
        Seed of the orderings (if random), the MADE hidden degrees and the initial weights. Every
        layer starts as the identity (zeroed MADE output layer).
    dtype : "float64" (default) or "float32"
    batchnorm : bool
        Put a :class:`~scratchflow.bijectors.BatchNorm` between consecutive layers (the MAF paper's
        "MAF with batch norm"); remember ``set_training(flow, False)`` before evaluating.
    context_dim : int
        C >= 1: every MADE also reads a context (N, C) (a conditional flow, beyond the lecture).

    Returns
    -------
    Flow
        With ``flow.config`` = the JSON-able dict of all these options (``"model": "maf"`` or
        ``"iaf"``), which :func:`build_model` turns back into the same architecture.
    """
    if model not in ("maf", "iaf"):
        raise ValueError(f"model must be 'maf' or 'iaf', got {model!r}")
    dim, n_layers, hidden, dtype, rng = _checked_options(dim, n_layers, hidden, dtype, seed, min_dim=1,
                                                         dim_rule="dim must be >= 1")
    layer_class = MAF if model == "maf" else IAF
    layers = []
    for k, layer_order in enumerate(autoregressive_orders(dim, n_layers, order, rng)):
        if batchnorm and k > 0:
            layers.append(BatchNorm(dim, dtype=dtype))
        layers.append(layer_class(dim, hidden=hidden, order=layer_order, activation=activation,
                                  rng=rng, zero_last=True, dtype=dtype, context_dim=context_dim))
    flow = Flow(layers)
    flow.config = {"model": model, "dim": dim, "n_layers": n_layers, "hidden": hidden,
                   "activation": activation, "order": order, "seed": int(seed),
                   "dtype": dtype.name, "batchnorm": bool(batchnorm)}
    return with_context_config(flow, context_dim)


def build_nsf(model, dim, n_layers=4, hidden=(64, 64), bins=8, bound=4.0, activation="tanh",
              order="reversed-between-layers", seed=0, dtype="float64", context_dim=0):
    """Neural spline flow (beyond the lecture; arXiv 1906.04068): rational-quadratic spline layers.

    Parameters
    ----------
    model : {"nsf", "nsf-ar"}
        "nsf": :class:`~scratchflow.bijectors.SplineCoupling` layers with the Real-NVP masks of
        :func:`realnvp_masks` (D >= 2). "nsf-ar": :class:`~scratchflow.bijectors.SplineAutoregressive`
        layers (MAF direction: density in one pass, sampling in D) with the orderings of
        :func:`autoregressive_orders`.
    dim, n_layers, hidden, activation, seed, dtype
        As in :func:`build_realnvp`; every layer starts as the identity.
    bins : int
        K, bins per spline.
    bound : float
        B: each spline acts on [−B, B] and is the identity outside (default 4: the toy data sets
        lie inside).
    order : str
        "nsf-ar" only: see :func:`autoregressive_orders`.
    context_dim : int
        C >= 1: every spline's network also reads a context (N, C) (a conditional flow, beyond
        the lecture).

    Returns
    -------
    Flow
        With ``flow.config``, which :func:`build_model` turns back into the same architecture.
    """
    if model not in ("nsf", "nsf-ar"):
        raise ValueError(f"model must be 'nsf' or 'nsf-ar', got {model!r}")
    dim, n_layers, hidden, dtype, rng = _checked_options(
        dim, n_layers, hidden, dtype, seed, min_dim=2 if model == "nsf" else 1,
        dim_rule="'nsf' (spline coupling) needs dim >= 2; use 'nsf-ar' for 1-D" if model == "nsf"
        else "dim must be >= 1")
    spline = dict(bins=bins, bound=bound, hidden=hidden, activation=activation, rng=rng, dtype=dtype,
                  context_dim=context_dim)
    if model == "nsf":
        layers = [SplineCoupling(dim, mask, **spline) for mask in realnvp_masks(dim, n_layers)]
    else:
        layers = [SplineAutoregressive(dim, order=layer_order, **spline)
                  for layer_order in autoregressive_orders(dim, n_layers, order, rng)]
    flow = Flow(layers)
    flow.config = {"model": model, "dim": dim, "n_layers": n_layers, "hidden": hidden,
                   "bins": int(bins), "bound": float(bound), "activation": activation,
                   "order": order, "seed": int(seed), "dtype": dtype.name}
    return with_context_config(flow, context_dim)


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


def _checked_options(dim, n_layers, hidden, dtype, seed, min_dim, dim_rule):
    """The builders' shared checks: ``(dim, n_layers, hidden, dtype, rng)`` or a ValueError.

    ``dim_rule`` is the start of the message for a ``dim`` below ``min_dim``.
    """
    dim, n_layers = check_int(dim, "dim"), check_int(n_layers, "n_layers")   # 2.5 is an error
    if dim < min_dim:
        raise ValueError(f"{dim_rule}, got {dim}")
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got {n_layers}")
    hidden = list(check_sizes(hidden, "hidden"))
    return dim, n_layers, hidden, np.dtype(dtype), np.random.default_rng(seed)


MODELS = {                                   # config["model"] -> the builder of that family
    "realnvp": build_realnvp,
    "maf": functools.partial(build_autoregressive, "maf"),
    "iaf": functools.partial(build_autoregressive, "iaf"),
    "nsf": functools.partial(build_nsf, "nsf"),
    "nsf-ar": functools.partial(build_nsf, "nsf-ar"),
    "planar": build_planar,
    "radial": build_radial,
    "nice": build_nice,
    "realnvp-multiscale": build_realnvp_multiscale,     # images (C, H, W): image_models.py
    "glow": build_glow,
}
