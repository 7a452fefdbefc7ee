"""fit runs one-threaded: the BLAS thread count seen from inside a training step, and the install
requirements that make it so on a plain ``pip install -e .``."""
import importlib.metadata
import re

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from scratchflow.data import load_dataset
from scratchflow.models import build_realnvp
from scratchflow.optim import Adam
from scratchflow.train import fit


def _blas_threads():
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


class ThreadWatchingAdam(Adam):
    """Adam that records the BLAS thread counts at each step, i.e. while fit is training."""

    def __init__(self, params, grads):
        super().__init__(params, grads, lr=1e-3)
        self.seen = []

    def step(self):
        self.seen.append(_blas_threads())
        return super().step()


def test_fit_trains_with_one_blas_thread_and_gives_the_setting_back():
    flow = build_realnvp(dim=2, n_layers=2, hidden=(8,), seed=0)
    optimizer = ThreadWatchingAdam(flow.params, flow.grads)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        if before != {2}:
            pytest.skip(f"this BLAS cannot run 2 threads here (threadpoolctl sees {before}), so a "
                        "limit to 1 could not be told apart from the default")
        fit(flow, load_dataset("moons", 100, rng=0), steps=5, batch_size=20, optimizer=optimizer,
            progress=False)
        assert optimizer.seen == [{1}] * 5
        assert _blas_threads() == {2}                              # put back after training


def test_speed_and_progress_libraries_are_install_requirements():
    """README's first command is a plain ``pip install -e .``: it must bring these."""
    required = {re.split(r"[ <>=;\[]", line)[0].lower()
                for line in importlib.metadata.requires("scratchflow") if "extra ==" not in line}
    assert {"threadpoolctl", "tqdm"} <= required
