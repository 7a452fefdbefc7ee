"""Figure 3 of Rezende & Mohamed (2015): U1–U4 fitted by reverse KL with planar flows of K = 2,
8, 32 layers, and beside them the package's IAF and Real-NVP of the size of the K = 32 planar flow.

Each panel is one flow q fitted to one target p* ∝ exp(−U) (:mod:`scratchflow.targets`) by
minimising the reverse KL (:meth:`Flow.reverse_kl_loss_and_grad`) with one Adam optimizer. Its
title gives the final estimate ``KL(q‖p) = E_q[log q − log p*] + log Z`` (``log Z`` from
:func:`~scratchflow.targets.log_normalizer`, so 0 is a perfect fit) on 65536 base draws that are
the same for every panel and every seed (the estimate's standard error, 2e-4 to 1.2e-2 in the
runs of ``docs/flow_family.md``, is in the JSON).

Schedule (:func:`schedule`), in chunks of 100 steps with one β and one learning rate each:

* annealing, as the paper's §6.1 (β_t = min(1, 0.01 + t/10000) over 500000 steps): the target is
  tempered, p*^β, with β rising linearly from 0.01 to 1 over the first half of training, then
  fitted at β = 1. Reverse KL is mode-seeking: without annealing a flow that starts narrow settles
  on one of U1's two lobes (KL ≈ log 2) and stays there;
* the starting rate is per family (:data:`LEARNING_RATES`): planar 2e-2, IAF and Real-NVP 1e-2.
  A stack of K near-identity planar layers (u, w ~ N(0, 0.1²)) moves slowly: at lr 5e-3 (or
  2e-3) K = 32 was still far from its optimum after 8000 steps, and ended worse than K = 8 on U3
  (0.255 vs 0.209 at seed 0 before this schedule);
* the rate decays from its start to 0 on a half cosine, so the last iterates do not rattle around
  the optimum at the full rate (at a constant 2e-2, U3 seed 0 ended at K = 8 0.58, K = 32 0.07;
  with the decay 0.37 and 0.02).

Run ``scratchflow figure3 --out figures`` (the command is ``scratchflow/cli/figure3.py``; the
panels run in ``--jobs`` processes, default 2); it writes
``figure3.json`` (every KL and every model's parameter count, :func:`save_results`) and
``figure3.png`` (the grid, :func:`scratchflow.plotting.figure3.plot_figure3`). Both are written
under a temporary name and renamed, so an interrupted run leaves an older figure as it was.

References
----------
D. J. Rezende, S. Mohamed. Variational Inference with Normalizing Flows. arXiv:1505.05770.
"""
import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import time

import numpy as np

from scratchflow.atomic import write_atomically
from scratchflow.models import build_model
from scratchflow.targets import load_target, log_normalizer
from scratchflow.train import fit, limit_blas_threads, make_optimizer
from scratchflow.input_checks import check_int

TARGET_NAMES = ("u1", "u2", "u3", "u4")
PLANAR_SIZES = (2, 8, 32)
LEARNING_RATES = {"planar": 2e-2, "iaf": 1e-2, "realnvp": 1e-2}   # Adam's starting rate, per family
BETA_START = 0.01           # β at step 0, as the paper
ANNEALED_FRACTION = 0.5     # β reaches 1 after this fraction of the steps
CHUNK_STEPS = 100           # steps with one β and one learning rate
EVAL_DRAWS = 65536          # base draws of the final KL estimate
EVAL_SEED = 2015            # the same draws for every panel and every seed


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


def schedule(step, steps):
    """(β, learning-rate factor) at ``step`` of ``steps``.

    β = min(1, 0.01 + 0.99 t / T) with T = ``ANNEALED_FRACTION`` · steps (tempering p*^β);
    factor = ½ (1 + cos(π t / steps)), from 1 at the start to 0 at the end.
    """
    annealed = max(1.0, ANNEALED_FRACTION * steps)
    beta = min(1.0, BETA_START + (1.0 - BETA_START) * step / annealed)
    return beta, 0.5 * (1.0 + np.cos(np.pi * step / steps))


def fit_panel(config, target, steps, lr=None, batch_size=256, seed=0, log_z=None):
    """Build ``config`` (seeded), fit it to ``target`` by annealed reverse KL; return (flow, KL, SE).

    ``steps`` Adam steps (``lr`` default :data:`LEARNING_RATES` of the family) in chunks of
    :data:`CHUNK_STEPS`, each a :func:`~scratchflow.train.fit` on p*^β with the β and learning
    rate of :func:`schedule` at the chunk's middle; the optimizer (its moments) runs through all
    chunks. The flow keeps its last parameters (the rate has decayed to ~0). A chunk that diverges
    ends the fit with the last finite parameters (``fit`` warns); Ctrl-C, which ``fit`` turns into
    a normal return, is raised again as ``KeyboardInterrupt``, so the figure stops. KL and its standard error are
    :func:`final_kl`'s (``log_z``: the target's, if known).

    Defaults: ``batch_size=256`` base draws a step, ``seed=0``.
    """
    flow = build_model({**config, "seed": seed})
    base_lr = LEARNING_RATES[config["model"]] if lr is None else lr
    optimizer = make_optimizer(flow, "adam", lr=base_lr)
    for chunk, start in enumerate(range(0, steps, CHUNK_STEPS)):
        length = min(CHUNK_STEPS, steps - start)
        beta, factor = schedule(start + 0.5 * length, steps)
        optimizer.lr = base_lr * factor
        history = fit(flow, target=TemperedTarget(target, beta), steps=length, optimizer=optimizer,
                      batch_size=batch_size, seed=seed * 100003 + chunk, restore_best=False,
                      val_size=batch_size, progress=False)
        if history.stopped.startswith("interrupted"):     # fit kept Ctrl-C; the figure stops
            raise KeyboardInterrupt(history.stopped)
        if history.diverged:
            break
    return (flow, *final_kl(flow, target, log_z))


