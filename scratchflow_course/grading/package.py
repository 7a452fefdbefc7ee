"""What one task's child imports: the stubbed library with the student's regions of that task only.

The grader keeps the package as the release has it (every task region stubbed, built from the
reference library in memory: :func:`stubbed_package`). For each task it takes, from the student's
copies of the task's files, the code regions of that task and splices them into the stubs
(:func:`task_package`); every other region stays a stub, so a wrong task j can never cost points in
task k, and the reference never reaches a process that runs student code. A missing file, a
deleted or renamed marker, a region that leaves its function or does not parse: zero for that
task, with a message that says which. The questions' training run imports the stubs with every
task's regions (:func:`submission_package`): the student's whole library.
"""
import io
import os
import tokenize

from scratchflow_course.grading.submission import SubmissionProblem, find_student_file, read_student_file
from scratchflow_course.homework.regions import RegionError, splice, strip


def stubbed_package(package_files, homework):
    """``package_files`` (``{"scratchflow/...": bytes}``) with every task region stubbed."""
    slides = {task.id: task.slide for task in homework.tasks}
    extras = {task.id: task.needed_for for task in homework.tasks if task.extra}
    stubbed = dict(package_files)
    for relative in homework.files:
        stubbed[relative] = strip(package_files[relative].decode("utf-8"), slides, relative,
                                  extras=extras).encode("utf-8")
    return stubbed


def _student_text(submission, relative):
    """The student's copy of ``relative`` (at that path in the submission, else the shallowest file
    of that name, as Gradescope uploads single files), as text; :class:`SubmissionProblem` if none."""
    path = os.path.join(submission, relative)
    if not os.path.lexists(path):
        path = find_student_file(submission, os.path.basename(relative))
    if path is None:
        raise SubmissionProblem(f"{relative} was not found in the submission")
    data = read_student_file(path, submission, relative)
    try:                                   # read as Python reads it: a coding line is honoured
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        return data.decode(encoding)
    except (SyntaxError, LookupError) as error:
        raise SubmissionProblem(f"{relative} cannot be read as Python source ({error})") from None
    except UnicodeDecodeError as error:
        raise SubmissionProblem(f"{relative} is not {error.encoding} text ({error.reason} at byte "
                                f"{error.start}); save it as UTF-8") from None


def task_package(stubbed, submission, task):
    """``stubbed`` with the task's regions from the submission; :class:`SubmissionProblem` saying
    why the task scores zero if they cannot be taken."""
    files = dict(stubbed)
    for relative in task.files:
        text = _student_text(submission, relative)
        try:
            files[relative] = splice(stubbed[relative].decode("utf-8"), text, task.id, relative).encode("utf-8")
        except RegionError as error:
            raise SubmissionProblem(str(error)) from None
    return files


def submission_package(stubbed, submission, tasks):
    """``(files, problems)``: ``stubbed`` with the regions of every task of ``tasks`` taken from the
    submission (the student's whole library: what the questions' training run imports); a task
    whose regions cannot be taken stays stubbed, and ``problems`` says why, one line per task."""
    files, problems = dict(stubbed), []
    for task in tasks:
        try:
            files = task_package(files, submission, task)
        except SubmissionProblem as problem:
            problems.append(f"task {task.id}: {problem}")
    return files, problems


def compose(stubbed, submission, task):
    """:func:`task_package`'s files, or the :class:`SubmissionProblem` it raised (composed ahead of
    grading, the problem is turned into the task's verdicts where the task is graded)."""
    try:
        return task_package(stubbed, submission, task)
    except SubmissionProblem as problem:
        return problem
