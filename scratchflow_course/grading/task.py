"""Grade one task of one submission: the task's package, the inputs, one child, the verdicts.

1. compose the package the child imports: the stubbed library with the student's regions of this
   task only (:mod:`scratchflow_course.grading.package`), laid out as a fresh copy of its own; a missing
   file or a mangled marker scores zero for the task and says so;
2. make the inputs of the task's checks here, from an rng seeded by the submission's seed (a
   regrade gives the same score; a public check takes the homework's public seed from it and an
   unknown one);
3. run one child (:mod:`scratchflow_course.grading.child`) that imports that package, in a fresh empty
   sandbox, behind the walls of :mod:`scratchflow_course.grading.walls`: job and inputs in through its
   stdin, outputs back through a pipe;
4. after it: kill every process it left (its group; as root, every process of its uid; the grader
   is the child subreaper for the rest), remove what its uid left in the world-writable folders;
5. compare its outputs here with the reference run on the same inputs. A missing output, an
   exception, a timeout, forged bytes: zero for the checks concerned, with a readable message.
"""
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import zlib

import numpy as np

from scratchflow_course.grading.child import BOOTSTRAP
from scratchflow_course.grading.library import Library
from scratchflow_course.grading.namespaces import closed_folders, python_paths
from scratchflow_course.grading.outputs import OUTPUTS_LIMIT, clip, read_outputs, tail
from scratchflow_course.grading.package import compose
from scratchflow_course.grading.submission import SubmissionProblem
from scratchflow_course.grading.processes import Guard, kill_uid, run_child
from scratchflow_course.grading.results import GraderFailure
from scratchflow_course.grading.walls import sweep_files, sweep_sysv


def check_seed(base, check):
    return np.random.default_rng([base, zlib.crc32(check.name.encode()), zlib.crc32(check.task.encode())])


def hash_contents(named_contents):
    digest = hashlib.sha256()
    for name, data in named_contents:
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest()


def _make_sandbox(grader, task, files, uid):
    sandbox = tempfile.mkdtemp(prefix=f"{task.id}-", dir=grader.sandboxes)
    for name, data in files:
        with open(os.path.join(sandbox, name), "wb") as handle:
            handle.write(data)
    if uid is not None:
        for name in [""] + [name for name, _ in files]:
            os.chown(os.path.join(sandbox, name), uid, uid)
        os.chmod(sandbox, 0o700)
    return sandbox


def _child_env(sandbox):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": sandbox,
            "TMPDIR": sandbox, "MPLCONFIGDIR": os.path.join(sandbox, ".matplotlib"), "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run_in_child(grader, task, checks, inputs, package_files, limit, slot):
    """Run the task's checks on its package in one child; return ``(ChildRun, stdout, stderr)``."""
    uid = grader.walls.uid(slot)
    sandbox = _make_sandbox(grader, task, [], uid)
    logs = tempfile.mkdtemp(prefix=f"{task.id}-", dir=grader.logs)
    library = Library(tempfile.mkdtemp(prefix=f"{task.id}-", dir=grader.packages), package_files,
                      grader.files["autograder/runners.py"])
    os.chmod(library.folder, 0o711)
    job = {"module": "scratchflow", "student_files": list(task.files), "sandbox": sandbox, "private": library.private,
           "checks": [{"key": c.key, "runner": c.run.__name__} for c in checks], "uid": uid,
           "expose": closed_folders(python_paths() + [library.lib]) if uid is not None else [],
           "hide": grader.hide + [library.private] if grader.walls.user_namespace else [],
           "keep": [[path, True] for path in grader.child_paths + [library.lib]],
           "paths": grader.child_paths,
           "cpu_seconds": limit, "isolate": uid is not None and grader.walls.isolated}
    flat = {f"{key}/{name}": np.asarray(value) for key, arrays in inputs.items() for name, value in arrays.items()}
    buffer = io.BytesIO()
    np.savez(buffer, **flat)
    payload = json.dumps(job).encode("utf-8") + b"\n" + buffer.getvalue()
    command = [sys.executable, "-I", "-S", "-B", "-c", BOOTSTRAP, library.lib]
    stdout_path, stderr_path = os.path.join(logs, "stdout.txt"), os.path.join(logs, "stderr.txt")
    try:
        with Guard():                    # on leaving: kill what left the process group
            run = run_child(command, payload, sandbox, _child_env(sandbox), limit, stdout_path, stderr_path,
                            OUTPUTS_LIMIT)
            if uid is not None:
                kill_uid(uid)
                sweep_files(uid)
                sweep_sysv(uid)
        return run, tail(stdout_path), tail(stderr_path)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
        shutil.rmtree(library.folder, ignore_errors=True)


