"""The training loop: learning moons, early stopping, non-finite losses, minibatches, reverse KL."""
import math

import numpy as np
import pytest

from scratchflow import AffineCoupling, BatchNorm, ElementwiseAffine, Flow, Permutation
from scratchflow.data import load_dataset, standardize
from scratchflow.models import build_realnvp
from scratchflow.train import History, fit, minibatch_indices
from tests.strategies import GaussianTarget, MisshapenTarget
from tests.time_limit import time_limit


class PlainSGD:
    """θ ← θ − lr ∇θ; returns the gradient norm like scratchflow.optim does."""

    def __init__(self, flow, lr):
        self.params, self.grads, self.lr = flow.params, flow.grads, lr

    def step(self):
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in self.grads.values()))
        for name, param in self.params.items():
            param -= self.lr * self.grads[name]
        return norm


def _affine_flow(dim=1):
    return Flow([ElementwiseAffine(dim)])


def test_minibatches_use_every_index_once_per_epoch():
    batches = minibatch_indices(10, 3, np.random.default_rng(0))
    epochs = []
    for _ in range(3):
        parts = [next(batches) for _ in range(4)]              # 3 + 3 + 3 + 1 rows
        assert [len(idx) for _, idx in parts] == [3, 3, 3, 1]
        assert {epoch for epoch, _ in parts} == {len(epochs)}
        order = np.concatenate([idx for _, idx in parts])
        np.testing.assert_array_equal(np.sort(order), np.arange(10))
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1])            # a fresh permutation each epoch


def test_epochs_count_steps_and_seed_reproduces():
    data = np.random.default_rng(0).normal(2.0, 1.0, size=(100, 1))
    runs = []
    for _ in range(2):
        flow = _affine_flow()
        history = fit(flow, data, epochs=3, batch_size=32, optimizer=PlainSGD(flow, 0.05), seed=5,
                      progress=False)
        runs.append((history.train_loss, flow.params["layers.0.shift"].copy()))
    assert len(runs[0][0]) == 3 * 4 and runs[0][0][-1] < runs[0][0][0]
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_early_stopping_restores_best_parameters():
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 1.0, size=(256, 1))       # training pulls the flow towards N(3, 1)
    val = rng.normal(1.0, 1.0, size=(256, 1))         # validation is best half way there
    flow = _affine_flow()
    history = fit(flow, train, val, steps=500, batch_size=64, optimizer=PlainSGD(flow, 0.05),
                  eval_every=4, patience=3, progress=False)
    assert history.stopped.startswith("early stopping")
    assert history.steps < 500 and history.best_step < history.val_step[-1]
    assert history.val_loss[-1] > history.best_val_loss
    assert -np.mean(flow.log_prob(val)) == history.best_val_loss          # the best, bit for bit


def test_without_restore_best_the_last_parameters_stay():
    rng = np.random.default_rng(0)
    train, val = rng.normal(3.0, 1.0, size=(256, 1)), rng.normal(1.0, 1.0, size=(256, 1))
    flow = _affine_flow()
    history = fit(flow, train, val, steps=60, batch_size=64, optimizer=PlainSGD(flow, 0.05),
                  eval_every=4, restore_best=False, progress=False)
    assert history.stopped == "finished" and history.val_step[-1] == 60
    assert -np.mean(flow.log_prob(val)) == history.val_loss[-1] != history.best_val_loss


def _planted(flow, bad_call, plant):
    """Wrap the pass fit's steps run (the flow's loss and gradient on checked rows): record the
    parameters at each call, plant a fault at `bad_call`."""
    seen = []
    original = flow._loss_and_grad

    def loss_and_grad(x, context=None):
        seen.append({k: v.copy() for k, v in flow.params.items()})
        loss = original(x, context)
        return plant(loss) if len(seen) == bad_call else loss

    flow._loss_and_grad = loss_and_grad
    return seen


def test_nan_loss_stops_names_the_step_and_keeps_last_good_parameters():
    data = np.random.default_rng(0).normal(2.0, 1.0, size=(128, 1))
    flow = _affine_flow()
    seen = _planted(flow, 6, lambda loss: float("nan"))
    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        history = fit(flow, data, steps=20, batch_size=32, optimizer=PlainSGD(flow, 0.1),
                      progress=False)
    assert "at step 6" in history.stopped and "after step 4" in history.stopped
    assert history.steps == 5
    for name, value in flow.params.items():
        np.testing.assert_array_equal(value, seen[4][name])   # what step 5's finite loss was made with
        assert not np.array_equal(value, seen[5][name])


