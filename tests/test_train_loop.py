"""The training loop with a scripted objective (losses and validation losses chosen by the test):
when it evaluates, what counts as better, when patience runs out, what the progress bar is shown,
and the defaults ``fit`` settles (1000 steps; every epoch or every 100 steps)."""
import math

import numpy as np
import pytest

import scratchflow.train as train
from scratchflow import ElementwiseAffine, Flow
from scratchflow.history import History, ParameterSnapshot
from scratchflow.stopping import gradient_step
from scratchflow.train import _objective, _train_loop
from tests.strategies import GaussianTarget


class _Scripted:
    """An objective whose step losses and validation losses are given lists."""

    def __init__(self, module, losses, val_losses):
        self.module, self.losses, self.val_losses = module, list(losses), list(val_losses)
        self.validates = True

    def step(self):
        self.module.params["shift"] += 1.0                     # visible parameter change per step
        return self.losses.pop(0)

    def evaluate(self):
        return self.val_losses.pop(0)


class _Optimizer:
    def step(self):
        return 2.0


class _Bar:
    """Stands in for the tqdm bar: its position ``n``, and what it showed at each position."""

    def __init__(self):
        self.n, self.postfix, self.shown = 0, {}, []

    def set_postfix(self, values, refresh=True):
        self.postfix = dict(values)

    def update(self, count):
        self.n += count
        self.shown.append((self.n, self.postfix))


def _loop(losses, val_losses, steps, eval_every, patience):
    module = ElementwiseAffine(1)
    objective = _Scripted(module, losses, val_losses)
    history, bar = History(mode="data"), _Bar()
    best = ParameterSnapshot(module)
    _train_loop(objective, _Optimizer(), history, ParameterSnapshot(module), best, bar, steps,
                eval_every, patience)
    return history, bar, best


def test_evaluates_every_eval_every_steps_and_at_the_last_step():
    history, bar, _ = _loop([1.0] * 7, [3.0, 2.0, 1.0], steps=7, eval_every=3, patience=None)
    assert history.val_step == [3, 6, 7]
    assert history.train_loss == [1.0] * 7 and history.grad_norm == [2.0] * 7
    assert [step for step, _ in bar.shown] == list(range(1, 8))
    assert "val_nll" not in bar.shown[1][1] and bar.shown[2][1]["val_nll"] == "3.0000"
    assert bar.shown[6][1]["val_nll"] == "1.0000"


def test_patience_counts_evaluations_without_a_strictly_better_loss():
    # best 2.0 at step 2; 2.0 again is not better; stops after 2 evaluations without improvement
    history, bar, best = _loop([1.0] * 10, [3.0, 2.0, 2.0, 2.5, 1.0], steps=10, eval_every=1,
                               patience=2)
    assert history.val_step == [1, 2, 3, 4]
    assert (history.best_step, history.best_val_loss) == (2, 2.0)
    assert history.stopped.startswith("early stopping at step 4")
    assert best.step == 2 and best.saved["param:shift"][0] == 2.0   # parameters after step 2
    assert bar.shown[-1] == (4, {"loss": "1.0000", "val_nll": "2.5000"})
    history, _, _ = _loop([1.0] * 4, [3.0, 2.0, 2.5, 2.4], steps=4, eval_every=1, patience=3)
    assert history.stopped == "finished"                           # 2 without improvement < 3


def test_the_bar_shows_a_running_mean_of_the_loss():
    _, bar, _ = _loop([2.0, 4.0, 6.0], [1.0], steps=3, eval_every=5, patience=None)
    shown = [float(values["loss"]) for _, values in bar.shown]          # shown to 4 decimals
    expected = [2.0, 0.95 * 2.0 + 0.05 * 4.0, 0.95 * (0.95 * 2.0 + 0.05 * 4.0) + 0.05 * 6.0]
    np.testing.assert_allclose(shown, expected, atol=5e-5, rtol=0)


def test_a_non_finite_loss_stops_and_restores_the_last_good_parameters():
    history, _, _ = _loop([1.0, 1.0, math.inf, 1.0], [5.0] * 4, steps=4, eval_every=10,
                          patience=None)
    assert history.train_loss == [1.0, 1.0]
    assert history.stopped.startswith("non-finite loss (inf) at step 3")
    assert "parameters after step 1 (the last with a finite loss)" in history.stopped


