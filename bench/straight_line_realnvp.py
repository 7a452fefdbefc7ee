"""The Real-NVP benchmark's step written straight, as the fastest NumPy we know how to write: the
ceiling that any NumPy code structure for this model can reach, measured beside the library's step.

Issue 16 asks for 3x torch on ``bench/bench_realnvp.py``. The step's floor (``step_floor.py``:
GEMMs at the measured rate plus tanh and exp) is what the machine needs; this file measures what
NumPy needs. Here the whole training step, the 8 couplings' forward, the loss and the gradient
pass, is one function with no classes, no input checks, no caches and no allocation per step: every
array lives in a buffer made once, every operation writes with ``out=``, the tanh derivative is
formed in a scratch buffer. It is the library's maths in the same order (the gradients agree to the
last bits, checked before timing), written the way nobody should read it. The gap between this
step and the library's is what the library's structure costs; the gap between this step and the
floor is what one NumPy call per array pass costs, which no Python structure removes.

    python bench/straight_line_realnvp.py                    # float64 and float32, 1500 steps each
    python bench/straight_line_realnvp.py --dtype float32 --steps 500

Output: one JSON line per dtype: ms per step (Adam included on both sides) of the library and of
the straight step, median of ``--rounds`` interleaved rounds, and the largest gradient difference.
``bench_realnvp.py`` reports the same ``straight_line_ms`` beside its ratio to torch.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse      # noqa: E402
import json          # noqa: E402
import time          # noqa: E402

import numpy as np   # noqa: E402

from scratchflow.data import load_dataset      # noqa: E402
from scratchflow.models import build_realnvp   # noqa: E402
from scratchflow.optim import Adam             # noqa: E402


class StraightStep:
    """loss_and_grad of a D = 2 Real-NVP flow (``build_realnvp``: MLP 1 -> H -> H -> 2, tanh, soft
    scale bound b), writing the gradients into the flow's own gradient arrays, as the library does."""

    def __init__(self, flow, batch):
        dtype = flow.dtype
        self.batch, self.dtype = batch, dtype
        self.flat_grad = flow.grads[next(iter(flow.grads))].base        # (P,) the one buffer
        if self.flat_grad is None or flow.dim != 2:
            raise ValueError("StraightStep needs a D = 2 flow with one gradient buffer")
        self.layers = []
        for coupling in flow.layers.layers:
            linears = [layer for layer in coupling.net.layers if hasattr(layer, "weight")]
            hidden = linears[0].out_features
            if len(linears) != 3 or coupling.scale_bound is None or coupling.activation != "tanh":
                raise ValueError("StraightStep follows build_realnvp: 3 Linear, tanh, a scale bound")
            buffers = {name: np.empty((batch, width), dtype) for name, width in
                       [("x_c", 1), ("x_r", 1), ("h1", hidden), ("h2", hidden), ("out", 2),
                        ("ratio", 1), ("exp_s", 1)]}
            self.layers.append((int(coupling.kept_index[0]), int(coupling.moved_index[0]),
                                float(coupling.scale_bound),
                                [(lin.weight, lin.bias, lin.grads["weight"], lin.grads["bias"])
                                 for lin in linears], buffers))
        hidden = self.layers[0][4]["h1"].shape[1]
        self.ones = np.ones(batch, dtype)                                 # (N,)
        self.grad_h = np.empty((batch, hidden), dtype)                    # (N, H)
        self.grad_h1 = np.empty((batch, hidden), dtype)
        self.scratch = np.empty((batch, hidden), dtype)
        self.grad_out = np.empty((batch, 2), dtype)                       # (N, 2) [dL/dŝ, dL/dt]
        self.column = np.empty((batch, 1), dtype)
        self.z = np.empty((batch, 2), dtype)
        self.log_det = np.empty(batch, dtype)
        self.log_2pi = float(np.log(2 * np.pi))

    def __call__(self, x):
        """Zero the gradients, L = mean NLL of x (N, 2), fill the gradients; return L."""
        n = self.batch
        self.flat_grad.fill(0.0)
        z, log_det, column = self.z, self.log_det, self.column
        z[...] = x
        log_det.fill(0.0)
        for cond, trans, bound, ((w1, b1, _, _), (w2, b2, _, _), (w3, b3, _, _)), buf in self.layers:
            x_c, h1, h2, out, ratio, exp_s, x_r = (buf[k] for k in ("x_c", "h1", "h2", "out",
                                                                     "ratio", "exp_s", "x_r"))
            x_c[...] = z[:, cond:cond + 1]
            np.multiply(x_c, w1, out=h1)                              # (N, H) a 1-input layer
            np.add(h1, b1, out=h1)
            np.tanh(h1, out=h1)
            np.dot(h1, w2, out=h2)
            np.add(h2, b2, out=h2)
            np.tanh(h2, out=h2)
            np.dot(h2, w3, out=out)                                   # (N, 2) ŝ, t
            np.add(out, b3, out=out)
            np.divide(out[:, :1], bound, out=ratio)
            np.tanh(ratio, out=ratio)                                 # tanh(ŝ/b)
            np.multiply(ratio, bound, out=exp_s)                      # s
            log_det += exp_s[:, 0]
            np.exp(exp_s, out=exp_s)
            x_r[...] = z[:, trans:trans + 1]
            np.multiply(x_r, exp_s, out=column)
            np.add(column, out[:, 1:], out=z[:, trans:trans + 1])     # z_r = x_r e^s + t
        loss = 0.5 * float(np.vdot(z, z)) / n + self.log_2pi - float(log_det.mean())
        grad = z
        grad /= n                                                     # dL/dz (N, 2), in place
        per_log_det = -1.0 / n
        grad_out, grad_h, grad_h1, scratch = self.grad_out, self.grad_h, self.grad_h1, self.scratch
        for cond, trans, bound, ((w1, _, gw1, gb1), (w2, _, gw2, gb2), (w3, _, gw3, gb3)), buf \
                in reversed(self.layers):
            grad_r = grad[:, trans:trans + 1]
            grad_out[:, 1:] = grad_r                                  # dL/dt
            np.multiply(grad_r, buf["exp_s"], out=grad_r)             # dL/dx_r, in place
            np.multiply(grad_r, buf["x_r"], out=column)
            np.add(column, per_log_det, out=column)                   # dL/ds
            ratio = buf["ratio"]
            np.multiply(ratio, ratio, out=grad_out[:, :1])
            np.subtract(1.0, grad_out[:, :1], out=grad_out[:, :1])
            np.multiply(grad_out[:, :1], column, out=grad_out[:, :1])   # dL/dŝ
            gw3 += np.dot(buf["h2"].T, grad_out)
            gb3 += np.dot(self.ones, grad_out)
            for h, w, gw, gb, previous, grad_in in ((buf["h2"], w3, gw2, gb2, buf["h1"], grad_h),
                                                    (buf["h1"], w2, gw1, gb1, buf["x_c"], grad_h1)):
                upstream = grad_out if grad_in is grad_h else grad_h
                np.dot(upstream, w.T, out=grad_in)                    # (N, H)
                np.multiply(h, h, out=scratch)
                np.subtract(1.0, scratch, out=scratch)
                np.multiply(grad_in, scratch, out=grad_in)            # through tanh
                gw += np.dot(previous.T, grad_in)
                gb += np.dot(self.ones, grad_in)
            grad[:, cond] += np.dot(grad_h1, w1[0])                   # (N,) dL/dx_c
        return loss