@pytest.mark.parametrize("bad_value, bad_step, use_plain_sgd", [
    (np.nan, 3, True),       # an optimizer that applies whatever it is given: the loop sees the NaN norm
    (np.inf, 4, False),      # default Adam raises FloatingPointError: the loop turns it into its stop
], ids=["plain-sgd-nan", "default-adam-inf"])
def test_non_finite_gradient_stops_and_undoes_the_update(bad_value, bad_step, use_plain_sgd):
    """A non-finite gradient stops training cleanly, parameters untouched by the bad step."""
    data = np.random.default_rng(0).normal(2.0, 1.0, size=(128, 1))
    flow = _affine_flow()

    def poison_grads(loss):
        flow.grads["layers.0.shift"][0] = bad_value
        return loss

    seen = _planted(flow, bad_step, poison_grads)
    optimizer = PlainSGD(flow, 0.1) if use_plain_sgd else None
    with pytest.warns(RuntimeWarning, match="non-finite gradient"):
        history = fit(flow, data, steps=20, batch_size=32, optimizer=optimizer, progress=False)
    assert f"at step {bad_step}" in history.stopped and history.steps == bad_step - 1
    for name, value in flow.params.items():
        assert np.isfinite(value).all()
        np.testing.assert_array_equal(value, seen[bad_step - 1][name])


def test_a_layer_overflow_stops_cleanly():
    """Flow.loss raises FloatingPointError when a layer overflows; that is a non-finite loss."""
    data = np.random.default_rng(0).normal(2.0, 1.0, size=(128, 1))
    flow = _affine_flow()

    def overflow(loss):
        raise FloatingPointError("a layer overflowed")

    seen = _planted(flow, 5, overflow)
    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        history = fit(flow, data, steps=20, batch_size=32, progress=False)
    assert "at step 5" in history.stopped and history.steps == 4
    for name, value in flow.params.items():
        np.testing.assert_array_equal(value, seen[3][name])   # what step 4's finite loss was made with


def test_reverse_kl_mode_fits_a_gaussian_target():
    target = GaussianTarget([1.0, -2.0], [0.5, 2.0])
    flow = _affine_flow(2)
    history = fit(flow, target=target, steps=400, batch_size=128, optimizer=PlainSGD(flow, 0.05),
                  eval_every=50, seed=0, progress=False)
    assert history.mode == "target" and history.stopped == "finished"
    assert history.train_loss[0] > 1.0 and history.best_val_loss < 1e-3   # KL(q ‖ p*) → 0
    samples = flow.sample(20_000, rng=1)
    np.testing.assert_allclose(samples.mean(axis=0), target.mean, atol=0.05)
    np.testing.assert_allclose(samples.std(axis=0), target.std, rtol=0.03)


