"""Benchmark: MAF on eight Gaussians, scratchflow (NumPy, hand-written gradients) vs PyTorch autograd.

Workload (issue 5a): 5 MAF layers, each a MADE with 2 hidden layers of 64 tanh units, orderings
reversed between layers; Adam lr 1e-3, batch 256, 3000 steps; 20k training and 10k test points of
``load_dataset("8gaussians")``, seeded. One thread (OMP/OPENBLAS/MKL_NUM_THREADS=1 set before NumPy
is imported; ``torch.set_num_threads(1)``).

The torch model (bench/torch_maf.py) is built from the scratchflow model: same masks, same initial
weights, same dtype, same minibatch sequence, so a gap in test NLL is arithmetic, not luck.
Each (backend, seed) runs in its own fresh process, numpy and torch interleaved seed by seed so both
see the same machine load. Sampling time (MAF: D = 2 sequential MADE passes per layer) is also
reported. Output: one JSON line per dtype (float64 then float32 by default) with per-seed figures
and their means: steps/s, test NLL, peak RSS (``ru_maxrss`` of each child process) of both sides,
the speed ratio, and the step's floor on this machine with the fraction of it the numpy step
reaches (``bench/step_floor.py``: GEMM FLOPs at the rate measured in the same process at the same
shapes, plus tanh and exp at the step's sizes). Without torch the line says
``"torch": "skipped: ..."`` and why.

Beside the floor, NumPy's own limit: ``straight_line_ms`` is the time per step of the same
training step written straight, with no classes, checks or per-step allocation
(``bench/straight_line_maf.py``), timed over 500 more steps after the figures above, and
``straight_line_speedup_vs_torch`` the ratio to torch that such a step gives.

Usage::

    python bench/bench_maf.py                              # seeds 0,1,2, 3000 steps, both dtypes
    python bench/bench_maf.py --dtype float32 --seeds 0
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse      # noqa: E402
import json          # noqa: E402
import resource      # noqa: E402
import subprocess    # noqa: E402
import sys           # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

from scratchflow.data import load_dataset                # noqa: E402
from scratchflow.models import build_autoregressive     # noqa: E402
from scratchflow.optim import Adam                      # noqa: E402
from step_floor import floor_fields, floor_summary, step_floor   # noqa: E402  (bench/step_floor.py)
from straight_line_maf import straight_step_ms          # noqa: E402
from torch_side import chosen_sides                     # noqa: E402

N_LAYERS, HIDDEN = 5, (64, 64)


def make_model(seed, dtype):
    return build_autoregressive("maf", 2, n_layers=N_LAYERS, hidden=HIDDEN, activation="tanh",
                                order="reversed-between-layers", seed=seed, dtype=dtype)


def make_data(seed, args):
    train = load_dataset("8gaussians", args.n_train, rng=seed)               # (n_train, 2)
    test = load_dataset("8gaussians", args.n_test, rng=10_000 + seed)        # (n_test, 2)
    batches = np.random.default_rng(20_000 + seed).integers(0, args.n_train, (args.steps, args.batch))
    return train.astype(args.dtype), test.astype(args.dtype), batches


def run_numpy(seed, args):
    train, test, batches = make_data(seed, args)
    flow = make_model(seed, args.dtype)
    optimizer = Adam(flow.params, flow.grads, lr=args.lr)
    start, start_cpu = time.perf_counter(), time.process_time()
    for step in range(args.steps):
        flow.loss_and_grad(train[batches[step]])
        optimizer.step()
    train_time, cpu_time = time.perf_counter() - start, time.process_time() - start_cpu
    floor = step_floor(flow, args.batch, args.dtype, maf_transcendentals(args.batch))
    test_nll = float(-np.mean(flow.log_prob(test)))
    z = np.random.default_rng(seed).standard_normal((args.n_samples, 2)).astype(args.dtype)
    start = time.perf_counter()
    flow.layers.inverse(z)
    sample_s = time.perf_counter() - start
    # peak RSS of the training and the figures, before the straight step adds its own buffers
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    straight = straight_step_ms(flow, optimizer, [train[rows] for rows in batches[:500]])
    return {"steps_per_s": args.steps / train_time, "test_nll": test_nll, "sample_s": sample_s,
            **straight, "peak_rss_mb": peak_rss_mb,
            **floor_fields(floor, train_time / args.steps, cpu_time / args.steps)}


def maf_transcendentals(batch):
    """Per step, for the floor: each MAF layer's MADE takes tanh of its two hidden layers (N, 64)
    and the layer exp(−s) (N, D = 2)."""
    return [("tanh", (batch, HIDDEN[0]), 2 * N_LAYERS), ("exp", (batch, 2), N_LAYERS)]


def run_torch(seed, args):
    import torch
    from torch_maf import TorchAutoregressive

    torch.set_num_threads(1)
    torch_dtype = getattr(torch, args.dtype)
    train, test, batches = make_data(seed, args)
    model = TorchAutoregressive(make_model(seed, args.dtype), dtype=torch_dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    train_t, test_t = torch.from_numpy(train), torch.from_numpy(test)
    batches_t = torch.from_numpy(batches)
    start = time.perf_counter()
    for step in range(args.steps):
        optimizer.zero_grad()
        loss = -model.log_prob(train_t[batches_t[step]]).mean()
        loss.backward()
        optimizer.step()
    train_time = time.perf_counter() - start
    with torch.no_grad():
        test_nll = float(-model.log_prob(test_t).mean())
        z = torch.from_numpy(np.random.default_rng(seed).standard_normal((args.n_samples, 2)).astype(args.dtype))
        start = time.perf_counter()
        model.inverse(z)
        sample_time = time.perf_counter() - start
    return {"steps_per_s": args.steps / train_time, "test_nll": test_nll, "sample_s": sample_time}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--dtype", default="float64,float32",
                        help="comma-separated: float64, float32 (default both, one after the other)")
    parser.add_argument("--backends", default="numpy,torch")
    parser.add_argument("--child", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.child:                                   # one run in this fresh process
        runner = run_numpy if args.child == "numpy" else run_torch
        result = runner(seeds[0], args)
        result.setdefault("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(result))
        return
    dtypes, backends, skipped = chosen_sides(parser, args)
    for dtype in dtypes:
        args.dtype = dtype
        print(json.dumps(compare(args, seeds, backends, skipped)))


def compare(args, seeds, backends, skipped):
    """Every (seed, backend) child in ``args.dtype``, interleaved; one summary dict."""
    per_seed = {b: [] for b in backends}
    with open("/proc/loadavg") as f:
        load_before = float(f.read().split()[0])
    for seed in seeds:
        for backend in backends:
            command = [sys.executable, __file__, "--child", backend, "--seeds", str(seed)]
            for name in ("steps", "batch", "lr", "n_train", "n_test", "n_samples", "dtype"):
                command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            per_seed[backend].append(json.loads(out.strip().splitlines()[-1]))
    with open("/proc/loadavg") as f:
        load_after = float(f.read().split()[0])
    result = {"bench": "maf_8gaussians", "dtype": args.dtype, "steps": args.steps, "batch": args.batch,
              "seeds": seeds, "load_avg_1min": [load_before, load_after], "cores": os.cpu_count()}
    for backend, runs in per_seed.items():
        result[backend] = {key: float(np.mean([r[key] for r in runs])) for key in
                           ("steps_per_s", "test_nll", "sample_s", "straight_line_ms",
                            "straight_line_cpu_ms") if key in runs[0]}
        result[backend]["peak_rss_mb"] = round(max(r["peak_rss_mb"] for r in runs), 1)
        if backend == "numpy":
            result[backend].update(floor_summary(runs))
        result[backend]["per_seed"] = runs
    if "torch" in result:
        result["speedup_vs_torch"] = result["numpy"]["steps_per_s"] / result["torch"]["steps_per_s"]
        result["straight_line_speedup_vs_torch"] = (1e3 / result["numpy"]["straight_line_ms"]
                                                    / result["torch"]["steps_per_s"])
        result["nll_gap_vs_torch"] = result["numpy"]["test_nll"] - result["torch"]["test_nll"]
    elif skipped:
        result["torch"] = skipped
    return result


if __name__ == "__main__":
    main()