def final_kl(flow, target, log_z=None):
    """KL(q‖p) = mean_i [log q(x_i) − log p*(x_i)] + log Z on :data:`EVAL_DRAWS` fixed base draws
    (seed :data:`EVAL_SEED`), and its standard error std_i[·] / √n; returns (KL, SE).

    ``log_z`` defaults to :func:`~scratchflow.targets.log_normalizer` of ``target``.
    """
    log_z = log_normalizer(target) if log_z is None else log_z
    draws = flow.base.sample(EVAL_DRAWS, np.random.default_rng(EVAL_SEED), dtype=flow.dtype)
    with limit_blas_threads(1):                     # threads only slow (65536, 2) arrays down
        x, log_det = flow.layers.inverse(draws)                             # (n, 2), (n,)
        log_ratio = flow.base.log_prob(draws) - log_det - target.log_prob(x)   # (n,)
    return (float(np.mean(log_ratio)) + log_z, float(np.std(log_ratio) / np.sqrt(EVAL_DRAWS)))


def fit_figure3(steps=8000, seed=0, targets=TARGET_NAMES, log=print, jobs=1):
    """Fit every (target, model) panel, ``jobs`` panels at a time; return (results, flows).

    ``results`` (JSON-able): steps, seed, the schedule, the evaluation draws, one entry per panel
    (target, model, config, num_params, kl, kl_standard_error), the wall time, and per target
    whether the planar KL decreases with K.
    ``flows`` maps (target name, column label) to the fitted flow. Every panel is seeded on its
    own, so the results do not depend on ``jobs`` (:func:`_fit_in_worker`).

    Defaults: ``steps=8000`` (as ``scratchflow figure3``), ``seed=0``, ``jobs=1``.
    """
    steps, jobs = check_int(steps, "steps", 1), check_int(jobs, "jobs", 1)
    log_z = {name: log_normalizer(load_target(name)) for name in targets}   # once per target
    panels = [(name, label, config) for name in targets for label, config in model_configs()]
    results = {"steps": steps, "seed": seed,
               "schedule": {"learning_rates": LEARNING_RATES, "beta_start": BETA_START,
                            "annealed_fraction": ANNEALED_FRACTION, "chunk_steps": CHUNK_STEPS,
                            "learning_rate_decay": "half cosine to 0"},
               "eval_draws": EVAL_DRAWS, "eval_seed": EVAL_SEED, "jobs": jobs, "panels": []}
    flows = {}
    start = time.perf_counter()
    tasks = [(name, config, steps, seed, log_z[name]) for name, _, config in panels]
    with _task_runner(jobs) as run:
        for (name, label, config), (parameters, kl, standard_error) in zip(
                panels, run(_fit_in_worker, tasks)):
            flow = flows[name, label] = _rebuild(config, seed, parameters)
            results["panels"].append({"target": name, "model": label, "config": config,
                                      "num_params": flow.num_params(), "kl": kl,
                                      "kl_standard_error": standard_error})
            log(f"{name}  {label:<20} {flow.num_params():4d} parameters  KL = {kl:.4f} "
                f"± {standard_error:.4f}  ({time.perf_counter() - start:.0f} s)")
    results["seconds"] = time.perf_counter() - start
    results["planar_kl_decreases_with_k"] = {name: _decreases(results, name) for name in targets}
    return results, flows


@contextlib.contextmanager
def _task_runner(jobs):
    """``map`` in this process (jobs = 1), else a pool of ``jobs`` fresh ("spawn") processes whose
    ``map`` yields the results in order as they come; an exception cancels the panels not begun."""
    if jobs == 1:
        yield map
        return
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    try:
        yield pool.map
    except BaseException:                 # Ctrl-C or a failed panel: start no panel after it
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _fit_in_worker(task):
    """One panel: :func:`fit_panel`; returns (copies of the parameters, KL, SE), not the flow
    (whose caches hold the 65536 evaluation draws)."""
    name, config, steps, seed, log_z = task
    flow, kl, standard_error = fit_panel(config, load_target(name), steps, seed=seed, log_z=log_z)
    return {key: value.copy() for key, value in flow.params.items()}, kl, standard_error


def _rebuild(config, seed, parameters):
    """The flow of ``config`` (seeded as :func:`fit_panel` builds it) with ``parameters``."""
    flow = build_model({**config, "seed": seed})
    for key, value in parameters.items():
        flow.params[key][...] = value
    return flow


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
