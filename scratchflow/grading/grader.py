"""The autograder: grade one submission (or a folder of them) and write Gradescope's results.json.

How one submission is graded
----------------------------
For every task of ``homework.json``:

1. find the student's file (anywhere in the submission folder; the shallowest copy wins);
2. read it without running it: if it reaches the reference implementation of the piece the task
   grades (:mod:`scratchflow.grading.scan`), the task scores zero and says so;
3. make the inputs of the task's checks in this process, from a seeded rng (public checks: the
   homework's public seed; hidden checks: the submission's seed, so a regrade gives the same score);
4. build a sandbox folder holding only the student's file, the grader's copy of the checks and the
   inputs, and run ``python -m scratchflow.grading.child`` there in a new session (its own process
   group), with stdout and stderr going to files; at the time limit the whole group is killed, and
   any process that left the group (the grader is the child subreaper while it grades) is killed
   after the task (:mod:`~scratchflow.grading.processes`); the child guards itself from the
   student's code (:mod:`~scratchflow.grading.child`);
5. read the arrays the child wrote and compare them, in this process, with the reference solution
   run on the same inputs. A missing output, an exception, a timeout, a forged file: zero for the
   checks concerned, with a readable message. Exit codes and anything else the child writes are
   ignored.

The results file is written atomically (a temporary file, then ``os.replace``), last, so a file the
student's code wrote to the same path is overwritten; if the grader itself fails, the file still
appears, with score 0 and a visible "autograder failed" test (as otter does).
"""
import csv
import hashlib
import importlib.util
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from scratchflow.grading.processes import Guard, run_child
from scratchflow.grading.scan import forbidden_uses
from scratchflow.grading.spec import load_homework, validate_checks

OUTPUT_LIMIT = 2000                   # characters of a message shown per test
_TAIL = 600                           # characters of a child's stdout/stderr quoted on failure
STUDENT_FILE_LIMIT = 1_000_000        # bytes: a larger "task file" is not source code
OUTPUTS_FILE_LIMIT = 256 * 2 ** 20    # bytes of outputs.npz the grader is willing to read
SANDBOX_PREFIX = "grade-"             # tempfile prefix of every task's sandbox folder


def default_source():
    """``solutions/`` next to the installed package (a source checkout or the autograder bundle)."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(here, "solutions")


# ---------------------------------------------------------------------------- loading
def _load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Grader:
    """The homework of one source folder: tasks, checks and reference modules, loaded once."""

    def __init__(self, source=None):
        self.source = os.path.abspath(source or default_source())
        self.homework = load_homework(self.source)
        self.checks_path = os.path.join(self.source, "autograder", "checks.py")
        for task in self.homework.tasks:                 # reference modules, importable by name
            name = os.path.splitext(task.file)[0]
            if name not in sys.modules or getattr(sys.modules[name], "__file__", None) != \
                    os.path.join(self.source, task.file):
                _load_module(name, os.path.join(self.source, task.file))
        self.checks = _load_module("_grader_checks", self.checks_path).CHECKS
        validate_checks(self.homework, self.checks)
        self.references = {task.id: sys.modules[os.path.splitext(task.file)[0]] for task in self.homework.tasks}
        # the grader's own files, read once: sandboxes get these bytes, never what is on disk later
        # (a student's process could rewrite solutions/ during a batch run). Of the reference
        # solutions only a digest is kept (for the verdict cache): their text is not left lying in
        # this process's memory.
        self.files, self.reference_digests = {}, {}
        for name in ["autograder/checks.py"] + [extra for task in self.homework.tasks for extra in task.grader_modules]:
            with open(os.path.join(self.source, name), "rb") as handle:
                self.files[name] = handle.read()
        for task in self.homework.tasks:
            with open(os.path.join(self.source, task.file), "rb") as handle:
                self.reference_digests[task.file] = hashlib.sha256(handle.read()).hexdigest().encode()

    def task_checks(self, task, hidden):
        return [c for c in self.checks if c.task == task.id and (c.public or hidden)]


# ---------------------------------------------------------------------------- helpers
def submission_seed(base_seed, submission_id):
    """A fixed seed per submission: the homework's hidden seed mixed with the submission's id."""
    if submission_id is None:
        return int(base_seed)
    return int(base_seed) * 1_000_003 + zlib.crc32(str(submission_id).encode()) % 1_000_003


def find_student_file(submission, filename):
    """Path of ``filename`` in the submission folder (the shallowest match), or None."""
    best = None
    for folder, subfolders, files in os.walk(submission):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__pycache__")
        if filename in files:
            depth = os.path.relpath(folder, submission).count(os.sep)
            if best is None or depth < best[0]:
                best = (depth, os.path.join(folder, filename))
    return None if best is None else best[1]


def read_student_file(path):
    """``(bytes, None)`` for a regular file of at most STUDENT_FILE_LIMIT bytes, else ``(None, reason)``.

    A symbolic link is refused (it could point at the reference solution, or at a FIFO or
    ``/dev/zero`` that would hang the grader); the bytes are read once, so the file the grader scans
    is the file the child runs.
    """
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return None, "is a symbolic link; upload the file itself"
        if not stat.S_ISREG(info.st_mode):
            return None, "is not a regular file"
        if info.st_size > STUDENT_FILE_LIMIT:
            return None, f"is larger than {STUDENT_FILE_LIMIT // 1000} kB; that is not a source file"
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(STUDENT_FILE_LIMIT + 1)
    except OSError as error:
        return None, f"could not be read ({error.strerror or error})"
    if len(data) > STUDENT_FILE_LIMIT:
        return None, f"is larger than {STUDENT_FILE_LIMIT // 1000} kB; that is not a source file"
    return data, None


def _check_seed(base, check):
    return np.random.default_rng([base, zlib.crc32(check.name.encode()), zlib.crc32(check.task.encode())])


def _open_regular(path):
    """A binary file object for ``path`` if it is a regular file (not a link, FIFO or device), else None.

    The sandbox belongs to an untrusted process: a FIFO named ``stdout.txt`` would block a plain
    ``open`` forever, a link could point anywhere.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    handle = os.fdopen(descriptor, "rb")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        handle.close()
        return None
    return handle


