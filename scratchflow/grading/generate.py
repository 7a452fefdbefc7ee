"""``solutions/`` -> ``exercises/``: one source for the homework and its student version.

In a solution file every answer sits in a marked region (the nbgrader / otter convention)::

    def example1_density(x):
        x = np.asarray(x)                                   # kept: not in a region
        ### BEGIN SOLUTION
        ### TODO slide "Пример 1" / "Example 1": p_x(x) = p_z(0.5 x - 2.5) * 0.5
        z = 0.5 * x - 2.5
        return ...
        ### END SOLUTION

and the exercise gets, in its place, the TODO lines as comments and a stub that fails loudly::

        # TODO slide "Пример 1" / "Example 1": p_x(x) = p_z(0.5 x - 2.5) * 0.5
        raise NotImplementedError("Task 1. ...: example1_density is not written yet (see the TODO above)")

Every region must carry at least one ``### TODO`` line (so no stub is a bare ``...``, which would
fail silently). ``### BEGIN SOLUTION (task <id>)`` names the task when a file holds several; the
default is the first task of that file in ``homework.json``.

What is copied: every file of the source folder except ``autograder/`` (the hidden tests),
``homework.json`` (grader metadata) and caches. ``README.md`` gets the task table where it says
``<!-- tasks -->``. :func:`check_sync` regenerates into a temporary folder and lists every
difference from an existing ``exercises/`` folder (the test suite fails on any).
"""
import filecmp
import os
import re
import shutil
import tempfile

from scratchflow.grading.spec import load_homework

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION(?:\s*\(task\s+([\w-]+)\))?\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
TODO = re.compile(r"^\s*### TODO\b(.*)$")
DEF = re.compile(r"^(\s*)(?:def|class)\s+(\w+)")
SKIP = {"autograder", "homework.json", "__pycache__", ".pytest_cache", ".hypothesis"}


class RegionError(ValueError):
    """A malformed solution region (unclosed, nested, or without a TODO line)."""


def _enclosing_name(lines, index, indent):
    """``Class.method`` or ``function`` that contains line ``index`` (indentation ``indent``)."""
    names, level = [], len(indent)
    for line in reversed(lines[:index]):
        match = DEF.match(line)
        if match and len(match.group(1)) < level:
            names.append(match.group(2))
            level = len(match.group(1))
            if level == 0:
                break
    return ".".join(reversed(names)) or "this part"


def strip_solutions(text, task_names, default_task, path="<file>"):
    """Return ``text`` with every solution region replaced by its TODO comments and a stub."""
    lines = text.splitlines(keepends=True)
    out, index = [], 0
    while index < len(lines):
        begin = BEGIN.match(lines[index])
        if END.match(lines[index]):
            raise RegionError(f"{path}:{index + 1}: END SOLUTION without BEGIN SOLUTION")
        if not begin:
            out.append(lines[index])
            index += 1
            continue
        indent, task_id = begin.group(1), begin.group(2) or default_task
        if task_id not in task_names:
            raise RegionError(f"{path}:{index + 1}: unknown task {task_id!r}")
        todos, start = [], index
        index += 1
        while index < len(lines) and not END.match(lines[index]):
            if BEGIN.match(lines[index]):
                raise RegionError(f"{path}:{index + 1}: nested BEGIN SOLUTION (region opened at line {start + 1})")
            todo = TODO.match(lines[index])
            if todo:
                todos.append(todo.group(1).strip())
            index += 1
        if index == len(lines):
            raise RegionError(f"{path}:{start + 1}: BEGIN SOLUTION is never closed")
        if not todos:
            raise RegionError(f"{path}:{start + 1}: the region has no '### TODO' line saying what to "
                              "write (slide and formula)")
        name = _enclosing_name(lines, start, indent)
        for todo in todos:
            out.append(f"{indent}# TODO {todo}\n")
        message = f"{task_names[task_id]}: {name} is not written yet (see the TODO above)"
        out.append(f"{indent}raise NotImplementedError({message!r})\n")
        index += 1                                          # skip END SOLUTION
    return "".join(out)


def _task_table(homework):
    rows = ["| task | file | points | slide |", "|---|---|---|---|"]
    def cell(text):
        return text.replace("|", "\\|")
    for task in homework.tasks:
        rows.append(f"| {cell(task.name)} | `{task.file}` | {task.points:g} | {cell(task.slide)} |")
    rows.append(f"| **total** | | **{homework.max_score:g}** | |")
    return "\n".join(rows)


def generate_exercises(source, out):
    """Write the exercise version of the homework in ``source`` into the folder ``out``.

    ``out`` is replaced as a whole (it must not be ``source``). Returns the list of files written.
    """
    homework = load_homework(source)
    source, out = os.path.abspath(source), os.path.abspath(out)
    if source == out:
        raise ValueError("the exercises folder must differ from the solutions folder")
    task_names = {task.id: task.name for task in homework.tasks}
    default_task = {}
    for task in homework.tasks:
        default_task.setdefault(task.file, task.id)
    staging = tempfile.mkdtemp(prefix=".exercises-", dir=os.path.dirname(out))
    written = []
    try:
        for folder, subfolders, files in os.walk(source):
            subfolders[:] = sorted(d for d in subfolders if d not in SKIP)
            relative_folder = os.path.relpath(folder, source)
            for name in sorted(files):
                if name in SKIP or name.endswith((".pyc", ".npz")):
                    continue
                relative = os.path.normpath(os.path.join(relative_folder, name))
                target = os.path.join(staging, relative)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    text = handle.read()
                if name.endswith(".py"):
                    text = strip_solutions(text, task_names, default_task.get(relative, homework.tasks[0].id),
                                           path=relative)
                if relative == "README.md":
                    text = text.replace("<!-- tasks -->", _task_table(homework))
                if "### BEGIN SOLUTION" in text or "### END SOLUTION" in text:
                    raise RegionError(f"{relative}: a solution marker survived generation")
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write(text)
                written.append(relative)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def check_sync(source, exercises):
    """List the differences between ``exercises`` and a fresh generation from ``source`` ([] = in sync)."""
    scratch = tempfile.mkdtemp(prefix="scratchflow-sync-")
    try:
        fresh = os.path.join(scratch, "exercises")
        expected = set(generate_exercises(source, fresh))
        actual = set()
        for folder, subfolders, files in os.walk(exercises):
            subfolders[:] = [d for d in subfolders if d not in SKIP]
            for name in files:
                if name.endswith(".pyc"):
                    continue
                actual.add(os.path.normpath(os.path.relpath(os.path.join(folder, name), exercises)))
        problems = [f"missing from {exercises}: {p}" for p in sorted(expected - actual)]
        problems += [f"not generated from {source}: {p}" for p in sorted(actual - expected)]
        for relative in sorted(expected & actual):
            if not filecmp.cmp(os.path.join(fresh, relative), os.path.join(exercises, relative), shallow=False):
                problems.append(f"out of date: {relative}")
        return problems
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
