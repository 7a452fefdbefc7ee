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
        report = check_conditional(layer, x, context, rng=seed)
        report.assert_ok()
        assert not report.skipped(), str(report)
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
    assert not report.skipped(), str(report)
    assert "held fixed" in report["forward: log-det vs numerical Jacobian"].note
