"""Adam's step and a whole Real-NVP training step against the size of the optimizer's blocks.

For each block size (``flat_buffer.BLOCK_BYTES``): Adam's step alone on the parameters of the
Real-NVP of ``bench_realnvp.py`` (35k) and of the digits MAF of ``bench_maf_digits.py`` (577k), and
the Real-NVP's whole training step (``loss_and_grad`` then Adam, batch 256) with the minor page
faults it takes. Each size runs in a fresh process (the C allocator's thresholds move with what a
process has freed before), the training step first. Best of 3 repeats of 300 steps (Adam) or 1000
steps (the training step), one thread, float64. Output: one line per block size.

Usage::

    python bench/adam_blocks.py
"""
import os
import resource
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import scratchflow.nn.flat_buffer as flat_buffer  # noqa: E402
from scratchflow.models import build_model, build_realnvp  # noqa: E402
from scratchflow.optim import Adam  # noqa: E402

SIZES_KIB = (512, 256, 128, 96, 64, 32)


def _best_ms(function, steps, repeats=3):
    for step in range(50):
        function(step)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for step in range(steps):
            function(step)
        best = min(best, (time.perf_counter() - start) / steps * 1e3)
    return best


def adam_ms(flow):
    optimizer = Adam(flow.params, flow.grads, lr=1e-3)
    for grad in flow.grads.values():
        grad[...] = np.random.default_rng(0).normal(size=grad.shape)
    return _best_ms(lambda step: optimizer.step(), 300)


def training_step(flow, batches):
    """(ms per step, minor page faults per step) of loss_and_grad then Adam."""
    optimizer = Adam(flow.params, flow.grads, lr=1e-3)

    def step(index):
        flow.loss_and_grad(batches[index % len(batches)])
        optimizer.step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    ms = _best_ms(step, 1000)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / (50 + 3 * 1000)
    return ms, faults


def child(size):
    flat_buffer.BLOCK_BYTES = size * 1024
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(256, 2)) for _ in range(100)]                 # (256, 2) each
    realnvp = build_realnvp(2, n_layers=8, hidden=(64, 64), activation="tanh", scale_bound=2.0, seed=0)
    step_ms, faults = training_step(realnvp, batches)
    digits = build_model({"model": "maf", "dim": 64, "n_layers": 5, "hidden": [256, 256]})
    print(f"{size:4d} KiB blocks: Real-NVP training step {step_ms:.2f} ms, {faults:.1f} minor page "
          f"faults a step; Adam {adam_ms(realnvp):.3f} ms (Real-NVP, {realnvp.num_params()} parameters), "
          f"{adam_ms(digits):.2f} ms (digits MAF, {digits.num_params()})", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        with threadpool_limits(limits=1, user_api="blas"):
            child(int(sys.argv[2]))
    else:
        for size in SIZES_KIB:
            subprocess.run([sys.executable, os.path.abspath(__file__), "--child", str(size)], check=True)
