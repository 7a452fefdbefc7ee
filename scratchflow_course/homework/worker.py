"""Run probes on variants of the package in one process: the reference, the stubs, each mutant.

:func:`run_variants` (the caller's side) starts it and reads what it wrote.

    python -c "import sys; sys.path.insert(0, ROOT); from scratchflow_course.homework.worker import main; main(sys.argv[1:])" JOB

``JOB`` (JSON): ``{"root": folder holding the scratchflow package, "out": folder, "variants":
[{"name": ..., "files": {"scratchflow/...py": text}, "tasks": [...]}], "seeds": [...]}``. Each
variant is the package with those files replaced, imported afresh (one working copy; the previous
variant's files are restored and its modules dropped; a rewritten file's bytecode is deleted, so
none is ever stale), its tasks' probes run at every seed, each call as the grader's child makes it
(:func:`scratchflow_course.probe_run.run_probe`); the outputs go to ``out/<name>.npz`` as
``<seed>/<task>/<probe>/<output>`` (``.../__error__``: the exception, as text). Data only: the
caller reads it with ``allow_pickle=False``.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

import numpy as np


def _write(folder, relative, text):
    """Write a source file of the working copy and drop its cached bytecode (never stale)."""
    path = os.path.join(folder, relative)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    try:
        os.remove(importlib.util.cache_from_source(path))
    except FileNotFoundError:
        pass


def _switch(root, folder, previous, files):
    """Turn the working copy from the variant ``previous`` into ``files`` and forget the imports."""
    for relative in set(previous) - set(files):
        with open(os.path.join(root, relative), encoding="utf-8") as handle:
            _write(folder, relative, handle.read())
    for relative, text in files.items():
        _write(folder, relative, text)
    for name in [name for name in sys.modules if name.split(".")[0] in ("scratchflow", "scratchflow_course")]:
        del sys.modules[name]                  # the probes hold the variant's classes: forget them too
    sys.path[:] = [folder] + [p for p in sys.path if p not in (root, "", folder)]


def _run_variant(variant, seeds):
    from scratchflow_course.homework import all_probes  # local import: the variant's copy, imported afresh
    from scratchflow_course.probe_run import run_probe  # local import: the variant's copy
    probes = all_probes()
    outputs = {}
    for seed in seeds:
        for task in variant["tasks"]:
            for name, function, _ in probes[task]:
                outputs.update(run_probe(f"{seed}/{task}/{name}", lambda: function(seed)))
    return outputs


def main(argv):
    """``argv``: [the JOB file] (the command line after the code)."""
    with open(argv[0], encoding="utf-8") as handle:
        job = json.load(handle)
    work = tempfile.mkdtemp(prefix="scratchflow-variants-")
    previous = {}
    try:
        shutil.copytree(os.path.join(job["root"], "scratchflow"), os.path.join(work, "scratchflow"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        for variant in job["variants"]:
            _switch(job["root"], work, previous, variant["files"])
            previous = variant["files"]
            try:
                outputs = _run_variant(variant, job["seeds"])
            except Exception:
                outputs = {"__import__/__error__": traceback.format_exc()}
            np.savez(os.path.join(job["out"], f"{variant['name']}.npz"),
                     **{k: np.asarray(v) for k, v in outputs.items()})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_variants(root, variants, seeds):
    """``{variant: {seed: {task: {probe: dict of arrays | error text}}}}`` from one worker process."""
    with tempfile.TemporaryDirectory(prefix="scratchflow-probes-") as out:
        job = os.path.join(out, "job.json")
        with open(job, "w", encoding="utf-8") as handle:
            json.dump({"root": root, "out": out, "variants": variants, "seeds": list(seeds)}, handle)
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from scratchflow_course.homework.worker import main; main(sys.argv[2:])")
        subprocess.run([sys.executable, "-c", code, root, job], check=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
        results = {}
        for variant in variants:
            grouped = results.setdefault(variant["name"], {})
            with np.load(os.path.join(out, variant["name"] + ".npz"), allow_pickle=False) as arrays:
                for key in arrays.files:
                    seed, task, probe, output = key.split("/")
                    probe_outputs = grouped.setdefault(int(seed) if seed.isdigit() else seed, {}) \
                        .setdefault(task, {}).setdefault(probe, {})
                    probe_outputs[output] = arrays[key]
        for grouped in results.values():                     # an error replaces the probe's outputs
            for tasks in grouped.values():
                for probes in tasks.values():
                    for probe, outputs in probes.items():
                        if "__error__" in outputs:
                            probes[probe] = str(outputs["__error__"])
        return results
