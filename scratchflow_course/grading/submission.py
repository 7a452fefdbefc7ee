"""A submission folder as the grader sees it: where each task's file is, its bytes, its seed."""
import os
import stat
import sys
import zlib

STUDENT_FILE_LIMIT = 1_000_000        # bytes: a larger "task file" is not source code


class SubmissionProblem(ValueError):
    """A submission's file cannot be graded (missing, a link out of the folder, not text, mangled
    markers): zero for the tasks of that file, with this message."""


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


def _leaves(path, submission):
    """True if ``path``, every component resolved, lies outside the ``submission`` folder."""
    top = os.path.realpath(submission)
    return not (os.path.realpath(path) + os.sep).startswith(top + os.sep)


def read_student_file(path, submission, name):
    """The bytes of ``path``, a regular file of at most STUDENT_FILE_LIMIT bytes inside the
    ``submission`` folder; else :class:`SubmissionProblem` saying why (``name``: the file's name in
    the message).

    A path that leads out of the submission folder through a link in any of its components (a
    linked ``scratchflow/`` folder could be the reference solution) is refused, and so is a file
    that is itself a symbolic link (it could point at a FIFO or ``/dev/zero`` that would hang the
    grader); the bytes are read once, so the file the grader scans is the file the child runs.
    """
    too_large = f"is larger than {STUDENT_FILE_LIMIT // 1000} kB; that is not a source file"
    if _leaves(path, submission):
        raise SubmissionProblem(f"{name} is reached through a link that leads out of the submission folder "
                                f"(to {os.path.realpath(path)}); upload the files themselves")
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise SubmissionProblem(f"{name} is a symbolic link; upload the file itself")
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionProblem(f"{name} is not a regular file")
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(STUDENT_FILE_LIMIT + 1)
    except OSError as error:
        raise SubmissionProblem(f"{name} could not be read ({error.strerror or error})") from None
    if len(data) > STUDENT_FILE_LIMIT:
        raise SubmissionProblem(f"{name} {too_large}")
    return data


def refuse_code_from(submission, own_files):
    """Fail if this process already runs code from the submission folder.

    ``python -m ...`` started inside the submission puts it first on ``sys.path``, so a ``numpy.py``
    there would run in the grader itself, with nothing between it and the results. The grader
    cannot undo that; it refuses to grade (and so writes an "autograder failed" results file).
    ``own_files``: the grader's own files, which may lie there (grading ``solutions/`` itself).
    """
    folder = os.path.realpath(submission) + os.sep
    own = {os.path.realpath(path) for path in own_files}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and (os.path.realpath(path) + os.sep).startswith(folder) and os.path.realpath(path) not in own:
            raise RuntimeError(f"the grader has imported {name!r} from the submission folder ({path}); "
                               "start it from outside the submission folder")
