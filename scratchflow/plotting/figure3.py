"""Rezende & Mohamed's Figure 3 as a grid: rows U1–U4, columns exp(−U) then each fitted flow's q(x).

The fits are :func:`scratchflow.figure3.fit_figure3`'s; this file only draws them.
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from scratchflow.atomic import write_atomically
from scratchflow.targets import load_target


def plot_figure3(flows, results, columns, targets, out_dir="figures", resolution=120):
    """Rows = targets, columns = exp(−U) then each model's density q(x) on [−4, 4]², KL in titles.

    ``flows`` maps (target name, column label) to a fitted flow, ``results`` is
    :func:`~scratchflow.figure3.fit_figure3`'s dict, ``columns`` the (label, config) pairs of
    :func:`~scratchflow.figure3.model_configs`. The PNG is written under a temporary name and
    renamed, so an interrupted run leaves an older ``figure3.png`` as it was. Returns its path.
    Defaults: ``resolution=120`` grid points per axis.
    """
    kl = {(panel["target"], panel["model"]): panel["kl"] for panel in results["panels"]}
    grid_x1, grid_x2 = np.meshgrid(np.linspace(-4, 4, resolution),
                                   np.linspace(-4, 4, resolution))            # (R, R) each
    points = np.column_stack([grid_x1.ravel(), grid_x2.ravel()])              # (R², 2)
    fig, axes = plt.subplots(len(targets), len(columns) + 1, squeeze=False,
                             figsize=(2.3 * (len(columns) + 1), 2.4 * len(targets)))
    for row, name in enumerate(targets):
        log_target = load_target(name).log_prob(points)                       # (R²,)
        panels = [("exp(−U)", np.exp(log_target - log_target.max()))]
        for label, _ in columns:
            panels.append((f"{label}\nKL = {kl[name, label]:.3f}",
                           np.exp(flows[name, label].log_prob(points))))      # (R²,)
        for ax, (title, values) in zip(axes[row], panels):
            ax.pcolormesh(grid_x1, grid_x2, values.reshape(grid_x1.shape), shading="auto",
                          cmap="magma")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
            ax.set_title(title, fontsize=8)
        axes[row, 0].set_ylabel(name.upper())
    fig.suptitle("Rezende & Mohamed (2015), Figure 3: reverse KL fits of U1–U4", fontsize=10)
    os.makedirs(out_dir, exist_ok=True)
    try:                                                  # an interrupted run keeps the old one
        return write_atomically(os.path.join(out_dir, "figure3.png"),
                                lambda file: fig.savefig(file, format="png", dpi=100,
                                                         bbox_inches="tight"))
    finally:
        plt.close(fig)
