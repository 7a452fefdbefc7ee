"""The floor of one training step on this machine, and the fraction of it a measured step reaches.

A training step of a flow is, at its core, its matrix products and its transcendental functions;
everything else (element-wise arithmetic, copies, reductions, the optimizer, Python) is overhead
on top. The floor is what the core alone costs here, measured in the calling process:

    floor = Σ_GEMM  FLOPs(GEMM) / rate(GEMM's shape)  +  Σ_f  time(f at the step's size)

* GEMMs are counted from the model's shapes: every Linear layer (weight (in, out), batch N) does
  three products per step,

      forward   y = x @ W            (N, in) @ (in, out)        2·N·in·out FLOPs
      backward  dL/dW = xᵀ @ g       (in, N) @ (N, out)         2·N·in·out
                dL/dx = g @ Wᵀ       (N, out) @ (out, in)       2·N·in·out

  (a masked layer counts as dense: its product is dense). The rate of each shape is measured with
  ``np.matmul`` on operands of that shape and memory layout (the transposes are views, as in the
  library), single thread if the caller set ``OMP_NUM_THREADS=1`` before NumPy was imported, into
  a preallocated ``out`` (no allocation in the timing): the best of several blocks of calls, and
  the faster of ``np.matmul`` and ``np.dot`` (NumPy's matmul does not call BLAS for some thin
  shapes, e.g. an inner dimension of 1, and is 5-10x slower there; a floor takes the faster way).
* Transcendentals are given by the caller as ``(name, shape, count)`` per step, e.g.
  ``("tanh", (256, 64), 16)``: each is timed the same way (``np.tanh(a, out=b)``).

``fraction = floor / measured step time``; 1.0 would be a step that does nothing but its products
and its transcendentals at the speed NumPy's BLAS and ufuncs reach alone. The floor leaves out, by
design, the bias sums, the element-wise arithmetic and the optimizer (Adam's update is about ten
passes over the parameters), so a step cannot reach 1.0; the gap is what plumbing costs.

Used by ``bench_realnvp.py``, ``bench_maf.py`` and ``bench_maf_digits.py`` (imported as
``step_floor`` from the bench folder, which Python puts on the path when it runs a script there).
"""
import time

import numpy as np

TRANSCENDENTALS = {"exp": np.exp, "tanh": np.tanh, "log": np.log, "log1p": np.log1p}


def linear_shapes(module):
    """(in, out) of every Linear layer in ``module``'s tree, in tree order (a 2-D ``weight``)."""
    weights = [part._own_params.get("weight") for part in module.modules()]
    return [tuple(weight.shape) for weight in weights if weight is not None and np.ndim(weight) == 2]


def step_gemms(shapes, batch):
    """The step's products as ``{(m, k, n, layout): count}`` for Linear shapes and batch N.

    ``layout`` names the operands' memory order: "nn" (forward), "tn" (xᵀ @ g: the left operand a
    transposed view), "nt" (g @ Wᵀ: the right operand a transposed view).
    """
    gemms = {}
    for fan_in, fan_out in shapes:
        for key in ((batch, fan_in, fan_out, "nn"),        # y = x @ W
                    (fan_in, batch, fan_out, "tn"),        # dL/dW = xᵀ @ g
                    (batch, fan_out, fan_in, "nt")):       # dL/dx = g @ Wᵀ
            gemms[key] = gemms.get(key, 0) + 1
    return gemms


def _operands(m, k, n, layout, dtype, rng):
    left = rng.standard_normal((k, m) if layout == "tn" else (m, k)).astype(dtype)
    right = rng.standard_normal((n, k) if layout == "nt" else (k, n)).astype(dtype)
    return (left.T if layout == "tn" else left), (right.T if layout == "nt" else right)


