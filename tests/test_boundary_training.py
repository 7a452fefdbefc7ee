"""The public boundary of Flow, the optimizers and train.fit: bad input gets an error that names
the problem (see tests/test_public_boundary.py for the decisions pinned)."""
import contextlib
import signal

import numpy as np
import pytest

from scratchflow import AffineCoupling, ElementwiseAffine, Flow, Permutation, StandardNormal
from scratchflow.divergence import DivergenceError
from scratchflow.nn import Linear
from scratchflow.optim import SGD, Adam
from scratchflow.train import fit, minibatch_indices


# ------------------------------------------------------------------------------------ Flow
def _flow():
    return Flow([AffineCoupling(2, [1, 0], hidden=(4,), rng=0), Permutation([1, 0])])


class _Target:
    """A reverse-KL target whose outputs can be given the wrong shape."""

    def __init__(self, dim=2, log_prob_shape=None, grad_shape=None):
        self.dim, self.log_prob_shape, self.grad_shape = dim, log_prob_shape, grad_shape

    def log_prob(self, x):
        value = -0.5 * np.sum(x * x, axis=1)                                   # (n,)
        return value if self.log_prob_shape is None else np.zeros(self.log_prob_shape)

    def grad_log_prob(self, x):
        return -x if self.grad_shape is None else np.zeros(self.grad_shape)


@pytest.mark.parametrize("n, error, message", [
    (-1, ValueError, r"n \(the number of samples\) must be >= 0, got -1"),
    (2.5, TypeError, r"n \(the number of samples\) must be an integer, got 2.5"),    # was 2 samples
    ("3", TypeError, r"must be an integer, got '3'"),
    (True, TypeError, r"must be an integer, got True"),
    (None, TypeError, r"must be an integer, got None"),
])
def test_sample_counts_are_non_negative_integers(n, error, message):
    with pytest.raises(error, match=message):
        _flow().sample(n, rng=0)


def test_empty_batches_density_yes_loss_no():
    flow = _flow()
    assert flow.sample(0, rng=0).shape == (0, 2)
    assert flow.log_prob(np.zeros((0, 2))).shape == (0,)
    for method in (flow.loss, flow.loss_and_grad):          # was NaN / ZeroDivisionError
        with pytest.raises(ValueError, match=r"needs at least one row.*empty batch.*\(0, 2\)"):
            method(np.zeros((0, 2)))


@pytest.mark.parametrize("target, n, error, message", [
    (_Target(), 0, ValueError, r"n \(the number of samples\) must be >= 1, got 0"),
    (_Target(), 2.5, TypeError, r"must be an integer"),
    (_Target(dim=3), 4, ValueError, r"target has dimension 3 but the flow has 2"),     # was silent
    (_Target(log_prob_shape=()), 4, ValueError, r"target.log_prob\(x\) must return shape \(4,\).*\(\)"),
    (_Target(log_prob_shape=(4, 1)), 4, ValueError, r"must return shape \(4,\)"),
    (_Target(grad_shape=(4, 1)), 4, ValueError, r"target.grad_log_prob\(x\) has D=1 columns"),
    (_Target(grad_shape=(1, 2)), 4, ValueError, r"target.grad_log_prob\(x\) has N=1 rows"),
    (None, 4, TypeError, r"target must have log_prob\(x\) and grad_log_prob\(x\)"),
])
def test_reverse_kl_checks_n_and_the_target(target, n, error, message):
    with pytest.raises(error, match=message):
        _flow().reverse_kl_loss_and_grad(target, n, rng=0)


def test_flow_backward_reads_only_the_latest_loss():
    """log_prob between loss and backward replaces the layers' caches: an error, not wrong grads."""
    flow, rng = _flow(), np.random.default_rng(1)
    flow.loss(rng.normal(size=(4, 2)))
    flow.log_prob(rng.normal(size=(4, 2)))                  # same N: the shapes alone would pass
    with pytest.raises(RuntimeError, match=r"after a log_prob .*call loss\(x\) again"):
        flow.backward()
    flow.loss(rng.normal(size=(4, 2)))
    with pytest.raises(ValueError, match="empty batch"):
        flow.loss(np.zeros((0, 2)))                          # fails after the layers ran
    with pytest.raises(RuntimeError, match=r"Flow.backward\(\) called before Flow.loss"):
        flow.backward()


