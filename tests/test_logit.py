"""Logit pre-processing: the paper's log-det, the domain check, extreme inputs, a normalised density."""
import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.bijectors import ElementwiseAffine, Logit


def test_forward_and_log_det_are_the_real_nvp_formulas():
    alpha = 0.05
    x = np.random.default_rng(0).uniform(0.0, 1.0, size=(7, 4))
    y, log_det = Logit(4, alpha=alpha).forward(x)
    p = alpha + (1 - 2 * alpha) * x
    np.testing.assert_allclose(y, np.log(p / (1 - p)), rtol=1e-13)
    np.testing.assert_allclose(log_det, np.sum(np.log(1 - 2 * alpha) - np.log(p) - np.log(1 - p), axis=1),
                               rtol=1e-13)


@pytest.mark.parametrize("bad", [1.5, -0.2, np.float64(1.06)])
def test_data_outside_the_unit_interval_is_a_clear_error(bad):
    x = np.full((3, 2), 0.5)
    x[2, 1] = bad
    with pytest.raises(ValueError, match=r"Logit expects data in \(0, 1\).*x\[2, 1\]"):
        Logit(2, alpha=0.05).forward(x)


@pytest.mark.parametrize("edge", [0.0, 1.0])
def test_without_alpha_the_domain_is_the_open_interval(edge):
    with pytest.raises(ValueError, match="x\\[0, 0\\]"):
        Logit(1, alpha=0.0).forward(np.array([[edge]]))
    Logit(1, alpha=0.05).forward(np.array([[edge]]))       # the squeeze makes 0 and 1 valid


def test_inverse_of_extreme_latents_is_finite_and_accepted_by_forward():
    layer = Logit(2, alpha=0.05)
    y = np.array([[-20.0, 20.0], [-3.0, 2.5], [0.0, 1e-3]])
    x, log_det = layer.inverse(y)
    assert np.isfinite(x).all() and np.isfinite(log_det).all()
    low, high = layer.domain()
    assert (x > low).all() and (x < high).all()
    y_back, log_det_fwd = layer.forward(x[1:])
    np.testing.assert_allclose(y_back, y[1:], atol=1e-10)
    np.testing.assert_allclose(log_det_fwd, -log_det[1:], rtol=1e-12)
    _, log_det_far = layer.inverse(np.array([[-800.0, 800.0]]))          # no overflow warning
    assert np.isfinite(log_det_far).all()


def test_logit_then_gaussian_is_a_normalised_density_on_the_unit_interval():
    flow = Flow([Logit(1, alpha=0.0), ElementwiseAffine(1, log_scale=[-0.3], shift=[0.4])])
    n = 20000
    midpoints = (np.arange(n) + 0.5)[:, None] / n                         # (n, 1) in (0, 1)
    density = np.exp(flow.log_prob(midpoints))                            # (n,)
    assert abs(density.sum() / n - 1.0) < 1e-4


def test_bad_alpha_and_no_parameters():
    with pytest.raises(ValueError, match="alpha"):
        Logit(2, alpha=0.5)
    assert Logit(3).num_params() == 0 and Logit(3).samples_independent


def test_default_alpha_is_real_nvps_squeeze():
    """α = 0.05 by default: x = 0 and 1 map to logit(0.05) and logit(0.95), and the domain's margin
    is α/(1 − 2α) = 1/18 on each side."""
    layer = Logit(2)
    y, log_det = layer.forward(np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(y, [[np.log(0.05 / 0.95), np.log(0.95 / 0.05)]], rtol=1e-13)
    np.testing.assert_allclose(layer.domain(), (-1.0 / 18.0, 1.0 + 1.0 / 18.0), rtol=1e-13)
    with pytest.raises(ValueError, match="dim"):
        Logit(0)
    assert repr(layer) == "Logit(dim=2, alpha=0.05)"


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
