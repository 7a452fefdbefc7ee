"""MADE: the autoregressive property (on the numerical Jacobian) and the hand-written gradients."""
import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchflow.checks import check_module, numerical_jacobian
from scratchflow.nn import MADE, Module
from scratchflow.nn.made import made_degrees, made_masks, make_order
from scratchflow.nn.made_outputs import MADEOutputs
from tests.strategies import SEEDS


def _randomise(made, rng, scale=1.0):
    """Draw every weight and bias (the last layer too), so no dependence hides behind a zero."""
    for array in made.params.values():
        array[...] = scale * rng.standard_normal(array.shape)


def _outputs(made):
    """x (N, D) -> [μ, s] (N, 2D), one array for numerical_jacobian."""
    return lambda x: np.concatenate(made.forward(x), axis=1)


def _allowed(order):
    """allowed[d, j] = True iff output d may depend on input j: j comes strictly before d."""
    position = np.empty(len(order), dtype=int)
    position[order] = np.arange(len(order))
    return position[None, :] < position[:, None]                            # (D, D)


@st.composite
def made_and_batch(draw):
    dim = draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["natural", "reversed", "random", "explicit"]))
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    order = rng.permutation(dim) if kind == "explicit" else kind
    hidden = tuple(draw(st.lists(st.integers(1, 8), min_size=0, max_size=3)))
    made = MADE(dim, hidden=hidden, order=order, activation=draw(st.sampled_from(["tanh", "silu"])),
                rng=rng)
    _randomise(made, rng)
    x = rng.uniform(-2, 2, (draw(st.integers(1, 4)), dim))
    return made, x


@given(made_and_batch())
def test_jacobian_is_strictly_triangular_in_the_ordering(drawn):
    made, x = drawn
    jacobian = numerical_jacobian(_outputs(made), x)                        # (N, 2D, D)
    dim = made.dim
    allowed = np.tile(_allowed(made.order), (2, 1))                         # (2D, D): μ rows, s rows
    # a masked path adds an exact 0; what remains is the stencil's round-off on a constant,
    # about 1e-16 |f| / h = 1e-12 |f|
    assert np.all(np.abs(jacobian[:, ~allowed]) < 1e-10), "an output reads its own or a later input"
    assert jacobian.shape == (x.shape[0], 2 * dim, dim)


def test_every_allowed_dependence_is_present_with_enough_hidden_units():
    """The masks are not over-restrictive: output d reads every input before it."""
    rng = np.random.default_rng(0)
    for order in ("natural", "reversed", "random"):
        made = MADE(4, hidden=(32, 32), order=order, rng=rng)
        _randomise(made, rng)
        jacobian = numerical_jacobian(_outputs(made), rng.uniform(-1, 1, (3, 4)))
        allowed = np.tile(_allowed(made.order), (2, 1))
        assert np.all(np.abs(jacobian[:, allowed]) > 1e-8)


def test_degrees_and_masks_follow_the_paper():
    order = np.array([2, 0, 1])
    degrees = made_degrees(order, (5, 4), rng=0)
    np.testing.assert_array_equal(degrees[0], [2, 3, 1])                    # dimension 2 first
    for layer in degrees[1:]:
        assert layer.min() >= 1 and layer.max() <= 2                        # {min prev, ..., D − 1}
    masks = made_masks(degrees)
    assert [m.shape for m in masks] == [(3, 5), (5, 4), (4, 6)]
    # output of dimension 2 (degree 1) reads no hidden unit: μ_2 and s_2 are constants
    assert masks[-1][:, 2].sum() == 0 and masks[-1][:, 3 + 2].sum() == 0
    # one dimension: hidden units get degree 0 and read nothing; the output is a constant
    assert made_degrees(np.array([0]), (3,), rng=0)[1].tolist() == [0, 0, 0]


