"""The lecture's "Эксперимент / Теория" (experiment / theory) figures of Examples 1 and 2.

Samples drawn as x = f^{-1}(z) against the analytic density of Example 1 or 2.
"""
import matplotlib.pyplot as plt
import numpy as np

from scratchflow.bijectors.examples import Example2Map, example1_bijector, example1_density, example2_density
from scratchflow.plotting.figure import save_figure


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
    """
    x = sample_example(number, n, rng)
    if number == 1:
        fig, ax = plt.subplots(figsize=(6, 4))
        grid = np.linspace(-3, 13, 400)
        ax.hist(x[:, 0], bins=80, range=(-3, 13), density=True, alpha=0.5,
                label="Эксперимент / experiment: x = f⁻¹(z) = 2z + 5")
        ax.plot(grid, example1_density(grid), "k", lw=2, label="Теория / theory: N(5, 2²)")
        ax.set_xlabel("x")
        ax.set_ylabel("p_x(x)")
        ax.set_title("Пример 1 / Example 1: z = 0.5x − 2.5")
        ax.set_ylim(0, 0.26)
        ax.legend(loc="upper left", fontsize=8)
        return save_figure(fig, out_dir, "example1.png")

    x1_range, x2_range = (0.0, 4.0), (-4.0, 6.0)
    fig, (ax_exp, ax_theory) = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True)
    ax_exp.hist2d(x[:, 0], x[:, 1], bins=120, range=[x1_range, x2_range], density=True, cmap="viridis")
    ax_exp.set_title("Эксперимент / experiment: x = f⁻¹(z)")
    g1, g2 = np.meshgrid(np.linspace(*x1_range, 300)[1:], np.linspace(*x2_range, 300))
    ax_theory.pcolormesh(g1, g2, example2_density(g1, g2), shading="auto", cmap="viridis")
    ax_theory.set_title("Теория / theory: p_x(x) from the slide")
    for ax in (ax_exp, ax_theory):
        ax.set_xlabel("x1")
    ax_exp.set_ylabel("x2")
    fig.suptitle("Пример 2 / Example 2: z1 = ln x1, z2 = x2 − 2 ln x1")
    return save_figure(fig, out_dir, "example2.png")
