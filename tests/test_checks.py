"""The checkers themselves: correct on known answers, and they catch planted bugs."""
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Example2Map
from scratchflow.checks import (CheckReport, CheckResult, check_bijector, check_module,
                                numerical_gradient, numerical_jacobian, numerical_log_abs_det,
                                relative_error)
from scratchflow.checks.numerical import loss_scale
from scratchflow.nn import MADE, Linear, Tanh
from tests.planted import (BIJECTOR_PLANTS, INV_LOG_DET, INV_RECON, FWD_LOG_DET, MODULE_PLANTS,
                           affine, batchnorm)


def test_relative_error_usual_form():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert np.isclose(relative_error([1.0], [3.0]), 0.5)
    assert relative_error([0.0], [1e-12]) == pytest.approx(1e-4)      # eps = 1e-8 floor
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.ones(2), np.ones(3))


def test_loss_scale_is_one_plus_the_size_of_the_checked_scalar():
    """S = 1 + Σ|g ⊙ z| + Σ|h ⊙ log_det| (the package docstring), which every checker's ε uses."""
    upstream, out = np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[2.0, 1.0], [-4.0, 0.5]])
    assert loss_scale((upstream, out)) == 1.0 + 2.0 + 2.0 + 2.0 + 1.5
    assert loss_scale((upstream, out), (np.array([-1.0, 2.0]), np.array([3.0, 0.25]))) == 12.0
    assert loss_scale((upstream, np.zeros((2, 2)))) == 1.0


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


class _OffInverse(ElementwiseAffine):
    """The identity whose inverse lands 0.003 too high: a round trip off by exactly that."""

    def _inverse(self, z, context=None):
        x, log_det = super()._inverse(z, context)
        return x + 0.003, log_det


def test_the_round_trip_error_is_relative_to_the_size_of_the_data():
    """max|back − start| / (1 + max|start|), in each direction: small data (max 0.5) is not
    measured as if it were of size 1."""
    x = np.array([[0.5, -0.25], [0.1, 0.2]])                                  # max |x| = 0.5
    report = check_bijector(_OffInverse(2), x, perturb=False)
    errors = {result.name: result.error for result in report.results}
    assert errors["forward: reconstruction x -> z -> x"] == pytest.approx(0.003 / 1.5, rel=1e-9)
    assert errors["inverse: reconstruction z -> x -> z"] == pytest.approx(0.003 / 1.5, rel=1e-9)


@pytest.mark.parametrize("make, failing", [(make, failing) for _, make, failing in BIJECTOR_PLANTS],
                         ids=[name for name, _, _ in BIJECTOR_PLANTS])
def test_planted_bijector_bugs_fail_exactly_their_lines(make, failing):
    report = check_bijector(make(), X)
    assert {r.name for r in report.failures()} == failing, str(report)
    assert not report.passed and not report.skipped()
    with pytest.raises(AssertionError, match="FAIL"):
        report.assert_ok()


@pytest.mark.parametrize("make, failing", [(make, failing) for _, make, failing in MODULE_PLANTS],
                         ids=[name for name, _, _ in MODULE_PLANTS])
def test_planted_module_bugs_fail_exactly_their_lines(make, failing):
    report = check_module(make(), X)
    assert {r.name for r in report.failures()} == failing, str(report)
    assert not report.passed


@pytest.mark.parametrize("make", [make_affine, batchnorm, lambda: batchnorm().eval(),
                                  lambda: Linear(3, 2, rng=0), Tanh],
                         ids=["ElementwiseAffine", "BatchNorm-train", "BatchNorm-eval", "Linear",
                              "Tanh"])
def test_correct_layers_pass_every_line(make):
    layer = make()
    check = check_module if isinstance(layer, (Linear, Tanh)) else check_bijector
    report = check(layer, X)
    assert report.passed and report.skipped() == report.vacuous(), str(report)   # vacuous: nothing to compare


def test_training_batchnorm_log_det_is_checked_not_skipped():
    report = check_bijector(batchnorm(), X)
    for direction in ("forward", "inverse"):
        line = report[f"{direction}: log-det vs numerical Jacobian"]
        assert line.passed and line.note == "batch statistics held fixed"


def test_an_explicit_z_is_checked_at_z_even_with_another_row_count():
    """The inverse lines use the given z (here 6 rows, x has 4): an inverse that is wrong only far
    from f(x) passes at the default z and fails at the given one."""
    class WrongFarAway(ElementwiseAffine):
        def _inverse(self, z, context=None):
            x, log_det = super()._inverse(z)
            return np.where(np.abs(z) > 5, x + 1e-3, x), log_det

    layer = affine(WrongFarAway)
    assert check_bijector(layer, X).passed
    far = np.full((6, 3), 7.0)
    report = check_bijector(layer, X, z=far)
    assert {r.name for r in report.failures()} >= {INV_RECON}
    assert not report.passed


def test_a_nan_error_is_never_passed():
    assert not CheckResult("x", float("nan"), 1e-6).passed
    assert CheckResult("x", float("nan"), 1e-6).failed
    assert not CheckResult("x", 2e-6, 1e-6).passed and CheckResult("x", 5e-7, 1e-6).passed


