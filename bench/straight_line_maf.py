"""The MAF benchmarks' step written straight, the fastest NumPy we know how to write: the ceiling
that any NumPy code structure for these models can reach, measured beside the library's step.

The same idea as ``straight_line_realnvp.py``, for a stack of MAF layers (each a MADE with two
hidden tanh layers, no context): the training step is one function with no classes, no input
checks, no caches and no allocation per step; every array lives in a buffer made once and every
operation writes with ``out=``; the masked weight gradients are masked in a scratch buffer before
they are added. The weights are used as they are (kept masked, as the library keeps them), so the
library's re-imposition of the masks on each forward is left out. Loss and gradients agree with the
library's (checked before timing).

    python bench/straight_line_maf.py                       # eight Gaussians (float64, float32), digits
    python bench/straight_line_maf.py --workload digits --steps 200

Output: one JSON line per (workload, dtype): ms per step (Adam included on both sides) of the
library and of the straight step, median of ``--rounds`` interleaved rounds, and the largest
gradient difference.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse      # noqa: E402
import json          # noqa: E402

import numpy as np   # noqa: E402

from scratchflow.bijectors.autoregressive import MAF   # noqa: E402
from scratchflow.data import load_dataset              # noqa: E402
from scratchflow.models import build_autoregressive     # noqa: E402
from straight_line_realnvp import compare_with_library, time_steps   # noqa: E402  (bench/)

WORKLOADS = {   # name: (D, hidden, n_layers, batch), as in bench_maf.py and bench_maf_digits.py
    "8gaussians": (2, (64, 64), 5, 256),
    "digits": (64, (256, 256), 5, 128),
}


class StraightMAFStep:
    """loss_and_grad of a stack of MAF layers (MADE D -> H1 -> H2 -> 2D, tanh, output [μ | s]) with
    a standard normal base, writing the gradients into the flow's own gradient arrays."""

    def __init__(self, flow, batch):
        dtype, dim = flow.dtype, flow.dim
        self.batch, self.dim = batch, dim
        self.flat_grad = flow.grads[next(iter(flow.grads))].base        # (P,) the one buffer
        if self.flat_grad is None:
            raise ValueError("StraightMAFStep needs a flow with one gradient buffer")
        self.layers = []
        for layer in flow.layers.layers:
            linears = [m for m in layer.made.layers if hasattr(m, "weight")]
            if not isinstance(layer, MAF) or layer.context_dim or len(linears) != 3 \
                    or layer.made.activation != "tanh":
                raise ValueError("StraightMAFStep follows build_autoregressive('maf'): 3 masked "
                                 "Linear, tanh, no context")
            widths = [lin.out_features for lin in linears]
            buffers = {"x": np.empty((batch, dim), dtype), "h1": np.empty((batch, widths[0]), dtype),
                       "h2": np.empty((batch, widths[1]), dtype),
                       "out": np.empty((batch, 2 * dim), dtype),
                       "inv_scale": np.empty((batch, dim), dtype), "z": np.empty((batch, dim), dtype),
                       "grad_h1": np.empty((batch, widths[0]), dtype),
                       "grad_h2": np.empty((batch, widths[1]), dtype),
                       "scratch_h1": np.empty((batch, widths[0]), dtype),
                       "scratch_h2": np.empty((batch, widths[1]), dtype)}
            weights = [(lin.weight, lin.bias, lin.mask, lin.grads["weight"], lin.grads["bias"],
                        np.empty_like(lin.weight)) for lin in linears]
            self.layers.append((weights, buffers))
        self.ones = np.ones(batch, dtype)                                 # (N,)
        self.grad_out = np.empty((batch, 2 * dim), dtype)                 # (N, 2D) [dL/dμ | dL/ds]
        self.grad = np.empty((batch, dim), dtype)                         # (N, D) dL/d(layer output)
        self.scaled = np.empty((batch, dim), dtype)
        self.log_det = np.empty(batch, dtype)
        self.row_sums = np.empty(batch, dtype)
        self.log_2pi_half = 0.5 * dim * float(np.log(2 * np.pi))

    def __call__(self, x):
        """Zero the gradients, L = mean NLL of x (N, D), fill the gradients; return L."""
        n, dim = self.batch, self.dim
        self.flat_grad.fill(0.0)
        log_det, row_sums = self.log_det, self.row_sums
        log_det.fill(0.0)
        point = x
        for ((w1, b1, _, _, _, _), (w2, b2, _, _, _, _), (w3, b3, _, _, _, _)), buf in self.layers:
            buf["x"][...] = point
            h1, h2, out, inv_scale, z = buf["h1"], buf["h2"], buf["out"], buf["inv_scale"], buf["z"]
            np.dot(buf["x"], w1, out=h1)
            np.add(h1, b1, out=h1)
            np.tanh(h1, out=h1)
            np.dot(h1, w2, out=h2)
            np.add(h2, b2, out=h2)
            np.tanh(h2, out=h2)
            np.dot(h2, w3, out=out)                                   # (N, 2D) [μ | s]
            np.add(out, b3, out=out)
            np.sum(out[:, dim:], axis=1, out=row_sums)
            np.subtract(log_det, row_sums, out=log_det)               # −Σ s
            np.negative(out[:, dim:], out=inv_scale)
            np.exp(inv_scale, out=inv_scale)                          # exp(−s)
            np.subtract(buf["x"], out[:, :dim], out=z)
            np.multiply(z, inv_scale, out=z)                          # z = (x − μ) exp(−s)
            point = z
        loss = 0.5 * float(np.vdot(point, point)) / n + self.log_2pi_half - float(log_det.mean())
        grad, scaled, grad_out = self.grad, self.scaled, self.grad_out
        np.divide(point, n, out=grad)                                 # dL/dz (N, D)
        per_log_det = 1.0 / n                                         # −dL/dlog_det per row
        for weights, buf in reversed(self.layers):
            (w1, _, m1, gw1, gb1, t1), (w2, _, m2, gw2, gb2, t2), (w3, _, m3, gw3, gb3, t3) = weights
            np.multiply(grad, buf["inv_scale"], out=scaled)           # g ⊙ exp(−s)
            np.negative(scaled, out=grad_out[:, :dim])                # dL/dμ
            np.multiply(grad, buf["z"], out=grad_out[:, dim:])
            np.subtract(per_log_det, grad_out[:, dim:], out=grad_out[:, dim:])   # −g ⊙ z − h
            upstream, previous = grad_out, buf["h2"]
            for w, m, gw, gb, scratch_w, h, grad_h, scratch in (
                    (w3, m3, gw3, gb3, t3, buf["h2"], buf["grad_h2"], buf["scratch_h2"]),
                    (w2, m2, gw2, gb2, t2, buf["h1"], buf["grad_h1"], buf["scratch_h1"])):
                np.dot(previous.T, upstream, out=scratch_w)
                np.multiply(scratch_w, m, out=scratch_w)
                gw += scratch_w
                gb += np.dot(self.ones, upstream)
                np.dot(upstream, w.T, out=grad_h)
                np.multiply(h, h, out=scratch)
                np.subtract(1.0, scratch, out=scratch)
                np.multiply(grad_h, scratch, out=grad_h)              # through tanh
                upstream, previous = grad_h, buf["h1"]
            np.dot(buf["x"].T, upstream, out=t1)
            np.multiply(t1, m1, out=t1)
            gw1 += t1
            gb1 += np.dot(self.ones, upstream)
            np.dot(upstream, w1.T, out=grad)                          # through the MADE
            np.add(grad, scaled, out=grad)                            # + the direct path
        return loss


