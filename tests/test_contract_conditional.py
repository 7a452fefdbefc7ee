"""Conditional layers (tests/registry.py ``CONDITIONAL``) against the contract, context included.

For Hypothesis-drawn dimensions D, context sizes C, parameters, batches and contexts,
:func:`check_conditional` must report, both directions, every line of the unconditional contract at
its usual tolerance (reconstruction <= 1e-10, log-det <= 1e-7, gradients <= 1e-6) with the context
held fixed, and the gradient with respect to the context <= 1e-6 against finite differences.
Then: the context changes the map (so the checked gradient is not trivially 0), a stack's dL/dc is
the sum over its conditional layers, and the boundary refuses a missing, extra or wrong context.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchflow.bijectors import Compose, ElementwiseAffine
from scratchflow.checks import check_conditional
from tests.registry import CONDITIONAL
from tests.strategies import SEEDS, batches

CASES = pytest.mark.parametrize("case", CONDITIONAL, ids=lambda case: case.name)


@st.composite
def conditional_layer_and_batch(draw, case):
    """(layer, x, context, seed): drawn D, C, parameter seed, batch and context."""
    dim, context_dim = draw(st.integers(*case.dims)), draw(st.integers(1, 3))
    n, seed = draw(st.integers(1, 5)), draw(SEEDS)
    x, context = draw(batches(n, dim)), draw(batches(n, context_dim))
    layer = case.factory(dim, np.random.default_rng(seed), context_dim=context_dim)
    return layer, x, context, seed


@CASES
def test_conditional_contract_with_context_gradients(case):
    @given(conditional_layer_and_batch(case))
    def run(drawn):
        layer, x, context, seed = drawn
        report = check_conditional(layer, x, context, rng=seed, perturb=False)   # as drawn
        report.assert_ok()
        assert report.skipped() == report.vacuous(), str(report)   # vacuous: nothing to compare
        assert report["forward: gradient wrt context"].passed       # the context lines exist
        assert report["inverse: gradient wrt context"].passed
    run()


def _make(case, context_dim=2):
    return case.factory(case.dim, np.random.default_rng(0), context_dim=context_dim)


@CASES
def test_the_context_changes_the_map_and_its_gradient_is_not_zero(case):
    layer = _make(case)
    rng = np.random.default_rng(1)
    x, context = rng.uniform(-2, 2, (6, case.dim)), rng.uniform(-2, 2, (6, 2))
    z, log_det = layer.forward(x, context)
    z_other, _ = layer.forward(x, context + 1.0)
    assert np.max(np.abs(z - z_other)) > 1e-3
    layer.backward(np.ones_like(z), np.ones(6))
    assert layer.grad_context.shape == (6, 2) and np.max(np.abs(layer.grad_context)) > 1e-6


@CASES
def test_the_boundary_refuses_a_missing_extra_or_wrong_context(case):
    layer = _make(case)
    x = np.zeros((4, case.dim))
    for context, message in [
        (None, r"is conditional \(context_dim=2\): pass context"),
        (np.zeros((3, 2)), r"context has N=3 rows but the batch has N=4"),
        (np.zeros((1, 2)), r"context has N=1 rows"),                     # would broadcast
        (np.zeros((4, 3)), r"context has C=3 columns but .* context_dim=2"),
        (np.zeros(2), r"context must be 2-D"),
        (np.full((4, 2), np.nan), r"context contains NaN or inf"),
    ]:
        with pytest.raises(ValueError, match=message):
            layer.forward(x, context)
        with pytest.raises(ValueError, match=message):
            layer.inverse(x, context)
    with pytest.raises(ValueError, match=r"ElementwiseAffine is not conditional"):
        ElementwiseAffine(case.dim).forward(x, np.zeros((4, 2)))


def test_a_stack_adds_the_context_gradients_of_its_conditional_layers():
    first, second = (_make(case) for case in CONDITIONAL[:2])
    stack = Compose([first, ElementwiseAffine(3, shift=[1.0, 2.0, 3.0]), second])
    rng = np.random.default_rng(2)
    x, context = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    grad_z, grad_log_det = rng.normal(size=(5, 3)), rng.normal(size=5)
    stack.forward(x, context)
    stack.backward(grad_z, grad_log_det)
    total = stack.grad_context.copy()
    parts = first.grad_context + second.grad_context
    np.testing.assert_allclose(total, parts, rtol=1e-12)
    assert np.max(np.abs(first.grad_context)) > 1e-6 and np.max(np.abs(second.grad_context)) > 1e-6


def test_a_stack_refuses_two_context_sizes():
    with pytest.raises(ValueError, match=r"contexts of different sizes \[2, 3\]"):
        Compose([_make(CONDITIONAL[0], 2), _make(CONDITIONAL[2], 3)])


def test_a_stack_with_batchnorm_in_training_mode_is_checked_with_its_statistics_fixed():
    from scratchflow.bijectors import BatchNorm
    rng = np.random.default_rng(5)
    stack = Compose([BatchNorm(3), _make(CONDITIONAL[0])])
    report = check_conditional(stack, rng.normal(size=(6, 3)), rng.normal(size=(6, 2)), rng=5)
    report.assert_ok()
    assert report.skipped() == report.vacuous(), str(report)   # vacuous: nothing to compare
    assert "held fixed" in report["forward: log-det vs numerical Jacobian"].note


class _DuckConditional:
    """A conditional layer written without the library's base class: no ``samples_independent``
    and, with ``context_dim=None``, no ``context_dim`` either (the passes are ``inner``'s)."""

    def __init__(self, inner, context_dim=True):
        self.inner, self.dim, self.dtype = inner, inner.dim, inner.dtype
        if context_dim:
            self.context_dim = inner.context_dim

    params = property(lambda self: self.inner.params)
    grads = property(lambda self: self.inner.grads)
    grad_context = property(lambda self: self.inner.grad_context)

    def zero_grad(self):
        self.inner.zero_grad()

    def forward(self, x, context):
        return self.inner.forward(x, context)

    def inverse(self, z, context):
        return self.inner.inverse(z, context)

    def backward(self, grad_z, grad_log_det=None):
        return self.inner.backward(grad_z, grad_log_det)

    def inverse_backward(self, grad_x, grad_log_det=None):
        return self.inner.inverse_backward(grad_x, grad_log_det)


def test_a_layer_that_does_not_say_otherwise_has_independent_rows():
    """As check_bijector does, a layer without ``samples_independent`` is taken row by row: its
    log-det lines are checked, not skipped for want of a with_statistics_fixed() map."""
    layer = _DuckConditional(_make(CONDITIONAL[0]))
    rng = np.random.default_rng(4)
    report = check_conditional(layer, rng.standard_normal((3, layer.dim)),
                               rng.standard_normal((3, 2)))
    report.assert_ok()
    assert report.skipped() == report.vacuous(), str(report)   # vacuous: nothing to compare


def test_a_layer_without_context_dim_is_refused_as_unconditional():
    layer = _DuckConditional(_make(CONDITIONAL[0]), context_dim=False)
    with pytest.raises(ValueError, match="needs a conditional layer"):
        check_conditional(layer, np.zeros((2, layer.dim)), np.zeros((2, 2)))


def test_the_default_seed_is_the_signatures_zero():
    """rng=0 by default, so a report printed without a seed is reproduced by passing rng=0."""
    layer = _make(CONDITIONAL[0])
    rng = np.random.default_rng(5)
    x, context = rng.standard_normal((3, layer.dim)), rng.standard_normal((3, 2))
    default = check_conditional(layer, x, context)
    assert str(default) == str(check_conditional(layer, x, context, rng=0))
    assert str(default) != str(check_conditional(layer, x, context, rng=1))
