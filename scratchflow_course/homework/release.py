"""The student release: the library with ``exercises/``' stubbed files laid over it, the public
tests, the README and ``setup.cfg``, so that ``pip install -e .`` in it installs a ``scratchflow``
whose gaps are the student's, and once filled the whole library (CLI, checkers, figures) runs
their code. No reference region ships: :func:`reference_lines` lists the lines a test searches
the release for.
"""
import os
import shutil
import tempfile

from scratchflow_course.homework.build import swap_in, region_files
from scratchflow_course.homework.regions import find_regions, splice

TOP_FILES = ("setup.cfg", "pyproject.toml")


def build_release(root, exercises, out):
    """Write the release into ``out`` (replaced only once complete); return ``out``."""
    staging = tempfile.mkdtemp(prefix=".release-", dir=os.path.dirname(os.path.abspath(out)))
    shutil.copytree(os.path.join(root, "scratchflow"), os.path.join(staging, "scratchflow"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    course = os.path.join(root, "scratchflow_course")
    os.makedirs(os.path.join(staging, "scratchflow_course"))
    shutil.copyfile(os.path.join(course, "__init__.py"), os.path.join(staging, "scratchflow_course", "__init__.py"))
    shutil.copytree(os.path.join(course, "homework"), os.path.join(staging, "scratchflow_course", "homework"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for folder, _, names in os.walk(os.path.join(exercises, "scratchflow")):
        for name in names:
            source = os.path.join(folder, name)
            shutil.copyfile(source, os.path.join(staging, os.path.relpath(source, exercises)))
    shutil.copytree(os.path.join(exercises, "tests"), os.path.join(staging, "tests"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("README.md", "answers.txt"):
        if os.path.isfile(os.path.join(exercises, name)):
            shutil.copyfile(os.path.join(exercises, name), os.path.join(staging, name))
    for name in TOP_FILES:
        if os.path.isfile(os.path.join(root, name)):
            shutil.copyfile(os.path.join(root, name), os.path.join(staging, name))
    swap_in(staging, out)
    return out


def reference_lines(root, minimum=12):
    """``{line: (file, task)}``: the lines of the reference regions (code and docstring alike) that
    say something — stripped, at least ``minimum`` characters, not a comment, and found nowhere in
    the library outside the regions (``return x, log_det`` is everyone's)."""
    found, given = {}, set()
    for folder, _, names in os.walk(os.path.join(root, "scratchflow")):
        for name in (n for n in names if n.endswith(".py")):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
            inside = set()
            if relative in region_files(root):
                for region in find_regions("\n".join(lines) + "\n", relative):
                    inside.update(range(region.begin, region.end + 1))
                    for line in region.body:
                        stripped = line.strip()
                        if len(stripped) >= minimum and not stripped.startswith("#"):
                            found[stripped] = (relative, region.task)
            given.update(line.strip() for number, line in enumerate(lines) if number not in inside)
    return {line: where for line, where in found.items() if line not in given}


def fill_from(release, source_root, tasks):
    """Put the code regions of ``tasks`` from the files under ``source_root`` (the instructor's
    key, or a student's submission) into the release's files, in place."""
    for relative in region_files(release):
        path = os.path.join(release, relative)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        with open(os.path.join(source_root, relative), encoding="utf-8") as handle:
            source = handle.read()
        for task in sorted({r.task for r in find_regions(text, relative) if r.is_code} & set(tasks)):
            text = splice(text, source, task, relative)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
