"""The library limits BLAS threads for its own calls: a hand-written loop over ``loss_and_grad`` and
``sample`` runs one-threaded without knowing about threads, and the caller's setting comes back."""
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import scratchflow.blas as blas
from scratchflow import Flow
from scratchflow.bijectors import ElementwiseAffine
from scratchflow.data import load_dataset


def _blas_threads():
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


class ThreadWatchingLayer(ElementwiseAffine):
    """Records the BLAS thread counts while the flow runs its passes."""
    seen = []

    def _forward(self, x, *args):
        ThreadWatchingLayer.seen.append(_blas_threads())
        return super()._forward(x, *args)

    def _inverse(self, z, *args):
        ThreadWatchingLayer.seen.append(_blas_threads())
        return super()._inverse(z, *args)


@pytest.fixture
def two_threads():
    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads() != {2}:
            pytest.skip("this BLAS cannot run 2 threads here: a limit of 1 could not be told apart")
        yield


def test_a_hand_written_loop_runs_with_one_blas_thread_and_gives_the_setting_back(two_threads):
    flow = Flow([ThreadWatchingLayer(2)])
    data = load_dataset("moons", 64, rng=0)
    ThreadWatchingLayer.seen.clear()
    for _ in range(3):
        flow.loss_and_grad(data)
    flow.sample(10, rng=0)
    flow.log_prob(data)
    assert ThreadWatchingLayer.seen and all(seen == {1} for seen in ThreadWatchingLayer.seen)
    assert _blas_threads() == {2}                                     # the caller's, back


def test_set_blas_threads_none_opts_out(two_threads):
    flow = Flow([ThreadWatchingLayer(2)])
    ThreadWatchingLayer.seen.clear()
    blas.set_blas_threads(None)
    try:
        flow.log_prob(np.zeros((3, 2)))
    finally:
        blas.set_blas_threads(1)
    assert ThreadWatchingLayer.seen == [{2}]
    with pytest.raises(ValueError, match="integer >= 1 or None"):
        blas.set_blas_threads(0)


def test_the_optimizers_step_is_limited_too():
    """Adam's and SGD's step take dot products of all parameters (the gradient norm): BLAS."""
    from scratchflow.optim import SGD, Adam
    for optimizer in (Adam, SGD):
        assert optimizer.step.__wrapped__ is not None and optimizer.step.__name__ == "step"
