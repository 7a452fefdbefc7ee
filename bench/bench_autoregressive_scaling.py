"""Benchmark: one MADE pass against D passes. Density and sampling time of MAF and IAF versus D.

Workload (issue 5c): one MAF layer and one IAF layer (a MADE with one hidden layer of 256 tanh
units, natural order, random non-zero output layer), batch 1024, float64, D in {2, 8, 32, 128}.
For each layer and D the best of ``--repeats`` runs of

* density   x -> z  (``forward``)      MAF: 1 MADE pass,  IAF: D passes
* sampling  z -> x  (``inverse``)      MAF: D passes,     IAF: 1 pass
* and the gradient pass of each (``backward`` / ``inverse_backward``): 1 MADE backward for the fast
  direction, D − 1 input-gradient passes + 1 backward for the sequential one (the triangular solve).

The sequential direction's D passes run through ``scratchflow.nn.made_sweep.MADESweep``: the first
D − 1 compute only the hidden units their column needs (each unit once, together less than one
whole pass), the last one is a whole pass; its gradient from D = 6 on through ``MADEAdjointSweep``
(one forward and one input-gradient pass). ``made_passes_*`` counts the passes, not their size:
with whole passes (main before issue 16) the slow/fast ratio grew like D, now it stays a few
times. To compare, run the script with ``PYTHONPATH`` at each tree in turn. One thread. Output:
one JSON line.

Usage::

    python bench/bench_autoregressive_scaling.py
    python bench/bench_autoregressive_scaling.py --dims 2,8 --repeats 5
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse      # noqa: E402
import json          # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

from scratchflow.bijectors import IAF, MAF   # noqa: E402


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(cls, dim, args):
    rng = np.random.default_rng(dim)
    layer = cls(dim, hidden=(args.hidden,), order="natural", rng=rng, zero_last=False)
    weight = layer.made.params["2.weight"]
    weight[...] = rng.uniform(-0.1, 0.1, weight.shape)                     # moderate, non-zero s
    point = rng.standard_normal((args.batch, dim))
    upstream, upstream_log_det = rng.standard_normal((args.batch, dim)), rng.standard_normal(args.batch)
    repeats = args.repeats if dim <= 32 else max(1, args.repeats // 2)
    row = {}
    for direction, gradient in (("forward", "backward"), ("inverse", "inverse_backward")):
        run = getattr(layer, direction)
        row[direction] = best_time(lambda: run(point), repeats)

        def run_and_backprop():
            run(point)
            getattr(layer, gradient)(upstream, upstream_log_det)
        row[gradient] = best_time(run_and_backprop, repeats) - row[direction]
    name = cls.__name__
    density, sampling = ("forward", "inverse")
    fast, slow = (density, sampling) if cls is MAF else (sampling, density)
    return {"layer": name, "dim": dim,
            "density_s": row[density], "sampling_s": row[sampling],
            "density_grad_s": row["backward"], "sampling_grad_s": row["inverse_backward"],
            "made_passes_density": 1 if cls is MAF else dim,
            "made_passes_sampling": dim if cls is MAF else 1,
            "slow_over_fast": row[slow] / row[fast]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", default="2,8,32,128")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with open("/proc/loadavg") as f:
        load_before = float(f.read().split()[0])
    rows = [measure(cls, int(dim), args) for dim in args.dims.split(",") for cls in (MAF, IAF)]
    with open("/proc/loadavg") as f:
        load_after = float(f.read().split()[0])
    print(json.dumps({"bench": "autoregressive_scaling", "hidden": [args.hidden], "batch": args.batch,
                      "dtype": "float64", "load_avg_1min": [load_before, load_after], "rows": rows}))


if __name__ == "__main__":
    main()
