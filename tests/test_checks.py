"""The checkers themselves: correct on known answers, and they catch planted bugs."""
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Example2Map
from scratchflow.checks import (check_bijector, numerical_gradient, numerical_jacobian,
                                numerical_log_abs_det, relative_error)


def test_relative_error_usual_form():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert np.isclose(relative_error([1.0], [3.0]), 0.5)
    assert relative_error([0.0], [1e-12]) == pytest.approx(1e-4)      # eps = 1e-8 floor
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.ones(2), np.ones(3))


def test_numerical_jacobian_of_example2_matches_the_slide():
    x = np.array([[0.5, 1.0], [2.0, -3.0]])
    jacobian = numerical_jacobian(lambda p: Example2Map().forward(p)[0], x)
    x1 = x[:, 0]
    expected = np.stack([np.stack([1 / x1, 0 * x1], 1), np.stack([-2 / x1, 1 + 0 * x1], 1)], 1)
    assert np.allclose(jacobian, expected, atol=1e-10)
    assert np.allclose(numerical_log_abs_det(lambda p: Example2Map().forward(p)[0], x), -np.log(x1))


def test_numerical_gradient_restores_the_array():
    array = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: np.sum(array ** 3), array)
    assert np.allclose(grad, 3 * np.array([1.0, 4.0, 9.0]), rtol=1e-10)
    assert np.array_equal(array, [1.0, -2.0, 3.0])


def make_affine():
    return ElementwiseAffine(3, log_scale=[0.2, -0.4, 0.1], shift=[0.5, -1.0, 2.0])


X = np.random.default_rng(0).normal(size=(4, 3))


def test_correct_layer_passes_and_report_reads_well():
    report = check_bijector(make_affine(), X)
    assert report.passed
    text = str(report)
    for line in ["forward: reconstruction", "inverse: log-det vs numerical Jacobian",
                 "forward: gradient wrt log_scale", "inverse: gradient wrt shift", "passed, 0 failed"]:
        assert line in text


class WrongLogDetSign(ElementwiseAffine):
    def _forward(self, x):
        z, log_det = super()._forward(x)
        return z, -log_det


class WrongInverse(ElementwiseAffine):
    def _inverse(self, z):
        x, log_det = super()._inverse(z)
        return x + 1e-6, log_det


class MissingLogDetGradient(ElementwiseAffine):
    def _backward(self, grad_z, grad_log_det):
        return super()._backward(grad_z, np.zeros_like(grad_log_det))   # dropped the log-det term


class WrongInverseShiftGradient(ElementwiseAffine):
    def _inverse_backward(self, grad_x, grad_log_det):
        grad_z = super()._inverse_backward(grad_x, grad_log_det)
        self._own_grads["shift"] *= -1.0
        return grad_z


@pytest.mark.parametrize("layer_cls, failing", [
    (WrongLogDetSign, ["forward: log-det vs numerical Jacobian", "forward: log-det consistency f and f^-1",
                       "forward: gradient wrt log_scale"]),     # backward no longer matches the map
    (WrongInverse, ["forward: reconstruction x -> z -> x", "inverse: reconstruction z -> x -> z"]),
    (MissingLogDetGradient, ["forward: gradient wrt log_scale"]),
    (WrongInverseShiftGradient, ["inverse: gradient wrt shift"]),
])
def test_planted_bugs_fail_exactly_their_checks(layer_cls, failing):
    layer = layer_cls(3, log_scale=[0.2, -0.4, 0.1], shift=[0.5, -1.0, 2.0])
    report = check_bijector(layer, X)
    assert not report.passed
    assert sorted(r.name for r in report.failures()) == sorted(failing), str(report)
    with pytest.raises(AssertionError, match="FAIL"):
        report.assert_ok()


def test_unknown_check_name_is_a_clear_error():
    with pytest.raises(KeyError, match="no check named"):
        check_bijector(make_affine(), X)["nonsense"]
