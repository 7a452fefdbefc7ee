"""Saving and loading models: bit-for-bit round trips and a clear error for every broken file."""
import json
import re

import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Flow
from scratchflow.bijectors import set_training
from scratchflow.cli import build_parser
from scratchflow.data import load_dataset
from scratchflow.io import (FORMAT_VERSION, ModelFileError, load_history, load_model, save_history,
                            save_model)
from scratchflow.models import build_autoregressive, build_model, build_realnvp
from scratchflow.train import History


@pytest.fixture
def trained(tmp_path):
    """A small Real-NVP with ActNorm (so there are buffers), nudged away from its initial state."""
    flow = build_realnvp(dim=2, n_layers=4, hidden=(8,), actnorm=True, seed=1)
    data = load_dataset("moons", 256, rng=0)
    flow.log_prob(data)                                           # ActNorm's data-dependent init
    rng = np.random.default_rng(0)
    for value in flow.params.values():
        value += 0.1 * rng.standard_normal(value.shape)
    path = str(tmp_path / "model.npz")
    save_model(flow, path)
    return flow, path


def test_round_trip_is_bit_for_bit(trained):
    flow, path = trained
    loaded = load_model(path)
    assert loaded.config == flow.config
    x = load_dataset("moons", 500, rng=5)                          # new data: ActNorm must not re-init
    np.testing.assert_array_equal(loaded.log_prob(x), flow.log_prob(x))
    np.testing.assert_array_equal(loaded.sample(50, rng=3), flow.sample(50, rng=3))
    for name, value in flow.buffers.items():
        np.testing.assert_array_equal(loaded.buffers[name], value)


def test_file_is_loaded_without_pickle(trained):
    _, path = trained
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(str(archive["header"]))
    assert header["format_version"] == FORMAT_VERSION and header["config"]["model"] == "realnvp"
    assert any(key.startswith("buffer:") for key in header["arrays"])


def _rewrite(path, change):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    change(arrays)
    with open(path, "wb") as file:
        np.savez(file, **arrays)


def test_truncated_file(trained):
    _, path = trained
    with open(path, "rb") as file:
        content = file.read()
    with open(path, "wb") as file:
        file.write(content[: len(content) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        load_model(path)


def _a_weight(flow):
    """The saved name of the first 2-D parameter (a network weight)."""
    return "param:" + next(name for name, value in flow.params.items() if value.ndim == 2)


def test_missing_array(trained):
    flow, path = trained
    key = _a_weight(flow)
    _rewrite(path, lambda arrays: arrays.pop(key))
    with pytest.raises(ModelFileError, match=re.escape(f"missing arrays ['{key}']")):
        load_model(path)


def test_extra_array(trained):
    _, path = trained
    _rewrite(path, lambda arrays: arrays.update({"param:layers.9.bias": np.zeros(3)}))
    with pytest.raises(ModelFileError, match=r"unexpected arrays \['param:layers.9.bias'\]"):
        load_model(path)


def test_misshaped_array(trained):
    flow, path = trained
    key = _a_weight(flow)
    _rewrite(path, lambda arrays: arrays.update({key: arrays[key][:, :-1]}))
    with pytest.raises(ModelFileError, match=re.escape(f"{key}' has shape")):
        load_model(path)


def test_wrong_format_version(trained):
    _, path = trained

    def bump(arrays):
        header = json.loads(str(arrays["header"]))
        header["format_version"] = FORMAT_VERSION + 1
        arrays["header"] = np.array(json.dumps(header))

    _rewrite(path, bump)
    with pytest.raises(ModelFileError, match=f"version {FORMAT_VERSION + 1}.*reads version {FORMAT_VERSION}"):
        load_model(path)


def test_not_a_model_file(tmp_path):
    path = str(tmp_path / "other.npz")
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a scratchflow model"):
        load_model(path)
    with pytest.raises(FileNotFoundError):
        load_model(str(tmp_path / "nowhere.npz"))


def test_flow_without_config_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="no config"):
        save_model(Flow([ElementwiseAffine(2)]), str(tmp_path / "m.npz"))


def test_history_round_trip(tmp_path):
    history = History(mode="data", train_loss=[2.0, 1.5, 1.25], grad_norm=[3.0, 2.0, 1.0],
                      val_step=[2, 3], val_loss=[1.6, 1.4], best_step=3, best_val_loss=1.4)
    json_path, csv_path = save_history(history, str(tmp_path))
    assert load_history(json_path) == history
    rows = open(csv_path).read().splitlines()
    assert rows == ["step,train_loss,grad_norm,val_loss", "1,2.0,3.0,", "2,1.5,2.0,1.6",
                    "3,1.25,1.0,1.4"]


def test_pathlib_path_and_batchnorm_mode_survive_a_round_trip(tmp_path):
    flow = build_autoregressive("maf", 2, n_layers=2, hidden=(8,), batchnorm=True, seed=0)
    data = load_dataset("moons", 256, rng=0)
    flow.log_prob(data)                                           # training mode: running stats move
    set_training(flow, False)
    path = save_model(flow, tmp_path / "maf.npz")                 # a pathlib.Path, not a str
    loaded = load_model(path)
    modes = [layer.training for layer in loaded.layers if hasattr(layer, "training")]
    assert modes and not any(modes), "BatchNorm layers must load in the mode they were saved in"
    x = load_dataset("moons", 100, rng=1)
    np.testing.assert_array_equal(loaded.log_prob(x), flow.log_prob(x))


def _train_choices():
    """The --model names the train command offers: every one must save and load."""
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    return next(a.choices for a in train._actions if a.dest == "model")


@pytest.mark.parametrize("model", _train_choices())
def test_every_model_the_cli_trains_saves_and_loads(tmp_path, model):
    dim = 16 if model in ("realnvp-multiscale", "glow") else 2     # images: (1, 4, 4)
    config = {"model": model, "dim": dim, "n_layers": 2, "hidden": [4], "seed": 3}
    if model in ("planar", "radial"):                # no network: no hidden sizes
        del config["hidden"]
    flow = build_model(config)
    rng = np.random.default_rng(0)
    for value in flow.params.values():
        value += 0.1 * rng.standard_normal(value.shape)
    path = str(tmp_path / "model.npz")
    save_model(flow, path)
    loaded = load_model(path)
    x = rng.standard_normal((5, dim))
    np.testing.assert_array_equal(loaded.log_prob(x), flow.log_prob(x))


def test_load_model_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError, match=r"is a directory, not a model file.*model\.npz"):
        load_model(tmp_path)
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match=r"single NumPy array \(\.npy\), not a scratchflow model"):
        load_model(tmp_path / "array.npy")
    np.savez(tmp_path / "pickled.npz", header=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError, match=r"cannot read .*allow_pickle=False"):    # never unpickled
        load_model(tmp_path / "pickled.npz")


def test_save_model_to_a_directory_names_it(tmp_path):
    flow = build_realnvp(2, n_layers=2, hidden=(4,), seed=0)
    with pytest.raises(IsADirectoryError, match=r"is a directory; give the model file's path"):
        save_model(flow, tmp_path)
