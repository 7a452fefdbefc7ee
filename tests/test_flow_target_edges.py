"""Reverse KL with a target that misbehaves numerically: a non-finite log-density or gradient is
not an input error: a non-finite log-density is a non-finite loss, a non-finite gradient a
DivergenceError naming the layer, both of which ``fit`` turns into a clean stop; a target of the
wrong dimension or without a gradient is an error."""
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Flow
from scratchflow.divergence import DivergenceError


class _Target:
    dim = 2

    def __init__(self, log_value=0.0, grad_value=0.0):
        self.log_value, self.grad_value = log_value, grad_value

    def log_prob(self, x):
        return np.full(x.shape[0], self.log_value)

    def grad_log_prob(self, x):
        return np.full(x.shape, self.grad_value)


def test_a_non_finite_target_log_density_comes_back_as_a_non_finite_loss():
    flow = Flow(ElementwiseAffine(2))
    with np.errstate(invalid="ignore"):
        loss = flow.reverse_kl_loss_and_grad(_Target(-np.inf, 0.0), 8, rng=0)
    assert isinstance(loss, float)
    assert not np.isfinite(loss)
    assert np.isfinite(flow.grads["layers.0.shift"]).all()


@pytest.mark.parametrize("grad_value", [np.nan, np.inf])
def test_a_non_finite_target_gradient_is_a_divergence_naming_the_layer(grad_value):
    flow = Flow(ElementwiseAffine(2))
    with np.errstate(invalid="ignore"), pytest.raises(DivergenceError, match="gradient pass of layer 0"):
        flow.reverse_kl_loss_and_grad(_Target(0.0, grad_value), 8, rng=0)


def test_a_finite_target_gives_the_analytic_gradient():
    # p* constant: KL + const = E[log q(x)] = E[log p_z(z)] + Σ a for x = (z − b) e^{−a}, whose
    # gradient wrt the shift b is 0 and wrt a is 1 (a narrower q has a larger E[log q])
    flow = Flow(ElementwiseAffine(2))
    flow.reverse_kl_loss_and_grad(_Target(), 64, rng=0)
    np.testing.assert_allclose(flow.grads["layers.0.shift"], 0.0, atol=1e-12)
    np.testing.assert_allclose(flow.grads["layers.0.log_scale"], 1.0)


def test_wrong_targets_are_errors():
    flow = Flow(ElementwiseAffine(3))
    with pytest.raises(ValueError, match="dimension 2 but the flow has 3"):
        flow.reverse_kl_loss_and_grad(_Target(), 4, rng=0)
    with pytest.raises(TypeError, match="grad_log_prob"):
        flow.reverse_kl_loss_and_grad(type("NoGradient", (), {"log_prob": None})(), 4, rng=0)
