"""Random stacks trained with random, absurd included,
learning rates either finish or stop cleanly with the last good parameters. ``fit`` never raises.

The optimizer is wrapped so the test knows the parameters before every step; a stop must leave
exactly the snapshot the stop message names (the parameters whose loss was finite).
"""
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchflow import Flow
from scratchflow.bijectors import (IAF, MAF, ActNorm, AffineCoupling, BatchNorm, ElementwiseAffine,
                                   Permutation)
from scratchflow.data import load_dataset
from scratchflow.optim import Adam
from scratchflow.targets import load_target
from scratchflow.stopping import BASE_TOLERANCE, DivergenceBound
from scratchflow.train import fit

LAYERS = {
    "affine": lambda rng: ElementwiseAffine(2, log_scale=rng.uniform(-1, 1, 2)),
    "coupling": lambda rng: AffineCoupling(2, rng.permutation([0, 1]), hidden=(8,),
                                           activation="relu", rng=rng),
    "maf": lambda rng: MAF(2, hidden=(8,), activation="relu", rng=rng, zero_last=False),
    "iaf": lambda rng: IAF(2, hidden=(8,), activation="relu", rng=rng, zero_last=False),
    "actnorm": lambda rng: ActNorm(2),
    "permutation": lambda rng: Permutation([1, 0]),
    "batchnorm": lambda rng: BatchNorm(2),
}
DATA = load_dataset("moons", 64, rng=0)                              # (64, 2), one full batch


class Recorder:
    """Adam that keeps a copy of the parameters before each of its steps."""

    def __init__(self, flow, lr):
        self.flow, self.adam, self.before = flow, Adam(flow.params, flow.grads, lr=lr), []

    def step(self):
        self.before.append({name: value.copy() for name, value in self.flow.params.items()})
        return self.adam.step()


def _params(flow):
    return {name: value.copy() for name, value in flow.params.items()}


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(sorted(LAYERS)), min_size=1, max_size=4),
       log_lr=st.floats(-4, 300), seed=st.integers(0, 2 ** 16), reverse_kl=st.booleans())
def test_fit_finishes_or_stops_cleanly_with_the_last_good_parameters(kinds, log_lr, seed, reverse_kl):
    rng = np.random.default_rng(seed)
    flow = Flow([LAYERS[kind](rng) for kind in kinds])
    initial = _params(flow)
    optimizer = Recorder(flow, lr=10.0 ** log_lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if reverse_kl:                                              # validates: best restored
            history = fit(flow, target=load_target("u1"), steps=12, batch_size=32,
                          optimizer=optimizer, seed=seed, progress=False, val_size=64)
        else:
            history = fit(flow, DATA, steps=12, batch_size=64, optimizer=optimizer, seed=seed,
                          progress=False)
    assert history.stopped == "finished" or history.diverged, history.stopped
    assert all(np.isfinite(value).all() for value in flow.params.values())
    if history.stopped == "finished" or reverse_kl:
        return
    k = history.steps + 1                                           # the step that failed
    assert f"at step {k}" in history.stopped
    if history.stopped.startswith(("non-finite loss", "diverged at step")):   # kept: after k - 2
        expected = initial if k == 1 else optimizer.before[k - 2]
    else:                                                           # gradient or parameter
        expected = optimizer.before[k - 1]                          # kept: after step k - 1
    for name, value in flow.params.items():
        np.testing.assert_array_equal(value, expected[name], err_msg=history.stopped)
    assert np.isfinite(flow.loss(DATA))                             # the kept parameters work


def test_relu_maf_and_iaf_with_large_rates_never_crash_fit():
    """ReLU, 5 layers, lr 0.03 to 3 on MAF and IAF, and reverse KL on u1: an overflow is a clean
    stop, not a ValueError blaming the data. Every run must return a History."""
    stopped = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for layer_class in (MAF, IAF):
            for lr in (0.03, 0.3, 3.0):
                rng = np.random.default_rng(1)
                flow = Flow([layer_class(2, hidden=(16, 16), activation="relu", rng=rng,
                                         order="random") for _ in range(5)])
                history = fit(flow, DATA, DATA, steps=25, batch_size=32, lr=lr, progress=False)
                kl = fit(flow, target=load_target("u1"), steps=10, lr=lr, progress=False,
                         batch_size=32, val_size=32)
                stopped += history.stopped != "finished"
                for run in (history, kl):
                    assert run.stopped == "finished" or " at step " in run.stopped
    assert stopped > 0                                              # the large rates did diverge


def test_a_validation_pass_that_overflows_stops_cleanly():
    """The validation NLL of far-out rows is -inf: a clean stop at the first evaluation, with the
    parameters that gave that step's finite training loss."""
    flow = Flow([ElementwiseAffine(2)])
    far = np.full((4, 2), 1e300)                                    # finite, log p_z = -inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(flow, DATA, far, steps=10, batch_size=32, eval_every=3, progress=False)
    assert history.stopped.startswith("non-finite validation loss at step 3")
    assert "base density" in history.stopped and history.val_loss == []
    assert all(np.isfinite(value).all() for value in flow.params.values())


def test_a_best_loss_exactly_at_the_tolerance_is_not_worse_than_the_base():
    bound = DivergenceBound(1.25, dim=2)
    at = 1.25 + BASE_TOLERANCE * 2
    assert not bound.worse_than_base(at) and bound.worse_than_base(np.nextafter(at, np.inf))
