"""MADESweep: the sequential direction's D passes, each computing only what its column needs, give
the numbers of D whole MADE passes, compute every hidden unit once, and refuse a wrong order."""
import numpy as np
import pytest

from scratchflow.nn import MADE
from scratchflow.nn.made_sweep import MADEAdjointSweep, MADESweep


def _made(dim, hidden, order, seed):
    rng = np.random.default_rng(seed)
    made = MADE(dim, hidden=hidden, order=order, rng=rng)
    for value in made.params.values():
        value[...] = rng.normal(0.0, 0.5, value.shape)               # every weight non-zero
    return made


def _fill(made, stepper, point, targets):
    """Fill point column by column in the ordering: point_d = target_d + μ_d + s_d (any rule that
    reads the column's (μ_d, s_d) will do); return the last (μ, s, cache)."""
    for d in made.order:
        shift, log_scale, cache = stepper(point, d)
        point[:, d] = targets[:, d] + shift[:, d] + np.tanh(log_scale[:, d])
    return shift, log_scale, cache


@pytest.mark.parametrize("dim,hidden,order", [(1, (5,), "natural"), (2, (8, 8), "reversed"),
                                              (5, (), "random"), (7, (16, 9), "random"),
                                              (9, (4, 4, 6), "natural")])
def test_sweep_gives_the_numbers_of_whole_passes(dim, hidden, order):
    made = _made(dim, hidden, order, seed=dim)
    targets = np.random.default_rng(0).standard_normal((13, dim))

    def whole(point, d):
        out, cache = made._forward(point)
        return out[:, :dim], out[:, dim:], cache

    expected = _fill(made, whole, np.zeros((13, dim)), targets)
    sweep_point = np.zeros((13, dim))
    got = _fill(made, MADESweep(made).step, sweep_point, targets)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-13, atol=1e-13)
    out, _ = made._forward(sweep_point)                              # the last pass's trace is
    grad = np.random.default_rng(1).standard_normal(out.shape)       # the final point's
    np.testing.assert_allclose(made._input_gradient(got[2], grad),
                               made._input_gradient(expected[2], grad), rtol=1e-12, atol=1e-12)


def test_sweep_computes_each_hidden_unit_once_and_no_unit_the_last_column_alone_needs():
    dim, hidden = 6, (40, 30)
    made = _made(dim, hidden, "random", seed=3)
    widths = []
    for activation in made.layers[1::2]:                             # count activated columns
        original = activation._forward

        def counted(pre, original=original):
            widths.append(pre.shape[1])
            return original(pre)
        activation._forward = counted
    _fill(made, MADESweep(made).step, np.zeros((4, dim)), np.ones((4, dim)))
    below_last = sum(int((degrees <= dim - 2).sum()) for degrees in made.degrees[1:])
    assert sum(widths) == below_last + sum(hidden)    # the D − 1 partial passes, then one whole


def test_sweep_refuses_dimensions_out_of_the_ordering():
    made = _made(3, (8,), "reversed", seed=0)
    sweep = MADESweep(made)
    with pytest.raises(RuntimeError, match="expected dimension 2"):
        sweep.step(np.zeros((2, 3)), 0)


@pytest.mark.parametrize("dim,hidden,order", [(6, (8, 8), "reversed"), (6, (), "random"),
                                              (7, (16, 9), "random"), (9, (4, 4, 6), "natural")])
def test_adjoint_sweep_gives_the_columns_of_whole_input_gradients(dim, hidden, order):
    """Column d of J_MADEᵀ g, d through the ordering backwards, with g's columns of the
    dimensions after d final (the others hold anything): the whole pass's numbers."""
    made = _made(dim, hidden, order, seed=dim + 1)
    rng = np.random.default_rng(2)
    point = rng.standard_normal((6, dim))
    _, cache = made._forward(point)
    final = rng.standard_normal((6, 2 * dim))                        # the solved g
    sweep = MADEAdjointSweep(made, cache, point)
    for position in range(dim - 2, -1, -1):
        d = made.order[position]
        later = made.order[position + 1:]
        grad = rng.standard_normal((6, 2 * dim))                     # unsolved columns: noise
        grad[:, later], grad[:, dim + later] = final[:, later], final[:, dim + later]
        expected = made._input_gradient(cache, grad)[:, d]            # (6,)
        np.testing.assert_allclose(sweep.column(grad, d), expected, rtol=1e-12, atol=1e-12)


class _StandIn:
    """A conditioner that is not a MADE (as the grader's stand-ins): ``dim`` and ``_forward``."""

    def __init__(self, made):
        self.made, self.dim, self.calls = made, made.dim, 0

    def _forward(self, point):
        self.calls += 1
        return self.made._forward(point)

    def _input_gradient(self, cache, grad_out):
        self.calls += 1
        return self.made._input_gradient(cache, grad_out)


def test_any_other_conditioner_gets_one_whole_pass_per_step():
    made = _made(4, (8,), "reversed", seed=5)
    stand_in = _StandIn(made)
    targets = np.random.default_rng(3).standard_normal((3, 4))
    got = _fill(made, MADESweep(stand_in).step, np.zeros((3, 4)), targets)
    expected = _fill(made, MADESweep(made).step, np.zeros((3, 4)), targets)
    assert stand_in.calls == 4
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13, atol=1e-13)


def test_a_conditional_made_is_never_swept_without_its_context():
    """Its degree-0 units read the context: run without one it is refused, not run on x alone."""
    made = MADE(3, hidden=(8,), context_dim=2, rng=0)
    with pytest.raises(ValueError):
        MADESweep(made).step(np.zeros((2, 3)), made.order[0])


@pytest.mark.parametrize("conditioner", ["stand-in", "conditional MADE"])
def test_adjoint_sweep_runs_whole_input_gradients_for_other_conditioners(conditioner):
    """Above ADJOINT_SWEEP_FROM_DIM too, a stand-in and a conditional MADE get whole passes."""
    dim, rng = 7, np.random.default_rng(6)
    made = (_made(dim, (9,), "random", seed=2) if conditioner == "stand-in"
            else MADE(dim, hidden=(9,), order="random", context_dim=2, rng=2))
    inputs = rng.standard_normal((4, dim + made.context_dim))          # x, then the context
    _, cache = made._forward(inputs)
    net = _StandIn(made) if conditioner == "stand-in" else made
    sweep = MADEAdjointSweep(net, cache, inputs[:, :dim])
    grad = rng.standard_normal((4, 2 * dim))
    for d in made.order[-2::-1]:
        np.testing.assert_allclose(sweep.column(grad, d), made._input_gradient(cache, grad)[:, d],
                                   rtol=1e-12, atol=1e-12)