def run_twice(grader, task, checks, inputs, package_files, limit, slot):
    """``_run_in_child``, once more if the child never ran student code (it ended, or ran out of
    time, before it reported its walls up) or the grader could not lay out its files; a second
    such failure is the grader's: :class:`GraderFailure`, never the student's zero."""
    problems = []
    for _ in range(2):
        try:
            run, stdout, stderr = _run_in_child(grader, task, checks, inputs, package_files, limit, slot)
        except OSError as error:                       # the grader's own folder: no space, ...
            problems.append(f"the grader could not lay out the task's files ({error})")
            continue
        if run.walls_up:
            return run, stdout, stderr
        problems.append(f"its process ended (exit code {run.returncode}"
                        + (", time limit" if run.timed_out else "") + ") before student code ran"
                        + (f": {stderr.strip()[-400:]}" if stderr.strip() else ""))
    raise GraderFailure(f"task {task.id!r}, tried twice: " + "; ".join(problems))


def _reference(grader, task, check, inputs):
    """The reference's outputs of ``check`` on ``inputs``: run once per grader and inputs (every
    submission of a batch graded at one seed, every task of a regrade), then a fresh copy each time."""
    key = (check.key, hash_contents((name, np.asarray(value).dtype.str.encode()
                                      + str(np.shape(value)).encode() + np.asarray(value).tobytes())
                                     for name, value in sorted(inputs.items())))
    if key not in grader.reference_outputs:
        outputs = check.run(grader.references[task.id], inputs)
        grader.reference_outputs[key] = None if outputs is None else \
            {name: np.array(value) for name, value in outputs.items()}
    stored = grader.reference_outputs[key]
    return None if stored is None else {name: value.copy() for name, value in stored.items()}


def _judge(grader, task, check, inputs, grouped, run, limit, logs):
    """(passed, message) of one check, from the outputs the child sent."""
    if run.timed_out:
        return False, (f"time limit: the task did not finish within {limit:g} s (an infinite loop? "
                       "a loop over samples?) and was stopped")
    if grouped is None:
        detail = logs[1].strip() or logs[0].strip()
        return False, (f"the task's process ended (exit code {run.returncode}) before reporting results"
                       + (f"; its last output:\n{detail}" if detail else ""))
    outputs = grouped.get(check.key)
    if outputs is None:
        return False, "no result was reported for this check"
    if "__error__" in outputs and check.evaluate is None:      # an evaluate judges errors too (hints)
        return False, "your code raised an error:\n" + str(outputs["__error__"])
    # the reference runs outside the try: an error there is the grader's, and fails loudly
    reference = _reference(grader, task, check, inputs)
    try:
        return check.evaluate(outputs, inputs, reference)
    except Exception as error:                        # outputs shaped to trip the comparison
        return False, (f"your outputs could not be compared with the expected ones "
                       f"({type(error).__name__}: {error})")


def grade_task(grader, task, submission, hidden, seed, time_limit, cache=None, slot=0, package=None):
    """Grade one task; return a list of entries ``{"check", "passed", "output"}``, one per check.

    ``time_limit``: seconds, or a dict task id -> seconds, or None (the task's own limit).
    ``cache``: an optional dict shared between calls. A task whose file, checks, reference and seed
    are byte-for-byte the same as before reuses the earlier verdicts (if they came within the time
    limit). ``slot``: which unprivileged uid the child gets (tasks graded at once differ).
    ``package``: :func:`~scratchflow_course.grading.package.compose`'s result for this task, if the
    caller composed it already.
    """
    checks = grader.task_checks(task, hidden)
    if isinstance(time_limit, dict):
        time_limit = time_limit.get(task.id)
    limit = float(time_limit if time_limit is not None else task.time_limit)

    def entries(result_for):
        return [{"check": c, "passed": bool(passed), "output": clip(message)}
                for c in checks for passed, message in [result_for(c)]]

    package_files = package if package is not None else compose(grader.stubbed, submission, task)
    if isinstance(package_files, SubmissionProblem):
        return entries(lambda c: (False, f"zero for this task: {package_files}"))
    files = sorted((name, package_files[name]) for name in task.files)     # the rest is the stubs'
    cache_key = None
    if cache is not None:
        cache_key = (task.id, hidden, seed, tuple(c.name for c in checks),
                     hash_contents(files + [("reference", grader.reference_digest),
                                             ("checks", grader.files["autograder/checks.py"]),
                                             ("runners", grader.files["autograder/runners.py"])]))
        if cache_key in cache and cache[cache_key][1] <= limit:   # it finished within this limit
            return [dict(entry) for entry in cache[cache_key][0]]
    inputs = {c.key: c.make_inputs(check_seed(seed, c)) for c in checks}
    run, *logs = run_twice(grader, task, checks, inputs, package_files, limit, slot)
    grouped = None if run.timed_out else read_outputs(run.output, [c.key for c in checks])
    result = entries(lambda c: _judge(grader, task, c, inputs[c.key], grouped, run, limit, logs))
    if cache is not None and not run.timed_out:
        cache[cache_key] = ([dict(entry) for entry in result], run.seconds)
    return result
