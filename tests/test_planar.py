"""PlanarFlow beyond the registry's contract: the paper's map, û's constraint, the solver, and the
contract near the invertibility boundary c = wᵀû -> −1, at the steepest point wᵀz + b = 0.

(Closer to the boundary than c + 1 ≈ 1e-3 the map stays exact, see
``test_reparameterisation_keeps_w_dot_u_hat_above_minus_one``, but finite differences can no
longer resolve the forward Jacobian in float64.)"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchflow.bijectors import PlanarFlow
from scratchflow.bijectors.planar import solve_increasing
from scratchflow.checks import check_bijector
from tests.registry import _planar


def test_inverse_is_the_papers_explicit_map():
    rng = np.random.default_rng(0)
    layer = _planar(3, rng)
    z = rng.normal(size=(6, 3))
    u_hat, c, _ = layer._u_hat()
    expected = z + np.tanh(z @ layer.w + layer.b[0])[:, None] * u_hat
    x, log_det = layer.inverse(z)
    np.testing.assert_allclose(x, expected, rtol=0, atol=1e-14)
    jacobians = np.eye(3) + (1 - np.tanh(z @ layer.w + layer.b[0]) ** 2)[:, None, None] \
        * u_hat[None, :, None] * layer.w[None, None, :]               # I + û h' wᵀ
    np.testing.assert_allclose(log_det, np.linalg.slogdet(jacobians)[1], atol=1e-12)
    assert np.isclose(c, u_hat @ layer.w)


@pytest.mark.parametrize("w_dot_u", [-50.0, -10.0, 0.0, 10.0])
def test_reparameterisation_keeps_w_dot_u_hat_above_minus_one(w_dot_u):
    layer = _planar(2, np.random.default_rng(1), w_dot_u=w_dot_u)
    _, c, reparam = layer._u_hat()
    assert reparam.c_plus_one > 0.0 and c >= -1.0          # c itself rounds to −1 at wᵀu = −50
    assert np.isclose(c, -1.0 + np.logaddexp(0.0, w_dot_u))
    # at the steepest point (wᵀz + b = 0) the slope q = 1 + c h' is still positive: finite log-det
    z = -layer.b[0] * layer.w[None, :] / (layer.w @ layer.w)              # (1, 2)
    x, log_det = layer.inverse(z)
    assert np.isfinite(log_det).all()
    np.testing.assert_allclose(layer.forward(x)[0], z, atol=1e-10)


def test_solver_finds_the_root_to_machine_precision():
    target = np.linspace(-5, 5, 41)                                      # (41,)
    for c in (-0.999999, -0.5, 0.0, 3.0):
        def equation(alpha):
            t = np.tanh(alpha + 0.3)
            return alpha + c * t - target, 1 + c * (1 - t ** 2), np.zeros_like(alpha)
        alpha = solve_increasing(equation, target - abs(c), target + abs(c))
        assert np.max(np.abs(equation(alpha)[0])) <= 1e-14 * (1 + np.abs(target).max())


@st.composite
def near_boundary(draw):
    dim = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    w_dot_u = draw(st.floats(-6.0, -3.0))                                # c + 1 from 2.5e-3 to 4.9e-2
    offset = draw(st.floats(-1e-2, 1e-2))                                # wᵀz + b near 0
    return dim, seed, w_dot_u, offset


@given(near_boundary())
def test_contract_near_the_invertibility_boundary(drawn):
    dim, seed, w_dot_u, offset = drawn
    rng = np.random.default_rng(seed)
    layer = _planar(dim, rng, w_dot_u=w_dot_u)
    z = rng.uniform(-2, 2, (3, dim))                                      # (3, D)
    w, b = layer.w, layer.b[0]
    z += ((offset - b - z @ w) / (w @ w))[:, None] * w                   # wᵀz + b = offset
    x, _ = layer.inverse(z)
    check_bijector(layer, x, z=z, rng=seed, directions="inverse").assert_ok()
    # forward = the solve: its Jacobian 1/q reaches 1/(c + 1) and changes over a width of about
    # (c + 1)^1.5 in x, so the finite differences take a step well inside that width. A step that
    # small meets the solve's round-off amplified by 1/q (about 1e-6 relative in a parameter), so
    # the forward's parameter gradients, with this same c, are checked below at points a little
    # off the steepest line (|wᵀz + b| in [0.5, 2], q >= 0.2) with the default step.
    step = 0.002 * np.logaddexp(0.0, w_dot_u) ** 1.5
    check_bijector(layer, x, rng=seed, directions="forward", step=step,
                   check_params=False).assert_ok()
    away = rng.uniform(0.5, 2.0, 3) * rng.choice([-1.0, 1.0], 3)          # (3,)
    z_away = z + ((away - offset) / (w @ w))[:, None] * w                 # wᵀz + b = away
    check_bijector(layer, layer.inverse(z_away)[0], rng=seed).assert_ok()


@st.composite
def wide_layer_and_batch(draw):
    """Parameters far from the registry's: large c (up to ~50), large |b|, long and short w."""
    dim = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    w = rng.normal(size=dim)
    w *= draw(st.floats(0.05, 20.0)) / np.linalg.norm(w)
    u = rng.normal(size=dim)
    u += (draw(st.floats(-40.0, 50.0)) - w @ u) * w / (w @ w)
    layer = PlanarFlow(dim, u=u, w=w, b=draw(st.floats(-60.0, 60.0)))
    return layer, rng.uniform(-30, 30, (draw(st.integers(1, 50)), dim))