def test_an_overflow_inside_the_flow_is_named_as_such():
    """x is fine, the layer overflows: the base must not blame "z contains NaN" on the user."""
    flow = Flow([ElementwiseAffine(2, log_scale=[800.0, 0.0])])            # exp(800) = inf
    with np.errstate(over="ignore", invalid="ignore"):
        for method in (flow.log_prob, flow.loss):
            with pytest.raises(DivergenceError, match=r"layer 0 \(ElementwiseAffine\) produced a "
                                                      r"non-finite z\[0, 0\] = inf from finite input"):
                method(np.ones((3, 2)))
        flow = Flow([ElementwiseAffine(2, log_scale=[-800.0, 0.0])])       # inverse: exp(800)
        with pytest.raises(DivergenceError, match=r"layer 0 \(ElementwiseAffine\) produced a "
                                                  r"non-finite x\["):
            flow.reverse_kl_loss_and_grad(_Target(), 4, rng=0)


def test_a_custom_base_must_return_one_log_prob_per_row():
    class Base(StandardNormal):
        def log_prob(self, z):
            return np.zeros(1)                                      # would broadcast over N
    flow = Flow([ElementwiseAffine(2)], base=Base(2))
    with pytest.raises(ValueError, match=r"base.log_prob\(z\) must return shape \(3,\).*\(1,\)"):
        flow.log_prob(np.zeros((3, 2)))


@pytest.mark.parametrize("call, error, message", [
    (lambda sn: sn.sample(-1), ValueError, r"must be >= 0"),
    (lambda sn: sn.sample(2.5), TypeError, r"must be an integer"),
    (lambda sn: sn.sample(2, dtype=np.int64), TypeError, r"dtype must be float64.*got int64"),
    (lambda sn: sn.log_prob(np.zeros((3, 3))), ValueError, r"z has D=3 columns"),
    (lambda sn: sn.grad_log_prob(np.full((1, 2), np.nan)), ValueError, r"z contains NaN"),
])
def test_standard_normal(call, error, message):
    with pytest.raises(error, match=message):
        call(StandardNormal(2))


# ------------------------------------------------------------------------------------ optim
def _params_grads():
    module = Linear(2, 2, rng=0)
    return module.params, module.grads