def time_steps(step, optimizer, batches):
    """Wall and CPU ms per training step of ``step`` (a loss_and_grad) followed by
    ``optimizer.step()``, over the given minibatches; it trains the flow further, so run it after
    the flow's own figures."""
    start, start_cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        step(batch)
        optimizer.step()
    return {"straight_line_ms": (time.perf_counter() - start) / len(batches) * 1e3,
            "straight_line_cpu_ms": (time.process_time() - start_cpu) / len(batches) * 1e3}


def straight_step_ms(flow, optimizer, batches):
    """:func:`time_steps` of the straight Real-NVP step on ``flow`` (batches (N, 2) each)."""
    return time_steps(StraightStep(flow, len(batches[0])), optimizer, batches)


def measure(dtype, steps, rounds, seed=0, batch=256):
    train = load_dataset("moons", 20_000, rng=seed).astype(dtype)           # (20000, 2)
    rows = np.random.default_rng(20_000 + seed).integers(0, len(train), (max(steps, 20), batch))
    flow = build_realnvp(2, n_layers=8, hidden=(64, 64), activation="tanh", scale_bound=5.0,
                         seed=seed, dtype=dtype)
    return {"dtype": dtype, **compare_with_library(flow, StraightStep(flow, batch), train[rows],
                                                   steps, rounds)}


def compare_with_library(flow, straight, batches, steps, rounds):
    """The straight step beside the library's on the same flow and minibatches (steps, N, D):
    first the loss and gradient gaps on one batch (after 20 library steps off the identity start,
    so every gradient is live), then ms per step (Adam included) as the median of ``rounds``
    interleaved rounds of ``steps`` steps each, so both see the same machine."""
    optimizer = Adam(flow.params, flow.grads, lr=1e-3)
    for step in range(20):
        flow.loss_and_grad(batches[step])
        optimizer.step()
    library_loss = flow.loss_and_grad(batches[0])
    library_grad = straight.flat_grad.copy()
    gaps = {"loss_gap": abs(library_loss - straight(batches[0])),
            "max_grad_gap": float(np.abs(library_grad - straight.flat_grad).max())}
    times = {"library": [], "straight": []}
    for _ in range(rounds):
        for name, run in (("library", flow.loss_and_grad), ("straight", straight)):
            start = time.process_time()
            for step in range(steps):
                run(batches[step])
                optimizer.step()
            times[name].append((time.process_time() - start) / steps * 1e3)
    return {"steps": steps, "rounds": rounds,
            "library_ms": round(float(np.median(times["library"])), 3),
            "straight_line_ms": round(float(np.median(times["straight"])), 3),
            **gaps, "load_avg": round(os.getloadavg()[0], 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    for dtype in dtypes:
        print(json.dumps(measure(dtype, args.steps, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
