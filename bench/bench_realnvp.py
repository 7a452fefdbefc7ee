"""Benchmark: Real-NVP on two moons, scratchflow (NumPy, hand-written gradients) vs PyTorch autograd.

Workload (issue 4): 8 affine coupling layers with alternating masks [1, 0], [0, 1], ...; s and t
from one MLP per layer with 2 hidden layers of 64 tanh units (outputs ŝ and t together), soft
scale bound 5; Adam lr 1e-3, batch 256, 3000 steps; 20k training and 10k test points of
``load_dataset("moons")``, seeded. One thread (OMP/OPENBLAS/MKL_NUM_THREADS=1 are set before NumPy
is imported, and ``torch.set_num_threads(1)``).

Both backends train the SAME network from the SAME initial weights (the torch model copies the
NumPy model's initial parameters) on the SAME minibatch sequence, so any gap in test NLL comes
from arithmetic, not from luck of initialisation or data order.

Each (backend, seed) runs in its own fresh process, numpy and torch interleaved seed by seed, so
they see the same machine load and peak memory (``ru_maxrss``, whole process, interpreter and
libraries included) is measured per backend. Output: one JSON line per backend, with per-seed
figures and their means; the numpy line also carries the speed ratio and NLL gap to torch.
``steps_per_s`` is wall-clock; ``cpu_steps_per_s`` divides by the process's CPU time instead,
which is less disturbed when other jobs share the cores (the ``load_avg`` field tells).

Beside the ratio, the numpy line gives the step's floor on this machine (``bench/step_floor.py``:
the step's GEMM FLOPs at the single-thread rate measured in the same process at the same shapes,
plus its tanh and exp timed at their sizes), the measured step time and ``floor_fraction`` =
floor / step, per seed and as means, and the peak RSS of both sides. float64 and float32 run one
after the other by default, one pair of lines each. Without torch, the numpy line says
``"torch": "skipped: ..."`` and why.

A second limit, NumPy's rather than the machine's: ``straight_line_ms`` is the time per step of
the same training step written straight, with no classes, checks or per-step allocation
(``bench/straight_line_realnvp.py``), timed over 500 more steps after the figures above, and
``straight_line_speedup_vs_torch`` the ratio to torch that such a step gives (``_cpu_``: the same
with CPU time).

Usage::

    python bench/bench_realnvp.py                      # seeds 0,1,2, 3000 steps, both backends, both dtypes
    python bench/bench_realnvp.py --seeds 0 --steps 500 --backends numpy --dtype float64
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

from scratchflow.data import load_dataset      # noqa: E402
from scratchflow.models import build_realnvp   # noqa: E402
from scratchflow.optim import Adam             # noqa: E402
from step_floor import floor_fields, floor_summary, step_floor   # noqa: E402  (bench/step_floor.py)
from straight_line_realnvp import straight_step_ms   # noqa: E402
from torch_side import chosen_sides               # noqa: E402

HIDDEN = (64, 64)
N_LAYERS = 8
SCALE_BOUND = 5.0


def make_data(seed, n_train, n_test):
    """Training and test points and the minibatch index sequence (epochs of a seeded shuffle)."""
    train = load_dataset("moons", n_train, rng=seed)                  # (n_train, 2)
    test = load_dataset("moons", n_test, rng=10_000 + seed)           # (n_test, 2)
    return train, test


def batch_indices(seed, n_train, batch, steps):
    """(steps, batch) row indices: shuffled epochs, the last incomplete batch of an epoch dropped."""
    rng = np.random.default_rng(20_000 + seed)
    per_epoch = n_train // batch
    epochs = -(-steps // per_epoch)
    order = np.concatenate([rng.permutation(n_train)[:per_epoch * batch] for _ in range(epochs)])
    return order[:steps * batch].reshape(steps, batch)


# ------------------------------------------------------------------------------------ numpy
def run_numpy(seed, args):
    dtype = np.dtype(args.dtype)
    train, test = make_data(seed, args.n_train, args.n_test)
    train, test = train.astype(dtype), test.astype(dtype)
    batches = batch_indices(seed, args.n_train, args.batch, args.steps)
    flow = build_realnvp(2, n_layers=N_LAYERS, hidden=HIDDEN, activation="tanh",
                         scale_bound=SCALE_BOUND, seed=seed, dtype=dtype.name)
    optimizer = Adam(flow.params, flow.grads, lr=args.lr)
    start, start_cpu = time.perf_counter(), time.process_time()
    for step in range(args.steps):
        flow.loss_and_grad(train[batches[step]])
        optimizer.step()
    train_time, cpu_time = time.perf_counter() - start, time.process_time() - start_cpu
    floor = step_floor(flow, args.batch, dtype, realnvp_transcendentals(args.batch))
    test_nll = float(-np.mean(flow.log_prob(test)))
    sample_times = []
    for repeat in range(3):                       # median of 3 draws, the first one included
        start = time.perf_counter()
        flow.sample(args.n_samples, rng=seed + repeat)
        sample_times.append(time.perf_counter() - start)
    sample_time = float(np.median(sample_times))
    # peak RSS of the training and the figures, before the straight step adds its own buffers
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    straight = straight_step_ms(flow, optimizer, [train[rows] for rows in batches[:500]])
    return {"steps_per_s": args.steps / train_time, "cpu_steps_per_s": args.steps / cpu_time,
            "test_nll": test_nll, "sample_s": sample_time, "numpy": np.__version__, **straight, "peak_rss_mb": peak_rss_mb,
            **floor_fields(floor, train_time / args.steps, cpu_time / args.steps)}


def realnvp_transcendentals(batch):
    """Per step, for the floor: each of the 8 couplings (D = 2, one moved column) takes tanh of
    its two hidden layers (N, 64), the soft bound's tanh and exp(s) of the moved column (N, 1)."""
    return [("tanh", (batch, HIDDEN[0]), 2 * N_LAYERS), ("tanh", (batch, 1), N_LAYERS),
            ("exp", (batch, 1), N_LAYERS)]