@pytest.mark.parametrize("make, error, message", [
    (lambda p, g: Adam(p, g, lr=-1), ValueError, r"lr must be > 0, got -1"),
    (lambda p, g: SGD(p, g, lr=0), ValueError, r"lr must be > 0"),
    (lambda p, g: Adam(p, g, lr=np.inf), ValueError, r"lr must be a finite number, got inf"),
    (lambda p, g: Adam(p, g, lr="0.1"), TypeError, r"lr must be a number"),
    (lambda p, g: Adam(p, g, weight_decay=np.nan), ValueError, r"weight_decay must be a finite"),
    (lambda p, g: Adam(p, g, betas=(0.9, 0.9, 0.9)), ValueError, r"betas must be a pair"),
    (lambda p, g: Adam(p, g, betas=(1.0, 0.9)), ValueError, r"betas must be in \[0.0, 1.0\)"),
    (lambda p, g: SGD(p, g, lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0.0, 1.0\)"),
    (lambda p, g: Adam(p, {"weight": g["weight"]}), ValueError, r"same keys"),
    (lambda p, g: Adam(list(p.values()), list(g.values())), TypeError, r"must be dicts"),
    (lambda p, g: Adam(p, list(g.values())), TypeError, r"must be dicts"),          # one of the two
    (lambda p, g: Adam({"w": np.zeros((2, 3))}, {"w": np.zeros((3, 2)).T}), ValueError,
     r"w: parameter and gradient arrays must be C-contiguous"),                      # one of the two
    (lambda p, g: Adam({"w": [0.0, 1.0]}, {"w": [0.0, 0.0]}), TypeError, r"live ndarrays"),
    (lambda p, g: Adam({"w": np.zeros(2)}, {"w": np.zeros(2, np.float32)}), TypeError,
     r"w: parameter dtype float64 and gradient dtype float32"),
    (lambda p, g: Adam({"w": np.zeros(2)}, {"w": np.zeros(3)}), ValueError,
     r"w: parameter shape \(2,\) != gradient shape \(3,\)"),
])
def test_optimizers_refuse_bad_settings_and_mismatched_params(make, error, message):
    params, grads = _params_grads()
    with pytest.raises(error, match=message):
        make(params, grads)


# ------------------------------------------------------------------------------------ train.fit
@contextlib.contextmanager
def _no_hang(seconds=10):
    """Turn a hang (training on zero rows used to loop forever) into a test failure."""
    def alarm(signum, frame):
        raise TimeoutError(f"no answer in {seconds} s")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


DATA = np.random.default_rng(0).normal(size=(20, 2))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(data=np.zeros((0, 2))), ValueError, r"data is empty .*at least one row"),     # was a hang
    (dict(data=DATA, val_data=np.zeros((0, 2))), ValueError, r"val_data is empty"),     # was NaN
    (dict(data=np.zeros((10, 3))), ValueError, r"data has D=3 columns but this layer has dimension 2"),
    (dict(data=np.where(np.eye(20, 2) > 0, np.nan, DATA)), ValueError, r"data contains NaN or inf"),
    (dict(data=DATA, val_data=np.zeros((5, 3))), ValueError, r"val_data has D=3 columns"),
    (dict(data=DATA.astype(int)), TypeError, r"data must be a float array"),
    (dict(data=DATA, target=_Target()), ValueError, r"either data .* or target .*not both"),
    (dict(), ValueError, r"either data .* or target"),
    (dict(target=_Target(), val_data=DATA), ValueError, r"val_data is for maximum likelihood"),
    (dict(target=_Target(dim=3)), ValueError, r"target has dimension 3 but the flow has 2"),
    (dict(data=DATA, steps=0), ValueError, r"steps must be >= 1, got 0"),
    (dict(data=DATA, steps=2.5), TypeError, r"steps must be an integer, got 2.5"),      # was 2
    (dict(data=DATA, epochs=0), ValueError, r"epochs must be >= 1"),
    (dict(data=DATA, epochs=1.5), TypeError, r"epochs must be an integer"),             # was 1
    (dict(data=DATA, steps=2, epochs=1), ValueError, r"steps or epochs, not both"),
    (dict(data=DATA, batch_size=0), ValueError, r"batch_size must be >= 1"),
    (dict(data=DATA, batch_size=2.5), TypeError, r"batch_size must be an integer"),     # was 2
    (dict(data=DATA, val_data=DATA, eval_every=0), ValueError, r"eval_every must be >= 1"),
    (dict(data=DATA, val_data=DATA, patience=0), ValueError, r"patience must be >= 1"),  # stopped at once
    (dict(data=DATA, patience=2), ValueError, r"patience\) needs val_data"),
    (dict(target=_Target(), val_size=0), ValueError, r"val_size must be >= 1"),         # was NaN
    (dict(data=DATA, lr=-1.0), ValueError, r"lr must be > 0"),
    (dict(data=DATA, optimizer="rmsprop"), ValueError, r"unknown optimizer 'rmsprop'"),
])
def test_fit_refuses_bad_settings(kwargs, error, message):
    kwargs = {"steps": 2, **kwargs} if "epochs" not in kwargs else kwargs
    with _no_hang(), pytest.raises(error, match=message):
        fit(_flow(), progress=False, **kwargs)


def test_minibatches_of_nothing_are_an_error_not_an_endless_loop():
    with _no_hang(), pytest.raises(ValueError, match=r"n must be >= 1, got 0"):
        next(minibatch_indices(0, 4, np.random.default_rng(0)))
    with _no_hang(), pytest.raises(ValueError, match=r"batch_size must be >= 1, got 0"):
        next(minibatch_indices(4, 0, np.random.default_rng(0)))           # not range()'s error


def test_a_batch_larger_than_the_data_means_full_batch_steps():
    flow = _flow()
    full_batch_loss = flow.loss(DATA)
    history = fit(flow, DATA, steps=1, batch_size=1000, progress=False)
    np.testing.assert_allclose(history.train_loss[0], full_batch_loss, rtol=1e-12)   # all 20 rows


def test_fit_with_a_non_optimizer_says_so():
    flow = Flow([ElementwiseAffine(2)])
    with pytest.raises(TypeError, match=r"optimizer must be None, 'adam', 'sgd' or an object with "
                                        r"step\(\); got 42"):
        fit(flow, np.zeros((4, 2)), steps=1, optimizer=42, progress=False)
