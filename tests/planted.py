"""Planted bugs for the checkers: each layer or module is correct but for one bug, and the lines of
:func:`check_bijector` / :func:`check_module` that must fail because of it.

Together they reach every line the checkers report; ``tests/test_checks.py`` runs the list.
"""
import numpy as np

from scratchflow import BatchNorm, ElementwiseAffine
from scratchflow.nn import Linear, Tanh

FWD_RECON = "forward: reconstruction x -> z -> x"
FWD_CONSISTENCY = "forward: log-det consistency f and f^-1"
FWD_LOG_DET = "forward: log-det vs numerical Jacobian"
FWD_GRAD_X = "forward: gradient wrt x"
INV_RECON = "inverse: reconstruction z -> x -> z"
INV_LOG_DET = "inverse: log-det vs numerical Jacobian"
INV_GRAD_Z = "inverse: gradient wrt z"


def affine(cls=ElementwiseAffine):
    return cls(3, log_scale=[0.2, -0.4, 0.1], shift=[0.5, -1.0, 2.0])


class WrongLogDetSign(ElementwiseAffine):
    def _forward(self, x, context=None):
        z, log_det = super()._forward(x)
        return z, -log_det


class WrongInverseLogDet(ElementwiseAffine):
    def _inverse(self, z, context=None):
        x, log_det = super()._inverse(z)
        return x, log_det + 0.1


class WrongInverse(ElementwiseAffine):
    def _inverse(self, z, context=None):
        x, log_det = super()._inverse(z)
        return x + 1e-6, log_det


class WrongForwardInputGradient(ElementwiseAffine):
    def _backward(self, grad_z, grad_log_det):
        return super()._backward(grad_z, grad_log_det) * 1.001           # dL/dx 0.1 % off


class WrongInverseInputGradient(ElementwiseAffine):
    def _inverse_backward(self, grad_x, grad_log_det):
        return super()._inverse_backward(grad_x, grad_log_det) * 1.001   # dL/dz 0.1 % off


class NaNForwardInputGradient(ElementwiseAffine):
    def _backward(self, grad_z, grad_log_det):
        grad_x = super()._backward(grad_z, grad_log_det)
        grad_x[0, 0] = np.nan                                            # NaN error must fail
        return grad_x


class MissingLogDetGradient(ElementwiseAffine):
    def _backward(self, grad_z, grad_log_det):
        return super()._backward(grad_z, np.zeros_like(grad_log_det))   # dropped the log-det term


class WrongInverseShiftGradient(ElementwiseAffine):
    def _inverse_backward(self, grad_x, grad_log_det):
        grad_z = super()._inverse_backward(grad_x, grad_log_det)
        self._own_grads["shift"] *= -1.0
        return grad_z


class BatchNormMissingVarianceTerm(BatchNorm):
    """Training-mode log-det without −½ Σ log(v + ε), consistent in forward, inverse and backward
    (the wrong log-det no longer depends on x, so backward drops that path too)."""

    def _forward(self, x, context=None):
        z, log_det = super()._forward(x)
        return z, np.full_like(log_det, self.log_gamma.sum())

    def _inverse(self, z, context=None):
        x, log_det = super()._inverse(z)
        return x, np.full_like(log_det, -self.log_gamma.sum())

    def _backward(self, grad_z, grad_log_det):
        grad_x = super()._backward(grad_z, np.zeros_like(grad_log_det))
        self._own_grads["log_gamma"] += grad_log_det.sum()
        return grad_x

    def _inverse_backward(self, grad_x, grad_log_det):
        grad_z = super()._inverse_backward(grad_x, np.zeros_like(grad_log_det))
        self._own_grads["log_gamma"] -= grad_log_det.sum()
        return grad_z


def batchnorm(cls=BatchNorm):
    return cls(3, log_gamma=[0.3, -0.2, 0.1], beta=[0.5, 0.0, -1.0])


# (id, factory, lines that must fail: exactly these)
BIJECTOR_PLANTS = [
    ("log-det sign", lambda: affine(WrongLogDetSign),
     {FWD_LOG_DET, FWD_CONSISTENCY, "forward: gradient wrt log_scale"}),
    ("inverse log-det", lambda: affine(WrongInverseLogDet), {INV_LOG_DET, FWD_CONSISTENCY}),
    ("inverse map", lambda: affine(WrongInverse), {FWD_RECON, INV_RECON}),
    ("dL/dx forward", lambda: affine(WrongForwardInputGradient), {FWD_GRAD_X}),
    ("dL/dz inverse", lambda: affine(WrongInverseInputGradient), {INV_GRAD_Z}),
    ("NaN dL/dx", lambda: affine(NaNForwardInputGradient), {FWD_GRAD_X}),
    ("log-det gradient dropped", lambda: affine(MissingLogDetGradient),
     {"forward: gradient wrt log_scale"}),
    ("inverse shift gradient", lambda: affine(WrongInverseShiftGradient),
     {"inverse: gradient wrt shift"}),
    ("BatchNorm-train log-det", lambda: batchnorm(BatchNormMissingVarianceTerm),
     {FWD_LOG_DET, INV_LOG_DET}),
]


class WrongTanh(Tanh):
    def _backward(self, cache, grad_out):
        return grad_out * (1.0 - cache.y)          # forgot the square (y = tanh x)


class NaNTanh(Tanh):
    def _backward(self, cache, grad_out):
        grad_x = super()._backward(cache, grad_out)
        grad_x[-1, -1] = np.nan
        return grad_x


class HalfBiasLinear(Linear):
    def _backward(self, cache, grad_out, need_input_grad=True):
        grad_x = super()._backward(cache, grad_out, need_input_grad)
        self._own_grads["bias"] *= 0.5              # half the bias gradient
        return grad_x


MODULE_PLANTS = [
    ("tanh derivative", WrongTanh, {"gradient wrt input x"}),
    ("NaN dL/dx", NaNTanh, {"gradient wrt input x"}),
    ("bias gradient", lambda: HalfBiasLinear(3, 2, rng=0), {"gradient wrt bias"}),
]