# ------------------------------------------------------------------------------------ torch
def run_torch(seed, args):
    import torch

    torch.set_num_threads(1)
    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[args.dtype]
    train, test = make_data(seed, args.n_train, args.n_test)
    batches = batch_indices(seed, args.n_train, args.batch, args.steps)
    reference = build_realnvp(2, n_layers=N_LAYERS, hidden=HIDDEN, activation="tanh",
                              scale_bound=SCALE_BOUND, seed=seed)   # initial weights to copy

    class Coupling(torch.nn.Module):
        """The same layer as scratchflow's AffineCoupling, written the usual autograd way."""

        def __init__(self, layer):
            super().__init__()
            self.cond = self._columns(layer.kept_index)
            self.trans = self._columns(layer.moved_index)
            self.cond_first = layer.kept_index[0] < layer.moved_index[0]
            order = np.argsort(np.concatenate([layer.kept_index, layer.moved_index]))
            # contiguous blocks (every D = 2 mask): the output is one cat in column order
            self.order = None if isinstance(self.cond, slice) and isinstance(self.trans, slice) \
                else order.tolist()
            sizes = layer.net.sizes
            modules = []
            for i in range(len(sizes) - 1):
                modules.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
                if i < len(sizes) - 2:
                    modules.append(torch.nn.Tanh())
            self.net = torch.nn.Sequential(*modules)
            linears = [m for m in layer.net.layers if hasattr(m, "weight")]
            with torch.no_grad():
                for ours, theirs in zip(linears, [m for m in modules if hasattr(m, "weight")]):
                    theirs.weight.copy_(torch.from_numpy(ours.weight.T.copy()))   # torch: (out, in)
                    theirs.bias.copy_(torch.from_numpy(ours.bias.copy()))
            self.k = len(layer.moved_index)

        @staticmethod
        def _columns(index):
            """A slice when the columns are contiguous (no gather op), else the index list."""
            if np.array_equal(index, np.arange(index[0], index[-1] + 1)):
                return slice(int(index[0]), int(index[-1]) + 1)
            return index.tolist()

        def _join(self, part_c, part_r):
            if self.order is None:
                parts = [part_c, part_r] if self.cond_first else [part_r, part_c]
                return torch.cat(parts, dim=1)
            return torch.cat([part_c, part_r], dim=1)[:, self.order]

        def scale_shift(self, cond):
            out = self.net(cond)
            s = SCALE_BOUND * torch.tanh(out[:, :self.k] / SCALE_BOUND)
            return s, out[:, self.k:]

        def forward(self, x):
            x_c, x_r = x[:, self.cond], x[:, self.trans]
            s, t = self.scale_shift(x_c)
            z_r = x_r * torch.exp(s) + t
            return self._join(x_c, z_r), s.sum(dim=1)

        def inverse(self, z):
            z_c, z_r = z[:, self.cond], z[:, self.trans]
            s, t = self.scale_shift(z_c)
            x_r = (z_r - t) * torch.exp(-s)
            return self._join(z_c, x_r)

    layers = torch.nn.ModuleList([Coupling(layer) for layer in reference.layers.layers])
    layers.to(torch_dtype)
    log_2pi = float(np.log(2 * np.pi))

    def log_prob(x):
        log_det = torch.zeros(x.shape[0], dtype=x.dtype)
        for layer in layers:
            x, layer_log_det = layer(x)
            log_det = log_det + layer_log_det
        return -0.5 * (x * x).sum(dim=1) - log_2pi + log_det         # D = 2: −(D/2) log 2π

    optimizer = torch.optim.Adam(layers.parameters(), lr=args.lr)
    train_t = torch.from_numpy(train).to(torch_dtype)
    test_t = torch.from_numpy(test).to(torch_dtype)
    batches_t = torch.from_numpy(batches)
    start, start_cpu = time.perf_counter(), time.process_time()
    for step in range(args.steps):
        optimizer.zero_grad()
        loss = -log_prob(train_t[batches_t[step]]).mean()
        loss.backward()
        optimizer.step()
    train_time, cpu_time = time.perf_counter() - start, time.process_time() - start_cpu
    with torch.no_grad():
        test_nll = float(-log_prob(test_t).mean())
        sample_times = []
        for repeat in range(3):                   # same protocol as the numpy side
            start = time.perf_counter()
            z = np.random.default_rng(seed + repeat).standard_normal((args.n_samples, 2))
            x = torch.from_numpy(z).to(torch_dtype)
            for layer in reversed(layers):
                x = layer.inverse(x)
            sample_times.append(time.perf_counter() - start)
        sample_time = float(np.median(sample_times))
    return {"steps_per_s": args.steps / train_time, "cpu_steps_per_s": args.steps / cpu_time,
            "test_nll": test_nll, "sample_s": sample_time, "torch": torch.__version__}


