"""The lecture's "Эксперимент / Теория" (experiment / theory) figures of Examples 1 and 2.

Samples drawn as x = f^{-1}(z) against the analytic density of Example 1 or 2.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize

from scratchflow.bijectors.examples import Example2Map, example1_bijector, example1_density, example2_density
from scratchflow.plotting.figure import CURVE_POINTS, save_figure


def sample_example(number, n, rng=None):
    """Samples of Example ``number`` drawn as the slide does: z ~ N(0, I), x = f^{-1}(z)."""
    rng = np.random.default_rng(rng)
    if number == 1:
        layer = example1_bijector()
    elif number == 2:
        layer = Example2Map()
    else:
        raise ValueError(f"the lecture has Example 1 and Example 2, not {number!r}")
    x, _ = layer.inverse(rng.standard_normal((int(n), layer.dim)))
    return x


def plot_example(number, out_dir="figures", n=100_000, rng=0):
    """Draw Example ``number`` (1 or 2): histogram of x = f^{-1}(z) vs the analytic p_x(x).

    Returns the path of the PNG written (``example1.png`` or ``example2.png`` in ``out_dir``).
    Defaults: ``n=100_000`` samples, ``rng=0``.
    """
    x = sample_example(number, n, rng)
    if number == 1:
        fig, ax = plt.subplots(figsize=(6, 4))
        grid = np.linspace(-3, 13, CURVE_POINTS)
        ax.hist(x[:, 0], bins=80, range=(-3, 13), density=True, alpha=0.5,
                label="Эксперимент / experiment: x = f⁻¹(z) = 2z + 5")
        ax.plot(grid, example1_density(grid), "k", lw=2, label="Теория / theory: N(5, 2²)")
        ax.set_xlabel("x")
        ax.set_ylabel("p_x(x)")
        ax.set_title("Пример 1 / Example 1: z = 0.5x − 2.5")
        ax.set_ylim(0, 0.26)
        ax.legend(loc="upper left", fontsize=8)
        return save_figure(fig, out_dir, "example1.png")

    return _plot_example2(x, out_dir)


def _plot_example2(x, out_dir):
    """Example 2's two panels on ONE colour scale (one labelled colorbar), so equal colours mean
    equal density. The histogram is count / (n · bin area) with n ALL samples, including those
    outside the drawn square, so it estimates p_x(x) itself (``density=True`` would divide by the
    samples inside only and overstate it)."""
    x1_range, x2_range = (0.0, 4.0), (-4.0, 6.0)
    counts, x1_edges, x2_edges = np.histogram2d(x[:, 0], x[:, 1], bins=100,
                                                range=[x1_range, x2_range])  # (100, 100)
    bin_area = (x1_edges[1] - x1_edges[0]) * (x2_edges[1] - x2_edges[0])
    counts = counts / (len(x) * bin_area)                                    # (100, 100) density
    g1, g2 = np.meshgrid(np.linspace(*x1_range, 300)[1:], np.linspace(*x2_range, 300))  # (300, 299)
    theory = example2_density(g1, g2)                                        # (300, 299)
    scale = Normalize(vmin=0.0, vmax=max(counts.max(), theory.max()))
    fig, (ax_exp, ax_theory) = plt.subplots(1, 2, figsize=(10.5, 4.2), sharex=True, sharey=True,
                                            layout="constrained")
    ax_exp.pcolormesh(x1_edges, x2_edges, counts.T, norm=scale, cmap="viridis")
    ax_exp.set_title("Эксперимент / experiment: histogram of x = f⁻¹(z)")
    mesh = ax_theory.pcolormesh(g1, g2, theory, shading="auto", norm=scale, cmap="viridis")
    ax_theory.set_title("Теория / theory: p_x(x) from the slide")
    for ax in (ax_exp, ax_theory):
        ax.set_xlabel("x1")
    ax_exp.set_ylabel("x2")
    fig.colorbar(mesh, ax=[ax_exp, ax_theory], label="density p_x(x) (both panels)")
    fig.suptitle("Пример 2 / Example 2: z1 = ln x1, z2 = x2 − 2 ln x1")
    return save_figure(fig, out_dir, "example2.png")