class _MadeAsModule(Module):
    """MADE's two outputs as one array, so that :func:`check_module` can check its backward."""

    def __init__(self, made):
        super().__init__()
        self.made = self.add_child("made", made)

    def forward(self, x):
        return np.concatenate(self.made.forward(x), axis=1)                # (N, 2D)

    def backward(self, grad_out):
        dim = self.made.dim
        return self.made.backward(grad_out[:, :dim], grad_out[:, dim:])


@pytest.mark.parametrize("order,hidden,activation",
                         [("natural", (5,), "tanh"), ("random", (4, 6), "silu"), ("reversed", (), "tanh")])
def test_made_gradients_match_finite_differences(order, hidden, activation):
    rng = np.random.default_rng(1)
    made = MADE(3, hidden=hidden, order=order, activation=activation, rng=rng)
    _randomise(made, rng, scale=0.7)
    check_module(_MadeAsModule(made), rng.uniform(-2, 2, (4, 3)), rng=2).assert_ok()


def test_masked_weights_get_zero_gradient_and_input_gradient_leaves_grads_alone():
    rng = np.random.default_rng(3)
    made = MADE(4, hidden=(6,), order="random", rng=rng)
    _randomise(made, rng)
    x = rng.uniform(-1, 1, (5, 4))
    grad_shift, grad_log_scale = rng.standard_normal((2, 5, 4))
    made.zero_grad()
    made.forward(x)
    grad_x = made.backward(grad_shift, grad_log_scale)
    for position, mask in zip((0, 2), made.masks):
        assert np.all(made.grads[f"{position}.weight"][mask == 0] == 0.0)
    before = {name: grad.copy() for name, grad in made.grads.items()}
    np.testing.assert_allclose(made.input_gradient(grad_shift, grad_log_scale), grad_x, rtol=1e-13)
    for name, grad in made.grads.items():
        np.testing.assert_array_equal(grad, before[name])


def test_zero_last_starts_at_zero_and_bad_arguments_are_named():
    made = MADE(3, hidden=(4,), zero_last=True, rng=0)
    shift, log_scale = made.forward(np.ones((2, 3)))
    assert np.all(shift == 0) and np.all(log_scale == 0) and shift.shape == (2, 3)
    with pytest.raises(ValueError, match="permutation"):
        make_order([0, 0, 1], 3)
    with pytest.raises(ValueError, match="unknown order"):
        MADE(3, order="sideways")
    with pytest.raises(RuntimeError, match="before"):
        MADE(2, hidden=(), rng=0).input_gradient(np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="columns"):
        made.forward(np.ones((2, 4)))


@given(made_and_batch(), st.integers(1, 3), SEEDS)
def test_with_a_context_output_d_reads_x_before_d_and_the_context_only(drawn, context_dim, seed):
    """Conditional MADE (beyond the lecture): the Jacobian in [x, c] is strictly triangular in x,
    and every output may read every context entry (and, with enough units, does)."""
    plain, x = drawn
    rng = np.random.default_rng(seed)
    made = MADE(plain.dim, hidden=plain.hidden, order=plain.order, rng=rng, context_dim=context_dim)
    _randomise(made, rng)
    context = rng.uniform(-2, 2, (x.shape[0], context_dim))                 # (N, C)
    dim = made.dim

    def outputs(inputs):                                                    # [x, c] -> [μ, s]
        return np.concatenate(made.forward(inputs[:, :dim], inputs[:, dim:]), axis=1)
    jacobian = numerical_jacobian(outputs, np.concatenate([x, context], axis=1))   # (N, 2D, D + C)
    allowed = np.tile(_allowed(made.order), (2, 1))                         # (2D, D)
    assert np.all(np.abs(jacobian[:, :, :dim][:, ~allowed]) < 1e-10), "an output reads x_d or later"
    assert jacobian.shape == (x.shape[0], 2 * dim, dim + context_dim)


