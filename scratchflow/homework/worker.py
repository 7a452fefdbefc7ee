"""Run probes on variants of the package in one process: the reference, the stubs, each mutant.

    python -c "import sys; sys.path.insert(0, ROOT); from scratchflow.homework.worker import main; main()" JOB

``JOB`` (JSON): ``{"root": folder holding the scratchflow package, "out": folder, "variants":
[{"name": ..., "files": {"scratchflow/...py": text}, "tasks": [...]}], "seeds": [...]}``. Each
variant is the package with those files replaced, imported afresh (the previous variant's
modules are dropped), its tasks' probes run at every seed; the outputs go to
``out/<name>.npz`` as ``<seed>/<task>/<probe>/<output>`` (``.../__error__``: the exception, as
text). Data only: the caller reads it with ``allow_pickle=False``.
"""
import json
import os
import shutil
import sys
import tempfile
import traceback


def _fresh_package(root, files, folder):
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(os.path.join(root, "scratchflow"), os.path.join(folder, "scratchflow"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for relative, text in files.items():
        with open(os.path.join(folder, relative), "w", encoding="utf-8") as handle:
            handle.write(text)
    for name in [name for name in sys.modules if name == "scratchflow" or name.startswith("scratchflow.")]:
        del sys.modules[name]
    sys.path[:] = [folder] + [p for p in sys.path if p not in (root, "")]


def _run_variant(variant, seeds):
    import numpy as np                          # local import: after the variant's package is on sys.path
    from scratchflow.homework import all_probes  # local import: the variant's copy, imported afresh
    from scratchflow.homework.verdict import error_text  # local import: the variant's copy
    probes = all_probes()
    outputs = {}
    for seed in seeds:
        for task in variant["tasks"]:
            for name, function, _ in probes[task]:
                key = f"{seed}/{task}/{name}"
                try:
                    with np.errstate(all="ignore"):     # a mutant's NaN is an output, not news
                        result = function(seed)
                    for output, value in result.items():
                        outputs[f"{key}/{output}"] = np.asarray(value)
                except Exception as error:
                    outputs[f"{key}/__error__"] = np.array(error_text(error))
    return outputs


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding="utf-8") as handle:
        job = json.load(handle)
    sys.dont_write_bytecode = True
    work = tempfile.mkdtemp(prefix="scratchflow-variants-")
    try:
        for index, variant in enumerate(job["variants"]):
            _fresh_package(job["root"], variant["files"], os.path.join(work, str(index)))
            try:
                outputs = _run_variant(variant, job["seeds"])
            except Exception:
                outputs = {"__import__/__error__": traceback.format_exc()}
            import numpy as np                  # local import: numpy stays loaded across variants
            np.savez(os.path.join(job["out"], f"{variant['name']}.npz"),
                     **{k: np.asarray(v) for k, v in outputs.items()})
    finally:
        shutil.rmtree(work, ignore_errors=True)
