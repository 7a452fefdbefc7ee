"""Issue 12, finding 10 (the smaller ones): each gets a test that fails on the old behaviour."""
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Flow
from scratchflow.bijectors import BatchNorm, Logit
from scratchflow.cli.train import _summary
from scratchflow.history import History
from scratchflow.realdata import sample_sklearn
from scratchflow.train import fit


@pytest.mark.parametrize("y", [30.0, 36.0, 37.0, 40.0, 60.0, -40.0])
def test_logit_inverse_backward_is_accurate_far_out(y):
    """dx/dy = σ(y)σ(−y)/(1 − 2α) and dlog_det/dy = σ(−y) − σ(y), both exact in closed form."""
    layer = Logit(1, alpha=0.05)
    layer.inverse(np.array([[y]]))
    t = np.exp(-abs(y))                                         # e^{-|y|}, no overflow
    slope = t / (1.0 + t) ** 2 / 0.9                            # σ(y)σ(−y) / squeeze
    np.testing.assert_allclose(layer.inverse_backward(np.ones((1, 1)), np.zeros(1)), [[slope]],
                               rtol=1e-12)
    expected = -np.sign(y) * (1.0 - t) / (1.0 + t)              # σ(−y) − σ(y)
    np.testing.assert_allclose(layer.inverse_backward(np.zeros((1, 1)), np.ones(1)), [[expected]],
                               rtol=1e-12)


def test_fit_leaves_a_batchnorm_in_the_mode_the_user_chose():
    layer = BatchNorm(2, training=False)
    flow = Flow([ElementwiseAffine(2), layer])
    data = np.random.default_rng(0).normal(size=(64, 2))
    fit(flow, data, data, steps=3, batch_size=32, progress=False)
    assert not layer.training
    layer.train(True)
    fit(flow, data, data, steps=3, batch_size=32, progress=False)
    assert layer.training


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_np_matrix_input_is_a_plain_batch():
    flow = Flow([ElementwiseAffine(2, log_scale=[0.5, -0.5])])
    rows = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
    np.testing.assert_array_equal(flow.log_prob(np.matrix(rows)), flow.log_prob(np.array(rows)))
    assert flow.log_prob(np.matrix(rows)).shape == (3,)


def test_the_one_dimensional_hint_fits_the_dimension():
    flow = Flow([ElementwiseAffine(2)])
    with pytest.raises(ValueError, match=r"x.reshape\(1, -1\) for one sample of D=2 values"):
        flow.log_prob(np.zeros(2))
    with pytest.raises(ValueError, match=r"x.reshape\(-1, 1\) for one-dimensional data"):
        Flow([ElementwiseAffine(1)]).log_prob(np.zeros(5))


@pytest.mark.parametrize("n", [2.5, "5", True])
def test_sample_sklearn_takes_an_integer_count(n):
    pytest.importorskip("sklearn")
    with pytest.raises(TypeError, match="must be an integer"):
        sample_sklearn("wine", n)


def test_fit_with_a_non_optimizer_says_so():
    flow = Flow([ElementwiseAffine(2)])
    with pytest.raises(TypeError, match=r"optimizer must be None, 'adam', 'sgd' or an object with "
                                        r"step\(\); got 42"):
        fit(flow, np.zeros((4, 2)), steps=1, optimizer=42, progress=False)


def test_the_summary_warns_when_validation_got_worse_than_its_best():
    flow = Flow([ElementwiseAffine(2)])
    val = np.zeros((4, 2))
    worse = History(mode="data", val_step=[15, 300], val_loss=[1.2, 900.0], best_step=15,
                    best_val_loss=1.2)
    assert "WARNING: validation got worse after its best (last 900.0000)" in _summary(
        flow, worse, None, val)
    steady = History(mode="data", val_step=[15, 300], val_loss=[1.2, 1.25], best_step=15,
                     best_val_loss=1.2)
    assert "WARNING" not in _summary(flow, steady, None, val)
