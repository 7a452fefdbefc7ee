"""A hand-written training loop against ``fit``, with two busy processes beside them.

The README's loop (``flow.loss_and_grad`` then ``optimizer.step()``, 256 rows of two moons, an
8-coupling 64×64 Real-NVP) knows nothing of BLAS threads; ``fit`` runs the same steps. Two
processes spinning on a core each stand for the other users of a shared 2-core machine. Printed:
the median step time of each loop over ``--steps`` steps (after 20 warm-up steps), and the ratio;
with ``--no-limit`` the library's BLAS limit is switched off (``set_blas_threads(None)``) to show
what it buys.

    python bench/hand_loop_threads.py [--steps 300] [--busy 2] [--no-limit]
"""
import argparse
import json
import multiprocessing
import time

import numpy as np

from scratchflow.blas import set_blas_threads
from scratchflow.data import load_dataset
from scratchflow.models import build_realnvp
from scratchflow.optim import Adam
from scratchflow.train import fit


def spin(stop):
    while not stop.is_set():
        pass


def hand_loop(train, steps):
    flow = build_realnvp(dim=2, n_layers=8, hidden=(64, 64), seed=0)
    optimizer = Adam(flow.params, flow.grads, lr=1e-3)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(steps + 20):
        start = time.perf_counter()
        flow.loss_and_grad(train[rng.integers(0, len(train), 256)])
        optimizer.step()
        times.append(time.perf_counter() - start)
    return float(np.median(times[20:]))


class TimedAdam(Adam):
    """Adam that records the time between its steps: fit's whole step, minibatch to update."""

    def __init__(self, flow):
        super().__init__(flow.params, flow.grads, lr=1e-3)
        self.marks = []

    def step(self):
        norm = super().step()
        self.marks.append(time.perf_counter())
        return norm


def fit_loop(train, steps):
    flow = build_realnvp(dim=2, n_layers=8, hidden=(64, 64), seed=0)
    optimizer = TimedAdam(flow)
    fit(flow, train, steps=steps + 21, batch_size=256, optimizer=optimizer, progress=False)
    return float(np.median(np.diff(optimizer.marks)[20:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--busy", type=int, default=2, help="busy processes beside the loops")
    parser.add_argument("--no-limit", action="store_true",
                        help="switch the library's BLAS limit off for the hand-written loop")
    args = parser.parse_args()
    train = load_dataset("moons", 8000, rng=0)
    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=spin, args=(stop,)) for _ in range(args.busy)]
    for process in busy:
        process.start()
    try:
        fit_step = fit_loop(train, args.steps)
        if args.no_limit:
            set_blas_threads(None)
        hand_step = hand_loop(train, args.steps)
    finally:
        stop.set()
        for process in busy:
            process.join()
    print(json.dumps({"fit_ms_per_step": round(1e3 * fit_step, 3),
                      "hand_loop_ms_per_step": round(1e3 * hand_step, 3),
                      "ratio": round(hand_step / fit_step, 3), "busy_processes": args.busy,
                      "library_limit": not args.no_limit}))


if __name__ == "__main__":
    main()
