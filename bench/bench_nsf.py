"""Benchmark: neural spline flows, scratchflow (NumPy, hand-derived gradients) vs zuko's NSF (torch).

Workload (issue 14): checkerboard and 8 Gaussians; for each, 3 seeds, both libraries, one thread,
float64. Same architecture on both sides: ``--layers`` spline layers with ``--bins`` bins on
[−B, B] (B = ``--bound``, zuko's default 5), conditioners with hidden layers ``--hidden`` and the
same activation (``--activation``, zuko's default ReLU); Adam lr 1e-3, batch 256, ``--steps``
steps over the same minibatch sequence (indices drawn from the seed); 20k train / 10k test points.

Variants (``--variants``):

* ``coupling``: scratchflow ``build_nsf("nsf")`` (SplineCoupling, alternating masks);
* ``autoregressive``: ``build_nsf("nsf-ar")`` (SplineAutoregressive, orderings reversed between
  layers);

each beside ``zuko.flows.NSF`` (its masked network, orderings reversed between layers). For D = 2
zuko's autoregressive and coupling (``passes=2``) forms are the same network, so zuko runs once
per data set and seed. It is closest to ``nsf-ar``: in both, the first dimension of each layer
gets its own unconditioned spline, where a coupling layer leaves it unchanged.

Initial weights differ (each library's own initialisation; scratchflow starts every layer as
the identity). Each (variant, data set, backend, seed) runs in its own fresh process, the two
libraries interleaved seed by seed so both see the same machine load; the 1-minute load average
before and after is printed. zuko and torch are needed only here (``pip install torch==2.13.0
zuko`` into a virtualenv); without them only the scratchflow side runs.

Output: one JSON line: per variant and data set, each backend's mean test NLL and steps/s over the
seeds and the per-seed figures, and the speed ratio scratchflow / zuko.

Usage::

    python bench/bench_nsf.py                                  # 3 seeds, 2000 steps, both variants
    python bench/bench_nsf.py --variants coupling --steps 500 --seeds 0
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse        # noqa: E402
import importlib.util  # noqa: E402
import json            # noqa: E402
import subprocess      # noqa: E402
import sys             # noqa: E402
import time            # noqa: E402

import numpy as np     # noqa: E402

from scratchflow.data import load_dataset     # noqa: E402
from scratchflow.models import build_nsf      # noqa: E402
from scratchflow.optim import Adam            # noqa: E402

DATA_SETS = ("checkerboard", "8gaussians")


def make_data(data, seed, args):
    train = load_dataset(data, args.n_train, rng=seed)                       # (n_train, 2)
    test = load_dataset(data, args.n_test, rng=10_000 + seed)                # (n_test, 2)
    batches = np.random.default_rng(20_000 + seed).integers(0, args.n_train, (args.steps, args.batch))
    return train, test, batches


def run_numpy(variant, data, seed, args):
    train, test, batches = make_data(data, seed, args)
    flow = build_nsf("nsf" if variant == "coupling" else "nsf-ar", 2, n_layers=args.layers,
                     hidden=args.hidden, bins=args.bins, bound=args.bound,
                     activation=args.activation, seed=seed)
    optimizer = Adam(flow.params, flow.grads, lr=args.lr)
    start = time.perf_counter()
    for step in range(args.steps):
        flow.loss_and_grad(train[batches[step]])
        optimizer.step()
    train_time = time.perf_counter() - start
    return {"steps_per_s": args.steps / train_time, "test_nll": float(-np.mean(flow.log_prob(test)))}


def run_zuko(data, seed, args):
    import torch
    import zuko

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    train, test, batches = make_data(data, seed, args)
    activation = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[args.activation]
    flow = zuko.flows.NSF(2, bins=args.bins, transforms=args.layers,
                          hidden_features=args.hidden, activation=activation).double()
    optimizer = torch.optim.Adam(flow.parameters(), lr=args.lr)
    train_t, test_t, batches_t = torch.from_numpy(train), torch.from_numpy(test), torch.from_numpy(batches)
    start = time.perf_counter()
    for step in range(args.steps):
        optimizer.zero_grad()
        loss = -flow().log_prob(train_t[batches_t[step]]).mean()
        loss.backward()
        optimizer.step()
    train_time = time.perf_counter() - start
    with torch.no_grad():
        test_nll = float(-flow().log_prob(test_t).mean())
    return {"steps_per_s": args.steps / train_time, "test_nll": test_nll}


def _child(args, backend, variant, data, seed):
    command = [sys.executable, __file__, "--child", backend, "--variants", variant, "--data", data,
               "--seeds", str(seed)]
    for name in ("steps", "batch", "lr", "n_train", "n_test", "layers", "bins", "bound",
                 "activation"):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    command += ["--hidden", ",".join(str(h) for h in args.hidden)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--variants", default="coupling,autoregressive")
    parser.add_argument("--data", default=",".join(DATA_SETS))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--bins", type=int, default=8)
    parser.add_argument("--bound", type=float, default=5.0)
    parser.add_argument("--hidden", type=lambda s: [int(h) for h in s.split(",")], default=[64, 64])
    parser.add_argument("--activation", default="relu", choices=["relu", "tanh"])
    parser.add_argument("--no-zuko", action="store_true", help="run the scratchflow side only")
    parser.add_argument("--child", choices=["numpy", "zuko"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.child == "numpy":                          # one run in this fresh process
        print(json.dumps(run_numpy(args.variants, args.data, seeds[0], args)))
        return
    if args.child == "zuko":
        print(json.dumps(run_zuko(args.data, seeds[0], args)))
        return
    have_zuko = all(importlib.util.find_spec(m) is not None for m in ("torch", "zuko"))
    have_zuko = have_zuko and not args.no_zuko
    variants = args.variants.split(",")
    backends = [f"numpy-{v}" for v in variants] + (["zuko"] if have_zuko else [])
    result = {"bench": "nsf", "dtype": "float64", "steps": args.steps, "batch": args.batch,
              "layers": args.layers, "bins": args.bins, "bound": args.bound, "hidden": args.hidden,
              "activation": args.activation, "seeds": seeds, "cores": os.cpu_count(),
              "load_avg_1min_before": _load()}
    if not have_zuko:
        result["zuko"] = "skipped: --no-zuko, or torch and zuko are not installed"
    for data in args.data.split(","):
        runs = {b: [] for b in backends}
        for seed in seeds:                           # interleaved: all see the same machine load
            for backend in backends:
                kind, _, variant = backend.partition("-")
                runs[backend].append(_child(args, kind, variant or "coupling", data, seed))
        entry = {}
        for backend, per_seed in runs.items():
            entry[backend] = {key: float(np.mean([r[key] for r in per_seed])) for key in per_seed[0]}
            entry[backend]["per_seed"] = per_seed
        for backend in entry:
            if backend != "zuko" and "zuko" in entry:
                entry[backend]["speedup_vs_zuko"] = (entry[backend]["steps_per_s"]
                                                     / entry["zuko"]["steps_per_s"])
                entry[backend]["nll_gap_vs_zuko"] = (entry[backend]["test_nll"]
                                                     - entry["zuko"]["test_nll"])
        result[data] = entry
    result["load_avg_1min_after"] = _load()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
