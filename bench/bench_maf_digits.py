"""Benchmark: MAF on sklearn digits (8x8), scratchflow (NumPy) vs the identical model in PyTorch.

Workload (issue 5b): the 1797 digit images, pixel values v in 0..16, split once by
``scratchflow.realdata`` (seed 0) into 1500 training and 297 test images. Dequantisation
x = (v + u) / 17 with u ~ U(0, 1) (fresh noise every training step; realdata's fixed draw for the
test set), then the Logit bijector
y = logit(α + (1 − 2α) x), α = 0.05. Model on y: 5 MAF layers, MADE 2 hidden x 256 tanh, orderings
reversed between layers, Adam lr 1e-3, batch 128, 2000 steps, float64, one thread.

Test NLL in nats per image, two ways:

* logit space:   −log p_y(y)
* pixel space:   −log p_x(x) = −[log p_y(y) + log|det ∂y/∂x|]   (x in [0, 1]^64, the Logit log-det)

(add 64 log 17 ≈ 181.3 nats for the dequantised 0..16 scale.) Both backends train the same
network from the same initial weights on the same batches and noise; each (backend, seed) runs in
a fresh process, interleaved. Output: one JSON line with per-seed figures and means: steps/s, test
NLL, peak RSS (``ru_maxrss`` of each child) of both sides, the speed ratio, and the step's floor on
this machine with the fraction of it the numpy step reaches (``bench/step_floor.py``: GEMM FLOPs
at the rate measured in the same process at the same shapes, plus tanh, exp and the Logit's logs
at the step's sizes). Without torch the line says ``"torch": "skipped: ..."`` and why.

Beside the floor, NumPy's own limit: ``straight_line_ms`` is the time per step of the same
training step written straight, with no classes, checks or per-step allocation
(``bench/straight_line_maf.py``), timed over 100 more steps after the figures above, and
``straight_line_speedup_vs_torch`` the ratio to torch that such a step gives.

Usage::

    python bench/bench_maf_digits.py                          # seeds 0,1,2, both backends
    python bench/bench_maf_digits.py --seeds 0 --steps 200 --backends numpy
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

from scratchflow.bijectors import Logit                 # noqa: E402
from scratchflow.models import build_autoregressive     # noqa: E402
from scratchflow.optim import Adam                      # noqa: E402
from scratchflow.realdata import DIGITS_LEVELS, dequantize, load_sklearn   # noqa: E402
from step_floor import floor_fields, floor_summary, step_floor   # noqa: E402  (bench/step_floor.py)
from straight_line_maf import straight_step_ms          # noqa: E402
from torch_side import torch_skip_reason                # noqa: E402

ALPHA = 0.05
N_LAYERS, HIDDEN, DIM = 5, (256, 256), 64


def make_data(seed, args):
    """Counts v of the 1500 training images (dequantised afresh per batch), the 297 test images
    dequantised once (the fixed split and noise of ``scratchflow.realdata``), the batch rows."""
    train = load_sklearn("digits", "train", dequantized=False)       # (1500, 64) v in 0..16
    test_x = load_sklearn("digits", "test")                          # (297, 64) (v + u)/17
    rng = np.random.default_rng(30_000 + seed)
    batches = rng.integers(0, len(train), (args.steps, args.batch))
    return train, test_x, batches, rng


def batches_in_logit_space(train, batches, rng, logit):
    """Yield y = logit(α + (1 − 2α)(v + u)/17) for each minibatch, with fresh noise u."""
    for rows in batches:
        yield logit.forward(dequantize(train[rows], rng))[0]         # (B, 64), fresh u each batch


def make_model(seed):
    return build_autoregressive("maf", DIM, n_layers=N_LAYERS, hidden=HIDDEN, activation="tanh",
                                order="reversed-between-layers", seed=seed)


def run_numpy(seed, args):
    train, test_x, batches, rng = make_data(seed, args)
    logit = Logit(64, alpha=ALPHA)
    flow = make_model(seed)
    optimizer = Adam(flow.params, flow.grads, lr=args.lr)
    start, start_cpu = time.perf_counter(), time.process_time()
    for y in batches_in_logit_space(train, batches, rng, logit):
        flow.loss_and_grad(y)
        optimizer.step()
    train_time, cpu_time = time.perf_counter() - start, time.process_time() - start_cpu
    floor = step_floor(flow, args.batch, np.float64, digits_transcendentals(args.batch))
    test_y, logit_log_det = logit.forward(test_x)                    # (297, 64), (297,)
    log_p_y = flow.log_prob(test_y)                                  # (297,)
    # peak RSS of the training and the figures, before the straight step adds its own buffers
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    straight = straight_step_ms(flow, optimizer,
                                list(batches_in_logit_space(train, batches[:100], rng, logit)))
    return {"steps_per_s": args.steps / train_time, "test_nll_logit": float(-log_p_y.mean()),
            **straight, "peak_rss_mb": peak_rss_mb,
            "test_nll_pixels": float(-(log_p_y + logit_log_det).mean()),
            **floor_fields(floor, train_time / args.steps, cpu_time / args.steps)}


def digits_transcendentals(batch):
    """Per step, for the floor: the Logit's log p and log1p(−p) of the batch (N, 64), then each MAF
    layer's MADE tanh of its two hidden layers (N, 256) and the layer's exp(−s) (N, 64)."""
    return [("log", (batch, DIM), 1), ("log1p", (batch, DIM), 1),
            ("tanh", (batch, HIDDEN[0]), 2 * N_LAYERS), ("exp", (batch, DIM), N_LAYERS)]


def run_torch(seed, args):
    import torch
    from torch_maf import TorchAutoregressive

    torch.set_num_threads(1)
    train, test_x, batches, rng = make_data(seed, args)
    logit = Logit(64, alpha=ALPHA)
    model = TorchAutoregressive(make_model(seed), dtype=torch.float64)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    start = time.perf_counter()
    for y in batches_in_logit_space(train, batches, rng, logit):
        optimizer.zero_grad()
        loss = -model.log_prob(torch.from_numpy(y)).mean()
        loss.backward()
        optimizer.step()
    train_time = time.perf_counter() - start
    test_y, logit_log_det = logit.forward(test_x)
    with torch.no_grad():
        log_p_y = model.log_prob(torch.from_numpy(test_y)).numpy()
    return {"steps_per_s": args.steps / train_time, "test_nll_logit": float(-log_p_y.mean()),
            "test_nll_pixels": float(-(log_p_y + logit_log_det).mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--backends", default="numpy,torch")
    parser.add_argument("--child", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.child:
        runner = run_numpy if args.child == "numpy" else run_torch
        result = runner(seeds[0], args)
        result.setdefault("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(result))
        return
    backends = [b for b in args.backends.split(",") if b]
    skipped = torch_skip_reason() if "torch" in backends else None
    if skipped:
        backends.remove("torch")
        print(f"torch side {skipped}", file=sys.stderr)
    per_seed = {b: [] for b in backends}
    loads = []
    for seed in seeds:
        for backend in backends:
            with open("/proc/loadavg") as f:
                loads.append(float(f.read().split()[0]))
            command = [sys.executable, __file__, "--child", backend, "--seeds", str(seed),
                       "--steps", str(args.steps), "--batch", str(args.batch), "--lr", str(args.lr)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            per_seed[backend].append(json.loads(out.strip().splitlines()[-1]))
    result = {"bench": "maf_digits", "dtype": "float64", "steps": args.steps, "batch": args.batch,
              "seeds": seeds, "load_avg_1min_at_starts": loads, "cores": os.cpu_count(),
              "nats_to_add_for_0_16_scale": 64 * float(np.log(DIGITS_LEVELS))}
    for backend, runs in per_seed.items():
        result[backend] = {key: float(np.mean([r[key] for r in runs]))
                           for key in ("steps_per_s", "test_nll_logit", "test_nll_pixels",
                                       "straight_line_ms", "straight_line_cpu_ms") if key in runs[0]}
        result[backend]["peak_rss_mb"] = round(max(r["peak_rss_mb"] for r in runs), 1)
        if backend == "numpy":
            result[backend].update(floor_summary(runs))
        result[backend]["per_seed"] = runs
    if "torch" in result:
        result["speedup_vs_torch"] = result["numpy"]["steps_per_s"] / result["torch"]["steps_per_s"]
        result["straight_line_speedup_vs_torch"] = (1e3 / result["numpy"]["straight_line_ms"]
                                                    / result["torch"]["steps_per_s"])
        result["nll_gap_vs_torch"] = result["numpy"]["test_nll_pixels"] - result["torch"]["test_nll_pixels"]
    elif skipped:
        result["torch"] = skipped
    print(json.dumps(result))


if __name__ == "__main__":
    main()