def _tail(path):
    handle = _open_regular(path)
    if handle is None:
        return ""
    with handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - _TAIL))
        text = handle.read().decode("utf-8", "replace")
    return ("…" if size > _TAIL else "") + text


def _clip(text):
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT - 20] + "\n… (cut)"


def compare_outputs(outputs, reference, rtol, atol):
    """(passed, message) for the default comparison: every reference array, same shape, allclose."""
    for name, expected in reference.items():
        if name not in outputs:
            return False, f"no output {name!r}"
        got = outputs[name]
        expected = np.asarray(expected, dtype=np.float64)
        if got.shape != expected.shape:
            return False, f"{name}: shape {got.shape}, expected {expected.shape}"
        got = got.astype(np.float64)
        if not np.all(np.isfinite(got)):
            return False, f"{name}: contains NaN or inf"
        close = np.isclose(got, expected, rtol=rtol, atol=atol)
        if not close.all():
            where = np.unravel_index(int(np.argmin(close)), close.shape) if close.ndim else ()
            error = float(np.max(np.abs(got - expected)))
            return False, (f"{name}: wrong values (max |error| {error:.3g}; tolerance rtol={rtol:g}, "
                           f"atol={atol:g}); at index {tuple(int(i) for i in where)} got "
                           f"{got[where]:.6g}, expected {expected[where]:.6g}")
    return True, "ok"


def _hash_contents(named_contents):
    digest = hashlib.sha256()
    for name, data in named_contents:
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest()


# ---------------------------------------------------------------------------- one task
# (running the child and reaping what escapes its process group: scratchflow/grading/processes.py)
def _protected_paths(grader):
    """What student code may not open: the source folder, and everything beside the package.

    Beside ``scratchflow/`` lie ``solutions/`` (in the Gradescope bundle) and, in a checkout, ``.git``
    (whose objects hold every version of the solutions), the tests and their fixtures. The package
    itself stays readable: the child imports it.
    """
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = [grader.source]
    try:
        paths += [os.path.join(package_root, name) for name in sorted(os.listdir(package_root))
                  if name != "scratchflow"]
    except OSError:
        pass
    return paths