def test_bad_arguments_are_named():
    flow = _affine_flow()
    data = np.zeros((10, 1))
    with pytest.raises(ValueError, match="either data"):
        fit(flow, progress=False)
    with pytest.raises(ValueError, match="steps or epochs"):
        fit(flow, data, steps=3, epochs=1, progress=False)
    with pytest.raises(ValueError, match="patience"):
        fit(flow, data, steps=3, patience=2, optimizer=PlainSGD(flow, 0.1), progress=False)
    with pytest.raises(ValueError, match="D=2 columns"):
        fit(flow, np.zeros((10, 2)), steps=3, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        fit(flow, np.full((10, 1), np.nan), steps=3, progress=False)
    with pytest.raises(ValueError, match="target has dimension 2"):
        fit(flow, target=GaussianTarget([0.0, 0.0], [1.0, 1.0]), steps=3, progress=False)
    assert isinstance(History(mode="data").to_dict(), dict)


def test_realnvp_learns_moons_far_below_the_base_density():
    """Bound: on standardised data (mean 0, std 1 per column) the base N(0, I) itself has expected
    NLL = (D/2) log(2π) + D/2 = 2.838 nats for D = 2, and the best Gaussian fit (full covariance)
    ≈ 2.78; a well-trained Real-NVP reaches ≈ 1.96 (1.13 in raw units, + Σ log std = 0.83). Default
    Adam, a small Real-NVP and 400 steps must get at least 0.5 nat below the base (≈ 2.17 here)."""
    train, mean, std = standardize(load_dataset("moons", 2000, rng=0))
    val, _, _ = standardize(load_dataset("moons", 1000, rng=1), mean, std)
    base_nll = np.log(2 * np.pi) + 1.0                                      # D = 2
    flow = build_realnvp(dim=2, n_layers=4, hidden=(32, 32), seed=0)
    history = fit(flow, train, val, steps=400, batch_size=128, lr=3e-3, eval_every=100, seed=0,
                  progress=False)
    assert history.stopped == "finished" and len(history.grad_norm) == 400
    assert history.val_loss[0] < base_nll
    assert history.best_val_loss < base_nll - 0.5, history.val_loss
    assert -np.mean(flow.log_prob(val)) == history.best_val_loss            # best kept


def test_validation_uses_batchnorm_running_averages():
    rng = np.random.default_rng(0)
    train, val = rng.normal(2.0, 3.0, size=(256, 2)), rng.normal(2.0, 3.0, size=(64, 2))
    flow = Flow([BatchNorm(2), ElementwiseAffine(2)])
    history = fit(flow, train, val, steps=12, batch_size=64, optimizer=PlainSGD(flow, 0.01),
                  eval_every=4, restore_best=False, progress=False)
    batchnorm = flow.layers[0]
    assert batchnorm.training                                  # back in training mode after fit
    batchnorm.eval()
    assert -np.mean(flow.log_prob(val)) == history.val_loss[-1]
    batchnorm.train()
    assert -np.mean(flow.log_prob(val)) != history.val_loss[-1]   # batch statistics differ


def _coupling_flow():
    return Flow([AffineCoupling(2, [1, 0], hidden=(4,), rng=0), Permutation([1, 0])])


DATA = np.random.default_rng(0).normal(size=(20, 2))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(data=np.zeros((0, 2))), ValueError, r"data is empty .*at least one row"),     # no endless loop
    (dict(data=DATA, val_data=np.zeros((0, 2))), ValueError, r"val_data is empty"),     # no NaN loss
    (dict(data=np.zeros((10, 3))), ValueError, r"data has D=3 columns but this layer has dimension 2"),
    (dict(data=np.where(np.eye(20, 2) > 0, np.nan, DATA)), ValueError, r"data contains NaN or inf"),
    (dict(data=DATA, val_data=np.zeros((5, 3))), ValueError, r"val_data has D=3 columns"),
    (dict(data=DATA.astype(int)), TypeError, r"data must be a float array"),
    (dict(data=DATA, target=MisshapenTarget()), ValueError, r"either data .* or target .*not both"),
    (dict(), ValueError, r"either data .* or target"),
    (dict(target=MisshapenTarget(), val_data=DATA), ValueError, r"val_data is for maximum likelihood"),
    (dict(target=MisshapenTarget(dim=3)), ValueError, r"target has dimension 3 but the flow has 2"),
    (dict(data=DATA, steps=0), ValueError, r"steps must be >= 1, got 0"),
    (dict(data=DATA, steps=2.5), TypeError, r"steps must be an integer, got 2.5"),      # not rounded
    (dict(data=DATA, epochs=0), ValueError, r"epochs must be >= 1"),
    (dict(data=DATA, epochs=1.5), TypeError, r"epochs must be an integer"),             # not rounded
    (dict(data=DATA, steps=2, epochs=1), ValueError, r"steps or epochs, not both"),
    (dict(data=DATA, batch_size=0), ValueError, r"batch_size must be >= 1"),
    (dict(data=DATA, batch_size=2.5), TypeError, r"batch_size must be an integer"),     # not rounded
    (dict(data=DATA, val_data=DATA, eval_every=0), ValueError, r"eval_every must be >= 1"),
    (dict(data=DATA, val_data=DATA, patience=0), ValueError, r"patience must be >= 1"),  # not 1 step
    (dict(data=DATA, patience=2), ValueError, r"patience\) needs val_data"),
    (dict(target=MisshapenTarget(), val_size=0), ValueError, r"val_size must be >= 1"),  # not NaN
    (dict(data=DATA, lr=-1.0), ValueError, r"lr must be > 0"),
    (dict(data=DATA, optimizer="rmsprop"), ValueError, r"unknown optimizer 'rmsprop'"),
])
def test_fit_refuses_bad_settings(kwargs, error, message):
    kwargs = {"steps": 2, **kwargs} if "epochs" not in kwargs else kwargs
    with time_limit(10, "training"), pytest.raises(error, match=message):
        fit(_coupling_flow(), progress=False, **kwargs)


def test_a_batch_larger_than_the_data_means_full_batch_steps():
    flow = _coupling_flow()
    full_batch_loss = flow.loss(DATA)
    history = fit(flow, DATA, steps=1, batch_size=1000, progress=False)
    np.testing.assert_allclose(history.train_loss[0], full_batch_loss, rtol=1e-12)   # all 20 rows


def test_fit_with_a_non_optimizer_says_so():
    flow = Flow([ElementwiseAffine(2)])
    with pytest.raises(TypeError, match=r"optimizer must be None, 'adam', 'sgd' or an object with "
                                        r"step\(\); got 42"):
        fit(flow, np.zeros((4, 2)), steps=1, optimizer=42, progress=False)
