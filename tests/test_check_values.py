"""The numbers ``check_bijector`` reports are the ones its docstring defines, and each tolerance sits
where the docs put it: a planted error of 1.5 x the tolerance fails, one of 0.5 x passes.

(``tests/test_checks.py`` checks that planted bugs fail at all; this file checks how far off the
checker says they are.)"""
import numpy as np
import pytest

from scratchflow import ElementwiseAffine
from scratchflow.checks import check_bijector
from tests.planted import FWD_CONSISTENCY, FWD_GRAD_X, FWD_LOG_DET, FWD_RECON, INV_RECON

LOG_SCALE = np.array([0.2, -0.4, 0.1])          # forward log-det Σ a = -0.1 for every row
# the tolerances the README's check report shows
RECONSTRUCTION_TOL, LOG_DET_TOL, GRADIENT_TOL = 1e-10, 1e-7, 1e-6


def _points():
    return np.random.default_rng(4).uniform(-2, 2, size=(5, 3))     # (5, 3)


class _InverseOff(ElementwiseAffine):
    """f^-1 off by a constant ``offset`` in every entry; its log-det off by ``log_det_offset``."""

    def __init__(self, offset=0.0, log_det_offset=0.0):
        super().__init__(3, log_scale=LOG_SCALE, shift=[0.5, -1.0, 2.0])
        self.offset, self.log_det_offset = offset, log_det_offset

    def _inverse(self, z, context=None):
        x, log_det = super()._inverse(z)
        return x + self.offset, log_det + self.log_det_offset


class _ForwardLogDetOff(ElementwiseAffine):
    def __init__(self, log_det_offset):
        super().__init__(3, log_scale=LOG_SCALE, shift=[0.5, -1.0, 2.0])
        self.log_det_offset = log_det_offset

    def _forward(self, x, context=None):
        z, log_det = super()._forward(x)
        return z, log_det + self.log_det_offset


class _InputGradientOff(ElementwiseAffine):
    """dL/dx scaled by (1 + relative): relative error |a - n| / (|a| + |n|) = relative / (2 + relative)."""

    def __init__(self, relative):
        super().__init__(3, log_scale=LOG_SCALE, shift=[0.5, -1.0, 2.0])
        self.relative = relative

    def _backward(self, grad_z, grad_log_det):
        return super()._backward(grad_z, grad_log_det) * (1.0 + self.relative)


def test_reconstruction_error_is_relative_to_the_data_size():
    x = _points()
    report = check_bijector(_InverseOff(offset=1e-3), x)
    assert report[FWD_RECON].error == pytest.approx(1e-3 / (1.0 + np.abs(x).max()), rel=1e-6)
    z = ElementwiseAffine(3, log_scale=LOG_SCALE, shift=[0.5, -1.0, 2.0]).forward(x)[0]
    # inverse round trip z -> x + c -> z + c e^a: the largest change is c max(e^a)
    expected = 1e-3 * np.exp(LOG_SCALE).max() / (1.0 + np.abs(z).max())
    assert report[INV_RECON].error == pytest.approx(expected, rel=1e-6)


def test_log_det_errors_are_relative_to_the_log_det():
    x = _points()
    consistency = check_bijector(_InverseOff(log_det_offset=0.3), x)[FWD_CONSISTENCY].error
    assert consistency == pytest.approx(0.3 / (1.0 + 0.1), rel=1e-9)
    versus_jacobian = check_bijector(_ForwardLogDetOff(0.3), x)[FWD_LOG_DET].error
    assert versus_jacobian == pytest.approx(0.3 / (1.0 + 0.2), rel=1e-6)      # |−0.1 + 0.3| = 0.2


def test_input_gradient_error_is_the_relative_error():
    error = check_bijector(_InputGradientOff(1e-3), _points())[FWD_GRAD_X].error
    assert error == pytest.approx(1e-3 / 2.001, rel=1e-4)


@pytest.mark.parametrize("factor, passes", [(0.5, True), (1.5, False)])
def test_each_tolerance_is_where_the_docs_put_it(factor, passes):
    x = _points()
    size = 1.0 + np.abs(x).max()
    round_trip = check_bijector(_InverseOff(offset=factor * RECONSTRUCTION_TOL * size), x)
    assert round_trip[FWD_RECON].passed is passes
    log_det = check_bijector(_InverseOff(log_det_offset=factor * LOG_DET_TOL * 1.1), x)
    assert log_det[FWD_CONSISTENCY].passed is passes
    relative = 2 * factor * GRADIENT_TOL / (1 - factor * GRADIENT_TOL)      # r / (2 + r) = f tol
    gradient = check_bijector(_InputGradientOff(relative), x)
    assert gradient[FWD_GRAD_X].passed is passes
    assert (round_trip[FWD_RECON].tol, log_det[FWD_CONSISTENCY].tol, gradient[FWD_GRAD_X].tol) == (
        RECONSTRUCTION_TOL, LOG_DET_TOL, GRADIENT_TOL)


def test_eps_has_a_floor_of_1e_4_when_the_checked_scalar_is_zero():
    # S = 1 + Σ|g z| + Σ|h log_det|: with z = 0 and log_det = 0, ε = 1e-4 · S = 1e-4, and an
    # absolute error δ on a gradient that is 0 reads as δ / 1e-4
    from scratchflow.checks import check_module
    from scratchflow.nn import Linear

    class ZeroLinearOff(Linear):
        def _backward(self, cache, grad_out, need_input_grad=True):
            return super()._backward(cache, grad_out, need_input_grad) + 1e-6

    report = check_module(ZeroLinearOff(3, 2, zero=True), _points())
    assert report["gradient wrt input x"].error == pytest.approx(1e-6 / 1e-4, rel=1e-6)

    class UnusedParameter(ElementwiseAffine):
        """The identity at x = −shift (z = 0, log_det = 0) with a parameter that nothing reads,
        whose planted gradient is 1e-6 instead of 0."""

        def __init__(self):
            super().__init__(3, shift=[0.5, -1.0, 2.0])
            self.add_param("unused", np.zeros(1))

        def _backward(self, grad_z, grad_log_det):
            self._own_grads["unused"] += 1e-6
            return super()._backward(grad_z, grad_log_det)

    x = np.tile([-0.5, 1.0, -2.0], (4, 1))                         # z = x + shift = 0
    report = check_bijector(UnusedParameter(), x, check_params=True, directions="forward")
    assert report["forward: gradient wrt unused"].error == pytest.approx(1e-6 / 1e-4, rel=1e-6)