# ------------------------------------------------------------------------------------ driver
def child(args):
    """One (backend, seed) run in this process; print its figures as one JSON line."""
    runner = run_numpy if args.child == "numpy" else run_torch
    result = runner(args.seeds[0], args)
    result.setdefault("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--dtype", default="float64,float32",
                        help="comma-separated: float64, float32 (default both, one after the other)")
    parser.add_argument("--backends", default="numpy,torch",
                        help="comma-separated: numpy, torch (torch is skipped if not installed)")
    parser.add_argument("--child", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",")]
    if args.child:
        return child(args)
    dtypes, backends, skipped = chosen_sides(parser, args)
    for dtype in dtypes:
        for line in compare(args, dtype, backends, skipped):
            print(json.dumps(line))


def compare(args, dtype, backends, skipped):
    """Run every (seed, backend) child in dtype, interleaved; return one summary line per backend."""
    runs = {backend: [] for backend in backends}
    for seed in args.seeds:                       # interleaved: numpy, torch, numpy, torch, ...
        for backend in backends:
            command = [sys.executable, os.path.abspath(__file__), "--child", backend,
                       "--seeds", str(seed), "--steps", str(args.steps), "--batch", str(args.batch),
                       "--lr", str(args.lr), "--n-train", str(args.n_train),
                       "--n-test", str(args.n_test), "--n-samples", str(args.n_samples),
                       "--dtype", dtype]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs[backend].append(json.loads(output.strip().splitlines()[-1]))

    lines = {}
    for backend, results in runs.items():
        line = {"backend": backend, "load_avg": round(os.getloadavg()[0], 2), "model": "realnvp",
                "dataset": "moons", "dtype": dtype,
                "threads": 1, "seeds": args.seeds, "steps": args.steps, "batch": args.batch,
                "steps_per_s": [round(r["steps_per_s"], 1) for r in results],
                "steps_per_s_mean": round(float(np.mean([r["steps_per_s"] for r in results])), 1),
                "cpu_steps_per_s": [round(r["cpu_steps_per_s"], 1) for r in results],
                "test_nll": [round(r["test_nll"], 4) for r in results],
                "test_nll_mean": round(float(np.mean([r["test_nll"] for r in results])), 4),
                "sample_10k_s": round(float(np.median([r["sample_s"] for r in results])), 4),
                "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                "peak_rss_mb": round(max(r["peak_rss_mb"] for r in results), 1),
                "version": results[0].get(backend)}
        if backend == "numpy":
            line.update(floor_summary(results))
            for key in ("straight_line_ms", "straight_line_cpu_ms"):
                line[key + "_mean"] = round(float(np.mean([r[key] for r in results])), 4)
        lines[backend] = line
    if "numpy" in lines and "torch" in lines:
        lines["numpy"]["speedup_vs_torch"] = round(lines["numpy"]["steps_per_s_mean"]
                                                   / lines["torch"]["steps_per_s_mean"], 2)
        lines["numpy"]["cpu_speedup_vs_torch"] = round(
            np.mean(lines["numpy"]["cpu_steps_per_s"]) / np.mean(lines["torch"]["cpu_steps_per_s"]), 2)
        lines["numpy"]["straight_line_speedup_vs_torch"] = round(
            1e3 / lines["numpy"]["straight_line_ms_mean"] / lines["torch"]["steps_per_s_mean"], 2)
        lines["numpy"]["straight_line_cpu_speedup_vs_torch"] = round(
            1e3 / lines["numpy"]["straight_line_cpu_ms_mean"]
            / np.mean(lines["torch"]["cpu_steps_per_s"]), 2)
        lines["numpy"]["nll_gap_vs_torch"] = round(lines["numpy"]["test_nll_mean"]
                                                   - lines["torch"]["test_nll_mean"], 4)
        lines["numpy"]["peak_rss_mb_torch"] = lines["torch"]["peak_rss_mb"]
    elif skipped and "numpy" in lines:
        lines["numpy"]["torch"] = skipped
    return list(lines.values())


if __name__ == "__main__":
    main()
