"""Each toy data set lies on the shape its docstring describes: with the noise off, points sit
exactly on it, in the stated proportions; with the noise on, it has the stated size."""
import numpy as np
import pytest

from scratchflow.data import (load_dataset, make_checkerboard, make_circles, make_eight_gaussians, make_example1,
                              make_example2, make_moons, make_pinwheel, make_rings, make_two_spirals)

N = 4000


def _angle_of(points):
    return np.mod(np.arctan2(points[:, 1], points[:, 0]), 2 * np.pi)         # (n,) in [0, 2π)


def test_moons_are_two_half_circles_half_the_points_each():
    points = make_moons(N + 1, rng=0, noise=0.0)                 # odd: the upper moon has N // 2
    upper = np.isclose(np.hypot(points[:, 0], points[:, 1]), 1.0) & (points[:, 1] >= 0)
    lower = np.isclose(np.hypot(points[:, 0] - 1.0, points[:, 1] - 0.5), 1.0) & (points[:, 1] <= 0.5)
    assert np.all(upper | lower)
    assert upper.sum() == (N + 1) // 2
    # the whole half circle is used: x spans [-1, 1] above and [0, 2] below
    assert points[upper, 0].min() < -0.99 and points[upper, 0].max() > 0.99
    assert points[lower, 0].min() < 0.01 and points[lower, 0].max() > 1.99


def test_circles_have_radius_two_and_two_factor():
    points = make_circles(N + 1, rng=0, noise=0.0, factor=0.25)
    radius = np.hypot(points[:, 0], points[:, 1])
    assert np.isclose(radius, 2.0).sum() == (N + 1) // 2
    assert np.isclose(radius, 0.5).sum() == N + 1 - (N + 1) // 2
    assert np.ptp(_angle_of(points)) > 6.2                      # all the way round
    noisy = np.hypot(*make_circles(N, rng=0, noise=0.05, factor=0.25).T)
    assert 0.05 < np.std(noisy[np.abs(noisy - 2.0) < 0.7] - 2.0) < 0.2    # noise of order 0.1


def test_rings_radii_and_proportions():
    points = make_rings(20000, rng=0, n_rings=4, noise=0.0)
    radius = np.hypot(points[:, 0], points[:, 1])
    radii = np.array([0.75, 1.5, 2.25, 3.0])
    assert np.all(np.isclose(radius[:, None], radii).any(axis=1))
    shares = np.isclose(radius[:, None], radii).mean(axis=0)
    np.testing.assert_allclose(shares, radii / radii.sum(), atol=0.015)
    assert np.ptp(_angle_of(points)) > 6.2
    default = np.hypot(*load_dataset("rings", N, rng=0).T)                   # the public set: 4 rings
    np.testing.assert_array_equal(np.unique(np.round(default / 0.75)), [1, 2, 3, 4])


def test_eight_gaussians_centres_on_a_circle():
    points = make_eight_gaussians(N, rng=0, radius=2.5, std=0.0)
    np.testing.assert_allclose(np.hypot(points[:, 0], points[:, 1]), 2.5)
    sector = np.round(_angle_of(points) / (np.pi / 4)) % 8
    np.testing.assert_allclose(_angle_of(points), np.mod(sector * np.pi / 4, 2 * np.pi), atol=1e-12)
    assert np.all(np.bincount(sector.astype(int), minlength=8) > N / 8 * 0.8)
    spread = make_eight_gaussians(N, rng=0, radius=2.5, std=0.2) - make_eight_gaussians(
        N, rng=0, radius=2.5, std=0.0)
    assert np.std(spread) == pytest.approx(0.2, rel=0.05)


