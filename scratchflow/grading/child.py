"""The child process of the grader: run one task's checks on the student's module, report outputs.

    python -m scratchflow.grading.child SANDBOX

``SANDBOX`` holds ``job.json`` (the student module's name and the checks to run), ``inputs.npz``
(the inputs the grader made), ``_grader_checks.py`` (the grader's copy of the tests), the student's
file for this task and nothing else of the submission. The child writes ``outputs.npz``: for each
check either the arrays its ``run`` returned or an ``<key>/__error__`` message. It never decides
whether a check passed; the grader compares the arrays with the reference in its own process, so
whatever this process (or the student code in it) writes can at worst lose points.
"""
import json
import os
import sys
import traceback

OUTPUT_FILE_LIMIT = 64 * 2 ** 20      # bytes any file (and so the captured stdout) may grow to
MEMORY_LIMIT = int(os.environ.get("SCRATCHFLOW_GRADE_MEMORY_MB", "2048")) * 2 ** 20   # address space


def _limit_resources():
    """Cap file size (a print loop cannot fill the disk), memory, and core dumps."""
    try:
        import resource
    except ImportError:                                  # not on POSIX: no limits
        return
    for limit, value in ((resource.RLIMIT_FSIZE, OUTPUT_FILE_LIMIT), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_AS, MEMORY_LIMIT)):
        try:
            soft, hard = resource.getrlimit(limit)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(limit, (value, value))    # the student cannot raise it again
        except (ValueError, OSError):                    # already lower, or not allowed here
            pass


def _describe(error, student_file=None):
    """A short, readable message for an exception raised by student code.

    Only the frames of the student's own file are shown (the grader's test code stays private).
    """
    if isinstance(error, SystemExit):
        return f"the code called sys.exit({error.code!r})"
    frames = traceback.extract_tb(error.__traceback__)
    if student_file is not None:
        frames = [frame for frame in frames if os.path.basename(frame.filename) == student_file]
    lines = traceback.format_list(frames[-4:])
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).replace(os.getcwd() + os.sep, "")[-1500:]


def main(sandbox):
    _limit_resources()
    os.chdir(sandbox)
    sys.path.insert(0, sandbox)
    import numpy as np
    numpy_errors = np.geterr()

    with open("job.json", encoding="utf-8") as handle:
        job = json.load(handle)
    outputs = {}
    import importlib
    checks_module = importlib.import_module("_grader_checks")
    by_key = {check.key: check for check in checks_module.CHECKS}
    inputs_file = np.load("inputs.npz", allow_pickle=False)

    def fresh_inputs(key):
        prefix = key + "/"
        return {name[len(prefix):]: inputs_file[name] for name in inputs_file.files if name.startswith(prefix)}

    student_file = job["module"] + ".py"
    try:
        student = importlib.import_module(job["module"])
        import_error = None
    except BaseException as error:                       # SyntaxError, SystemExit, anything
        student, import_error = None, "importing your file failed:\n" + _describe(error, student_file)

    for key in job["checks"]:
        np.seterr(**numpy_errors)                          # undo global changes the student made
        if import_error is not None:
            outputs[f"{key}/__error__"] = np.array(import_error)
            continue
        try:
            result = by_key[key].run(student, fresh_inputs(key))
            for name, value in result.items():
                array = np.asarray(value)
                if array.dtype.kind not in "biuf":
                    raise TypeError(f"output {name!r} is not a numeric array (dtype {array.dtype})")
                outputs[f"{key}/{name}"] = array
        except BaseException as error:
            outputs[f"{key}/__error__"] = np.array(_describe(error, student_file))

    sys.stdout.flush()
    path = job["outputs"]
    partial = path + ".partial"
    with open(partial, "wb") as handle:
        np.savez(handle, **outputs)
    os.replace(partial, path)


if __name__ == "__main__":
    status = 0
    try:
        main(sys.argv[1])
    except BaseException:                             # the harness itself failed: say so on stderr
        traceback.print_exc()
        status = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)                          # skip atexit handlers the student registered