@given(wide_layer_and_batch())
def test_solve_converges_and_reconstructs_far_from_the_registry(drawn):
    """A trained U1 flow once met c = 17.7 with |wᵀx| near 30; the first stopping rule, blind to
    the round-off of c·tanh(α + b), cycled there. Every such solve must converge and invert."""
    layer, x = drawn
    z, log_det = layer.forward(x)
    x_back, log_det_inverse = layer.inverse(z)
    assert np.isfinite(log_det).all()
    u_hat, c, _ = layer._u_hat()
    scale = (1 + np.abs(x).max()) * (1 + abs(c)) * (1 + np.linalg.norm(u_hat))   # conditioning
    assert np.abs(x_back - x).max() <= 1e-12 * scale
    np.testing.assert_allclose(log_det_inverse, -log_det, atol=1e-9)


def test_float32_solve_keeps_the_dtype_and_inverts():
    layer = PlanarFlow(2, u=[1.5, -0.5], w=[2.0, 1.0], b=0.3, dtype=np.float32)
    x = np.random.default_rng(3).uniform(-3, 3, (50, 2)).astype(np.float32)
    z, log_det = layer.forward(x)
    assert z.dtype == log_det.dtype == np.float32
    np.testing.assert_allclose(layer.inverse(z)[0], x, atol=1e-5)


def test_solve_finishes_on_a_grid_through_steep_layers():
    """Large c (a steep tanh, like a trained flow's): plain safeguarded Newton ping-pongs between
    the ends of the bracket and ran out of steps on such grids; with the halving rule it finishes."""
    rng = np.random.default_rng(0)
    grid = np.linspace(-4, 4, 50)
    x = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)            # (2500, 2)
    for _ in range(16):
        w = rng.normal(size=2) * rng.uniform(0.3, 8)
        u = rng.normal(size=2)
        u += (rng.uniform(-8, 25) - w @ u) * w / (w @ w)
        layer = PlanarFlow(2, u=u, w=w, b=rng.uniform(-5, 5))
        z, _ = layer.forward(x)
        np.testing.assert_allclose(layer.inverse(z)[0], x, atol=1e-9)
        x = z


