"""Figure 3 of Rezende & Mohamed (2015): U1–U4 fitted by reverse KL with planar flows of K = 2,
8, 32 layers, and beside them the package's IAF and Real-NVP of the size of the K = 32 planar flow.

Each panel is one flow q fitted to one target p* ∝ exp(−U) (:mod:`scratchflow.targets`) by
minimising the reverse KL (:meth:`Flow.reverse_kl_loss_and_grad`); its title gives the final
estimate ``KL(q‖p) = E_q[log q − log p*] + log Z`` on 4096 fixed base draws (``log Z`` from
:func:`~scratchflow.targets.log_normalizer`, so 0 is a perfect fit).

Annealing (the paper's §6.1 uses β_t = min(1, 0.01 + t/10000)). Reverse KL is mode-seeking: a
flow that starts narrow settles on one of U1's two lobes (KL ≈ log 2) and stays there. As in the
paper the target is tempered, p*^β, in the first half of training (β = 0.05, 0.2, 0.5 in three
equal stages, each a :class:`TemperedTarget`), then fitted at β = 1 in the second half; the best
parameters of that half (validated on fixed draws) are kept.

Run ``scratchflow figure3 --out figures`` (a few minutes on one core; the command is
``scratchflow/cli/figure3.py``); it writes ``figure3.json`` (every KL and every model's parameter
count, :func:`save_results`) and ``figure3.png`` (the grid,
:func:`scratchflow.plotting.figure3.plot_figure3`). Both are written under a temporary name and
renamed, so an interrupted run leaves an older figure as it was.

References
----------
D. J. Rezende, S. Mohamed. Variational Inference with Normalizing Flows. arXiv:1505.05770.
"""
import json
import os
import time

import numpy as np

from scratchflow.atomic import write_atomically
from scratchflow.models import build_model
from scratchflow.targets import load_target, log_normalizer
from scratchflow.train import fit
from scratchflow.validation import check_int

TARGET_NAMES = ("u1", "u2", "u3", "u4")
PLANAR_SIZES = (2, 8, 32)
ANNEALING = (0.05, 0.2, 0.5)
EVAL_DRAWS = 4096


class TemperedTarget:
    """p*^β: ``log_prob = β log p*``, ``grad_log_prob = β ∇ log p*`` (β = 1 is the target itself)."""

    def __init__(self, target, beta):
        self.target, self.beta, self.dim = target, float(beta), target.dim

    def log_prob(self, x):
        return self.beta * self.target.log_prob(x)                     # (N,)

    def grad_log_prob(self, x):
        return self.beta * self.target.grad_log_prob(x)                # (N, 2)


def _matched(family, budget):
    """A 4-layer Real-NVP or IAF with one hidden layer whose width gives the parameter count
    closest to ``budget``; returns (config dict, number of parameters)."""
    best = None
    for width in range(2, 65):
        config = {"model": family, "dim": 2, "n_layers": 4, "hidden": [width]}
        size = build_model(config).num_params()
        if best is None or abs(size - budget) < abs(best[1] - budget):
            best = (config, size)
    return best


def model_configs():
    """The columns of the figure: (label, build_model config) in drawing order."""
    columns = [(f"planar K={k}", {"model": "planar", "dim": 2, "n_layers": k})
               for k in PLANAR_SIZES]
    budget = build_model(columns[-1][1]).num_params()
    for family, label in (("iaf", "IAF"), ("realnvp", "Real-NVP")):
        config, _ = _matched(family, budget)
        columns.append((f"{label} (matched)", config))
    return columns


def fit_panel(config, target, steps, lr=5e-3, batch_size=256, seed=0):
    """Build ``config`` (seeded), fit it to ``target`` by annealed reverse KL; return (flow, KL)."""
    flow = build_model({**config, "seed": seed})
    stage_steps = max(1, steps // (2 * len(ANNEALING)))
    for stage, beta in enumerate(ANNEALING):
        fit(flow, target=TemperedTarget(target, beta), steps=stage_steps, batch_size=batch_size,
            lr=lr, seed=seed + stage + 1, progress=False)
    fit(flow, target=target, steps=max(1, steps // 2), batch_size=batch_size, lr=lr, seed=seed,
        progress=False)
    draws = flow.base.sample(EVAL_DRAWS, np.random.default_rng(seed + 1000))   # (4096, 2)
    loss, _ = flow.reverse_kl(target, draws)
    return flow, loss + log_normalizer(target)


def fit_figure3(steps=8000, seed=0, targets=TARGET_NAMES, log=print):
    """Fit every (target, model) panel; return the results dict and the fitted flows.

    ``results`` (JSON-able): steps, seed, annealing, one entry per panel (target, model, config,
    num_params, kl), the wall time, and per target whether the planar KL decreases with K.
    ``flows`` maps (target name, column label) to the fitted flow.
    """
    steps = check_int(steps, "steps", 1)
    columns = model_configs()
    results = {"steps": steps, "seed": seed, "annealing": list(ANNEALING), "panels": []}
    flows = {}
    start = time.perf_counter()
    for name in targets:
        target = load_target(name)
        for label, config in columns:
            flow, kl = fit_panel(config, target, steps, seed=seed)
            flows[name, label] = flow
            results["panels"].append({"target": name, "model": label, "config": config,
                                      "num_params": flow.num_params(), "kl": float(kl)})
            log(f"{name}  {label:<20} {flow.num_params():4d} parameters  KL = {kl:.4f}  "
                f"({time.perf_counter() - start:.0f} s)")
    results["seconds"] = time.perf_counter() - start
    results["planar_kl_decreases_with_k"] = {name: _decreases(results, name) for name in targets}
    return results, flows


def _decreases(results, name):
    kls = [panel["kl"] for panel in results["panels"]
           if panel["target"] == name and panel["model"].startswith("planar")]
    return bool(all(later < earlier for earlier, later in zip(kls, kls[1:])))


def save_results(results, out_dir):
    """Write ``figure3.json`` into ``out_dir`` (:func:`~scratchflow.atomic.write_atomically`: an
    interrupted run keeps the old one); return its path."""
    os.makedirs(out_dir, exist_ok=True)
    return write_atomically(os.path.join(out_dir, "figure3.json"),
                            lambda handle: json.dump(results, handle, indent=2), mode="w")
