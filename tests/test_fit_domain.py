"""fit on a stack whose later layer has a restricted domain: when training moves the points the
model makes out of that domain (a shift past a Logit's (0, 1)), fit stops cleanly and keeps the last
good parameters, as it does on an overflow (never an exception from fit)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchflow import ElementwiseAffine, Flow
from scratchflow.bijectors import Compose, Logit
from scratchflow.divergence import DomainError
from scratchflow.optim import SGD
from scratchflow.train import fit


def _stack():
    return Flow([ElementwiseAffine(1), Logit(1)])


def test_an_intermediate_outside_a_later_domain_is_a_domain_error_naming_the_layer():
    stack = Compose([ElementwiseAffine(1, shift=[2.0]), Logit(1)])
    with pytest.raises(DomainError, match=r"layer 1 \(Logit\)") as caught:
        stack.forward(np.full((3, 1), 0.5))
    assert isinstance(caught.value, ValueError)                # still a ValueError for callers


def test_the_first_layer_s_domain_is_the_caller_s_data_and_stays_a_plain_value_error():
    stack = Compose([Logit(1), ElementwiseAffine(1)])
    with pytest.raises(ValueError, match=r"layer 0 \(Logit\)") as caught:
        stack.forward(np.full((3, 1), 2.0))
    assert not isinstance(caught.value, DomainError)


def _fit(steps):
    data = np.random.default_rng(0).uniform(0.3, 0.7, size=(256, 1))   # (N, 1) inside (0, 1)
    flow = _stack()
    history = fit(flow, data, steps=steps, batch_size=64, seed=0, progress=False,
                  optimizer=SGD(flow.params, flow.grads, lr=1.0))
    return flow, history, data


def test_fit_stops_cleanly_when_training_pushes_points_out_of_a_later_domain():
    with pytest.warns(RuntimeWarning, match=r"layer 1 \(Logit\)"):
        flow, history, data = _fit(steps=50)
    assert history.stopped.startswith("point outside a layer's domain at step 2: layer 1 (Logit)")
    assert "parameters after step 0 (the last with a finite loss) were kept" in history.stopped
    initial = _stack()                  # step 1's loss was the last finite one: computed before it
    for name, value in flow.params.items():
        np.testing.assert_array_equal(value, initial.params[name])
    assert np.isfinite(flow.log_prob(data)).all()             # the kept parameters work on the data


@settings(max_examples=25, deadline=None, derandomize=True)
@given(log_lr=st.floats(-4, 300), seed=st.integers(0, 2 ** 16))
def test_fit_on_a_stack_with_a_restricted_domain_never_raises(log_lr, seed):
    rng = np.random.default_rng(seed)
    data = rng.uniform(0.1, 0.9, size=(64, 2))                     # (N, 2) inside (0, 1)^2
    flow = Flow([ElementwiseAffine(2, log_scale=rng.uniform(-0.1, 0.1, 2)), Logit(2),
                 ElementwiseAffine(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(flow, data, steps=10, batch_size=64, seed=seed, progress=False,
                      optimizer=SGD(flow.params, flow.grads, lr=10.0 ** log_lr))
    assert history.stopped == "finished" or history.diverged, history.stopped
    assert np.isfinite(flow.log_prob(data)).all()                  # kept parameters: data in domain