def _read_outputs(path, keys):
    """Arrays the child wrote, grouped by check key; None if the file is missing or not acceptable.

    The file comes from an untrusted process, so before numpy sees it: a regular file of at most
    OUTPUTS_FILE_LIMIT bytes, every member stored uncompressed (a deflated "zip bomb" could not
    expand) and named ``<known check key>/<name>.npy``; loaded with ``allow_pickle=False``. An
    array that is not numeric turns into an error for its check (only ``__error__`` is text).
    """
    import zipfile
    keys = set(keys)
    handle = _open_regular(path)
    if handle is None:
        return None
    grouped = {}
    try:
        with handle:
            if os.fstat(handle.fileno()).st_size > OUTPUTS_FILE_LIMIT:
                return None
            with zipfile.ZipFile(handle) as archive:
                for info in archive.infolist():
                    key = info.filename.partition("/")[0]
                    if info.compress_type != zipfile.ZIP_STORED or info.file_size > info.compress_size \
                            or key not in keys or not info.filename.endswith(".npy"):
                        return None
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as data:
                for name in data.files:
                    key, _, output = name.partition("/")
                    grouped.setdefault(key, {})[output] = data[name]
    except Exception:                                     # truncated, not an npz, pickled
        return None
    for key, outputs in grouped.items():
        for output, array in outputs.items():
            if output != "__error__" and array.dtype.kind not in "biuf":
                grouped[key] = {"__error__": np.array(f"output {output!r} is not a numeric array "
                                                      f"(dtype {array.dtype})")}
                break
    return grouped


def grade_task(grader, task, submission, hidden, seed, time_limit, cache=None):
    """Grade one task; return a list of entries ``{"check", "passed", "output"}``, one per check.

    ``time_limit``: seconds, or a dict task id -> seconds, or None (the task's own limit).
    ``cache``: an optional dict shared between calls. A task whose file, checks, reference and seed
    are byte-for-byte the same as before reuses the earlier verdicts (if they came within the time
    limit); grading many submissions where most files are untouched stubs gets faster.
    """
    checks = grader.task_checks(task, hidden)
    if isinstance(time_limit, dict):
        time_limit = time_limit.get(task.id)
    limit = float(time_limit if time_limit is not None else task.time_limit)

    def entries(result_for):
        out = []
        for check in checks:
            passed, message = result_for(check)
            out.append({"check": check, "passed": bool(passed), "output": _clip(message)})
        return out

    path = find_student_file(submission, task.file)
    if path is None:
        return entries(lambda c: (False, f"{task.file} was not found in the submission"))
    student_bytes, problem = read_student_file(path)
    if problem:
        return entries(lambda c: (False, f"zero for this task: {task.file} {problem}"))
    bad = forbidden_uses(student_bytes, task.forbidden)
    if bad:
        message = (f"zero for this task: {task.file} uses the reference implementation of the piece "
                   f"it is graded on ({', '.join(bad)}); write it yourself")
        return entries(lambda c: (False, message))

    grader_files = [("_grader_checks.py", grader.files["autograder/checks.py"])] + \
        [(os.path.basename(name), grader.files[name]) for name in task.grader_modules]
    cache_key = None
    if cache is not None:
        cache_key = (task.id, hidden, seed,
                     _hash_contents([(task.file, student_bytes), ("reference", grader.reference_digests[task.file])]
                                    + grader_files),
                     tuple(c.name for c in checks))
        if cache_key in cache and cache[cache_key][1] <= limit:   # it finished within this limit
            return [dict(entry) for entry in cache[cache_key][0]]

    base_public, base_hidden = grader.homework.public_seed, seed
    inputs = {c.key: c.make_inputs(_check_seed(base_public if c.public else base_hidden, c)) for c in checks}
    sandbox = tempfile.mkdtemp(prefix=f"{SANDBOX_PREFIX}{task.id}-")
    try:
        module_name = os.path.splitext(task.file)[0]
        for name, data in [(task.file, student_bytes)] + grader_files:
            with open(os.path.join(sandbox, name), "wb") as handle:
                handle.write(data)
        flat = {f"{key}/{name}": np.asarray(value) for key, arrays in inputs.items()
                for name, value in arrays.items() if not name.startswith("_")}   # "_x": the grader's only
        np.savez(os.path.join(sandbox, "inputs.npz"), **flat)
        outputs_path = os.path.join(sandbox, "outputs.npz")
        with open(os.path.join(sandbox, "job.json"), "w", encoding="utf-8") as handle:
            json.dump({"module": module_name, "checks": [c.key for c in checks], "outputs": outputs_path,
                       "guard": os.environ.get("SCRATCHFLOW_GRADE_GUARD", "1") != "0",
                       "protected": _protected_paths(grader), "sandbox_prefix": SANDBOX_PREFIX,
                       "forbidden": list(task.forbidden)}, handle)

        with Guard():                    # on leaving: kill what left the process group
            timed_out, returncode, seconds = run_child(sandbox, limit)
        grouped = None if timed_out else _read_outputs(outputs_path, [c.key for c in checks])
        stdout_tail = _tail(os.path.join(sandbox, "stdout.txt"))
        stderr_tail = _tail(os.path.join(sandbox, "stderr.txt"))
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)

    def judge(check):
        if timed_out:
            return False, (f"time limit: the task did not finish within {limit:g} s (an infinite loop? "
                           "a loop over samples?) and was stopped")
        if grouped is None:
            detail = stderr_tail.strip() or stdout_tail.strip()
            return False, (f"the task's process ended (exit code {returncode}) before reporting results"
                           + (f"; its last output:\n{detail}" if detail else ""))
        outputs = grouped.get(check.key)
        if outputs is None:
            return False, "no result was reported for this check"
        if "__error__" in outputs:
            return False, "your code raised an error:\n" + str(outputs["__error__"])
        # the reference runs outside the try: an error there is the grader's, and fails loudly
        reference = check.run(grader.references[task.id], inputs[check.key]) if check.needs_reference else None
        if reference is not None:
            reference = {name: np.asarray(value) for name, value in reference.items()}
        try:
            if check.evaluate is not None:
                return check.evaluate(outputs, inputs[check.key], reference)
            return compare_outputs(outputs, reference, check.rtol, check.atol)
        except Exception as error:                        # outputs shaped to trip the comparison
            return False, (f"your outputs could not be compared with the expected ones "
                           f"({type(error).__name__}: {error})")

    result = entries(judge)
    if cache is not None and not timed_out:
        cache[cache_key] = ([dict(entry) for entry in result], seconds)
    return result