def test_checkerboard_fills_every_black_cell_of_the_square():
    points = make_checkerboard(N, rng=0, n_cells=4, half_width=3.0)
    assert points.min() >= -3.0 and points.max() <= 3.0
    cells = np.floor((points + 3.0) / 1.5).astype(int)                        # (n, 2) in 0..3
    index = cells[:, 0] * 4 + cells[:, 1]
    counts = np.bincount(index, minlength=16)
    black = (np.arange(16) // 4 + np.arange(16) % 4) % 2 == 0
    assert np.all(counts[~black] == 0) and np.all(counts[black] > N / 8 * 0.8)
    assert points.min() < -2.95 and points.max() > 2.95                      # cells filled to the edge
    two = make_checkerboard(N, rng=0, n_cells=2, half_width=1.0)           # the smallest board
    assert np.all(np.floor(two[:, 0] + 1.0) == np.floor(two[:, 1] + 1.0))     # cells (0, 0), (1, 1)
    for odd_or_small in (3, 1, 0):              # an odd board has no uniform column-by-column draw
        with pytest.raises(ValueError, match="n_cells must be even"):
            make_checkerboard(10, rng=0, n_cells=odd_or_small)


def test_pinwheel_arms_at_radius_two():
    points = make_pinwheel(N, rng=0, n_arms=5, radial_std=0.0, tangential_std=0.0, rate=0.25)
    np.testing.assert_allclose(np.hypot(points[:, 0], points[:, 1]), 2.0)
    arms = np.mod(2 * np.pi * np.arange(5) / 5 + 0.25 * np.e, 2 * np.pi)
    assert np.all(np.isclose(_angle_of(points)[:, None], arms).any(axis=1))
    assert len(np.unique(np.round(_angle_of(points), 6))) == 5
    default_arms = make_pinwheel(N, rng=0, radial_std=0.0, tangential_std=0.0)
    assert len(np.unique(np.round(_angle_of(default_arms), 6))) == 5      # the public set: 5 arms
    # with rate 0 each arm is the blob (2 (1 + radial), 2 tangential) rotated by the arm's angle
    blobs = make_pinwheel(N, rng=0, n_arms=4, radial_std=0.3, tangential_std=0.1, rate=0.0)
    arm = np.round(_angle_of(blobs) / (np.pi / 2)) % 4
    angle = arm * np.pi / 2
    back = np.column_stack([np.cos(angle) * blobs[:, 0] + np.sin(angle) * blobs[:, 1],
                            -np.sin(angle) * blobs[:, 0] + np.cos(angle) * blobs[:, 1]])
    for k in range(4):
        along, across = back[arm == k].T
        assert along.mean() == pytest.approx(2.0, abs=0.05) and abs(across.mean()) < 0.03
        assert along.std() == pytest.approx(0.6, rel=0.1) and across.std() == pytest.approx(0.2, rel=0.1)


def test_two_spirals_are_archimedean_and_point_symmetric():
    points = make_two_spirals(N + 1, rng=0, noise=0.0)          # the public set: 1.5 turns
    radius = np.hypot(points[:, 0], points[:, 1])
    assert radius.max() <= 3.0 + 1e-12 and radius.max() > 2.9
    t = radius * np.pi                                                      # r = 3 t / (1.5 · 2π)
    first = np.isclose(np.cos(t) * radius, points[:, 0]) & np.isclose(np.sin(t) * radius, points[:, 1])
    second = np.isclose(-np.cos(t) * radius, points[:, 0]) & np.isclose(-np.sin(t) * radius, points[:, 1])
    assert np.all(first | second)
    assert first.sum() == (N + 1) // 2


def test_lecture_examples_have_the_slides_distributions():
    x = make_example1(20000, rng=0)
    assert x.shape == (20000, 1)
    assert x.mean() == pytest.approx(5.0, abs=0.05) and x.std() == pytest.approx(2.0, abs=0.05)
    x = make_example2(20000, rng=0)
    z1, z2 = np.log(x[:, 0]), x[:, 1] - 2 * np.log(x[:, 0])
    for z in (z1, z2):
        assert abs(z.mean()) < 0.05 and z.std() == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("make, noise_name, default", [
    (make_moons, "noise", 0.1), (make_rings, "noise", 0.08), (make_eight_gaussians, "std", 0.2),
    (make_two_spirals, "noise", 0.1)])
def test_default_noise_levels(make, noise_name, default):
    # the noise is drawn last from the same stream, so the noiseless set differs only by it
    noisy, clean = make(N, rng=5), make(N, rng=5, **{noise_name: 0.0})
    assert np.std(noisy - clean) == pytest.approx(default, rel=0.05)


def test_pinwheel_arms_are_rotated_blobs_at_any_angle():
    """Each arm is the blob (2 (1 + radial), 2 tangential) turned by its arm's angle: a rotation,
    so the back-rotated arm is that blob again. Three arms, so the angles are not multiples of
    π/2 (where a sign error in the rotation matrix would not show)."""
    blobs = make_pinwheel(N, rng=1, n_arms=3, radial_std=0.3, tangential_std=0.1, rate=0.0)
    arm = np.round(_angle_of(blobs) / (2 * np.pi / 3)) % 3
    angle = arm * 2 * np.pi / 3
    back = np.column_stack([np.cos(angle) * blobs[:, 0] + np.sin(angle) * blobs[:, 1],
                            -np.sin(angle) * blobs[:, 0] + np.cos(angle) * blobs[:, 1]])
    for k in range(3):
        along, across = back[arm == k].T
        assert along.mean() == pytest.approx(2.0, abs=0.05) and abs(across.mean()) < 0.03
        assert along.std() == pytest.approx(0.6, rel=0.1) and across.std() == pytest.approx(0.2, rel=0.1)
        assert abs(np.corrcoef(along, across)[0, 1]) < 0.1                # independent directions


def test_pinwheel_defaults_five_swirled_arms_of_the_stated_spreads():
    """The public pinwheel (defaults): radius |x| / 2 = |(1 + 0.3 n1, 0.1 n2)| has mean ≈ 1 and std
    ≈ 0.3; the angle, less the swirl 0.25 e^r and its arm's 2πk/5, is ≈ atan(0.1 n2 / r): centred,
    with a spread of order the tangential std 0.1 (0.012 with the tangential noise off)."""
    points = make_pinwheel(20000, rng=0) / 2
    radius = np.hypot(points[:, 0], points[:, 1])
    assert radius.mean() == pytest.approx(1.0, abs=0.03) and radius.std() == pytest.approx(0.3, rel=0.05)
    angle = np.arctan2(points[:, 1], points[:, 0]) - 0.25 * np.exp(radius)
    residual = angle - np.round(angle / (2 * np.pi / 5)) * 2 * np.pi / 5
    assert abs(residual.mean()) < 0.02 and 0.09 < residual.std() < 0.15
