"""The child process of the grader: run one task's runners on the student's module, send outputs.

    python -I -S -B -c BOOTSTRAP LIB_FOLDER OUTPUT_FD READY_FD

``-I -S``: no environment variables, no user site, no ``site`` module, so no ``.pth`` file runs; the
grader sends the folders to import from. The grader writes the job to stdin: one line of JSON (the
student module's name, the sandbox, the checks as ``{"key", "runner"}``, the uid, the limits, the
import paths) and then the inputs as ``.npz`` bytes. While
still the user that started it, the child reads all of that, imports NumPy, the package (from the
grader's fresh copy for this task in ``LIB_FOLDER``: the stubbed library with the task's regions of the student) and the runners (from a folder only root may enter); then
it sets its resource limits, drops to the task's unprivileged uid (when started as root), enters
the sandbox, writes "walls up" on ``READY_FD`` and closes it, and only then imports the student's
file (a child that ends before that failed on the grader's side). For each check it sends back, as ``.npz`` on
``OUTPUT_FD`` (read with ``allow_pickle=False`` by the grader), either the arrays the runner
returned or a ``<key>/__error__`` message, each call made as the exercise generator makes it
(:func:`scratchflow_course.probe_run.run_probe`). It never decides whether a check passed: whatever this
process writes can at worst lose points.
"""
import importlib
import io
import json
import os
import sys
import traceback

from scratchflow_course.grading.namespaces import expose, hide_without_root, isolate
from scratchflow_course.grading.walls import drop_privileges, limit_resources

BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv[1]); "
             "from scratchflow_course.grading.child import main; main(int(sys.argv[2]), int(sys.argv[3]))")


def _read_job(stream):
    header = stream.readline()
    job = json.loads(header.decode("utf-8"))
    return job, stream.read()


def _enter_walls(job):
    """Namespaces, limits, then the uid, then the sandbox: after this nothing here is privileged."""
    if job["isolate"]:
        isolate(job["sandbox"], job["uid"])
    if job["expose"]:
        expose(job["expose"], job["private"])
    if job["hide"]:
        hide_without_root(job["hide"], job["keep"], job["sandbox"])
    limit_resources(job["cpu_seconds"], job["uid"] is not None)
    if job["uid"] is not None:
        drop_privileges(job["uid"])
    os.chdir(job["sandbox"])
    sys.path.insert(0, job["sandbox"])


def _run_checks(job, runners, inputs_file):
    # local import: NumPy, and the course modules that use it, are on sys.path only once main has
    # added the job's paths (the child starts with -S)
    import numpy as np
    from scratchflow_course.homework.verdict import error_text    # local import: as NumPy
    from scratchflow_course.probe_run import ERROR, run_probe      # local import: as NumPy
    student_files = job.get("student_files", [])
    try:
        student, import_error = importlib.import_module(job["module"]), None
    except BaseException as error:                       # SyntaxError, SystemExit, anything
        student, import_error = None, "importing your file failed:\n" + error_text(error, student_files)
    outputs = {}
    for check in job["checks"]:
        key = check["key"]
        if import_error is not None:
            outputs[f"{key}/{ERROR}"] = np.array(import_error)
            continue
        prefix = key + "/"
        inputs = {name[len(prefix):]: inputs_file[name] for name in inputs_file.files if name.startswith(prefix)}
        outputs.update(run_probe(key, lambda: runners[key](student, inputs), student_files))
    return outputs


def main(output_fd, ready_fd):
    job, payload = _read_job(sys.stdin.buffer)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.path[1:1] = job["paths"]                          # started with -S: no site hooks ran
    # local import: NumPy is on sys.path from the line above; the checks' harness and the runners
    # (from the grader's private folder) are loaded before the walls go up
    import numpy as np
    import scratchflow_course.probe_run                   # local import: as NumPy, above
    sys.path.insert(0, job["private"])
    import _grader_runners                                # local import: as NumPy, above
    sys.path.remove(job["private"])
    runners = {check["key"]: _grader_runners.RUNNERS[check["runner"]] for check in job["checks"]}
    inputs_file = np.load(io.BytesIO(payload), allow_pickle=False)
    status = 0
    try:
        _enter_walls(job)
        os.write(ready_fd, b"walls up")                  # what fails before this is the grader's
        os.close(ready_fd)
        outputs = _run_checks(job, runners, inputs_file)
        sys.stdout.flush()
        buffer = io.BytesIO()
        np.savez(buffer, **outputs)
        data = memoryview(buffer.getvalue())
        while data:
            data = data[os.write(output_fd, data):]
    except BaseException:                                # the harness itself failed: say so on stderr
        traceback.print_exc()
        status = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)                              # skip atexit handlers the student registered
