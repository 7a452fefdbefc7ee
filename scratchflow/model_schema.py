"""The schema of a saved model's config: what :func:`scratchflow.io.load_model` accepts before it
builds anything.

A model file comes from anywhere (a classmate, a forum), so its header is input like any other: a
file of a few kilobytes must not make the loader build 10⁷ layers or a 20000 × 20000 matrix. The
config is checked key by key against :data:`SCHEMA` (known model names, known keys, types, ranges),
then :func:`min_stored_values` gives a lower bound on the number of parameters it describes, which
the loader compares with the number of values the file actually holds, before building.
"""
import numbers

from scratchflow.models import AUTOREGRESSIVE_ORDERS
from scratchflow.nn.activations import ACTIVATIONS

MAX_DIM = 4096                 # data dimension D
MAX_LAYERS = 512               # flow layers
MAX_WIDTH = 8192               # units of one hidden layer
MAX_DEPTH = 16                 # hidden layers of one network
MAX_SEED = 2 ** 63 - 1
MAX_BINS = 1024                # K, bins of one spline
MAX_CONTEXT = 4096             # C, context size of a conditional flow

_COMMON = {
    "model": ("choice", ("realnvp", "maf", "iaf", "nsf", "nsf-ar", "planar", "radial", "nice",
                         "realnvp-multiscale", "glow")),
    "dim": ("int", 1, MAX_DIM),
    "n_layers": ("int", 1, MAX_LAYERS),
    "hidden": ("widths", 1, MAX_WIDTH),
    "activation": ("choice", tuple(ACTIVATIONS)),
    "seed": ("int", 0, MAX_SEED),
    "dtype": ("choice", ("float64", "float32")),
    "logit_alpha": ("number", 0.0, 0.5),
    "whiten": ("bool",),
}
_CONTEXT = {"context_dim": ("int", 1, MAX_CONTEXT)}      # conditional flows (beyond the lecture)
SCHEMA = {
    "realnvp": {**_COMMON, **_CONTEXT, "scale_bound": ("number or null", 0.0, 1e6),
                "actnorm": ("bool",)},
    "maf": {**_COMMON, **_CONTEXT, "order": ("choice", AUTOREGRESSIVE_ORDERS),
            "batchnorm": ("bool",)},
}
SCHEMA["iaf"] = SCHEMA["maf"]
SCHEMA["nsf"] = {**_COMMON, **_CONTEXT, "bins": ("int", 1, MAX_BINS), "bound": ("number", 0.0, 1e6),
                 "order": ("choice", AUTOREGRESSIVE_ORDERS)}
SCHEMA["nsf-ar"] = SCHEMA["nsf"]
SCHEMA["nice"] = {**_COMMON, **_CONTEXT, "lu_linear": ("bool",)}                  # beyond the lecture
_NO_NETWORK = {key: rule for key, rule in _COMMON.items() if key not in ("hidden", "activation")}
SCHEMA["planar"] = SCHEMA["radial"] = _NO_NETWORK                   # no network: no hidden sizes
_IMAGE = {"image_shape": ("widths", 1, MAX_DIM), "scale_bound": ("number or null", 0.0, 1e6)}
SCHEMA["realnvp-multiscale"] = {**_COMMON, **_IMAGE, "n_scales": ("int", 1, 12)}   # images
SCHEMA["glow"] = {**_COMMON, **_IMAGE, "n_levels": ("int", 1, 12)}
REQUIRED = ("model", "dim")


def check_config(config):
    """Raise ``ValueError`` naming the key if ``config`` is not a model config :data:`SCHEMA` allows."""
    if not isinstance(config, dict):
        raise ValueError(f"the config must be a JSON object, got {type(config).__name__}")
    model = config.get("model")
    if model not in SCHEMA:
        raise ValueError(f"unknown model {model!r}; this scratchflow builds {sorted(SCHEMA)}")
    missing = [key for key in REQUIRED if key not in config]
    unknown = sorted(set(config) - set(SCHEMA[model]))
    if missing or unknown:
        raise ValueError(f"the {model} config misses {missing} or has unknown keys {unknown}")
    for key, value in config.items():
        _check_value(key, value, SCHEMA[model][key])
    if model in ("realnvp", "nsf", "nice") and config["dim"] < 2:
        raise ValueError(f"config 'dim': a coupling model ({model}) needs dim >= 2, "
                         f"got {config['dim']}")
    return config


def _check_value(key, value, rule):
    kind, *bounds = rule
    if kind == "choice":
        ok = isinstance(value, str) and value in bounds[0]
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = _is_int(value) and bounds[0] <= value <= bounds[1]
    elif kind == "widths":
        ok = (isinstance(value, list) and len(value) <= MAX_DEPTH
              and all(_is_int(width) and bounds[0] <= width <= bounds[1] for width in value))
    else:                                               # "number" or "number or null"
        ok = ((value is None and kind == "number or null")
              or (isinstance(value, numbers.Real) and not isinstance(value, bool)
                  and bounds[0] < value < bounds[1]))
    if not ok:
        raise ValueError(f"config {key!r} = {value!r} is not allowed (expected {kind} "
                         f"{bounds if bounds else ''})".rstrip())


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def min_stored_values(config):
    """A lower bound on the number of parameter values the (checked) config's model holds.

    Each layer's network has at least the weights of ``[inputs, *hidden, outputs]``: a coupling
    network reads >= 1 dimension and writes >= 2 numbers (s and t of one dimension), a MADE reads D
    and writes 2D; a spline network writes 3K - 1 numbers per dimension instead of 2. A NICE
    coupling network reads and writes >= 1 (plus D² per LU layer, D for the final scaling); a
    planar layer holds u, w, b (2D + 1), a radial one z₀, α, β (D + 2). Plain integers: no array
    is made.
    """
    dim, model = config["dim"], config["model"]
    if model in ("realnvp-multiscale", "glow"):       # >= one coupling network per layer counted
        widths = [1, *config.get("hidden", [64, 64]), 2]
        default_layers = 3 if model == "realnvp-multiscale" else 4
        return config.get("n_layers", default_layers) * sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    if model in ("planar", "radial"):
        per_layer = 2 * dim + 1 if model == "planar" else dim + 2
        return config.get("n_layers", 8) * per_layer
    hidden = list(config.get("hidden", [64, 64]))
    if model == "nice":
        widths = [1, *hidden, 1]
        per_layer = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
        per_layer += dim * dim if config.get("lu_linear", False) else 0
        return config.get("n_layers", 4) * per_layer + dim
    per_dim = 3 * config.get("bins", 8) - 1 if model.startswith("nsf") else 2
    coupling = model in ("realnvp", "nsf")
    widths = [1, *hidden, per_dim] if coupling else [dim, *hidden, per_dim * dim]
    per_layer = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    default_layers = {"realnvp": 8, "nsf": 4, "nsf-ar": 4}.get(model, 5)
    return config.get("n_layers", default_layers) * per_layer
