"""A flow that starts at the data's Gaussian: with the whitening first layer fitted to the training
rows, every family's untrained flow has the log-density of N(mean, cov) of those rows; the layer
whitens them exactly; ``scratchflow train`` does it for tabular data unless --no-whiten."""
import argparse

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from scratchflow.bijectors import Whitening
from scratchflow.cli import main
from scratchflow.cli.train import _build_flow
from scratchflow.gaussian_start import StartSnapshot, keep_start_unless_better, start_at_gaussian
from scratchflow.models import build_model
from scratchflow.realdata import load_sklearn


@pytest.mark.parametrize("model", ["realnvp", "maf", "nsf", "nsf-ar", "nice"])
def test_the_untrained_flow_is_the_full_covariance_gaussian_of_the_training_rows(model):
    train, test = load_sklearn("wine", "train"), load_sklearn("wine", "test")      # (142, 13), (36, 13)
    flow = start_at_gaussian(build_model({"model": model, "dim": 13, "n_layers": 2, "hidden": [8],
                                          "whiten": True}), train)
    covariance = np.cov(train.T, bias=True)                                       # (13, 13)
    covariance += 1e-6 * np.trace(covariance) / 13 * np.eye(13)                   # the layer's ridge
    gaussian = multivariate_normal(train.mean(axis=0), covariance)
    np.testing.assert_allclose(flow.log_prob(test), gaussian.logpdf(test), rtol=1e-10, atol=1e-9)


def test_whitening_leaves_the_rows_it_was_fitted_on_with_mean_zero_and_identity_covariance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 4)) @ rng.uniform(-1, 1, (4, 4)) + [1.0, -2.0, 0.5, 3.0]
    layer = Whitening(4)
    assert layer.buffers["initialized"] == 0.0
    layer.fit(x)
    assert layer.buffers["initialized"] == 1.0                    # the saved flag: 0 or 1, nothing else
    z, log_det = layer.forward(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(np.cov(z.T, bias=True), np.eye(4), atol=1e-5)
    assert np.allclose(np.triu(layer.weight(), 1), 0)                             # lower-triangular
    np.testing.assert_allclose(log_det, np.linalg.slogdet(layer.weight())[1])


def test_start_at_gaussian_refuses_a_flow_without_the_whitening_layer():
    with pytest.raises(ValueError, match=r"not a Whitening; build it with"):
        start_at_gaussian(build_model({"model": "maf", "dim": 3}), np.zeros((4, 3)))


@pytest.mark.parametrize("data, no_whiten, whitened", [
    ("wine", False, True), ("breast_cancer", False, True), ("wine", True, False),
    ("moons", False, False)])
def test_train_whitens_tabular_data_unless_told_not_to(data, no_whiten, whitened):
    args = argparse.Namespace(model="maf", layers=2, hidden=[4], seed=0, data=data,
                              conditional=False, no_whiten=no_whiten)
    flow = _build_flow(args, 13 if data == "wine" else (30 if data == "breast_cancer" else 2))
    assert isinstance(flow.layers.layers[0], Whitening) == whitened


def test_the_training_is_kept_only_when_its_validation_gain_is_clear():
    rng = np.random.default_rng(0)
    mixing = np.array([[1.0, 0.0, 0.0], [0.8, 0.5, 0.0], [0.2, -0.4, 0.3]])
    train, val = (rng.standard_normal((n, 3)) @ mixing.T + 4.0 for n in (200, 100))
    flow = build_model({"model": "maf", "dim": 3, "n_layers": 1, "hidden": [4], "whiten": True})
    flow.layers.layers[0].initialized[...] = 1.0          # the identity start: N(0, I)
    start = StartSnapshot(flow, val)
    start_at_gaussian(flow, train)                         # "training" that helps a lot
    kept, gain, error = keep_start_unless_better(flow, start)
    assert kept and gain > 2 * error and gain > 1.0
    fitted = {name: value.copy() for name, value in flow.params.items()}
    start = StartSnapshot(flow, val)
    for value in flow.params.values():                    # "training" that only adds noise
        value += 0.01 * rng.standard_normal(value.shape)
    kept, gain, error = keep_start_unless_better(flow, start)
    assert not kept and gain <= 2 * error
    for name, value in flow.params.items():               # the start is back, exactly
        np.testing.assert_array_equal(value, fitted[name])


@pytest.mark.parametrize("flags, whitened", [([], True), (["--no-whiten"], False)])
def test_train_on_wine_says_whether_it_kept_the_gaussian(tmp_path, capsys, flags, whitened):
    status = main(["train", "--model", "maf", "--data", "wine", "--steps", "3", "--layers", "1",
                   "--hidden", "4", "--no-progress", "--no-figures", "--out", str(tmp_path)] + flags)
    assert status == 0
    said = "validation gain over the data's Gaussian" in capsys.readouterr().err
    assert said == whitened


def test_train_reports_the_gaussian_it_kept_as_its_best(tmp_path, capsys):
    """Three steps cannot beat the data's Gaussian by two standard errors, so train keeps the
    start: the summary and history.json then name step 0 and the start's validation NLL, the
    model that model.npz holds, not the trained flow's figures."""
    import json
    assert main(["train", "--data", "wine", "--model", "realnvp", "--layers", "2", "--hidden", "8",
                 "--steps", "3", "--no-progress", "--no-figures", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "kept the starting Gaussian" in out.err
    with open(tmp_path / "history.json") as handle:
        history = json.load(handle)
    assert history["best_step"] == 0
    assert f"{history['best_val_loss']:.4f} nats at step 0" in out.out
