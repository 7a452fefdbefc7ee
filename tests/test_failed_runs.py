"""A failed run is a failure for every model family.

A learning rate that is far too large makes most families blow up without a NaN (a soft scale bound,
bounded spline bins, a constrained planar u keep every number finite at thousands of nats). ``fit``
stops such a run when a loss rises past the base distribution's by ``DIVERGENCE_MARGIN`` nats per
dimension, and fails a run whose best validation loss is worse than the base alone; the command
exits 1, names the learning rate, writes ``model.diverged.npz`` and leaves ``--out`` as it was.
"""
import warnings

import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.bijectors import ElementwiseAffine
from scratchflow.cli import main
from scratchflow.cli.train import _worse_after_best
from scratchflow.data import load_dataset
from scratchflow.history import History
from scratchflow.io import load_model
from scratchflow.image_models import IMAGE_MODEL_NAMES
from scratchflow.models import MODELS, build_model
from scratchflow.stopping import DIVERGENCE_MARGIN
from scratchflow.train import fit

SMALL = ["--steps", "20", "--layers", "2", "--hidden", "8", "--n-train", "256", "--n-val", "128",
         "--batch-size", "64", "--no-progress"]


def _folder_bytes(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


FLAT_MODELS = [name for name in MODELS if name not in IMAGE_MODEL_NAMES]   # moons: 2-D rows


@pytest.mark.parametrize("model", FLAT_MODELS)
def test_lr_10_fails_every_family_and_keeps_the_earlier_run_byte_for_byte(model, tmp_path, capsys):
    out = tmp_path / "run"
    figures = [] if model == "realnvp" else ["--no-figures"]      # figures once: they cost time
    assert main(["train", "--model", model, "--data", "moons", "--out", str(out)] + SMALL
                + figures) == 0
    before = _folder_bytes(out)
    assert "model.npz" in before and "history.json" in before
    assert model != "realnvp" or "density.png" in before
    capsys.readouterr()
    code = main(["train", "--model", model, "--data", "moons", "--lr", "10", "--out", str(out)]
                + SMALL + figures)
    printed = capsys.readouterr().out
    assert code == 1, printed
    assert "learning rate" in printed or "smaller lr" in printed, printed
    assert "FAILED" in printed and "finished" not in printed
    after = _folder_bytes(out)
    diverged = after.pop("model.diverged.npz")
    assert after == before                                        # model, history, figures: same
    assert diverged != before["model.npz"]
    flow = load_model(out / "model.diverged.npz")
    assert all(np.isfinite(value).all() for value in flow.params.values())


@pytest.mark.parametrize("model", IMAGE_MODEL_NAMES)
def test_lr_10_fails_the_image_families_on_digits_and_keeps_the_earlier_run(model, tmp_path, capsys):
    out = tmp_path / "run"
    image = ["--steps", "5", "--layers", "1", "--hidden", "8", "--batch-size", "64", "--no-progress",
             "--no-figures"]
    assert main(["train", "--model", model, "--data", "digits", "--out", str(out)] + image) == 0
    before = _folder_bytes(out)
    capsys.readouterr()
    code = main(["train", "--model", model, "--data", "digits", "--lr", "10", "--out", str(out)] + image)
    printed = capsys.readouterr().out
    assert code == 1 and "FAILED" in printed, printed
    after = _folder_bytes(out)
    after.pop("model.diverged.npz")
    assert after == before


def test_a_failed_run_into_an_empty_folder_writes_only_the_diverged_model(tmp_path, capsys):
    code = main(["train", "--model", "nsf", "--data", "moons", "--lr", "10", "--out", str(tmp_path)]
                + SMALL + ["--no-figures"])
    assert code == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.diverged.npz"]


@pytest.mark.parametrize("model", FLAT_MODELS)
def test_fit_flags_and_warns_a_diverged_run_of_every_family(model):
    data = load_dataset("moons", 256, rng=0)
    flow = build_model({"model": model, "dim": 2, "n_layers": 2, "seed": 0,
                        **({} if model in ("planar", "radial") else {"hidden": [8]})})
    with pytest.warns(RuntimeWarning, match="learning rate|smaller lr"):
        history = fit(flow, data, data[:128], steps=20, batch_size=64, lr=10.0, progress=False)
    assert history.diverged
    assert history.baseline_loss == pytest.approx(-np.mean(flow.base.log_prob(data[:128])))


def test_a_run_worse_than_the_base_alone_fails_without_rising_past_the_bound():
    """Validation rows from the base itself: training towards shifted data makes every step
    worse than no training, by a few nats, far below the divergence bound."""
    rng = np.random.default_rng(0)
    data, val = rng.normal(size=(256, 2)) + 3.0, rng.normal(size=(256, 2))
    with pytest.warns(RuntimeWarning, match="worse than the base distribution alone"):
        history = fit(Flow(ElementwiseAffine(2)), data, val, steps=60, batch_size=64, lr=0.1,
                      eval_every=60, progress=False)
    assert history.diverged and history.stopped.startswith("diverged: the best validation loss")
    assert history.best_val_loss < history.baseline_loss + DIVERGENCE_MARGIN * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        good = fit(Flow(ElementwiseAffine(2)), data, data, steps=60, batch_size=64, lr=0.1,
                   progress=False)
    assert good.stopped == "finished" and not good.diverged


def _history(train_loss, val_loss, val_step, best_step):
    history = History(mode="data", train_loss=list(train_loss), val_loss=list(val_loss),
                      val_step=list(val_step))
    history.best_step = best_step
    history.best_val_loss = min(val_loss)
    return history


def test_the_overfitting_warning_fires_only_when_the_training_loss_kept_falling():
    falling = _history(np.linspace(2.0, 0.5, 40), [1.5, 1.2, 1.4, 1.8], [10, 20, 30, 40], 20)
    assert "the model overfits" in _worse_after_best(falling)
    rising = _history(np.linspace(1.0, 2.0, 40), [1.5, 1.2, 1.4, 1.8], [10, 20, 30, 40], 20)
    warning = _worse_after_best(rising)
    assert "overfits" not in warning and "unstable" in warning and "learning rate" in warning
    steady = _history(np.linspace(2.0, 0.5, 40), [1.5, 1.2, 1.25, 1.22], [10, 20, 30, 40], 20)
    assert _worse_after_best(steady) == ""


def test_the_overfitting_warning_compares_the_window_before_the_best_with_the_last_window():
    """The window is the spacing of the last two validations (10 steps here): the mean training
    loss of the 10 steps before the best validation against that of the last 10 steps. Each step's
    training loss is its index here, so the means name the steps."""
    losses = np.arange(40.0)                                           # step k's loss: k
    at_20 = _worse_after_best(_history(losses, [1.5, 1.2, 1.4, 1.8], [10, 20, 30, 40], 20))
    assert "(14.5000 -> 34.5000)" in at_20                            # steps 10-19, steps 30-39
    at_10 = _worse_after_best(_history(losses, [1.2, 1.3, 1.4, 1.8], [10, 20, 30, 40], 10))
    assert "(4.5000 -> 34.5000)" in at_10                             # steps 0-9: from the first step


def test_a_failing_plot_leaves_no_empty_output_folder(tmp_path, capsys):
    out = tmp_path / "new" / "figures"
    with pytest.raises(SystemExit):
        main(["plot", "--model-file", str(tmp_path / "missing.npz"), "--out", str(out)])
    assert list(tmp_path.iterdir()) == []                        # neither new/ nor new/figures/