def test_skipped_checks_say_skipped_and_why_never_ok():
    """A layer whose rows depend on each other and that offers no fixed-statistics map: its log-det
    lines are skipped, printed as such with the reason; so are unchecked parameters and directions."""
    class BatchCoupled(ElementwiseAffine):
        samples_independent = False

        def with_statistics_fixed(self):
            return None

    report = check_bijector(affine(BatchCoupled), X, check_params=False)
    skipped = {r.name: r.skipped for r in report.skipped()}
    assert set(skipped) == {FWD_LOG_DET, INV_LOG_DET, "forward: gradient wrt parameters",
                            "inverse: gradient wrt parameters"}
    text = str(report)
    for name in skipped:
        line = next(row for row in text.splitlines() if name in row)
        assert "skipped (" in line and " ok" not in line
    assert "rows depend on each other" in text and "check_params=False" in text
    assert "4 skipped" in text
    one_way = check_bijector(make_affine(), X, directions=("forward",))
    assert one_way["inverse: every check"].skipped == "directions=('forward',)"
    assert not CheckReport("nothing").passed                 # nothing checked is not a pass


def test_unknown_check_name_is_a_clear_error():
    with pytest.raises(KeyError, match="no check named"):
        check_bijector(make_affine(), X)["nonsense"]


def test_a_gradient_pass_not_written_yet_is_reported_skipped():
    """On a half-filled homework the checker still checks the passes and log-dets, and says which
    gradient lines it skipped and why (a NotImplementedError from a gap)."""
    from scratchflow.bijectors.examples import Example2Map

    class HalfWritten(Example2Map):
        def _backward(self, grad_z, grad_log_det):
            raise NotImplementedError("task change_of_variables: not yet")

    x = np.column_stack([np.linspace(0.5, 2.0, 4), np.linspace(-1.0, 1.0, 4)])
    report = check_bijector(HalfWritten(), x)
    lines = {line.name: line for line in report.results}
    assert lines["forward: gradients"].skipped.endswith("task change_of_variables: not yet")
    assert lines["forward: log-det vs numerical Jacobian"].passed
    assert lines["inverse: gradient wrt z"].passed


def test_reports_are_reproducible_and_seeded_zero_by_default():
    """Both checkers draw their upstream gradients from ``rng``, 0 unless given: the same call
    gives the same report, equal to ``rng=0``'s, and another seed gives other errors."""
    x = np.random.default_rng(5).normal(size=(4, 2))
    layer, module = ElementwiseAffine(2, log_scale=[0.2, -0.4], shift=[0.1, 0.3]), Linear(2, 3, rng=1)
    for check, subject in ((check_bijector, layer), (check_module, module)):
        errors = [[result.error for result in check(subject, x, **seed).results]
                  for seed in ({}, {"rng": 0}, {"rng": 1})]
        assert errors[0] == errors[1] != errors[2]


def test_the_report_table_is_as_wide_as_its_longest_name_or_the_header():
    passed = CheckResult("ab", 1e-12, 1e-6)
    assert str(CheckReport("s", [passed])).splitlines()[1] == "  check      error      tol  result"
    assert str(CheckReport("s", [passed])).splitlines()[2].startswith("  ab     ")
    long_name = CheckResult("a much longer name", 1e-12, 1e-6)
    header = str(CheckReport("s", [passed, long_name])).splitlines()[1]
    assert header.startswith("  check" + " " * (len("a much longer name") - 5) + "  ")


class _BroadcastingLayer(ElementwiseAffine):
    """A student's layer whose log_det has shape (N, 1), which would broadcast against (N,)."""

    def _forward(self, x, context=None):
        z, log_det = super()._forward(x)
        return z, log_det[:, None]


@pytest.mark.parametrize("call, error, message", [
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 3))), ValueError,
     r"x has D=3 columns but this layer has dimension 2"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros(2)), ValueError, r"x must be 2-D"),
    (lambda: check_bijector(ElementwiseAffine(2), np.full((3, 2), np.nan)), ValueError, r"x contains NaN"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((0, 2))), ValueError,
     r"needs at least one point; x is empty"),                                  # not a pass
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 2)), z=np.zeros((3, 3))), ValueError,
     r"z has D=3 columns"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 2)), directions=("fwd",)), ValueError,
     r"directions must be a non-empty subset of \('forward', 'inverse'\)"),     # not a pass
    (lambda: check_bijector(ElementwiseAffine(2, dtype=np.float32), np.zeros((3, 2), np.float32)),
     TypeError, r"finite differences in float64; build the layer with dtype=np.float64"),
    (lambda: check_bijector(Linear(2, 2, rng=0), np.zeros((3, 2))), TypeError,
     r"layer.forward\(x\) must return a pair \(output, log_det\)"),
    (lambda: check_bijector(_BroadcastingLayer(2), np.zeros((3, 2))), ValueError,
     r"log_det of shape \(3, 1\); expected \(3,\)"),
    (lambda: check_module(Linear(2, 2, rng=0), np.zeros((3, 3))), ValueError, r"x has D=3 columns"),
    (lambda: check_module(Linear(2, 2, rng=0), np.zeros((0, 2))), ValueError, r"check_module needs"),
    (lambda: check_module(MADE(2, hidden=(4,), rng=0), np.ones((3, 2))), TypeError,
     r"forward\(x\) to return one \(3, out\) array; MADE.forward returned a tuple"),
])
def test_the_checker_refuses_what_it_cannot_check(call, error, message):
    with pytest.raises(error, match=message):
        call()
