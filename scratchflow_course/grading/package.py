"""What one task's child imports: the stubbed library with the student's regions of that task only.

The grader keeps the package as the release has it (every task region stubbed, built from the
reference library in memory: :func:`stubbed_package`). For each task it takes, from the student's
copies of the task's files, the code regions of that task and splices them into the stubs
(:func:`task_package`); every other region stays a stub, so a wrong task j can never cost points in
task k, and the reference never reaches a process that runs student code. A missing file, a
deleted or renamed marker, a region that leaves its function or does not parse: zero for that
task, with a message that says which.
"""
import io
import os
import tokenize

from scratchflow_course.grading.submission import find_student_file, read_student_file
from scratchflow_course.homework.regions import RegionError, splice, strip


def stubbed_package(package_files, homework):
    """``package_files`` (``{"scratchflow/...": bytes}``) with every task region stubbed."""
    slides = {task.id: task.slide for task in homework.tasks}
    stubbed = dict(package_files)
    for relative in homework.files:
        stubbed[relative] = strip(package_files[relative].decode("utf-8"), slides, relative).encode("utf-8")
    return stubbed


def _student_text(submission, relative):
    """``(text, None)`` or ``(None, problem)``: the student's copy of ``relative`` (at that path in
    the submission, else the shallowest file of that name, as Gradescope uploads single files)."""
    path = os.path.join(submission, relative)
    if not os.path.lexists(path):
        path = find_student_file(submission, os.path.basename(relative))
    if path is None:
        return None, f"{relative} was not found in the submission"
    data, problem = read_student_file(path, submission)
    if problem:
        return None, f"{relative} {problem}"
    try:                                   # read as Python reads it: a coding line is honoured
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        return data.decode(encoding), None
    except (SyntaxError, LookupError) as error:
        return None, f"{relative} cannot be read as Python source ({error})"
    except UnicodeDecodeError as error:
        return None, f"{relative} is not {error.encoding} text ({error.reason} at byte {error.start}); save it as UTF-8"


def task_package(stubbed, submission, task):
    """``(files, None)``: ``stubbed`` with the task's regions from the submission, or
    ``(None, message)`` saying why the task scores zero."""
    files = dict(stubbed)
    for relative in task.files:
        text, problem = _student_text(submission, relative)
        if problem:
            return None, f"zero for this task: {problem}"
        try:
            files[relative] = splice(stubbed[relative].decode("utf-8"), text, task.id, relative).encode("utf-8")
        except RegionError as error:
            return None, f"zero for this task: {error}"
    return files, None
