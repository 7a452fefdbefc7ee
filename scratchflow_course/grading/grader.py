"""The autograder: grade one submission (or a folder of them) and write Gradescope's results.json.

A :class:`Grader` loads the homework once, before any student code runs: the reference (the
library itself, with its task regions), the checks and the runners (``solutions/autograder``), and
everything they import; it keeps in memory the package as the release has it (every region
stubbed). It then lays out its own folder: the per-task package copies the children import
(:mod:`~scratchflow_course.grading.library`, one fresh copy per child: the stubs plus that task's
regions of the student), the sandboxes and the logs. As root it closes the source folder and the
package folder to every other user (the reference and the hidden checks become unreadable to the
task uids).

Each task of a submission is graded in its own child (:mod:`~scratchflow_course.grading.task`), two at a
time by default, each under its own uid slot; with an answers file, one more child behind the same
walls trains the whole submission for the questions' q5 (:mod:`~scratchflow_course.grading.training`). Before each submission the files of every module the
grader imported are checked against their digests, so one submission cannot change what the next
one's grading sees. The results say which walls were up and which were missing.
"""
import csv
import dataclasses
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import traceback
import weakref
from concurrent.futures import ThreadPoolExecutor

import scratchflow
from scratchflow.atomic import write_atomically
from scratchflow_course.grading.library import ImportedFiles, read_package
from scratchflow_course.grading.package import compose, stubbed_package, submission_package
from scratchflow_course.grading.paths import course_folder, default_source, package_folder, package_root
from scratchflow_course.grading.processes import Guard
from scratchflow_course.grading.results import DIGITS, build_results, failure_results, write_results
from scratchflow_course.grading.spec import load_homework, validate_checks
from scratchflow_course.grading.submission import refuse_code_from, submission_seed
from scratchflow_course.grading.task import grade_task
from scratchflow_course.grading.training import train_submission
from scratchflow_course.grading.namespaces import closed_folders, hidden_folders, import_paths, python_paths
from scratchflow_course.grading.walls import Walls, close_to_others
from scratchflow_course.questions import answers_seed, graded as graded_questions, points as question_points


def _load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


SCRATCH_NEEDED = 512 * 2 ** 20         # bytes free in /dev/shm for the grader's folder to go there


def scratch_parent(shm="/dev/shm"):
    """Where the grader's folder goes: ``shm`` (memory: the per-task package copies, ~100 files
    each, are written fast) when it is usable and has SCRATCH_NEEDED bytes free, else the temp
    folder on disk. The tasks' scratch space is not there: each sandbox is a tmpfs of its own."""
    try:
        usable = os.access(shm, os.W_OK | os.X_OK)
        info = os.statvfs(shm)
    except OSError:
        return None
    return shm if usable and info.f_bavail * info.f_frsize >= SCRATCH_NEEDED else None


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


class Grader:
    """The homework of one source folder: tasks, checks, runners and reference modules, loaded once."""

    def __init__(self, source=None):
        self.source = os.path.abspath(source or default_source())
        self.homework = load_homework(self.source)
        self.walls = Walls.detect()
        self.notes = []
        for folder, what in ((self.source, "the hidden checks"), (package_folder(), "the reference library")):
            if self.walls.privileged and close_to_others(folder):
                self.notes.append(f"closed {folder} to other users ({what})")
        runners = _load_module("_grader_runners", os.path.join(self.source, "autograder", "runners.py"))
        self.checks = _load_module("_grader_checks", os.path.join(self.source, "autograder", "checks.py")).CHECKS
        validate_checks(self.homework, self.checks, runners)
        self.runners = runners.RUNNERS
        self.references = {task.id: scratchflow for task in self.homework.tasks}   # the library itself
        self.reference_outputs = {}     # (check key, digest of its inputs) -> the reference's arrays
        self.own_runs = {}              # (seed, digest of the submitted regions) -> (seconds, q5's run)
        names = ["autograder/checks.py", "autograder/runners.py"]
        self.files = {name: _read(os.path.join(self.source, name)) for name in names}
        reference = read_package(package_folder(), course_folder())
        self.stubbed = stubbed_package(reference, self.homework)          # as the release has it
        self.reference_digest = hashlib.sha256(b"".join(name.encode() + b"\0" + data for name, data
                                                       in sorted(reference.items()))).hexdigest().encode()
        self._make_folder()

    def _make_folder(self):
        self.folder = tempfile.mkdtemp(prefix="scratchflow-grader-", dir=scratch_parent())
        os.chmod(self.folder, 0o711)                      # task uids may pass through, not list
        self.sandboxes, self.logs = os.path.join(self.folder, "sandboxes"), os.path.join(self.folder, "logs")
        self.packages = os.path.join(self.folder, "packages")
        os.mkdir(self.sandboxes, 0o711)
        os.mkdir(self.logs, 0o700)
        os.mkdir(self.packages, 0o711)
        os.chmod(self.sandboxes, 0o711)
        os.chmod(self.packages, 0o711)
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, True)
        # folders closed to others on the way to Python or the package copies: the child opens them
        self.expose = closed_folders(python_paths() + [self.packages]) if self.walls.privileged else []
        self.child_paths, self.hide = import_paths(), [self.source, self.logs] + hidden_folders()
        if self.expose:
            self.notes.append("the task uids see only " + ", ".join(f"{a}/{b}" for a, b in self.expose)
                              + " of " + ", ".join(sorted({a for a, _ in self.expose})) + " (a mount namespace)")
        self.imported = ImportedFiles(exclude=[self.folder])

    def task_checks(self, task, hidden):
        return [c for c in self.checks if c.task == task.id and (c.public or hidden)]

    def check_own_files(self):
        """Before a submission: stop if the grader's own code changed on disk (each child gets a
        fresh package copy written from the grader's memory, so there is no copy to repair)."""
        changed = self.imported.changed()
        if changed:
            raise RuntimeError("files the grader has imported changed on disk while it was grading: "
                               + ", ".join(changed[:5]) + "; grading stopped")

    def close(self):
        self._cleanup()


