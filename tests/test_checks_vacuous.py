"""A check that compares nothing is not a pass.

A freshly built coupling (``zero_init=True``) has a zero last layer: the first layer's gradients
are 0 on both sides, so a backward with the conditioner path's sign flipped would pass 15 of 15.
"""
import numpy as np
import pytest

from scratchflow.bijectors import AffineCoupling
from scratchflow.checks import check_bijector, check_module
from scratchflow.checks.report import CheckReport
from scratchflow.nn import MLP

X = np.random.default_rng(0).normal(size=(5, 2))


class ConditionerSignFlipped(AffineCoupling):
    """dL/dx_kept through the conditioner with the wrong sign (a planted mistake)."""

    def _net_backward(self, *args):
        return -super()._net_backward(*args)


def test_a_planted_sign_error_in_a_fresh_coupling_is_never_passed():
    layer = ConditionerSignFlipped(2, mask=[1, 0], hidden=(8,), rng=0)      # default construction
    report = check_bijector(layer, X)
    assert not report.passed
    assert {line.name for line in report.failures()} == {"forward: gradient wrt x",
                                                          "inverse: gradient wrt z"}
    unperturbed = check_bijector(layer, X, perturb=False)
    vacuous = {line.name for line in unperturbed.vacuous()}
    assert "forward: gradient wrt net.0.weight" in vacuous
    assert all("zero_init=False" in line.skipped for line in unperturbed.vacuous())
    assert not any(line.passed for line in unperturbed.results if line.name in vacuous)


def test_the_correct_fresh_coupling_passes_at_perturbed_parameters_restored_afterwards():
    layer = AffineCoupling(2, mask=[1, 0], hidden=(8,), rng=0)
    before = {name: value.copy() for name, value in layer.params.items()}
    report = check_bijector(layer, X)
    assert report.passed and not report.skipped() and "perturbed" in str(report)
    for name, value in layer.params.items():
        assert value.tobytes() == before[name].tobytes()
    plain = check_bijector(AffineCoupling(2, mask=[1, 0], hidden=(8,), rng=0, zero_init=False), X)
    assert plain.passed and "perturbed" not in str(plain)          # nothing vacuous: no rerun


def test_parameters_are_restored_when_the_perturbed_check_raises():
    layer = AffineCoupling(2, mask=[1, 0], hidden=(8,), rng=0)
    before = {name: value.copy() for name, value in layer.params.items()}
    with pytest.raises(ValueError, match="perturb must be"):
        check_bijector(layer, X, perturb="yes")
    original = layer._forward
    calls = []

    def fails_when_perturbed(*args, **kwargs):
        calls.append(1)
        if np.any(layer.params["net.2.weight"]):
            raise RuntimeError("planted")
        return original(*args, **kwargs)
    layer._forward = fails_when_perturbed
    with pytest.raises(RuntimeError, match="planted"):
        check_bijector(layer, X)
    for name, value in layer.params.items():
        np.testing.assert_array_equal(value, before[name])


def test_check_module_reports_a_cut_off_layer_as_vacuous_or_checks_it_perturbed():
    mlp = MLP([2, 8, 3], rng=0)
    mlp.params["2.weight"][...] = 0.0                                  # a zero last layer
    unperturbed = check_module(mlp, X, perturb=False)
    assert {line.name for line in unperturbed.vacuous()} == {"gradient wrt input x",
                                                               "gradient wrt 0.weight",
                                                               "gradient wrt 0.bias"}
    report = check_module(mlp, X)
    assert report.passed and not report.skipped() and "perturbed" in str(report)
    assert not np.any(mlp.params["2.weight"])                          # restored


def test_an_empty_array_or_one_below_resolution_is_vacuous_not_passed():
    """Vacuous: even the wrong sign would pass (2 max|g| <= tol ε); 1e-8 is above that and fails."""
    report = CheckReport("made up")
    report.add_gradient("gradient wrt empty", np.zeros((0, 3)), np.zeros((0, 3)), 1.0, 1e-6)
    report.add_gradient("gradient wrt tiny", np.full(3, 1e-14), np.full(3, -1e-14), 1.0, 1e-6)
    report.add_gradient("gradient wrt real", np.full(3, 1e-8), np.full(3, -1e-8), 1.0, 1e-6)
    assert [line.name for line in report.vacuous()] == ["gradient wrt empty", "gradient wrt tiny"]
    assert report["gradient wrt real"].failed                        # a sign error it can see
