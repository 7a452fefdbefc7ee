"""The public boundary of data, io, models, targets, the checkers, validation and the CLI: bad
input gets an error that names the problem (see tests/test_public_boundary.py)."""
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, check_bijector, check_module
from scratchflow.cli import main
from scratchflow.data import load_dataset, standardize
from scratchflow.models import build_planar, build_radial
from scratchflow.io import ModelFileError, load_model, save_model
from scratchflow.models import build_autoregressive, build_model, build_realnvp
from scratchflow.nn import MADE, Linear
from scratchflow.realdata import bits_per_dim, dequantize
from scratchflow.targets import load_target, log_normalizer
from scratchflow.input_checks import check_int, check_number


# ------------------------------------------------------------------------------------ data, io
@pytest.mark.parametrize("n, error, message", [
    (0, ValueError, r"n must be a positive number of points, got 0"),
    (-3, ValueError, r"positive"),
    (2.5, TypeError, r"n \(the number of points\) must be an integer, got 2.5"),     # was 2 points
    ("5", TypeError, r"must be an integer, got '5'"),
    (True, TypeError, r"must be an integer, got True"),
])
def test_load_dataset_counts(n, error, message):
    with pytest.raises(error, match=message):
        load_dataset("moons", n)


def test_load_dataset_unknown_name():
    with pytest.raises(ValueError, match=r"unknown data set 'mooons'; choose one of .*'moons'"):
        load_dataset("mooons", 5)


@pytest.mark.parametrize("args, message", [
    ((np.array([[np.nan, 1.0], [1.0, 2.0]]),), r"x contains NaN or inf"),              # was NaN out
    ((np.ones(5),), r"x must be 2-D"),
    ((np.zeros((0, 2)),), r"cannot standardise an empty x"),
    ((np.random.default_rng(0).normal(size=(5, 2)), np.zeros(3), np.ones(3)),
     r"mean must have shape \(2,\), one entry per column"),                        # was broadcast
    ((np.random.default_rng(0).normal(size=(5, 2)), None, np.ones((1, 2))), r"std must have shape \(2,\)"),
])
def test_standardize(args, message):
    with pytest.raises(ValueError, match=message):
        standardize(*args)


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


