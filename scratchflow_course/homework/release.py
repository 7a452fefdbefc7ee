"""The student release: the library with ``exercises/``' stubbed files laid over it, the public
tests (with their own checker and probes, see :mod:`~scratchflow_course.homework.build`), the README
and a ``setup.cfg`` that installs ``scratchflow`` only, so that ``pip install -e .`` in it installs
a ``scratchflow`` whose gaps are the student's, and once filled the whole library (CLI, checkers,
figures) runs their code. No file of the course package ships, and no reference region:
:func:`reference_lines` lists the lines a test searches the release for.
"""
import configparser
import os
import shutil
import tempfile
from importlib import metadata

from scratchflow_course.homework.build import swap_in, region_files
from scratchflow_course.homework.regions import find_regions, splice

SETUP_CFG = """[metadata]
name = scratchflow
version = {version}
description = Normalizing flows from scratch in NumPy: the homework release (the gaps are yours)

[options]
packages = find:
python_requires = >=3.9
install_requires =
{requires}

[options.packages.find]
include = scratchflow, scratchflow.*

[options.extras_require]
test =
    pytest>=7

[options.entry_points]
console_scripts =
    scratchflow = scratchflow.cli:main
"""

PYPROJECT = """[build-system]
requires = ["setuptools>=61", "wheel"]
build-backend = "setuptools.build_meta"
"""


def _library_metadata(root):
    """``(version, install_requires)`` of the library: from ``setup.cfg`` in a checkout, else from
    the installed distribution's metadata."""
    parser = configparser.ConfigParser()
    if parser.read(os.path.join(root, "setup.cfg"), encoding="utf-8"):
        requires = parser.get("options", "install_requires", fallback="").split("\n")
        return parser.get("metadata", "version", fallback="0"), [r.strip() for r in requires if r.strip()]
    requires = [r for r in (metadata.requires("scratchflow") or []) if "extra ==" not in r]
    return metadata.version("scratchflow"), requires


def build_release(root, exercises, out):
    """Write the release into ``out`` (replaced only once complete); return ``out``."""
    staging = tempfile.mkdtemp(prefix=".release-", dir=os.path.dirname(os.path.abspath(out)))
    shutil.copytree(os.path.join(root, "scratchflow"), os.path.join(staging, "scratchflow"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for folder, _, names in os.walk(os.path.join(exercises, "scratchflow")):
        for name in names:
            source = os.path.join(folder, name)
            shutil.copyfile(source, os.path.join(staging, os.path.relpath(source, exercises)))
    shutil.copytree(os.path.join(exercises, "tests"), os.path.join(staging, "tests"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    from scratchflow_course.questions import FILE as ANSWERS   # local import: questions import the grader's spec
    for name in ("README.md", ANSWERS):
        if os.path.isfile(os.path.join(exercises, name)):
            shutil.copyfile(os.path.join(exercises, name), os.path.join(staging, name))
    version, requires = _library_metadata(root)
    with open(os.path.join(staging, "setup.cfg"), "w", encoding="utf-8") as handle:
        handle.write(SETUP_CFG.format(version=version, requires="\n".join("    " + r for r in requires)))
    with open(os.path.join(staging, "pyproject.toml"), "w", encoding="utf-8") as handle:
        handle.write(PYPROJECT)
    swap_in(staging, out)
    return out


def reference_lines(root, minimum=12):
    """``{line: (file, task)}``: the lines of the reference regions (code and docstring alike) that
    say something — stripped, at least ``minimum`` characters, not a comment, and found nowhere in
    the library outside the regions nor in the students' prompts (``return x, log_det`` is
    everyone's)."""
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
    folder = os.path.join(root, "solutions", "prompts")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            given.update(line.strip() for line in handle)          # what the prompts repeat on purpose
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