# ---------------------------------------------------------------------------- one submission
def grade_submission(submission, source=None, hidden=False, time_limit=None, seed=None,
                     submission_id=None, jobs=2, cache=None, grader=None):
    """Grade the folder ``submission``; return the Gradescope results dict (not yet written)."""
    start = time.monotonic()
    grader = grader or Grader(source)
    homework = grader.homework
    if not os.path.isdir(submission):
        raise FileNotFoundError(f"submission folder {submission!r} does not exist")
    _refuse_code_from(submission, grader)
    if seed is None:
        seed = submission_seed(homework.hidden_seed, submission_id)
    with Guard(), ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
        futures = [pool.submit(grade_task, grader, task, submission, hidden, seed, time_limit, cache)
                   for task in homework.tasks]
        per_task = [future.result() for future in futures]

    tests, lines = [], []
    for number, (task, entries) in enumerate(zip(homework.tasks, per_task), start=1):
        task_score = 0.0
        for index, entry in enumerate(entries, start=1):
            check = entry["check"]
            score = float(check.points) if entry["passed"] else 0.0
            task_score += score
            tests.append({"name": f"{task.name} — {check.name}" + ("" if check.public else " [hidden]"),
                          "number": f"{number}.{index}", "score": score, "max_score": float(check.points),
                          "output": entry["output"], "tags": [task.id],
                          "visibility": task.visibility if check.public else task.hidden_visibility})
        task_max = sum(float(e["check"].points) for e in entries)
        lines.append(f"  {task_score:5.1f} / {task_max:5.1f}  {task.name}")
        for entry in entries:
            if not entry["passed"]:
                first_line = entry["output"].strip().splitlines()[-1] if entry["output"].strip() else ""
                lines.append(f"                  ✗ {entry['check'].name}: {first_line[:150]}")
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests)
    header = (f"{homework.name}\nsubmission: {os.path.abspath(submission)}\n"
              f"tests: {'public and hidden' if hidden else 'public only'}; seed {seed}\n")
    summary = header + "\n".join(lines) + f"\n  {score:5.1f} / {max_score:5.1f}  total\n"
    return {"score": score, "max_score": max_score, "output": summary, "visibility": "visible",
            "stdout_visibility": "hidden", "execution_time": round(time.monotonic() - start, 2),
            "tests": tests}