def test_fit_defaults_for_steps_and_evaluation():
    flow = Flow(ElementwiseAffine(2))
    data = np.random.default_rng(0).normal(size=(10, 2))
    _, steps, eval_every, patience = _objective(flow, data, None, None, None, None, 4, None, None,
                                                1024, 0)
    assert (steps, eval_every, patience) == (1000, 3, None)         # 3 minibatches of 4 per epoch
    _, steps, _, _ = _objective(flow, data, None, None, None, 2, 4, None, None, 1024, 0)
    assert steps == 6                                               # 2 epochs of 3 steps
    objective, steps, eval_every, _ = _objective(flow, None, None, GaussianTarget([0.0, 0.0]), 50,
                                                 None, 8, None, None, 16, 0)
    assert (steps, eval_every) == (50, 100) and objective.val_z.shape == (16, 2)
    with pytest.raises(ValueError, match="eval_every"):
        _objective(flow, data, None, None, 5, None, 4, 0, None, 1024, 0)
    with pytest.raises(ValueError, match="patience"):
        _objective(flow, data, data, None, 5, None, 4, None, 0, 1024, 0)
    assert _objective(flow, data, data, None, 5, None, 4, None, 1, 1024, 0)[3] == 1
    with pytest.raises(ValueError, match="empty"):
        _objective(flow, data[:0], None, None, 5, None, 4, None, None, 1024, 0)


def test_fit_defaults_adam_at_1e_3_minibatches_of_256_and_a_quiet_bar(monkeypatch, capfd):
    from scratchflow import train
    made, original = [], train.make_optimizer

    def recording(flow, optimizer, lr, clip_norm):
        made.append((optimizer, lr))
        return original(flow, optimizer, lr, clip_norm)
    monkeypatch.setattr(train, "make_optimizer", recording)
    rng = np.random.default_rng(0)
    data, val = rng.normal(size=(513, 2)), rng.normal(size=(20, 2))
    history = train.fit(Flow(ElementwiseAffine(2)), data, val, steps=3, progress=False)
    assert made == [(None, 1e-3)]
    assert history.val_step == [3]                       # 513 rows / 256 = 3 steps an epoch
    assert capfd.readouterr().err == ""                  # progress=False: nothing drawn


def test_limit_blas_threads_none_leaves_the_setting_alone():
    import contextlib

    from scratchflow.train import limit_blas_threads
    assert isinstance(limit_blas_threads(None), contextlib.nullcontext)
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with limit_blas_threads(1) as limits:
        assert isinstance(limits, threadpoolctl.threadpool_limits)


def test_fit_keeps_the_best_parameters_by_default_and_adam_is_the_default_optimizer():
    from scratchflow.optim import Adam
    from scratchflow.train import fit, make_optimizer
    flow = Flow(ElementwiseAffine(2))
    optimizer = make_optimizer(flow)
    assert isinstance(optimizer, Adam) and optimizer.lr == 1e-3
    rng = np.random.default_rng(3)
    data, val = rng.normal(size=(64, 2)) * 3 + 1, rng.normal(size=(32, 2)) * 3 + 1
    history = fit(flow, data, val, steps=40, batch_size=4, lr=0.5, eval_every=1, progress=False)
    assert history.best_step < 40                          # lr 0.5 overshoots: the last is not best
    assert -np.mean(flow.log_prob(val)) == pytest.approx(history.best_val_loss, rel=1e-12)


def test_an_optimizer_that_overshoots_a_parameter_stops_naming_it_and_keeps_the_step_before():
    """The update itself made a parameter infinite (the loss and gradient were finite): the stop
    names the parameter and the step, and the parameters before that update are put back."""
    module = ElementwiseAffine(1)
    objective = _Scripted(module, [1.0], [])
    objective.flow = module

    class Overshooting:
        def step(self):
            module.params["shift"][...] = math.inf
            return 2.0
    history = History(mode="data")
    assert gradient_step(objective, Overshooting(), history, ParameterSnapshot(module), 3) is None
    assert history.stopped.startswith("non-finite parameter of shift (nan) at step 3")
    assert "parameters after step 2 (the last with a finite loss) were kept" in history.stopped
    np.testing.assert_array_equal(module.params["shift"], [1.0])     # as objective.step left it
    assert history.train_loss == [] and history.grad_norm == [2.0]


@pytest.mark.parametrize("restore_best, best_step, suffix", [
    (True, 3, ", then the best (validation, step 3)"), (False, 3, ""), (True, None, "")])
def test_ctrl_c_keeps_the_last_good_parameters_then_the_best_if_there_is_one(
        monkeypatch, restore_best, best_step, suffix):
    """The stop message says which parameters the flow ends with: the last good ones, then the best
    evaluated ones only when best parameters are restored and an evaluation happened."""
    def interrupted(objective, optimizer, history, last_good, best, *rest):
        history.best_step = best_step
        raise KeyboardInterrupt
    monkeypatch.setattr(train, "_train_loop", interrupted)
    flow = Flow(ElementwiseAffine(1))
    data = np.random.default_rng(0).normal(size=(40, 1))
    history = train.fit(flow, data, data, steps=5, restore_best=restore_best, progress=False)
    assert history.stopped == ("interrupted (Ctrl-C) after 0 steps: the parameters after step 0 "
                               "were kept" + suffix)
