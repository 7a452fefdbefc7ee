"""The command line checks every flag before work starts, and a
failed, diverged or interrupted run never replaces what --out already holds.

The table: every bad flag ends with exit status 2 and ONE line on stderr that names the flag, with
nothing trained, sampled or drawn (``fit`` is replaced by a function that fails the test).
"""
import os

import numpy as np
import pytest

import scratchflow.cli.examples as cli_examples
import scratchflow.cli.train as cli_train
from scratchflow.cli import main
from scratchflow.io import load_model, save_model
from scratchflow.models import build_model
from scratchflow.objectives import MaximumLikelihood

TINY = ["--steps", "30", "--layers", "2", "--hidden", "8", "--n-train", "200", "--n-val", "100",
        "--batch-size", "50", "--no-progress", "--no-figures"]
BIG = "100000000000"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("good")
    assert main(["train", "--data", "moons", "--out", str(out)] + TINY) == 0
    return out


def _rows(model, folder, a_file):
    """(argv, flag) pairs; ``model`` is a 2-D model file, ``a_file`` an existing plain file."""
    return [
        (["train", "--seed", "-1"], "--seed"),
        (["train", "--seed", "x"], "--seed"),
        (["train", "--data", ""], "--data"),
        (["train", "--data", "nope"], "--data"),
        (["train", "--data", "example1"], "--data"),              # 1-D: Real-NVP cannot take it
        (["train", "--data", "digits", "--n-train", "100"], "--n-train"),
        (["train", "--data", "wine", "--n-val", "100"], "--n-val"),
        (["train", "--n-train", BIG], "--n-train"),
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--lr", "nan"], "--lr"),
        (["train", "--steps", "0"], "--steps"),
        (["train", "--hidden", "64,x"], "--hidden"),
        (["train", "--out", ""], "--out"),
        (["train", "--out", "/proc/scratchflow-x"], "--out"),
        (["train", "--out", a_file], "--out"),
        (["sample", "--model-file", model, "--seed", "-1"], "--seed"),
        (["sample", "--model-file", model, "--n", BIG], "--n"),
        (["sample", "--model-file", model, "--n", "0"], "--n"),
        (["sample", "--model-file", model, "--out", ""], "--out"),
        (["sample", "--model-file", model, "--out", os.path.join(folder, "s.txt")], "--out"),
        (["sample", "--model-file", model, "--out", "/proc/scratchflow-x/s.npy"], "--out"),
        (["sample", "--model-file", model, "--out", os.path.join(folder, "dir.npy")], "--out"),
        (["sample", "--n", "5"], "--model-file"),
        (["examples", "--seed", "-1"], "--seed"),
        (["examples", "--n", "-5"], "--n"),
        (["examples", "--n", "0"], "--n"),
        (["examples", "--n", BIG], "--n"),
        (["examples", "--out", a_file], "--out"),
        (["plot", "--model-file", model, "--data", "digits"], "--data"),   # 64-D data, 2-D model
        (["plot", "--model-file", model, "--data", "example1"], "--data"),
        (["plot", "--model-file", model, "--data", ""], "--data"),
        (["plot", "--model-file", model, "--seed", "-1"], "--seed"),
        (["plot", "--model-file", model, "--out", "/proc/scratchflow-x"], "--out"),
    ]


def test_every_bad_flag_exits_2_with_one_line_naming_it(run_folder, tmp_path, monkeypatch, capsys):
    def no_training(*args, **kwargs):
        raise AssertionError("training started before the flags were checked")
    monkeypatch.setattr(cli_train, "fit", no_training)
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    os.mkdir(tmp_path / "dir.npy")
    before = sorted(os.listdir(run_folder))
    for argv, flag in _rows(str(run_folder / "model.npz"), str(tmp_path), str(a_file)):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        out, err = capsys.readouterr()
        assert exit_info.value.code == 2, (argv, err)
        assert out == "" and err.count("\n") == 1 and err.endswith("\n"), (argv, err)
        assert f"argument {flag}" in err or f"required: {flag}" in err, (argv, err)
    assert sorted(os.listdir(run_folder)) == before
    assert sorted(os.listdir(tmp_path)) == ["a_file", "dir.npy"]      # nothing written anywhere


def _parameters(path):
    return {name: value.copy() for name, value in load_model(path).params.items()}


def test_a_diverged_run_never_replaces_a_good_model(run_folder, tmp_path, capsys):
    """The same run with --lr 1e6 diverges; model.npz and its history stay as they were."""
    out = tmp_path / "keep"
    assert main(["train", "--model", "maf", "--data", "moons", "--out", str(out)] + TINY) == 0
    kept = _parameters(out / "model.npz")
    history = (out / "history.json").read_bytes()
    capsys.readouterr()
    code = main(["train", "--model", "maf", "--data", "moons", "--lr", "1e6",
                 "--out", str(out)] + TINY)
    printed = capsys.readouterr().out
    assert code == 1 and "kept the earlier" in printed and "model.diverged.npz" in printed
    for name, value in _parameters(out / "model.npz").items():
        np.testing.assert_array_equal(value, kept[name])
    assert (out / "history.json").read_bytes() == history
    diverged = load_model(out / "model.diverged.npz")               # the last good parameters
    assert all(np.isfinite(value).all() for value in diverged.params.values())
    assert not [name for name in os.listdir(out) if "partial" in name]