def straight_step_ms(flow, optimizer, batches):
    """Wall and CPU ms per step of the straight MAF step on ``flow`` (batches (N, D) each)."""
    return time_steps(StraightMAFStep(flow, len(batches[0])), optimizer, batches)


def measure(workload, dtype, steps, rounds, seed=0):
    dim, hidden, n_layers, batch = WORKLOADS[workload]
    rng = np.random.default_rng(20_000 + seed)
    if workload == "8gaussians":
        data = load_dataset("8gaussians", 20_000, rng=seed).astype(dtype)      # (20000, 2)
    else:
        data = rng.standard_normal((2_000, dim)).astype(dtype)     # logit-space stand-in: the
        #                                    step's cost does not depend on the values
    rows = rng.integers(0, len(data), (max(steps, 20), batch))
    flow = build_autoregressive("maf", dim, n_layers=n_layers, hidden=hidden, activation="tanh",
                                order="reversed-between-layers", seed=seed, dtype=dtype)
    return {"workload": workload, "dtype": dtype,
            **compare_with_library(flow, StraightMAFStep(flow, batch), data[rows], steps, rounds)}

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    parser.add_argument("--dtype", choices=["float64", "float32", "both"], default="both",
                        help="eight Gaussians; digits runs in float64 only, as its benchmark")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    runs = [(w, d) for w in (WORKLOADS if args.workload == "all" else [args.workload])
            for d in (dtypes if w == "8gaussians" else ["float64"])]
    for workload, dtype in runs:
        steps = args.steps if workload == "8gaussians" else max(1, args.steps // 5)
        print(json.dumps(measure(workload, dtype, steps, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
