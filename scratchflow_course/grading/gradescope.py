"""Gradescope's entry point: the last line of ``run_autograder`` is

    exec /autograder/source/.venv/bin/python -I /autograder/source/scratchflow_course/grading/gradescope.py /autograder

(``.venv``: the environment ``setup.sh`` made; ``-I``: no PYTHONPATH, no user site, not the working
folder on ``sys.path``; ``exec``: bash is gone,
so nothing appended to ``run_autograder`` later is ever read). Gradescope's layout under ROOT:
``source/`` holds the zip's contents (``scratchflow/``, ``solutions/``), ``submission/`` the
student's files, ``submission_metadata.json`` the submission's id (it seeds the hidden checks), and
``results/results.json`` is what Gradescope reads back.

Only the standard library is imported before the grader: if the grader cannot even be imported
(a missing NumPy), a valid results file with score 0 and the error still appears.
"""
import json
import os
import sys
import traceback


def _write_failure(path, text):
    """The failure results, written atomically with the standard library alone (the grader's
    writer, :func:`scratchflow.atomic.write_atomically`, needs the package, which may be what failed)."""
    results = {"score": 0.0, "max_score": 0.0, "visibility": "visible",
               "output": "The autograder failed; this is not your fault. Please tell your instructor.",
               "tests": [{"name": "autograder failed", "score": 0.0, "max_score": 0.0, "visibility": "visible",
                          "output": text[-2000:]}]}
    temporary = path + ".failed"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    os.replace(temporary, path)


def main(root):
    results = os.path.join(root, "results", "results.json")
    os.makedirs(os.path.dirname(results), mode=0o755, exist_ok=True)
    try:
        sys.path[0] = os.path.join(root, "source")       # the bundle's package, not this script's folder
        # local import: only the standard library before the grader, so that a grader that
        # cannot be imported still ends in a results.json that says so
        from scratchflow_course.grading.__main__ import main as grading_main
        code = grading_main(["grade", os.path.join(root, "submission"), "--hidden", "--results", results,
                             "--submission-metadata", os.path.join(root, "submission_metadata.json")])
        if code != 0 and not os.path.exists(results):
            _write_failure(results, f"the grader stopped with exit status {code}; its last line is in the log")
        return code
    except BaseException:
        traceback.print_exc()
        _write_failure(results, traceback.format_exc())
        return 1


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "/autograder")))
