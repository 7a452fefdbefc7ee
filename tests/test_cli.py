"""Smoke tests of the command line through scratchflow.cli.main, with tiny settings."""
import json
import os
import warnings

import numpy as np
import pytest

from scratchflow.cli import main
from scratchflow.flow import Flow
from scratchflow.io import load_model

TINY = ["--steps", "30", "--layers", "2", "--hidden", "8", "--n-train", "200", "--n-val", "100",
        "--batch-size", "50", "--no-progress"]
FIGURES = ["density.png", "samples.png", "layers.png", "loss.png"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--data", "moons", "--out", str(out)] + TINY) == 0
    return out


def test_train_writes_model_history_and_figures(trained_run, capsys):
    for name in ["model.npz", "history.json", "history.csv", "run.json"] + FIGURES:
        assert os.path.getsize(trained_run / name) > 0, name
    with open(trained_run / "history.json") as file:
        history = json.load(file)
    assert len(history["train_loss"]) == 30 and history["val_step"][-1] == 30
    flow = load_model(str(trained_run / "model.npz"))
    assert flow.config["n_layers"] == 2 and flow.config["hidden"] == [8]


def test_sample_to_csv_and_npy_is_seeded(trained_run, tmp_path):
    model = str(trained_run / "model.npz")
    assert main(["sample", "--model-file", model, "--n", "7", "--seed", "3",
                 "--out", str(tmp_path / "s.npy")]) == 0
    assert main(["sample", "--model-file", model, "--n", "7", "--seed", "3",
                 "--out", str(tmp_path / "s.csv")]) == 0
    from_npy = np.load(tmp_path / "s.npy")
    from_csv = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1)
    assert open(tmp_path / "s.csv").readline().strip() == "x1,x2"
    np.testing.assert_array_equal(from_npy, from_csv)                      # %.17g round-trips
    np.testing.assert_array_equal(from_npy, load_model(model).sample(7, rng=3))
    assert sorted(os.listdir(tmp_path)) == ["s.csv", "s.npy"]              # no partial file left


def test_plot_redraws_into_another_folder(trained_run, tmp_path):
    out = tmp_path / "figures"
    assert main(["plot", "--model-file", str(trained_run / "model.npz"), "--out", str(out),
                 "--n", "300"]) == 0
    assert sorted(os.listdir(out)) == sorted(FIGURES)


def test_train_on_a_target_density(tmp_path, capsys):
    assert main(["train", "--target", "u1", "--steps", "20", "--layers", "2", "--hidden", "8",
                 "--batch-size", "64", "--no-progress", "--out", str(tmp_path)]) == 0
    assert "KL(q || p*)" in capsys.readouterr().out
    for name in FIGURES:
        assert os.path.getsize(tmp_path / name) > 0


def test_epochs_and_early_stopping_options(tmp_path):
    args = ["train", "--data", "circles", "--epochs", "2", "--patience", "1", "--layers", "2",
            "--hidden", "8", "--n-train", "200", "--n-val", "100", "--batch-size", "100",
            "--no-progress", "--no-figures", "--out", str(tmp_path)]
    assert main(args) == 0
    assert not any(name.endswith(".png") for name in os.listdir(tmp_path))
    with open(tmp_path / "history.json") as file:
        assert len(json.load(file)["train_loss"]) <= 4                   # 2 epochs of 2 batches


@pytest.mark.parametrize("command", [[], ["train"], ["sample"], ["plot"], ["examples"]])
def test_help_exits_zero(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(command + ["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "usage: scratchflow" in text
    if command in (["train"], ["sample"], ["plot"]):
        assert "examples:" in text


def test_bad_arguments_exit_with_usage_errors(capsys):
    for bad in (["train", "--hidden", "64,x"], ["train", "--steps", "0"],
                ["train", "--data", "moons", "--target", "u1"], ["train", "--steps", "5", "--epochs", "2"]):
        with pytest.raises(SystemExit) as exit_info:
            main(bad)
        assert exit_info.value.code == 2
    assert "positive integers separated by commas" in capsys.readouterr().err


def test_examples_command_still_works(tmp_path):
    assert main(["examples", "--n", "2000", "--out", str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path)) == ["example1.png", "example2.png"]


def test_user_mistakes_end_with_one_line_errors(trained_run, tmp_path):
    """Failures of the work itself (exit 1); bad flags are in test_cli_flags.py (exit 2)."""
    cases = [(["sample", "--model-file", str(tmp_path / "none.npz")], "No such file")]
    for argv, message in cases:
        with pytest.raises(SystemExit, match=message):
            main(argv)


def test_other_model_families_train_from_the_command_line(tmp_path):
    for model in ("maf", "iaf"):
        out = tmp_path / model
        assert main(["train", "--model", model, "--data", "example1", "--no-figures",
                     "--out", str(out)] + TINY) == 0
        assert load_model(str(out / "model.npz")).config["model"] == model


def test_train_shows_progress_lines_in_a_log(tmp_path, capsys):
    """Under pytest stderr is not a terminal: tqdm writes whole lines (no carriage returns), the
    first at 0 % and the last at 100 % with the running loss and the validation NLL."""
    tiny_with_progress = [flag for flag in TINY if flag != "--no-progress"]
    assert main(["train", "--data", "moons", "--no-figures", "--out", str(tmp_path)]
                + tiny_with_progress) == 0
    log = capsys.readouterr().err
    lines = [line for line in log.splitlines() if line.startswith("train:")]
    assert "\r" not in log
    assert "0/30" in lines[0] and "30/30" in lines[-1]
    assert "loss=" in lines[-1] and "val_nll=" in lines[-1]


def test_non_finite_loss_is_reported_and_exits_one(tmp_path, monkeypatch, capsys):
    original = Flow._loss_and_grad
    calls = []

    def fails_on_the_fourth_call(self, x, context=None):
        calls.append(1)
        return float("inf") if len(calls) == 4 else original(self, x, context)

    monkeypatch.setattr(Flow, "_loss_and_grad", fails_on_the_fourth_call)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)        # the CLI prints the stop, no warning
        code = main(["train", "--data", "moons", "--no-figures", "--out", str(tmp_path)] + TINY)
    assert code == 1
    assert "non-finite loss (inf) at step 4" in capsys.readouterr().out
    assert os.path.exists(tmp_path / "model.diverged.npz")        # the last good parameters, saved
    assert not os.path.exists(tmp_path / "model.npz")             # beside, never as the model
