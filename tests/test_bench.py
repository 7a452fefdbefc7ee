"""Smoke runs of the benchmark scripts in bench/ on tiny workloads (numpy halves only).

Each script runs as its own process, the way a reader runs it, with the repository root on
``PYTHONPATH`` so that a clean clone needs no install. No timing is asserted (timings belong to
bench/); each run must finish and print JSON lines with finite figures.
"""
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow           # whole processes: ``pytest -m "not slow"`` leaves them out
HAS_TORCH = importlib.util.find_spec("torch") is not None
FLOOR_KEYS = ("floor_ms_mean", "step_ms_mean", "floor_fraction_mean", "floor_fraction_cpu_mean")


def assert_floor(line):
    """The floor figures are there, positive, and the fraction is floor / step."""
    for key in FLOOR_KEYS:
        assert np.isfinite(line[key]) and line[key] > 0, key
    assert line["floor_fraction_mean"] == pytest.approx(line["floor_ms_mean"] / line["step_ms_mean"],
                                                        rel=0.02, abs=1e-3)   # printed to 3 places


def run_script(name, *args):
    """Run bench/<name>.py with ``args``; return its stdout's JSON lines."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    result = subprocess.run([sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
                            capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.strip().splitlines()]


def test_bench_realnvp_prints_one_json_line():
    lines = run_script("bench_realnvp", "--backends", "numpy", "--seeds", "0", "--steps", "3",
                       "--n-train", "600", "--n-test", "50", "--n-samples", "20", "--dtype", "float64")
    assert len(lines) == 1
    line = lines[0]
    assert line["backend"] == "numpy" and line["dtype"] == "float64" and line["threads"] == 1
    assert np.isfinite(line["test_nll_mean"]) and line["steps_per_s_mean"] > 0
    assert_floor(line)
    assert line["peak_rss_mb"] > 0
    assert line["straight_line_ms_mean"] > 0 and line["straight_line_cpu_ms_mean"] > 0


def test_straight_line_step_computes_the_library_loss_and_gradients():
    """The straight Real-NVP step is a ceiling only if it does the library's work: same loss, same
    gradient in every parameter (float64: the same operations in the same order)."""
    (line,) = run_script("straight_line_realnvp", "--dtype", "float64", "--steps", "3",
                         "--rounds", "1")
    assert line["loss_gap"] < 1e-12 and line["max_grad_gap"] < 1e-12
    assert line["library_ms"] > 0 and line["straight_line_ms"] > 0


@pytest.mark.parametrize("workload", ["8gaussians", "digits"])
def test_straight_line_maf_step_computes_the_library_loss_and_gradients(workload):
    (line,) = run_script("straight_line_maf", "--workload", workload, "--dtype", "float64",
                         "--steps", "5", "--rounds", "1")
    assert line["workload"] == workload
    assert line["loss_gap"] < 1e-10 and line["max_grad_gap"] < 1e-12


@pytest.mark.skipif(HAS_TORCH, reason="checks the message printed when torch is missing")
def test_bench_realnvp_says_the_torch_side_was_skipped_and_why():
    lines = run_script("bench_realnvp", "--seeds", "0", "--steps", "2", "--n-train", "600",
                       "--n-test", "50", "--n-samples", "20", "--dtype", "float64")
    assert len(lines) == 1 and lines[0]["backend"] == "numpy"
    assert lines[0]["torch"].startswith("skipped: torch is not installed")


def test_bench_maf_prints_finite_figures():
    lines = run_script("bench_maf", "--backends", "numpy", "--seeds", "0", "--steps", "3",
                       "--batch", "16", "--n-train", "100", "--n-test", "50", "--n-samples", "20")
    assert [line["dtype"] for line in lines] == ["float64", "float32"]     # both by default
    numpy_line = lines[-1]["numpy"]
    assert np.isfinite(numpy_line["test_nll"]) and numpy_line["steps_per_s"] > 0
    assert_floor(numpy_line)
    assert numpy_line["straight_line_ms"] > 0


def test_bench_autoregressive_scaling_counts_made_passes():
    lines = run_script("bench_autoregressive_scaling", "--dims", "3", "--hidden", "8", "--batch",
                       "16", "--repeats", "1")
    text = json.dumps(lines)
    assert "made_passes_density" in text and "made_passes_sampling" in text


def test_bench_maf_digits_prints_finite_figures():
    lines = run_script("bench_maf_digits", "--backends", "numpy", "--seeds", "0", "--steps", "2",
                       "--batch", "16")
    assert np.isfinite(lines[-1]["numpy"]["test_nll_logit"])
    assert_floor(lines[-1]["numpy"])
    assert lines[-1]["numpy"]["straight_line_ms"] > 0


def test_bench_nsf_prints_one_json_line_with_zuko_skipped():
    lines = run_script("bench_nsf", "--no-zuko", "--seeds", "0", "--steps", "3", "--data",
                       "checkerboard", "--n-train", "300", "--n-test", "50", "--layers", "1",
                       "--hidden", "8")
    assert len(lines) == 1
    line = lines[0]
    assert line["zuko"].startswith("skipped")
    for variant in ("numpy-coupling", "numpy-autoregressive"):
        assert np.isfinite(line["checkerboard"][variant]["test_nll"])


def test_bench_image_digits_prints_bits_per_dim_of_the_four_models():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_image_digits.py"), "--part",
                             "train", "--steps", "2", "--seeds", "0"], capture_output=True,
                            text=True, env=env, cwd=str(ROOT), timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line.split("|") for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    assert [row[1].strip() for row in rows] == ["realnvp-multiscale", "glow", "realnvp", "maf"]
    counts = [int(row[2]) for row in rows]
    assert max(counts) < 1.1 * min(counts)                     # matched parameter counts
    assert all(0 < float(row[3]) < 10 for row in rows)         # bits/dim of 17-level pixels


def test_hand_loop_threads_prints_both_step_times():
    (line,) = run_script("hand_loop_threads", "--steps", "3", "--busy", "1")
    assert line["fit_ms_per_step"] > 0 and line["hand_loop_ms_per_step"] > 0
    assert line["ratio"] == pytest.approx(line["hand_loop_ms_per_step"] / line["fit_ms_per_step"],
                                          rel=0.01)
    assert line["busy_processes"] == 1 and line["library_limit"] is True
