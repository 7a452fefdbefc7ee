"""The lecture's Example 1 and 2: maps, analytic densities, and the "experiment vs theory" figures.

The histogram tests compare samples drawn as x = f^{-1}(z) with the density the model assigns,
p_x(x) = p_z(f(x)) |det ∂f/∂x|: the samples do not use the log-det, the density does, so a wrong
log-det makes the histogram and the density disagree (planted below).
"""
import numpy as np
import pytest
from scipy import stats

from scratchflow import Example2Map, Flow, example1_bijector
from scratchflow.bijectors.examples import example1_density, example2_density
from scratchflow.cli import main
from scratchflow.plotting import sample_example


def test_example1_map_and_density():
    z, log_det = example1_bijector().forward(np.array([[5.0], [7.0]]))
    assert np.allclose(z[:, 0], [0.0, 1.0]) and np.allclose(log_det, np.log(0.5))
    grid = np.linspace(-5, 15, 41)
    assert np.allclose(example1_density(grid), stats.norm(5, 2).pdf(grid))
    model = np.exp(Flow(example1_bijector()).log_prob(grid[:, None]))
    assert np.allclose(model, example1_density(grid))


def test_example2_density_is_the_slide_formula_and_the_models():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(0.1, 4, 50), rng.normal(size=50) * 3])
    log_x1 = np.log(x[:, 0])
    slide = np.exp(-(log_x1 ** 2 + (x[:, 1] - 2 * log_x1) ** 2) / 2) / (2 * np.pi) / x[:, 0]
    assert np.allclose(example2_density(x[:, 0], x[:, 1]), slide)
    assert np.allclose(np.exp(Flow(Example2Map()).log_prob(x)), slide)
    assert example2_density(-1.0, 0.0) == 0.0
    assert example2_density(0.0, 1.0) == 0.0                # the edge x1 = 0 is outside, no 0/0
    # it integrates to 1 (numerically, over a box holding nearly all the mass)
    g1, g2 = np.meshgrid(np.linspace(1e-4, 40, 4000), np.linspace(-25, 30, 1500), indexing="ij")
    mass = example2_density(g1, g2).sum() * (40 / 3999) * (55 / 1499)
    assert abs(mass - 1.0) < 5e-3


def example1_histogram_error(log_prob, n=200_000):
    """max over bins of |observed − expected| / standard error, expected from ``log_prob``."""
    x = sample_example(1, n, rng=0)[:, 0]
    edges = np.linspace(-1, 11, 25)
    counts, _ = np.histogram(x, edges)
    fine = np.linspace(edges[0], edges[-1], 24 * 200 + 1)
    density = np.exp(log_prob(fine[:, None]))
    cell = (density[:-1] + density[1:]) / 2 * np.diff(fine)
    expected = n * cell.reshape(24, 200).sum(axis=1)
    return np.max(np.abs(counts - expected) / np.sqrt(expected))


def test_example1_samples_match_the_model_density():
    assert example1_histogram_error(Flow(example1_bijector()).log_prob) < 5.0
    assert stats.kstest(sample_example(1, 20_000, rng=1)[:, 0], stats.norm(5, 2).cdf).pvalue > 1e-3


def test_example1_wrong_log_det_is_caught():
    flow = Flow(example1_bijector())

    def wrong_log_prob(x):                       # log|det| = +ln 0.5 replaced by -ln 0.5
        z, log_det = flow.layers.forward(x)
        return flow.base.log_prob(z) - log_det
    assert example1_histogram_error(wrong_log_prob) > 50.0


class Example2WrongLogDet(Example2Map):
    def _forward(self, x, context=None):
        z, log_det = super()._forward(x)
        return z, -log_det                       # +ln x1 instead of -ln x1


def example2_histogram_error(layer, n=200_000):
    x = sample_example(2, n, rng=2)
    edges1, edges2 = np.linspace(0.25, 3.25, 7), np.linspace(-2.0, 4.0, 7)
    counts, _, _ = np.histogram2d(x[:, 0], x[:, 1], [edges1, edges2])
    flow = Flow(layer)
    expected = np.zeros_like(counts)
    sub = (np.arange(20) + 0.5) / 20                             # midpoints of a 20 x 20 sub-grid
    for i in range(6):
        for j in range(6):
            a = edges1[i] + sub * (edges1[i + 1] - edges1[i])
            b = edges2[j] + sub * (edges2[j + 1] - edges2[j])
            points = np.column_stack([np.repeat(a, 20), np.tile(b, 20)])
            area = (edges1[1] - edges1[0]) * (edges2[1] - edges2[0])
            expected[i, j] = n * np.exp(flow.log_prob(points)).mean() * area
    keep = expected > 50
    return np.max(np.abs(counts - expected)[keep] / np.sqrt(expected[keep]))


def test_example2_samples_match_the_model_density():
    assert example2_histogram_error(Example2Map()) < 6.0


def test_example2_wrong_log_det_is_caught():
    assert example2_histogram_error(Example2WrongLogDet()) > 50.0


def test_examples_command_writes_both_figures(tmp_path, capsys):
    assert main(["examples", "--out", str(tmp_path), "--n", "2000"]) == 0
    for name in ("example1.png", "example2.png"):
        path = tmp_path / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert "example2.png" in capsys.readouterr().out


def test_unknown_example_number():
    with pytest.raises(ValueError, match="Example 1 and Example 2"):
        sample_example(3, 10)


def test_example2_domain_is_x1_positive_whatever_x2():
    layer = Example2Map()
    inside = np.array([[0.5, -3.0], [1e-3, 0.0], [1.0, -1.0], [7.0, 2.0]])   # x1 in (0, 1] too
    z, _ = layer.forward(inside)
    np.testing.assert_allclose(z[:, 0], np.log(inside[:, 0]))
    for x1 in (0.0, -0.5):
        outside = np.array([[1.0, 1.0], [2.0, 3.0], [x1, 4.0]])
        with pytest.raises(ValueError, match="row 2"):
            layer.forward(outside)
