"""Maximum likelihood on real data at small size: MAF and Real-NVP on scikit-learn's 8×8 digits.

The flows model pixels in (0, 1) through a Logit layer (``logit_alpha`` in the config), so their
``log_prob`` is the density of the dequantised pixels themselves. The bound to beat is the best
diagonal Gaussian in logit space (closed-form maximum likelihood), put through the same logit.
"""
import numpy as np
import pytest

from scratchflow.bijectors import Logit
from scratchflow.cli import main
from scratchflow.models import build_model
from scratchflow.realdata import load_sklearn
from scratchflow.train import fit


@pytest.fixture(scope="module")
def digits():
    return load_sklearn("digits", "train"), load_sklearn("digits", "test")


def diagonal_gaussian_nll(train, test):
    """Test NLL (nats per image, pixel space) of the MLE diagonal Gaussian in logit space."""
    logit = Logit(train.shape[1], alpha=0.05)
    y_train, _ = logit.forward(train)
    y_test, log_det = logit.forward(test)                       # (N, 64), (N,)
    mean, std = y_train.mean(axis=0), y_train.std(axis=0)
    log_density = -0.5 * (((y_test - mean) / std) ** 2 + np.log(2 * np.pi * std ** 2)).sum(axis=1)
    return -float(np.mean(log_density + log_det))


@pytest.mark.parametrize("model, bound", [("maf", -65.0), ("realnvp", -56.0)])
def test_flow_on_digits_beats_a_diagonal_gaussian(digits, model, bound):
    train, test = digits
    baseline = diagonal_gaussian_nll(train, test)               # about -52.8 nats per image
    flow = build_model({"model": model, "dim": 64, "n_layers": 2, "hidden": [64],
                        "logit_alpha": 0.05, "seed": 0})
    assert -flow.log_prob(test).mean() > 50.0                   # untrained: logit + N(0, I)
    fit(flow, train, steps=300, batch_size=128, lr=1e-3, seed=0, progress=False)
    test_nll = -float(flow.log_prob(test).mean())
    assert test_nll < bound < baseline


def test_train_command_on_digits_draws_images(tmp_path):
    out = tmp_path / "digits"
    assert main(["train", "--model", "maf", "--data", "digits", "--steps", "20", "--layers", "1",
                 "--hidden", "16", "--no-progress", "--out", str(out)]) == 0
    for name in ("model.npz", "loss.png", "samples.png"):
        assert (out / name).stat().st_size > 1000
    assert main(["plot", "--model-file", str(out / "model.npz"), "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "samples.png").exists()
