"""Benchmark: the image flows on the 8×8 digits, against the flat ones and against torch.

Two parts, float64, one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1 before NumPy is imported,
``torch.set_num_threads(1)``):

1. The torch mirror (``bench/torch_image.py``) of ``realnvp-multiscale`` and ``glow``, built from
   the scratchflow model with its weights copied (every coupling's last layer moved off zero, so no
   layer is the identity; Glow's ActNorm initialised on one batch first). Printed per model: the
   largest |NLL difference| per test image between the two at the same weights (target <= 1e-8),
   and the time of one training step (loss, gradient, Adam update) on the same batches, NumPy
   and torch, median over ``--time-steps`` steps. NumPy's straight-line form of these steps
   (``bench/straight_line_*.py`` for the flat models) is not written for the image models.
2. Test bits per dimension of ``realnvp-multiscale``, ``glow``, flat Real-NVP and MAF at about the
   same parameter count (~90k each; the count is printed), trained on the digits' train split
   (first 1200 rows; the last 300 validate: early stopping, the best kept), Adam lr 1e-3, batch
   128, at most ``--steps`` steps, seeds ``--seeds``; the test split's 297 images give the figure.

Usage::

    python bench/bench_image_digits.py                          # both parts, seeds 0 1 2
    python bench/bench_image_digits.py --part mirror --time-steps 20
    python bench/bench_image_digits.py --part train --steps 300 --seeds 0
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse      # noqa: E402
import time          # noqa: E402
import warnings      # noqa: E402

import numpy as np   # noqa: E402

from scratchflow.models import build_model          # noqa: E402
from scratchflow.realdata import bits_per_dim, load_sklearn   # noqa: E402
from scratchflow.train import fit, make_optimizer   # noqa: E402

MODELS = {                                          # ~90k parameters each
    "realnvp-multiscale": {"n_scales": 2, "n_layers": 3, "hidden": [64, 64]},
    "glow": {"n_levels": 2, "n_layers": 5, "hidden": [64, 64]},
    "realnvp": {"n_layers": 9, "hidden": [64, 64]},
    "maf": {"n_layers": 5, "hidden": [70, 70]},
}


def build(name, seed):
    return build_model({"model": name, "dim": 64, "seed": seed, "logit_alpha": 0.05, **MODELS[name]})


def mirror_part(args, train, test):
    import torch                              # local import: torch is optional (bench/ only)
    from torch_image import TorchImageFlow    # local import: it imports torch
    torch.set_num_threads(1)
    for name in ("realnvp-multiscale", "glow"):
        flow = build(name, seed=0)
        rng = np.random.default_rng(0)
        for key, value in flow.params.items():
            if "net" in key:                               # couplings: off the identity start
                value += 0.01 * rng.standard_normal(value.shape)
        flow.initialize(train[:128])                       # Glow's ActNorm: its data-dependent start
        mirror = TorchImageFlow(flow)
        test_t = torch.from_numpy(test)
        with torch.no_grad():
            gap = np.abs(flow.log_prob(test) - mirror.log_prob(test_t).numpy()).max()
        batches = np.random.default_rng(1).integers(0, len(train), (args.time_steps + 3, 128))
        optimizer = make_optimizer(flow, lr=1e-3)
        numpy_times = []
        for rows in batches:
            start = time.perf_counter()
            flow.loss_and_grad(train[rows])
            optimizer.step()
            numpy_times.append(time.perf_counter() - start)
        torch_optimizer = torch.optim.Adam(mirror.parameters(), lr=1e-3)
        train_t, torch_times = torch.from_numpy(train), []
        for rows in batches:
            start = time.perf_counter()
            torch_optimizer.zero_grad()
            loss = -mirror.log_prob(train_t[torch.from_numpy(rows)]).mean()
            loss.backward()
            torch_optimizer.step()
            torch_times.append(time.perf_counter() - start)
        numpy_ms, torch_ms = (1e3 * np.median(times[3:]) for times in (numpy_times, torch_times))
        print(f"{name}: {flow.num_params()} parameters; max |NLL numpy - NLL torch| per test image "
              f"at the same weights {gap:.2e}; step (batch 128, float64, 1 thread) numpy "
              f"{numpy_ms:.1f} ms, torch {torch_ms:.1f} ms, torch/numpy {torch_ms / numpy_ms:.2f}",
              flush=True)


def train_part(args, train, test):
    fit_rows, val_rows = train[:1200], train[1200:]
    results = {}
    for seed in args.seeds:
        for name in MODELS:
            flow = build(name, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                history = fit(flow, fit_rows, val_rows, steps=args.steps, batch_size=128, lr=1e-3,
                              seed=seed, eval_every=100, patience=5, progress=False)
            bits = bits_per_dim(-float(flow.log_prob(test).mean()), 64)
            results.setdefault(name, []).append(bits)
            print(f"seed {seed} {name} ({flow.num_params()} parameters): test {bits:.3f} bits/dim "
                  f"(best step {history.best_step}, {history.seconds:.0f} s)", flush=True)
    print("\n| model | parameters | test bits/dim, mean of seeds " + " ".join(map(str, args.seeds))
          + " | per seed |")
    print("|---|---|---|---|")
    for name, values in results.items():
        print(f"| {name} | {build(name, 0).num_params()} | {np.mean(values):.3f} | "
              + ", ".join(f"{value:.3f}" for value in values) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["mirror", "train", "both"], default="both")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--time-steps", type=int, default=20)
    args = parser.parse_args()
    train, test = load_sklearn("digits", "train"), load_sklearn("digits", "test")   # (1500, 64), (297, 64)
    if args.part in ("mirror", "both"):
        try:
            mirror_part(args, train, test)
        except ImportError as error:
            print(f"torch side skipped: {error}")
    if args.part in ("train", "both"):
        train_part(args, train, test)


if __name__ == "__main__":
    main()