def _refuse_code_from(submission, grader):
    """Fail if this process already runs code from the submission folder.

    ``python -m ...`` started inside the submission puts it first on ``sys.path``, so a ``numpy.py``
    there would run in the grader itself, with nothing between it and the results. The grader
    cannot undo that; it refuses to grade (and so writes an "autograder failed" results file).
    """
    folder = os.path.realpath(submission) + os.sep
    own = {os.path.realpath(os.path.join(grader.source, name))
           for name in list(grader.files) + list(grader.reference_digests)}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and (os.path.realpath(path) + os.sep).startswith(folder) and os.path.realpath(path) not in own:
            raise RuntimeError(f"the grader has imported {name!r} from the submission folder ({path}); "
                               "start it from outside the submission folder")


def failure_results(error_text):
    """The results of a grader that failed: score 0 and one visible test saying so."""
    return {"score": 0.0, "max_score": 0.0, "visibility": "visible", "stdout_visibility": "hidden",
            "output": "The autograder failed; this is not your fault. Please tell your instructor.",
            "tests": [{"name": "autograder failed", "score": 0.0, "max_score": 0.0,
                       "output": _clip(error_text), "visibility": "visible"}]}


def write_results(results, path):
    """Write ``results`` as JSON to ``path`` atomically (temporary file in the same folder, then replace)."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def grade_to_file(submission, results_path, **options):
    """Grade and write the results file; on any failure of the grader write the failure results.

    Returns the results dict that was written.
    """
    try:
        results = grade_submission(submission, **options)
    except Exception:
        results = failure_results(traceback.format_exc())
    write_results(results, results_path)
    return results


# ---------------------------------------------------------------------------- a folder of them
def grade_all(folder, csv_path, source=None, hidden=False, time_limit=None, jobs=2, results_dir=None):
    """Grade every sub-folder of ``folder``; write a CSV (submission, score, max, one column per task).

    Each submission gets its own seed (from its folder name) and, with ``results_dir``, its own
    results file ``<results_dir>/<name>.json``. Returns the list of CSV rows (dicts).
    """
    grader = Grader(source)
    homework = grader.homework
    cache = {}
    rows = []
    # local import: tqdm only for --all; grading one submission (Gradescope's run_autograder) needs
    # no more than the student's code does.
    from scratchflow.reporting import progress_bar
    names = [name for name in sorted(os.listdir(folder))
             if os.path.isdir(os.path.join(folder, name)) and not name.startswith(".")]
    with progress_bar(len(names), desc="grade") as bar:
        for name in names:
            row = _grade_one(grader, homework, folder, name, hidden, time_limit, jobs, cache,
                             results_dir)
            rows.append(row)
            bar.write(f"{name}: {row['score']:g} / {row['max_score']:g}")   # above a terminal's bar
            bar.set_postfix(last=name, refresh=False)
            bar.update(1)
    fields = ["submission", "score", "max_score"] + [task.id for task in homework.tasks]
    folder_out = os.path.dirname(os.path.abspath(csv_path))
    os.makedirs(folder_out, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".scores-", suffix=".csv", dir=folder_out)
    with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, csv_path)
    return rows


def _grade_one(grader, homework, folder, name, hidden, time_limit, jobs, cache, results_dir):
    """Grade ``folder/name`` for :func:`grade_all`; return its CSV row."""
    submission = os.path.join(folder, name)
    try:
        results = grade_submission(submission, hidden=hidden, time_limit=time_limit, submission_id=name,
                                   jobs=jobs, cache=cache, grader=grader)
    except Exception:
        results = failure_results(traceback.format_exc())
    if results_dir:
        write_results(results, os.path.join(results_dir, f"{name}.json"))
    row = {"submission": name, "score": results["score"], "max_score": results["max_score"]}
    for task in homework.tasks:
        row[task.id] = sum(t["score"] for t in results["tests"] if task.id in t.get("tags", ()))
    return row
