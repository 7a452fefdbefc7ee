"""RadialFlow beyond the registry's contract: the paper's map, the constraint β̂ > −α, the
closed-form radial solve, and the contract near the boundary β̂ -> −α at the centre."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchflow.bijectors import RadialFlow
from scratchflow.checks import check_bijector


def test_inverse_is_the_papers_explicit_map():
    rng = np.random.default_rng(0)
    layer = RadialFlow(3, center=rng.normal(size=3), log_alpha=0.3, beta=0.5)
    alpha, beta_hat = np.exp(0.3), -np.exp(0.3) + np.logaddexp(0.0, 0.5)
    z = rng.normal(size=(5, 3))
    radius = np.linalg.norm(z - layer.center, axis=1)
    expected = z + (beta_hat / (alpha + radius))[:, None] * (z - layer.center)
    np.testing.assert_allclose(layer.inverse(z)[0], expected, rtol=0, atol=1e-14)


def test_beta_hat_stays_above_minus_alpha():
    for beta in (-40.0, -5.0, 0.0, 5.0):
        layer = RadialFlow(2, center=[0.0, 0.0], log_alpha=0.7, beta=beta)
        alpha, beta_hat, margin = layer._alpha_beta()
        assert margin > 0 and beta_hat >= -alpha          # β̂ itself rounds to −α at beta = −40
        # at the centre, the steepest point, the slope q = margin / α is still positive
        x, log_det = layer.inverse(np.array([[0.0, 0.0], [1e-30, 0.0]]))
        assert np.isfinite(log_det).all()
        np.testing.assert_allclose(layer.forward(x)[0], [[0.0, 0.0], [1e-30, 0.0]], atol=1e-15)


def test_forward_maps_the_centre_to_itself():
    layer = RadialFlow(2, center=[0.5, -1.0], log_alpha=0.0, beta=-3.0)
    z, log_det = layer.forward(np.array([[0.5, -1.0]]))
    np.testing.assert_allclose(z, [[0.5, -1.0]], atol=1e-15)
    assert np.isfinite(log_det).all()


@st.composite
def near_boundary(draw):
    dim = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    beta = draw(st.floats(-6.0, -3.0))                                    # ε = β̂ + α in [2.5e-3, 0.05]
    distance = draw(st.floats(1.0, 5.0))                                  # r in units of ε
    return dim, seed, beta, distance


@given(near_boundary())
def test_contract_near_the_invertibility_boundary(drawn):
    """Points at r = 1..5 ε from the centre, where the slope q ≈ (ε + 2r)/α is smallest.

    The centre itself is excluded: there the map's Jacobian is continuous but not differentiable
    (it depends on ‖z − z₀‖), so a finite-difference stencil across it measures the kink. Steps
    are scaled to the distance from the centre (0.2%); forward parameter gradients are left to the
    registry's contract, as for the planar flow (round-off amplified by 1/q)."""
    dim, seed, beta, distance = drawn
    rng = np.random.default_rng(seed)
    layer = RadialFlow(dim, center=rng.uniform(-1, 1, dim), log_alpha=rng.uniform(-1, 1), beta=beta)
    margin = np.logaddexp(0.0, beta)
    direction = rng.normal(size=(3, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    radius = distance * margin * rng.uniform(1.0, 2.0, (3, 1))                # (3, 1)
    z = layer.center + radius * direction                                     # (3, D)
    x, _ = layer.inverse(z)
    radius_x = np.linalg.norm(x - layer.center, axis=1)
    check_bijector(layer, x, z=z, rng=seed, directions="inverse",
                   step=0.002 * radius.min()).assert_ok()
    check_bijector(layer, x, rng=seed, directions="forward", step=0.002 * radius_x.min(),
                   check_params=False).assert_ok()


def test_default_parameters_start_near_the_identity():
    """z₀ defaults to N(0, 0.1²) draws, log α to 0 and β to log(e − 1) + an N(0, 0.1²) draw, so
    β̂ = softplus(β) − α is near 0: the layer starts near the identity."""
    center = RadialFlow(20000, rng=0).center
    assert abs(center.mean()) < 0.003 and abs(center.std() - 0.1) < 0.003
    betas = np.array([RadialFlow(1, rng=seed).beta[0] for seed in range(2000)])
    assert abs(betas.mean() - np.log(np.e - 1)) < 0.01 and abs(betas.std() - 0.1) < 0.008
    x = np.random.default_rng(0).normal(size=(50, 2))
    z, log_det = RadialFlow(2, rng=0).forward(x)
    assert np.abs(z - x).max() < 0.2 and np.abs(log_det).max() < 0.2
    assert RadialFlow(2, rng=0).log_alpha[0] == 0.0


def test_forward_solve_keeps_full_precision_within_alpha_of_the_centre():
    """Within about α of z₀ the forward's quadratic for the radius has B = α + β̂ − ρ > 0, where
    ½(√(B² + 4αρ) − B) would cancel; the stable form keeps z = f(f⁻¹(z)) exact to round-off relative
    to |z − z₀|, also for α = e⁻¹⁴ and a margin α + β̂ above 1."""
    rng = np.random.default_rng(0)
    direction = rng.normal(size=(200, 2))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)                # (200, 2)
    for log_alpha in (-14.0, -10.0, -6.0, 0.0):
        for beta in (-1.0, 0.0, 2.0):
            layer = RadialFlow(2, center=[0.3, -0.2], log_alpha=log_alpha, beta=beta)
            z = layer.center + direction * np.exp(log_alpha) * rng.uniform(0.01, 5.0, (200, 1))
            z_back, _ = layer.forward(layer.inverse(z)[0])                        # (200, 2)
            error = np.abs(z_back - z).max(axis=1) / np.abs(z - layer.center).max(axis=1)
            assert error.max() < 1e-13, (log_alpha, beta, error.max())


def test_both_gradient_passes_are_finite_at_the_centre():
    """At z = z₀ (and x = z₀) the direction d/‖d‖ is taken as 0, not 0/0."""
    layer = RadialFlow(2, center=[0.5, -1.0], log_alpha=0.3, beta=0.2)
    centre = np.array([[0.5, -1.0], [1.0, 2.0]])
    for run, gradient_pass in ((layer.forward, layer.backward), (layer.inverse, layer.inverse_backward)):
        run(centre)
        grad = gradient_pass(np.ones((2, 2)), np.ones(2))
        assert np.isfinite(grad).all()
        assert all(np.isfinite(value).all() for value in layer.grads.values())


@pytest.mark.parametrize("beta", [-50.0, -400.0, -700.0])
def test_backward_exactly_at_the_centre_stays_finite_with_a_very_negative_beta(beta):
    """k = softplus(beta)/α at the centre: k² underflowed to 0 and 0/0 made every gradient NaN."""
    layer = RadialFlow(2, center=[0.3, -0.2], log_alpha=0.2, beta=beta)
    x = np.array([[0.3, -0.2], [1.0, 0.5]])                        # the centre, and a point away
    z, _ = layer.forward(x)
    grad_x = layer.backward(np.ones_like(z), np.ones(2))
    assert np.isfinite(grad_x).all()
    assert all(np.isfinite(value).all() for value in layer.grads.values())


def test_backward_where_the_slope_overflows_float_raises_instead_of_nan():
    layer = RadialFlow(2, center=[0.3, -0.2], log_alpha=0.2, beta=-740.0)   # softplus: 1e-322
    z, _ = layer.forward(np.array([[0.3, -0.2]]))
    with pytest.raises(FloatingPointError, match="RadialFlow backward"):
        layer.backward(np.ones_like(z), np.ones(1))
