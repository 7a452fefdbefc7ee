"""``train --conditional``'s classes: the context of each labelled data set has one column per
class, and every class occurs in the labels."""
import argparse

import numpy as np
import pytest

from scratchflow.cli.conditional import CLASSES, labelled_data


def test_each_labelled_data_set_has_exactly_the_classes_its_labels_use():
    for name, classes in CLASSES.items():
        args = argparse.Namespace(data=name, n_train=400, n_val=50, seed=0)
        _, _, train_context, val_context = labelled_data(args)
        assert train_context.shape[1] == val_context.shape[1] == classes
        assert np.all(train_context.sum(axis=0) > 0), name               # every class is used
        assert np.all(train_context.sum(axis=1) == 1)                   # one-hot rows


def test_conditional_moons_are_the_points_train_draws_without_conditional():
    from scratchflow.cli.train import _train_and_validation_data
    args = argparse.Namespace(data="moons", n_train=300, n_val=40, seed=5)
    train, val, _, _ = labelled_data(args)
    plain_train, plain_val = _train_and_validation_data(args)
    np.testing.assert_array_equal(train, plain_train)
    np.testing.assert_array_equal(val, plain_val)
    assert not np.allclose(val, plain_train[:40])                       # validation: other draws


@pytest.mark.parametrize("conditional", [True, False])
def test_a_run_lists_every_file_it_wrote(tmp_path, monkeypatch, capsys, conditional):
    """The closing lines of train (--conditional or not) name the model, the history, run.json
    and the figures."""
    import os

    from scratchflow.cli import train
    from scratchflow.history import History
    from scratchflow.models import build_model
    flow = build_model({"model": "realnvp", "dim": 2, "n_layers": 1, "hidden": [2],
                        "context_dim": 2 if conditional else 0})
    monkeypatch.setattr(train, "draw_conditional_figures",
                        lambda flow, data, args: [os.path.join(args.out, "conditional_samples.png")])
    monkeypatch.setattr(train, "draw_figures",
                        lambda flow, data, target, out, history, **options: [os.path.join(out, "loss.png")])
    args = argparse.Namespace(out=str(tmp_path), conditional=conditional, no_figures=False, seed=0,
                              data="moons")
    history = History(mode="data", train_loss=[1.0, 0.9])
    assert train._save_run(args, flow, history, None, None) == 0
    written = [line.split()[1] for line in capsys.readouterr().out.splitlines()
               if line.startswith("wrote ")]
    figure = "conditional_samples.png" if conditional else "loss.png"
    assert sorted(os.path.basename(path) for path in written) == sorted(
        [figure, "history.csv", "history.json", "model.npz", "run.json"])
