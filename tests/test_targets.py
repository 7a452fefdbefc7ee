"""Targets U1–U4: the table's formulas, hand gradients vs finite differences, log Z, a reverse-KL fit."""
import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.bijectors import AffineCoupling, ElementwiseAffine
from scratchflow.checks import numerical_jacobian, relative_error
from scratchflow.optim import Adam
from scratchflow.targets import TARGETS, load_target, log_normalizer


def _table1(name, x):
    """U of Rezende & Mohamed's table 1, written out again with plain exp/log (no wall)."""
    x1, x2 = x[:, 0], x[:, 1]
    w1 = np.sin(2 * np.pi * x1 / 4)
    w2 = 3 * np.exp(-0.5 * ((x1 - 1) / 0.6) ** 2)
    w3 = 3 / (1 + np.exp(-(x1 - 1) / 0.3))
    if name == "u1":
        return (0.5 * ((np.linalg.norm(x, axis=1) - 2) / 0.4) ** 2
                - np.log(np.exp(-0.5 * ((x1 - 2) / 0.6) ** 2) + np.exp(-0.5 * ((x1 + 2) / 0.6) ** 2)))
    if name == "u2":
        return 0.5 * ((x2 - w1) / 0.4) ** 2
    if name == "u3":
        return -np.log(np.exp(-0.5 * ((x2 - w1) / 0.35) ** 2) + np.exp(-0.5 * ((x2 - w1 + w2) / 0.35) ** 2))
    return -np.log(np.exp(-0.5 * ((x2 - w1) / 0.4) ** 2) + np.exp(-0.5 * ((x2 - w1 + w3) / 0.35) ** 2))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_log_prob_is_minus_the_table_potential_inside_the_box(name):
    x = np.random.default_rng(0).uniform(-3.9, 3.9, size=(50, 2))
    target = load_target(name)
    assert target.dim == 2 and target.log_prob(x).shape == (50,)
    np.testing.assert_allclose(target.log_prob(x), -_table1(name, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(load_target(name, box=None).log_prob(x), -_table1(name, x), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("name", sorted(TARGETS))
@pytest.mark.parametrize("box", [4.0, None])
def test_grad_log_prob_matches_finite_differences(name, box):
    x = np.random.default_rng(1).uniform(-5.5, 5.5, size=(100, 2))        # inside and past the wall
    target = load_target(name, box=box)
    numeric = numerical_jacobian(lambda x_: target.log_prob(x_)[:, None], x)[:, 0, :]   # (100, 2)
    assert relative_error(target.grad_log_prob(x), numeric, eps=1e-6) < 1e-7


def test_u1_gradient_is_finite_at_the_origin():
    grad = load_target("u1").grad_log_prob(np.zeros((1, 2)))
    assert np.isfinite(grad).all()


def test_u1_gradient_inside_the_unit_circle_matches_centred_differences():
    """The ring term's gradient inside the unit circle too (x / |x| is still the unit vector)."""
    target = load_target("u1")
    points = np.array([[0.3, 0.4], [-0.2, 0.1], [0.05, -0.6]])         # (3, 2), radius < 1
    step = 1e-6
    numeric = np.stack([(target.log_prob(points + step * e) - target.log_prob(points - step * e))
                        / (2 * step) for e in np.eye(2)], axis=1)      # (3, 2)
    np.testing.assert_allclose(target.grad_log_prob(points), numeric, rtol=1e-6, atol=1e-6)


def test_without_the_box_u2_is_improper_along_x1():
    x = np.random.default_rng(2).uniform(-3, 3, size=(20, 2))
    shifted = x + [12.0, 0.0]                                            # w1 has period 4
    np.testing.assert_allclose(load_target("u2", box=None).log_prob(shifted),
                               load_target("u2", box=None).log_prob(x), atol=1e-12)
    assert (load_target("u2").log_prob(shifted) < load_target("u2").log_prob(x) - 100).all()


def test_log_normalizer_of_u2_matches_the_closed_form():
    # inside the box every x1 contributes 0.4 √(2π); the walls add 2 · 0.25 √(π/2) of x1-length
    exact = np.log(0.4 * np.sqrt(2 * np.pi)) + np.log(8.0 + 0.5 * np.sqrt(np.pi / 2))
    assert abs(log_normalizer(load_target("u2"), n=201) - exact) < 1e-6


def test_unknown_target_and_bad_input():
    with pytest.raises(ValueError, match="choose one of"):
        load_target("u5")
    with pytest.raises(ValueError, match="D=3"):
        load_target("U1").log_prob(np.zeros((2, 3)))


def _reverse_kl(flow, target, log_z):
    """KL(q‖p) estimated on 4096 fixed latent draws: E_q[log q − log p*] + log Z."""
    z = np.random.default_rng(123).standard_normal((4096, 2))
    x, log_det_inv = flow.layers.inverse(z)
    return float(np.mean(flow.base.log_prob(z) - log_det_inv - target.log_prob(x)) + log_z)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_reverse_kl_fit_with_coupling_layers(name):
    """Four coupling layers, 400 Adam steps: KL(q‖p) below 1 nat (N(0, I) itself is at 3.3–4.6;
    the best diagonal Gaussian stays above 1.6)."""
    target = load_target(name)
    log_z = log_normalizer(target, n=201)
    rng = np.random.default_rng(0)
    layers = [ElementwiseAffine(2)] + [
        AffineCoupling(2, mask=[k % 2, 1 - k % 2], hidden=(32, 32), scale_bound=3.0, rng=rng)
        for k in range(4)]
    flow = Flow(layers)
    kl_before = _reverse_kl(flow, target, log_z)
    optimizer = Adam(flow.params, flow.grads, lr=0.01)
    for _ in range(400):
        loss = flow.reverse_kl_loss_and_grad(target, 128, rng)
        optimizer.step()
    kl_after = _reverse_kl(flow, target, log_z)
    assert np.isfinite(loss)
    assert kl_after < 1.0, f"{name}: KL after training {kl_after:.3f} (before {kl_before:.3f})"
    assert kl_after < 0.5 * kl_before


def test_log_normalizer_of_a_known_density():
    """p*(x) = c exp(−‖x − m‖² / (2 s²)) integrates to c · 2π s²; the midpoint rule on [−6, 6]²
    gets log Z to about 1e-6 (as documented) for a Gaussian well inside the square."""
    class Gaussian:
        dim = 2

        def log_prob(self, x):
            return np.log(3.0) - 0.5 * np.sum((x - [0.5, -1.0]) ** 2, axis=1) / 0.7 ** 2
    expected = np.log(3.0 * 2.0 * np.pi * 0.7 ** 2)
    assert log_normalizer(Gaussian()) == pytest.approx(expected, abs=1e-6)
    assert log_normalizer(Gaussian(), limit=5.0, n=300) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("call, error, message", [
    (lambda: load_target("u2", box=-1), ValueError, r"box \(a positive number or None\) must be > 0"),
    (lambda: load_target("u2", box=np.nan), ValueError, r"box .*finite"),          # not NaN densities
    (lambda: load_target("u5"), ValueError, r"unknown target 'u5'; choose one of"),
    (lambda: log_normalizer(load_target("u1"), n=0), ValueError, r"n \(cells per side\) must be >= 1"),
    (lambda: log_normalizer(load_target("u1"), n=2.5), TypeError, r"must be an integer"),
    (lambda: log_normalizer(load_target("u1"), limit=-1), ValueError, r"limit must be > 0"),
])
def test_targets_refuse_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