def test_default_parameters_start_near_the_identity():
    """w ~ N(0, I/D), u = s₀ w/‖w‖² + N(0, 0.1² I) with m(s₀) = 0: û is the small draw's share,
    so the layer starts near the identity (small u and w would give û ≈ −0.31 w/‖w‖²)."""
    layer = PlanarFlow(20000, rng=0)
    assert abs(layer.w.std() - 20000 ** -0.5) < 1e-4 and layer.b[0] == 0.0
    x = np.random.default_rng(0).normal(size=(50, 2))
    for seed in range(20):
        z, log_det = PlanarFlow(2, rng=seed).forward(x)
        assert np.abs(z - x).max() < 0.5 and np.abs(log_det).max() < 0.3
    np.testing.assert_array_equal(PlanarFlow(5, rng=7).u, PlanarFlow(5, rng=7).u)


def test_solver_refuses_a_bracket_with_one_non_finite_end():
    def equation(alpha):
        return alpha, np.ones_like(alpha), np.zeros_like(alpha)
    for low, high in (([0.0, -1.0], [1.0, np.inf]), ([np.nan, -1.0], [1.0, 1.0])):
        with pytest.raises(FloatingPointError, match="non-finite bracket"):
            solve_increasing(equation, np.array(low), np.array(high))


def test_solver_takes_newton_steps_not_bisection_ones():
    """Bisection alone needs about 50 halvings to bring a bracket of width ~1 down to an ulp;
    Newton's steps, accepted while they stay inside the bracket and halve, converge quadratically:
    every one of these solves (one row each, F's round-off not given) finishes in under 20."""
    for c in (-0.9, -0.5, 0.5, 3.0):
        for target in np.linspace(-5, 5, 41):
            evaluations = []

            def equation(alpha):
                evaluations.append(alpha)
                t = np.tanh(alpha + 0.3)
                return alpha + c * t - target, 1 + c * (1 - t ** 2), np.zeros_like(alpha)
            alpha = solve_increasing(equation, np.array([target - abs(c)]), np.array([target + abs(c)]))
            assert len(evaluations) < 20, (c, target, len(evaluations))
            assert abs(alpha[0] + c * np.tanh(alpha[0] + 0.3) - target) <= 1e-14 * (1 + abs(target))


def _piecewise_linear(kink, value, slope_below, slope_above):
    """An increasing F with one kink: its Newton step from the far side can overshoot the root."""
    def equation(alpha):
        slope = np.where(alpha <= kink, slope_below, slope_above)
        return value + slope * (alpha - kink), slope
    return equation


def test_solver_steps_follow_the_safeguard_rule():
    """The docstring's rule, step by step: each new iterate is either the midpoint of the current
    bracket (bisection) or Newton's point strictly inside the bracket at most half the step before
    it. Replayed from the evaluations (the bracket from the signs of F) on the tanh equations and on
    two kinked ones whose first Newton step lands exactly on an end of the bracket."""
    cases = [(_piecewise_linear(1.5, -0.75, 0.5, 10.0), -1.0, 3.0),  # Newton from 1 hits high = 3
             (_piecewise_linear(0.5, 0.75, 10.0, 0.5), -1.0, 3.0)]   # Newton from 1 hits low = -1
    for c in (-0.9, -0.5, 0.5, 3.0):
        for target in np.linspace(-5, 5, 41):
            def tanh_equation(alpha, c=c, target=target):
                t = np.tanh(alpha + 0.3)
                return alpha + c * t - target, 1 + c * (1 - t ** 2)
            cases.append((tanh_equation, target - abs(c), target + abs(c)))
    for function, low, high in cases:
        evaluations, values = [], []

        def equation(alpha):
            value, slope = function(alpha)
            evaluations.append(alpha[0])
            values.append(value[0])
            return value, slope, np.zeros_like(alpha)
        root = solve_increasing(equation, np.array([low]), np.array([high]))
        assert abs(function(root)[0][0]) <= 1e-14 * (1 + abs(low) + abs(high))
        previous_step = high - low
        for alpha, next_alpha, value in zip(evaluations, evaluations[1:], values):
            low, high = (alpha, high) if value < 0 else (low, alpha) if value > 0 else (low, high)
            step = abs(next_alpha - alpha)
            bisection = next_alpha == 0.5 * (low + high)
            newton = low < next_alpha < high and step <= 0.5 * previous_step
            assert bisection or newton, (evaluations, low, high)
            previous_step = step
