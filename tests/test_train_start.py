"""How ``fit`` starts: data checked once at its boundary (the steps and evaluations run the flow's
unchecked passes), and layers that take their start from data (ActNorm, Whitening) initialised
once, explicitly, on the training rows; a started or loaded layer is left as
it is."""
import numpy as np
import pytest

import scratchflow.flow
import scratchflow.objectives
from scratchflow import ElementwiseAffine, Flow
from scratchflow.gaussian_start import start_at_gaussian
from scratchflow.models import build_model, build_realnvp
from scratchflow.train import fit
from tests.strategies import GaussianTarget


class _Still:
    """An optimizer that moves nothing: what ``fit`` changes is then its initialisation only."""

    def step(self):
        pass


def _data(n=100, dim=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)) * [3.0, 0.5][:dim] + 2.0   # (n, D)


def test_fit_initialises_actnorm_on_its_training_rows_before_the_first_step():
    data = _data()
    flow = build_realnvp(2, n_layers=2, hidden=(8,), actnorm=True, seed=1)
    history = fit(flow, data, steps=1, batch_size=16, seed=3, optimizer=_Still(), progress=False)
    first_rows = data[np.random.default_rng(3).permutation(100)[:16]]             # (16, 2)
    assert flow.initialized
    np.testing.assert_array_equal(flow.layers.layers[0].loc, data.mean(axis=0))
    by_hand = build_realnvp(2, n_layers=2, hidden=(8,), actnorm=True, seed=1).initialize(data)
    assert history.train_loss[0] == by_hand.loss(first_rows)      # the first step, from that start
    for name, value in by_hand.params.items():
        np.testing.assert_array_equal(flow.params[name], value)


def test_fit_leaves_a_fitted_whitening_and_starts_the_actnorms_after_it():
    data = _data(dim=2)
    flow = build_model({"model": "realnvp", "dim": 2, "n_layers": 2, "hidden": [8],
                        "actnorm": True, "whiten": True})
    start_at_gaussian(flow, data)                                  # the whole training set
    fitted = {name: value.copy() for name, value in flow.layers.layers[0].params.items()}
    fit(flow, data, steps=1, batch_size=16, optimizer=_Still(), progress=False)
    assert flow.initialized
    for name, value in flow.layers.layers[0].params.items():
        np.testing.assert_array_equal(value, fitted[name])


def test_fit_starts_a_conditional_flow_on_its_training_rows_and_their_contexts():
    rng = np.random.default_rng(2)
    data, context = _data(dim=2), rng.normal(size=(100, 3))
    flow = build_realnvp(2, n_layers=2, hidden=(8,), actnorm=True, seed=1, context_dim=3)
    fit(flow, data, steps=2, batch_size=16, context=context, optimizer=_Still(), progress=False)
    by_hand = build_realnvp(2, n_layers=2, hidden=(8,), actnorm=True, seed=1, context_dim=3)
    by_hand.initialize(data, context)
    assert flow.initialized
    for name, value in by_hand.params.items():      # the ActNorms started alike, nothing else moved
        np.testing.assert_array_equal(flow.params[name], value)


def test_reverse_kl_fits_without_data_and_leaves_actnorm_unstarted():
    flow = build_realnvp(2, n_layers=2, hidden=(8,), actnorm=True, seed=1)
    fit(flow, target=GaussianTarget([1.0, -1.0]), steps=3, batch_size=16, val_size=16,
        progress=False)
    assert not flow.initialized                   # no data to start from: the identity start


def test_fit_checks_the_data_once_and_the_steps_and_evaluations_do_not_again(monkeypatch):
    calls = []
    for module in (scratchflow.flow, scratchflow.objectives):
        checked = module.check_array

        def counted(x, name="x", *args, check=checked, **kwargs):
            calls.append(name)
            return check(x, name, *args, **kwargs)
        monkeypatch.setattr(module, "check_array", counted)
    flow = Flow([ElementwiseAffine(2)])
    fit(flow, _data(), _data(seed=1), steps=20, batch_size=16, eval_every=5, progress=False)
    assert calls == ["data", "val_data"]
    calls.clear()
    with pytest.raises(ValueError, match="NaN"):                   # a direct call still checks
        flow.loss_and_grad(np.full((3, 2), np.nan))
    assert calls == ["x"]
