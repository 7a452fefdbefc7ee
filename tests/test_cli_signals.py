"""SIGTERM and SIGHUP during ``scratchflow train`` save the best model, like Ctrl-C."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from scratchflow.io import load_model

pytestmark = pytest.mark.slow


def _start_training(out):
    command = [sys.executable, "-m", "scratchflow.cli", "train", "--data", "moons", "--steps", "1000000",
               "--layers", "2", "--hidden", "8", "--n-train", "256", "--n-val", "128",
               "--batch-size", "64", "--no-figures", "--out", str(out)]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    line = process.stderr.readline()                     # "training realnvp (...)": fit is next
    assert line.startswith("training"), line
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:                   # a progress line: steps are being taken
        if "train:" in process.stderr.readline():
            return process
    process.kill()
    raise AssertionError("training never showed progress")


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_termination_signal_saves_the_best_model_like_ctrl_c(name, tmp_path):
    out = tmp_path / "run"
    process = _start_training(out)
    time.sleep(0.5)
    process.send_signal(getattr(signal, name))
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 128 + getattr(signal, name), stdout
    assert f"interrupted ({name}) after" in stdout and "best (validation" in stdout, stdout
    flow = load_model(out / "model.npz")
    assert np.isfinite(flow.log_prob(np.zeros((2, 2)))).all()
    assert (out / "history.json").exists()