def grade_submission(submission, source=None, hidden=False, time_limit=None, seed=None,
                     submission_id=None, jobs=2, cache=None, grader=None):
    """Grade the folder ``submission``; return the Gradescope results dict (not yet written)."""
    start = time.monotonic()
    grader = grader or Grader(source)
    homework = grader.homework
    if not os.path.isdir(submission):
        raise FileNotFoundError(f"submission folder {submission!r} does not exist")
    refuse_code_from(submission, [os.path.join(grader.source, name) for name in grader.files])
    grader.check_own_files()
    if seed is None:
        seed = submission_seed(homework.hidden_seed, submission_id)
    # Every task's package (and q5's, with every region) is composed here, on one thread, before the
    # pool starts: composing parses Python (ast.parse), and CPython 3.11's AST conversion is not
    # thread-safe against another thread's ast.parse, which traceback formatting also calls (gh-106905).
    packages = [compose(grader.stubbed, submission, task) for task in homework.tasks]
    answered = answers_seed(submission) if question_points(grader.source) else None
    whole = None if answered is None else submission_package(grader.stubbed, submission, homework.tasks)
    with Guard(), ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
        training = None if answered is None else pool.submit(    # q5: the submitted code, trained
            train_submission, grader, whole, answered, len(homework.tasks),
            time_limit.get("questions") if isinstance(time_limit, dict) else None)
        futures = [pool.submit(grade_task, grader, task, submission, hidden, seed, time_limit, cache,
                               slot, package)
                   for slot, (task, package) in enumerate(zip(homework.tasks, packages))]
        per_task = [future.result() for future in futures]
        own_run = None if training is None else training.result()
    questions = graded_questions(grader.source, submission, own_run)   # the answers file, read as data
    if questions is not None:
        homework = dataclasses.replace(homework, tasks=homework.tasks + [questions[0]])
        per_task.append(questions[1])
    header = (f"{homework.name}\n"
              f"tests: {'public and hidden' if hidden else 'public only'}\n"
              "public tests: the values of your local tests; their points count only when the same "
              "test also passes at a seed you cannot know\n")
    notes = (f"submission: {os.path.abspath(submission)}; seed {seed}\n" + grader.walls.describe() + "\n"
             + "".join(note + "\n" for note in grader.notes))
    results = build_results(homework, per_task, header, time.monotonic() - start, notes)
    results["extra_data"] = {"walls_up": grader.walls.present(), "walls_missing": grader.walls.missing()}
    return results


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


def grade_all(folder, csv_path, source=None, hidden=False, time_limit=None, jobs=2, results_dir=None):
    """Grade every sub-folder of ``folder``; write a CSV (submission, score, max, one column per task).

    Each submission gets its own seed (from its folder name) and, with ``results_dir``, its own
    results file ``<results_dir>/<name>.json``. Returns the list of CSV rows (dicts).
    """
    grader = Grader(source)
    homework = grader.homework
    cache = {}
    rows = []
    print(grader.walls.describe())
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
    os.makedirs(os.path.dirname(os.path.abspath(csv_path)), exist_ok=True)
    from scratchflow_course import similarity   # local import: only --all compares submissions
    copies = similarity.copy_columns(folder, names, sorted(homework.files), [task.id for task in homework.tasks],
                                     package_folder(), os.path.splitext(csv_path)[0] + "_similarity.md")
    for row in rows:
        row.update(copies[row["submission"]])
    fields = ["submission", "score", "max_score"] + [task.id for task in homework.tasks] + similarity.COLUMNS

    def write(out):
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    write_atomically(csv_path, write, mode="w")
    grader.close()
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
        row[task.id] = round(sum(t["score"] for t in results["tests"] if task.id in t.get("tags", ())), DIGITS)
    return row
