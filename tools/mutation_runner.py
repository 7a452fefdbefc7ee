"""Running mutants: temporary copies of the repository, one forked pytest per mutant, timeouts.

Used by ``tools/mutate.py``. This module imports NumPy, SciPy, Matplotlib, Hypothesis and pytest
once; every run is a fork of the process that did, so no run pays for those imports again. It
never imports ``scratchflow`` or the tests: each child imports them from its own copy.
"""
import os
import shutil
import signal
import sys
import time

import matplotlib
matplotlib.use("Agg")
import hypothesis  # noqa: E402,F401  (imported once here, shared by every forked run)
import matplotlib.pyplot  # noqa: E402,F401
import numpy  # noqa: E402,F401
import pytest  # noqa: E402
import scipy.special  # noqa: E402,F401
import scipy.stats  # noqa: E402,F401
from hypothesis import HealthCheck, settings  # noqa: E402

# first pass: few examples per Hypothesis test; the survivors run again with the suite's profile
settings.register_profile("mutation", max_examples=10, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


def copy_repository(root, destination):
    """Copy what the tests need (library, course package, tests, bench, docs, exercises, solutions,
    notebooks, README and setup files)."""
    ignore = shutil.ignore_patterns("__pycache__", ".git", ".hypothesis", "*.egg-info", "build")
    for name in ("scratchflow", "scratchflow_course", "tests", "bench", "docs", "exercises", "solutions",
                 "notebooks"):
        if not os.path.isdir(os.path.join(root, name)):
            continue
        shutil.copytree(os.path.join(root, name), os.path.join(destination, name), ignore=ignore)
    for name in ("setup.cfg", "setup.py", "pyproject.toml", "README.md", "LICENSE"):
        if os.path.exists(os.path.join(root, name)):
            shutil.copy(os.path.join(root, name), destination)


def fork(copy_dir, run):
    """Run ``run()`` in a forked child with cwd ``copy_dir`` and output silenced; return its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        os.setpgid(0, 0)
        os.chdir(copy_dir)
        sys.path.insert(0, copy_dir)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        code = int(run())
    finally:
        os._exit(code)


def _pytest_with_profile(args, profile):
    os.environ["HYPOTHESIS_PROFILE"] = profile   # read by tests/conftest.py
    return pytest.main(args)


def run_mutants(jobs, durations, slots, timeout_factor, profile):
    """Run each job (mutant, tests) in a free slot (a copy of the repository), one forked pytest
    per mutant; a run longer than 30 s + ``timeout_factor`` x the tests' own time is killed.
    Return {mutant: (outcome, seconds)}."""
    outcomes, running, queue = {}, {}, list(jobs)
    free = list(slots)
    while queue or running:
        while queue and free:
            mutant, tests = queue.pop(0)
            slot = free.pop()
            path = os.path.join(slot, mutant.path)
            with open(path) as handle:
                original = handle.read()
            with open(path, "w") as handle:
                handle.write(mutant.apply(original))
            budget = sum(durations.get(test, 1.0) for test in tests)
            args = ["-x", "-q", "-p", "no:cacheprovider", *tests]
            pid = fork(slot, lambda: _pytest_with_profile(args, profile))
            running[pid] = (mutant, slot, path, original, time.monotonic(),
                            30.0 + timeout_factor * budget)
        time.sleep(0.02)
        for pid, (mutant, slot, path, original, start, limit) in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            elapsed = time.monotonic() - start
            if not done and elapsed < limit:
                continue
            if not done:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                outcome = "killed (timeout)"
            else:
                code = os.waitstatus_to_exitcode(status)
                outcome = {0: "survived", 1: "killed", 2: "killed (import or collection)",
                           3: "killed (pytest internal error)",
                           4: "killed (import or collection)"}.get(
                    code, f"error (pytest exit {code})")
            with open(path, "w") as handle:
                handle.write(original)
            outcomes[mutant] = (outcome, round(elapsed, 2))
            print(f"{outcome:32s} {mutant.name}", flush=True)
            del running[pid]
            free.append(slot)
    return outcomes