@pytest.mark.parametrize("context_dim", [1, 2])
def test_with_enough_units_every_output_reads_the_context(context_dim):
    rng = np.random.default_rng(4)
    made = MADE(3, hidden=(16,), order="random", rng=rng, context_dim=context_dim)
    _randomise(made, rng)
    x, context = rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, (3, context_dim))
    jacobian = numerical_jacobian(lambda c: np.concatenate(made.forward(x, c), axis=1), context)
    assert np.all(np.abs(jacobian) > 1e-8)                                  # (N, 2D, C): all of it
    assert made.masks[0].shape == (3 + context_dim, 16) and np.all(made.masks[0][3:] == 1)


def test_made_outputs_takes_mades_defaults():
    """MADEOutputs documents hidden, order, activation, zero_last, dtype "as in MADE": the same
    defaults."""
    def defaults(cls):
        return {name: parameter.default for name, parameter in inspect.signature(cls).parameters.items()
                if parameter.default is not inspect.Parameter.empty}
    made, outputs = defaults(MADE), defaults(MADEOutputs)
    for name in ("hidden", "order", "activation", "zero_last", "dtype"):
        assert outputs[name] == made[name], name


def test_one_dimensional_made_outputs_read_no_input():
    """D = 1: the only output comes first in the ordering, so μ_1 and s_1 read nothing; every hidden
    unit gets degree 0 and MAF(1) is an affine map with learnt constants."""
    made = MADE(1, hidden=(8, 8), rng=0)
    _randomise(made, np.random.default_rng(1))
    shift, log_scale = made.forward(np.array([[-3.0], [0.0], [5.0]]))     # (3, 1) each
    assert np.ptp(shift) == 0 and np.ptp(log_scale) == 0 and np.abs(shift).max() > 0
    assert all((degrees == 0).all() for degrees in made.degrees[1:])


@pytest.mark.parametrize("seed", range(8))
def test_every_hidden_unit_reads_something(seed):
    """The paper's rule draws a unit's degree from [min of the layer below, D − 1], so every hidden
    unit keeps at least one input (narrow layers, where a low degree may be missing below)."""
    made = MADE(6, hidden=(2, 2, 2), order="random", rng=seed)
    for mask in made.masks[:-1]:
        assert mask.any(axis=0).all()


def test_context_errors_name_the_problem():
    plain, conditional = MADE(3, hidden=(4,), rng=0), MADE(3, hidden=(4,), rng=0, context_dim=2)
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match="context_dim=0 and reads no context"):
        plain.forward(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"context_dim=2: pass context \(N, C\)"):
        conditional.forward(x)
    with pytest.raises(ValueError, match="context has N=3 rows but x has N=4"):
        conditional.forward(x, np.zeros((3, 2)))
    shift, _ = conditional.forward(x, np.ones((4, 2)))
    assert shift.shape == (4, 3)


@pytest.mark.parametrize("method", ["backward", "input_gradient"])
@pytest.mark.parametrize("grad_shift, grad_log_scale, error, message", [
    (np.ones((4, 1)), np.ones((4, 5)), ValueError, r"grad_shift has D=1 columns.*dimension 3"),
    (np.ones((4, 3)), np.ones((4, 2)), ValueError, r"grad_log_scale has D=2 columns"),  # each alone
    (np.ones((5, 3)), np.ones((5, 3)), ValueError, r"grad_shift has N=5 rows.*N=4"),
    (np.ones(3), np.ones(3), ValueError, r"grad_shift must be 2-D"),
    (np.ones((4, 3), dtype=int), np.ones((4, 3)), TypeError, r"grad_shift must be a float array"),
])
def test_made_gradients_must_each_have_the_shape_of_the_output(method, grad_shift, grad_log_scale,
                                                               error, message):
    made = MADE(3, hidden=(4,), rng=0)
    made.forward(np.ones((4, 3)))
    with pytest.raises(error, match=message):
        getattr(made, method)(grad_shift, grad_log_scale)
