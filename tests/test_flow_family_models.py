"""build_model names and the train command for the layers beyond the lecture (issue 15)."""
import os

import numpy as np
import pytest

from scratchflow.cli import main
from scratchflow.io import load_model, save_model
from scratchflow.models import build_model

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
