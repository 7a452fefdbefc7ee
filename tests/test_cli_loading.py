"""What ``sample`` and ``plot`` load: a saved model in evaluation mode; what ``plot`` draws against
(--data, else the run's data set); a model file whose header is not one JSON string is refused."""
import argparse

import numpy as np
import pytest

from scratchflow.cli.common import load_model_for
from scratchflow.cli.plot import _data_or_target
from scratchflow.io import ModelFileError, save_model
from scratchflow.models import build_autoregressive, build_realnvp


def test_a_loaded_model_is_in_evaluation_mode(tmp_path):
    flow = build_autoregressive("maf", 2, n_layers=2, hidden=(4,), batchnorm=True)
    path = str(tmp_path / "model.npz")
    save_model(flow, path)
    loaded = load_model_for("sample", path)
    batchnorms = [layer for layer in loaded.layers.layers if type(layer).__name__ == "BatchNorm"]
    assert len(batchnorms) == 1 and not batchnorms[0].training


def test_plot_draws_against_data_named_on_the_command_line_or_in_run_json():
    flow = build_realnvp(2, n_layers=2, hidden=(4,))
    given = argparse.Namespace(data="moons", n=50, seed=0)
    data, target, image_shape = _data_or_target(given, {}, flow)        # no run.json
    assert data.shape == (50, 2) and target is None and image_shape is None
    data, _, _ = _data_or_target(argparse.Namespace(data=None, n=40, seed=0), {"data": "circles"}, flow)
    assert data.shape == (40, 2)


@pytest.mark.parametrize("header", [np.array(["{}", "{}"]), np.array(3.0)])
def test_a_header_that_is_not_one_json_string_is_refused(tmp_path, header):
    path = str(tmp_path / "model.npz")
    save_model(build_realnvp(2, n_layers=1, hidden=(2,)), path)
    with np.load(path) as saved:
        arrays = {key: saved[key] for key in saved.files}
    arrays["header"] = header
    np.savez(path, **arrays)
    from scratchflow.io import load_model
    with pytest.raises(ModelFileError, match="not a JSON string"):
        load_model(path)


@pytest.mark.parametrize("name", [5, ["moons"], {"name": "moons"}])
def test_plot_refuses_a_run_json_whose_data_set_is_not_a_name(name):
    """A one-line error (SystemExit with the message: status 1) naming what run.json holds."""
    flow = build_realnvp(2, n_layers=1, hidden=(2,))
    with pytest.raises(SystemExit) as stopped:
        _data_or_target(argparse.Namespace(data=None, n=40, seed=0), {"data": name}, flow)
    assert stopped.value.code == f"scratchflow plot: error: run.json names the data set {name!r}, not a name"


def test_a_data_set_of_another_dimension_is_refused_naming_where_it_came_from(capsys):
    """--data of the wrong dimension is a usage error (exit 2) naming the flag; the same name read
    from run.json is a one-line failure (exit 1) that says so."""
    flow = build_realnvp(2, n_layers=1, hidden=(4,))
    with pytest.raises(SystemExit) as exit_info:
        _data_or_target(argparse.Namespace(data="example1", n=10, seed=0), {}, flow)
    assert exit_info.value.code == 2
    assert "argument --data: data set 'example1' is 1-D but the model is 2-D" in capsys.readouterr().err
    with pytest.raises(SystemExit, match=r"^scratchflow plot: error: data set 'example1' is 1-D but "
                                         r"the model is 2-D \(read from run.json\)$"):
        _data_or_target(argparse.Namespace(data=None, n=10, seed=0), {"data": "example1"}, flow)


def test_a_model_of_three_or_more_dimensions_loads_no_data_for_its_figures():
    """Only the loss curve can be drawn beyond 2-D (and images for pixel data): --data is not read."""
    flow = build_autoregressive("maf", 3, n_layers=1, hidden=(4,))
    assert _data_or_target(argparse.Namespace(data="moons", n=10, seed=0), {}, flow) == (None, None, None)
