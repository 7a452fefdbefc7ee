"""The saved-model schema (``scratchflow.model_schema``): every rule's edges, and the size bound.

A model file's header is untrusted input, so each rule of :data:`SCHEMA` is a limit the loader
relies on: an int range is closed, a number range is open (0 would be a degenerate scale, bound or
logit alpha), a list of widths is bounded in length and in each width. ``min_stored_values`` must be
a lower bound (tested in ``test_flow_family_models.py``) and also a tight one: for a two-dimensional
coupling model and for any MADE model, the minimal network is the one built, so the bound is exactly
the number of weights (plus the LU layers' free entries and the final scales) the builder makes.
"""
import pytest

from scratchflow.model_schema import SCHEMA, check_config, min_stored_values
from scratchflow.models import build_model

MODELS = sorted(SCHEMA)
NETWORK_MODELS = [model for model in MODELS if "hidden" in SCHEMA[model]]
# The file format's limits, as ``model_schema`` states them (a header asking for more is refused
# before anything is built): closed int ranges, open number ranges (0 would be a degenerate scale
# bound, spline bound or logit alpha; alpha 0.5 squeezes every input to one point).
INT_LIMITS = {"dim": (1, 4096), "n_layers": (1, 512), "seed": (0, 2 ** 63 - 1), "bins": (1, 1024)}
NUMBER_LIMITS = {"logit_alpha": (0.0, 0.5), "scale_bound": (0.0, 1e6), "bound": (0.0, 1e6)}
MAX_WIDTH, MAX_DEPTH = 8192, 16              # units of one hidden layer, hidden layers of a network


def _config(model, **changes):
    return {"model": model, "dim": 3, **changes}


@pytest.mark.parametrize("model, key", [(model, key) for model in MODELS for key in INT_LIMITS
                                        if key in SCHEMA[model]])
def test_int_ranges_are_closed(model, key):
    low, high = INT_LIMITS[key]
    low = max(low, 2) if key == "dim" and model in ("realnvp", "nsf", "nice") else low
    for value in (low, high):
        assert check_config(_config(model, **{key: value}))[key] == value
    for value in (INT_LIMITS[key][0] - 1, high + 1, True, 2.0):
        with pytest.raises(ValueError, match=f"config '{key}' = "):
            check_config(_config(model, **{key: value}))


def test_dim_one_is_allowed_only_without_a_coupling():
    for model in ("maf", "iaf", "nsf-ar", "planar", "radial"):
        assert check_config({"model": model, "dim": 1})["dim"] == 1
    for model in ("realnvp", "nsf", "nice"):
        with pytest.raises(ValueError, match=r"needs dim >= 2, got 1"):
            check_config({"model": model, "dim": 1})


@pytest.mark.parametrize("model, key", [(model, key) for model in MODELS for key in NUMBER_LIMITS
                                        if key in SCHEMA[model]])
def test_number_ranges_are_open(model, key):
    low, high = NUMBER_LIMITS[key]
    inside = (low + min(high, 1.0)) / 2
    assert check_config(_config(model, **{key: inside}))[key] == inside
    for value in (low, high, -inside, 2 * high, True, "0.1"):
        with pytest.raises(ValueError, match=f"config '{key}' = "):
            check_config(_config(model, **{key: value}))


def test_only_the_scale_bound_may_be_null():
    assert check_config(_config("realnvp", scale_bound=None))["scale_bound"] is None
    for model, key in (("nsf", "bound"), ("maf", "logit_alpha")):
        with pytest.raises(ValueError, match=f"config '{key}' = None"):
            check_config(_config(model, **{key: None}))


@pytest.mark.parametrize("model", NETWORK_MODELS)
def test_hidden_widths_are_bounded_in_number_and_size(model):
    for hidden in ([], [1], [MAX_WIDTH], [1] * MAX_DEPTH):
        assert check_config(_config(model, hidden=hidden))["hidden"] == hidden
    for hidden in ([0], [MAX_WIDTH + 1], [1] * (MAX_DEPTH + 1), [True], [2.0], (4,), 4, "4"):
        with pytest.raises(ValueError, match="config 'hidden' = "):
            check_config(_config(model, hidden=hidden))


