"""What a homework is made of: tasks (from ``homework.json``) and checks (from the grader's tests).

``homework.json`` in the source folder (``solutions/``) lists the tasks::

    {"name": "...", "public_seed": 2021, "hidden_seeds": [4, 1729], "tasks": [
        {"id": "coupling", "title": "Real-NVP coupling: forward, inverse, log-det", "slide": "Real-NVP",
         "points": 10, "time_limit": 20, "files": ["scratchflow/bijectors/coupling.py"]}, ...]}

A task is the set of regions ``# >>> task <id>`` ... ``# <<< task <id>`` in the library's own
``files`` (:mod:`scratchflow_course.homework.regions`). ``autograder/checks.py`` in the same folder defines
``CHECKS``, a list of :class:`Check`; ``autograder/runners.py`` holds the functions the child calls
(they run the probes of :mod:`scratchflow_course.homework` on the package the child imports: the stubbed
library with the student's regions of that task only). A check never trusts the student's process
to say whether it passed: ``make_inputs`` runs in the grader, ``run`` runs in a walled child process
and returns plain arrays, and the grader (parent) compares them with the stored public values or
with ``run`` applied to the reference library.
"""
import json
import os
import zlib
from dataclasses import dataclass
from typing import Callable

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


@dataclass
class Check:
    """One graded test of one task.

    Parameters
    ----------
    task : str                 id of the task in homework.json
    name : str                 shown to the student (Gradescope test name)
    points : float
    public : bool              public checks also run without ``--hidden``; the release's public
                               tests check the same behaviour
    make_inputs : rng -> dict of arrays      runs in the grader; ``rng`` is seeded per check from
                               the submission's seed; every input goes to the child
    run : (module, inputs) -> dict of arrays     a value of ``RUNNERS`` in ``runners.py``, found
                               there by its ``__name__``: runs in the child on the student's
                               module, and in the grader on the reference module
    evaluate : (outputs, inputs, reference) -> (passed, message); ``reference`` is ``run`` on the
               reference library with the same inputs, computed in the grader
    """
    task: str
    name: str
    points: float
    public: bool
    make_inputs: Callable
    run: Callable
    evaluate: Callable

    @property
    def key(self):
        """A name safe to use in file keys: the task id and a checksum of the check's name."""
        return f"{self.task}-{zlib.crc32(self.name.encode()):08x}"


@dataclass
class Task:
    """A task of ``homework.json``: the regions ``# >>> task <id>`` in ``files`` of the library."""
    id: str
    title: str
    slide: str
    points: float
    files: list
    time_limit: float = 30.0
    visibility: str = "visible"
    hidden_visibility: str = "after_published"
    extra: bool = False          # optional extra credit: its points come on top of max_score
    needed_for: str = ""         # an extra task's: what in the library needs it (its stubs say)

    @property
    def name(self):
        return self.title


@dataclass
class Homework:
    name: str
    source: str
    tasks: list
    public_seed: int = 0
    hidden_seed: int = 1

    def task(self, task_id):
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"no task {task_id!r}; tasks: {[t.id for t in self.tasks]}")

    @property
    def max_score(self):
        """The regular tasks' points; an extra-credit task's come on top."""
        return float(sum(task.points for task in self.tasks if not task.extra))

    @property
    def files(self):
        """The files a student submits (those holding regions), in task order, each once."""
        return list(dict.fromkeys(name for task in self.tasks for name in task.files))


def load_homework(source):
    """Read ``homework.json`` from the source folder (``solutions/``) and check it."""
    path = os.path.join(source, "homework.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: the source folder must hold homework.json")
    with open(path, encoding="utf-8") as handle:
        meta = json.load(handle)
    tasks = []
    for entry in meta["tasks"]:
        unknown = set(entry) - set(Task.__dataclass_fields__)
        if unknown:
            raise ValueError(f"homework.json: task {entry.get('id')!r} has unknown keys {sorted(unknown)}")
        task = Task(**entry)
        if task.extra and not task.needed_for:
            raise ValueError(f"homework.json: extra-credit task {task.id!r} must say what in the library "
                             "needs it (needed_for)")
        for visibility in (task.visibility, task.hidden_visibility):
            if visibility not in VISIBILITIES:
                raise ValueError(f"task {task.id!r}: visibility {visibility!r} is not one of {VISIBILITIES}")
        tasks.append(task)
    ids = [task.id for task in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"homework.json: duplicate task ids in {ids}")
    hidden = meta.get("hidden_seed", (meta.get("hidden_seeds") or [1])[0])
    return Homework(meta["name"], os.path.abspath(source), tasks, int(meta.get("public_seed", 0)), int(hidden))


def validate_checks(homework, checks, runners):
    """Every check belongs to a task and runs a runner of ``runners`` (the module the child imports);
    a task's check points add up to its points; names are unique."""
    problems = []
    ids = {task.id for task in homework.tasks}
    names = set()
    for check in checks:
        if check.task not in ids:
            problems.append(f"check {check.name!r} names an unknown task {check.task!r}")
        if (check.task, check.name) in names:
            problems.append(f"two checks of task {check.task!r} are named {check.name!r}")
        names.add((check.task, check.name))
        if runners.RUNNERS.get(getattr(check.run, "__name__", "")) is not check.run:
            problems.append(f"check {check.name!r}: run must be a value of RUNNERS in runners.py (the "
                            "child finds it there by its __name__)")
    for task in homework.tasks:
        total = sum(check.points for check in checks if check.task == task.id)
        if abs(total - task.points) > 1e-9:
            problems.append(f"task {task.id!r} has {task.points} points in homework.json but its "
                            f"checks add up to {total}")
    if problems:
        raise ValueError("inconsistent homework: " + "; ".join(problems))