def best_seconds(call, budget=0.001, blocks=15):
    """Seconds per ``call()``: the best of ``blocks`` blocks of calls, each about ``budget`` s."""
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    repeats = max(1, int(budget / once))
    best = np.inf
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(repeats):
            call()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def time_gemms(gemms, dtype):
    """Per shape: its FLOPs per call, measured seconds per call and GFLOP/s (matmul or dot)."""
    rng = np.random.default_rng(0)
    rows = []
    for (m, k, n, layout), count in gemms.items():
        left, right = _operands(m, k, n, layout, dtype, rng)
        out = np.empty((m, n), dtype=dtype)
        seconds = min(best_seconds(lambda: np.matmul(left, right, out=out)),
                      best_seconds(lambda: np.dot(left, right, out=out)))
        flops = 2 * m * k * n
        rows.append({"shape": f"({m}x{k})@({k}x{n}){layout}", "count": count, "flops": flops,
                     "seconds": seconds, "gflops": flops / seconds / 1e9})
    return rows


def time_transcendentals(calls, dtype):
    """Per ``(name, shape, count)``: measured seconds per call of ``np.<name>(a, out=b)``."""
    rng = np.random.default_rng(1)
    rows = []
    for name, shape, count in calls:
        function = TRANSCENDENTALS[name]
        values = rng.uniform(0.1, 0.9, size=shape).astype(dtype)      # in every function's domain
        out = np.empty_like(values)
        seconds = best_seconds(lambda: function(values, out=out))
        rows.append({"function": name, "shape": list(shape), "count": count, "seconds": seconds})
    return rows


def step_floor(model, batch, dtype, transcendentals):
    """The floor of one step of ``model`` (a Module) at batch N in ``dtype``, measured now.

    Returns a dict: ``gemm_gflop`` (the step's product FLOPs / 1e9), ``gemm_ms`` (their time at
    the measured rates), ``transcendental_ms``, ``floor_ms`` (the sum), and the per-shape rows.
    """
    dtype = np.dtype(dtype)
    gemm_rows = time_gemms(step_gemms(linear_shapes(model), batch), dtype)
    function_rows = time_transcendentals(transcendentals, dtype)
    gemm_s = sum(row["count"] * row["seconds"] for row in gemm_rows)
    function_s = sum(row["count"] * row["seconds"] for row in function_rows)
    return {"gemm_gflop": sum(row["count"] * row["flops"] for row in gemm_rows) / 1e9,
            "gemm_ms": 1e3 * gemm_s, "transcendental_ms": 1e3 * function_s,
            "floor_ms": 1e3 * (gemm_s + function_s),
            "gemms": [_in_microseconds(row) for row in gemm_rows],
            "transcendentals": [_in_microseconds(row) for row in function_rows]}


def _in_microseconds(row):
    """A timing row with ``seconds`` per call shown as ``us`` (microseconds), rounded."""
    shown = {key: value for key, value in row.items() if key != "seconds"}
    shown["us"] = round(row["seconds"] * 1e6, 2)
    if "gflops" in shown:
        shown["gflops"] = round(shown["gflops"], 2)
    return shown


def floor_fields(floor, step_seconds, cpu_step_seconds):
    """The summary figures a bench prints: floor and step in ms, and floor / step.

    ``floor_fraction`` divides by the wall-clock step; ``floor_fraction_cpu`` by the step's CPU
    time, which other jobs on a shared machine disturb less (the floor is a best-of timing).
    """
    return {"floor_ms": round(floor["floor_ms"], 4), "floor_gemm_ms": round(floor["gemm_ms"], 4),
            "floor_transcendental_ms": round(floor["transcendental_ms"], 4),
            "gemm_gflop_per_step": round(floor["gemm_gflop"], 5),
            "step_ms": round(1e3 * step_seconds, 4),
            "floor_fraction": round(floor["floor_ms"] / (1e3 * step_seconds), 3),
            "floor_fraction_cpu": round(floor["floor_ms"] / (1e3 * cpu_step_seconds), 3)}


FLOOR_KEYS = ("floor_ms", "floor_gemm_ms", "floor_transcendental_ms", "step_ms", "floor_fraction",
              "floor_fraction_cpu")


def floor_summary(results):
    """Means over the seeds of the floor figures each numpy child measured in its own process,
    and the per-seed fractions."""
    summary = {key + "_mean": round(float(np.mean([r[key] for r in results])), 4)
               for key in FLOOR_KEYS}
    summary["floor_fraction"] = [r["floor_fraction"] for r in results]
    summary["gemm_gflop_per_step"] = results[0]["gemm_gflop_per_step"]
    return summary
