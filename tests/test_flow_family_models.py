"""build_model names and the train command for the layers beyond the lecture."""
import os

import numpy as np
import pytest

from scratchflow.cli import main
from scratchflow.io import load_model, save_model
from scratchflow.model_schema import check_config, min_stored_values
from scratchflow.data import load_dataset
from scratchflow.models import build_model
from scratchflow.train import fit

CONFIGS = [
    {"model": "planar", "dim": 2, "n_layers": 3},
    {"model": "radial", "dim": 3, "n_layers": 3},
    {"model": "nice", "dim": 4, "n_layers": 2, "hidden": [8]},
    {"model": "nice", "dim": 2, "n_layers": 2, "hidden": [8], "lu_linear": True},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda config: config["model"])
def test_saved_model_reloads_bit_for_bit(config, tmp_path):
    flow = build_model(config)
    rng = np.random.default_rng(0)
    for array in flow.params.values():
        array += rng.uniform(-0.3, 0.3, array.shape)
    x = rng.normal(size=(6, config["dim"]))
    loaded = load_model(save_model(flow, str(tmp_path / "model.npz")))
    assert loaded.config == flow.config
    np.testing.assert_array_equal(loaded.log_prob(x), flow.log_prob(x))
    np.testing.assert_array_equal(loaded.sample(4, rng=1), flow.sample(4, rng=1))


@pytest.mark.parametrize("config", CONFIGS + [
    {"model": "nice", "dim": 5, "n_layers": 3, "hidden": [3, 7], "lu_linear": True},
    {"model": "nsf", "dim": 3, "n_layers": 2, "hidden": [4], "bins": 2},       # merged beside us
    {"model": "nsf-ar", "dim": 3, "n_layers": 2, "hidden": [4], "bins": 2}],
                         ids=lambda config: config["model"])
def test_the_schema_takes_the_config_and_its_size_bound_is_a_lower_bound(config):
    """The loader refuses a file holding fewer values than ``min_stored_values``: the bound must
    not exceed what the builder makes (planar and radial: exactly their count)."""
    flow = build_model(config)
    check_config(flow.config)
    bound = min_stored_values(flow.config)
    assert 0 < bound <= flow.num_params()
    if config["model"] in ("planar", "radial"):
        assert bound == flow.num_params()


def test_the_schema_refuses_network_keys_for_planar_and_nice_below_two_dimensions():
    with pytest.raises(ValueError, match=r"unknown keys \['hidden'\]"):
        check_config({"model": "radial", "dim": 2, "hidden": [4]})
    with pytest.raises(ValueError, match=r"\(nice\) needs dim >= 2"):
        check_config({"model": "nice", "dim": 1})


def test_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match="planar, radial, nice"):
        build_model({"model": "sylvester", "dim": 2})


@pytest.mark.parametrize("model", ["planar", "nice"])
def test_train_command_takes_the_new_models(model, tmp_path):
    out = str(tmp_path / model)
    assert main(["train", "--model", model, "--data", "moons", "--steps", "3", "--layers", "2",
                 "--hidden", "8", "--n-train", "64", "--n-val", "32", "--no-progress",
                 "--no-figures", "--out", out]) == 0
    assert load_model(os.path.join(out, "model.npz")).config["model"] == model


@pytest.mark.parametrize("model", ["planar", "radial"])
def test_planar_and_radial_start_near_the_identity_on_checkerboard(model):
    """The first validation NLL is near the base's alone (planar's was 18.2 against 3.21)."""
    data = load_dataset("checkerboard", 1024, rng=0)
    flow = build_model({"model": model, "dim": 2, "n_layers": 8, "seed": 0})
    history = fit(flow, data, data, steps=8, batch_size=256, eval_every=4, progress=False)
    assert history.val_loss[0] < history.baseline_loss + 0.1