def test_bools_and_choices_take_only_their_own_type():
    for model, key, good, bad in (("realnvp", "actnorm", True, 1), ("maf", "batchnorm", False, 0),
                                  ("nice", "lu_linear", True, "yes"),
                                  ("maf", "order", "natural", "reversed"),
                                  ("realnvp", "activation", "tanh", ["tanh"]),
                                  ("realnvp", "dtype", "float32", "float16")):
        assert check_config(_config(model, **{key: good}))[key] == good
        with pytest.raises(ValueError, match=f"config '{key}' = "):
            check_config(_config(model, **{key: bad}))


def test_the_config_must_name_a_known_model_and_its_dimension():
    with pytest.raises(ValueError, match="JSON object, got list"):
        check_config([("model", "maf")])
    with pytest.raises(ValueError, match="unknown model 'waveglow'"):
        check_config({"model": "waveglow", "dim": 2})
    with pytest.raises(ValueError, match=r"misses \['dim'\] or has unknown keys \[\]"):
        check_config({"model": "maf"})
    with pytest.raises(ValueError, match=r"misses \[\] or has unknown keys \['bins'\]"):
        check_config({"model": "maf", "dim": 2, "bins": 4})


def _free_values(flow):
    """The parameter values a model of this config cannot do without: every weight entry, the
    strictly triangular entries of L and U and the diagonal of an LU layer, the scales of NICE's last
    layer; biases and shifts aside."""
    count = 0
    for name, array in flow.params.items():
        if name.endswith(".weight"):
            count += array.size
        elif name.endswith((".lower", ".upper")):
            count += array.shape[0] * (array.shape[0] - 1) // 2
        elif name.endswith(".log_scale"):
            count += array.size
    return count


@pytest.mark.parametrize("config", [
    {"model": "realnvp", "dim": 2, "n_layers": 3, "hidden": [3, 5]},
    {"model": "maf", "dim": 3, "n_layers": 2, "hidden": [4, 6, 2]},
    {"model": "iaf", "dim": 4, "n_layers": 1, "hidden": []},
    {"model": "nsf", "dim": 2, "n_layers": 2, "hidden": [3], "bins": 3},
    {"model": "nsf-ar", "dim": 3, "n_layers": 2, "hidden": [5, 2], "bins": 4},
    {"model": "nice", "dim": 2, "n_layers": 3, "hidden": [4, 3]},
    {"model": "nice", "dim": 2, "n_layers": 2, "hidden": [2], "lu_linear": True},
], ids=lambda config: config["model"] + ("-lu" if config.get("lu_linear") else ""))
def test_the_size_bound_is_tight_when_the_minimal_network_is_the_one_built(config):
    assert min_stored_values(config) == _free_values(build_model(dict(config)))


@pytest.mark.parametrize("model", ["realnvp-multiscale", "glow"])
def test_an_image_model_s_bound_counts_one_coupling_network_per_layer(model):
    """The image models hold more (several couplings a layer, 1×1 convolutions, ActNorms): the
    bound counts one coupling network [1, *hidden, 2] per layer, and stays below what is built."""
    config = {"model": model, "dim": 64, "n_layers": 2, "hidden": [3, 5]}
    assert min_stored_values(config) == 2 * (1 * 3 + 3 * 5 + 5 * 2)
    assert min_stored_values(config) <= _free_values(build_model(dict(config)))


@pytest.mark.parametrize("model", MODELS)
def test_the_size_bound_of_a_minimal_config_uses_the_builders_defaults(model):
    """A header may leave out n_layers, hidden, bins, lu_linear: the bound must then be the one of
    the config the builder completes (the defaults agree)."""
    minimal = {"model": model, "dim": 64 if model in ("realnvp-multiscale", "glow") else 2}
    assert min_stored_values(minimal) == min_stored_values(build_model(dict(minimal)).config)