@pytest.mark.parametrize("build, error, message", [
    (lambda: build_realnvp(2.5, n_layers=2, hidden=(4,)), TypeError, r"dim must be an integer, got 2.5"),
    (lambda: build_realnvp(2, n_layers=2.5, hidden=(4,)), TypeError, r"n_layers must be an integer"),
    (lambda: build_realnvp(2, n_layers=2, hidden=(4.5,)), TypeError, r"hidden entry must be an integer"),
    (lambda: build_realnvp(2, n_layers=2, hidden=4), TypeError, r"hidden must be a sequence"),
    (lambda: build_realnvp(1, n_layers=2), ValueError, r"Real-NVP needs dim >= 2"),
    (lambda: build_autoregressive("maf", 3.0, n_layers=1, hidden=(4,)), TypeError, r"dim must be an integer"),
    (lambda: build_autoregressive("maf", 2, n_layers=0, hidden=(4,)), ValueError, r"n_layers must be >= 1"),
    (lambda: build_planar(2, n_layers=0), ValueError, r"n_layers must be >= 1"),   # not via the schema
    (lambda: build_radial(2, n_layers=0), ValueError, r"n_layers must be >= 1"),
    (lambda: build_model({"model": "waveglow", "dim": 2}), ValueError, r"unknown model 'waveglow'"),
])
def test_model_builders_do_not_truncate(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize("call, error, message", [
    (lambda: load_target("u2", box=-1), ValueError, r"box \(a positive number or None\) must be > 0"),
    (lambda: load_target("u2", box=np.nan), ValueError, r"box .*finite"),          # was NaN densities
    (lambda: load_target("u5"), ValueError, r"unknown target 'u5'; choose one of"),
    (lambda: log_normalizer(load_target("u1"), n=0), ValueError, r"n \(cells per side\) must be >= 1"),
    (lambda: log_normalizer(load_target("u1"), n=2.5), TypeError, r"must be an integer"),
    (lambda: log_normalizer(load_target("u1"), limit=-1), ValueError, r"limit must be > 0"),
    (lambda: dequantize(np.array([[0.5, 3.0]])), ValueError, r"integer counts in 0..16; counts\[0, 0\] = 0.5"),
    (lambda: dequantize(np.array([[3, 17]])), ValueError, r"counts\[0, 1\] = 17"),   # x would be >= 1
    (lambda: bits_per_dim(1.0, 0), ValueError, r"dim must be >= 1"),
])
def test_targets_and_real_data_helpers(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------------------------ checks
class _BroadcastingLayer(ElementwiseAffine):
    """A student's layer whose log_det has shape (N, 1): the checker used to broadcast it."""

    def _forward(self, x, context=None):
        z, log_det = super()._forward(x)
        return z, log_det[:, None]


@pytest.mark.parametrize("call, error, message", [
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 3))), ValueError,
     r"x has D=3 columns but this layer has dimension 2"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros(2)), ValueError, r"x must be 2-D"),
    (lambda: check_bijector(ElementwiseAffine(2), np.full((3, 2), np.nan)), ValueError, r"x contains NaN"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((0, 2))), ValueError,
     r"needs at least one point; x is empty"),                                  # used to "pass"
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 2)), z=np.zeros((3, 3))), ValueError,
     r"z has D=3 columns"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 2)), directions=("fwd",)), ValueError,
     r"directions must be a non-empty subset of \('forward', 'inverse'\)"),     # used to "pass"
    (lambda: check_bijector(ElementwiseAffine(2, dtype=np.float32), np.zeros((3, 2), np.float32)),
     TypeError, r"finite differences in float64; build the layer with dtype=np.float64"),
    (lambda: check_bijector(Linear(2, 2, rng=0), np.zeros((3, 2))), TypeError,
     r"layer.forward\(x\) must return a pair \(output, log_det\)"),
    (lambda: check_bijector(_BroadcastingLayer(2), np.zeros((3, 2))), ValueError,
     r"log_det of shape \(3, 1\); expected \(3,\)"),
    (lambda: check_module(Linear(2, 2, rng=0), np.zeros((3, 3))), ValueError, r"x has D=3 columns"),
    (lambda: check_module(Linear(2, 2, rng=0), np.zeros((0, 2))), ValueError, r"check_module needs"),
    (lambda: check_module(MADE(2, hidden=(4,), rng=0), np.ones((3, 2))), TypeError,
     r"forward\(x\) to return one \(3, out\) array; MADE.forward returned a tuple"),
])
def test_the_checker_refuses_what_it_cannot_check(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------------------------ helpers
@pytest.mark.parametrize("value, error, message", [
    (2.0, TypeError, r"n must be an integer, got 2.0"), (np.int64(-1), ValueError, r"n must be >= 0"),
])
def test_check_int(value, error, message):
    with pytest.raises(error, match=message):
        check_int(value, "n", 0)
    assert check_int(np.int64(3), "n", 0) == 3 and type(check_int(np.int64(3), "n")) is int


def test_check_number():
    assert check_number(np.float32(0.5), "alpha", 0, 0.5, high_open=False) == 0.5
    with pytest.raises(ValueError, match=r"lr must be > 0, got 0.0"):
        check_number(0, "lr", 0, low_open=True)
    with pytest.raises(TypeError, match=r"flag must be a number, got True"):
        check_number(True, "flag")


@pytest.mark.parametrize("option, value", [("--lr", "-1"), ("--lr", "nan"), ("--clip-norm", "0")])
def test_cli_refuses_a_bad_learning_rate_before_training(option, value, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:                  # --lr -1 was a traceback from Adam
        main(["train", "--data", "moons", "--steps", "1", option, value, "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert f"argument {option}: expected a positive number, got {value}" in capsys.readouterr().err