def test_iaf_with_a_huge_learning_rate_stops_cleanly(tmp_path, capsys):
    """From the command line: `--model iaf --lr 10` was a traceback that saved nothing
    (with this tiny tanh network it takes a larger rate to diverge)."""
    code = main(["train", "--model", "iaf", "--data", "moons", "--lr", "1e6",
                 "--out", str(tmp_path)] + TINY)
    printed = capsys.readouterr().out
    assert code == 1 and " at step " in printed and "smaller lr" in printed
    assert not (tmp_path / "model.npz").exists()                 # a failed run is not the model
    flow = load_model(tmp_path / "model.diverged.npz")           # its last good parameters
    assert np.isfinite(flow.log_prob(np.zeros((3, 2)))).all()


def test_ctrl_c_saves_the_best_model_so_far_and_says_where(tmp_path, monkeypatch, capsys):
    """Ctrl-C during training keeps the run (beside a model already there)."""
    original = MaximumLikelihood.step
    calls = []

    def interrupted_at_step_20(self):
        calls.append(1)
        if len(calls) == 20:
            raise KeyboardInterrupt
        return original(self)
    monkeypatch.setattr(MaximumLikelihood, "step", interrupted_at_step_20)
    code = main(["train", "--data", "moons", "--out", str(tmp_path)] + TINY)
    printed = capsys.readouterr().out
    assert code == 130 and "interrupted (Ctrl-C) after 19 steps" in printed
    assert f"the best model so far is in {tmp_path / 'model.npz'}" in printed
    first = _parameters(tmp_path / "model.npz")
    calls.clear()
    assert main(["train", "--data", "moons", "--seed", "1", "--out", str(tmp_path)] + TINY) == 130
    assert "model.interrupted.npz" in capsys.readouterr().out
    for name, value in _parameters(tmp_path / "model.npz").items():
        np.testing.assert_array_equal(value, first[name])          # the earlier one is kept
    assert os.path.exists(tmp_path / "model.interrupted.npz")


def test_sample_of_an_overflowing_model_writes_no_nan(tmp_path):
    """A model that overflows when sampling is an error (exit 1), not a NaN file."""
    flow = build_model({"model": "maf", "dim": 2, "n_layers": 2, "hidden": [4]})
    for name, value in flow.params.items():
        if name.endswith("bias"):
            value[...] = 800.0                                      # x = z·exp(800) + 800: inf
    path = save_model(flow, tmp_path / "loud.npz")
    out = tmp_path / "s.npy"
    with pytest.raises(SystemExit, match="non-finite"), np.errstate(all="ignore"):
        main(["sample", "--model-file", str(path), "--n", "50", "--out", str(out)])
    assert not out.exists()


def test_a_corrupt_run_json_is_one_line(run_folder, tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "model.npz").write_bytes((run_folder / "model.npz").read_bytes())
    (folder / "run.json").write_text("{not json")
    with pytest.raises(SystemExit, match="cannot read .*run.json"):
        main(["plot", "--model-file", str(folder / "model.npz")])


def test_a_figure_the_model_overflows_on_is_skipped_and_named(tmp_path, capsys):
    """The figures of a model that overflows (here when sampling) are skipped with the reason,
    the others drawn; no traceback."""
    from scratchflow.cli.figures import draw_figures
    flow = build_model({"model": "maf", "dim": 2, "n_layers": 1, "hidden": [4]})
    flow.params["layers.0.made.2.bias"][2:] = 800.0                 # sampling: x = z·exp(800)
    data = np.random.default_rng(0).normal(size=(50, 2))
    with np.errstate(all="ignore"):
        paths = draw_figures(flow, data, None, str(tmp_path), seed=0)
    err = capsys.readouterr().err
    assert "skipped the samples figure" in err and "layer 0 (MAF)" in err
    assert sorted(os.path.basename(path) for path in paths) == ["density.png", "layers.png"]


def test_ctrl_c_outside_training_exits_130_with_one_line(monkeypatch, tmp_path, capsys):
    """130 = 128 + SIGINT, the shell's status for a Ctrl-C; the command is named, no traceback."""
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_examples, "run_examples", interrupted)
    assert main(["examples", "--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "scratchflow examples: interrupted (Ctrl-C)\n"


@pytest.mark.parametrize("option, value", [("--lr", "-1"), ("--lr", "nan"), ("--clip-norm", "0")])
def test_cli_refuses_a_bad_learning_rate_before_training(option, value, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:                  # argparse's exit, not Adam's traceback
        main(["train", "--data", "moons", "--steps", "1", option, value, "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert f"argument {option}: expected a positive number, got {value}" in capsys.readouterr().err
