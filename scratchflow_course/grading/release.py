"""The two things an instructor hands out: the student release and the Gradescope autograder zip.

``build_release(out)`` writes

* ``out/student/`` and ``out/student.zip``: the library with ``exercises/``' stubbed files laid over
  it, the public tests with their expected values, the README and ``setup.cfg``
  (:func:`scratchflow_course.homework.release.build_release`). No answer, no hidden checks, no metadata.
* ``out/autograder.zip``, in the layout Gradescope expects: ``setup.sh``, ``run_autograder`` and
  ``requirements.txt`` at the root, beside the ``scratchflow`` package (the reference: the library
  with its task regions), the ``scratchflow_course`` package (this grader), ``solutions/`` (``homework.json``, ``mistakes.json``, the checks and
  runners in ``autograder/``) and ``exercises/tests/expected`` (the public checks' stored values). Gradescope unpacks the zip *into* ``/autograder/source``, so the package lands
  in ``/autograder/source/scratchflow``; ``run_autograder`` (copied to ``/autograder``) grades
  ``/autograder/submission`` with the hidden tests and writes ``/autograder/results/results.json``
  (``AUTOGRADER_ROOT`` replaces ``/autograder`` for a dry run).
"""
import configparser
import os
import shutil
import stat
import tempfile
import zipfile

from scratchflow_course.grading.paths import course_folder, default_source, package_folder, package_root
from scratchflow_course.homework.release import build_release as build_student_release

SKIP = {"__pycache__", ".pytest_cache", ".hypothesis"}
STUDENT_FOLDER = "scratchflow-homework"          # student.zip unpacks into this one folder

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when the autograder image is built. The grader gets a Python
# environment of its own, .venv beside this file (run_autograder uses it): an image whose system
# Python is "externally managed" (PEP 668) refuses pip installs into it.
set -euo pipefail
cd "$(dirname "$0")"
if ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
  apt-get update && apt-get install -y python3 python3-venv
fi
python3 -m venv .venv
.venv/bin/python -m pip install -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope copies this file to /autograder/run_autograder and runs it from /autograder for every
# submission; the zip's contents are in /autograder/source. AUTOGRADER_ROOT replaces /autograder for
# a dry run. The grader writes results/results.json in every case (score 0 and the error if it
# fails). It is exec'd: bash is gone, so nothing appended to this file later is ever read.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
exec "$ROOT/source/.venv/bin/python" -I "$ROOT/source/scratchflow_course/grading/gradescope.py" "$ROOT"
"""


def _requirements():
    """The package's install_requires from setup.cfg when it is there, else NumPy and SciPy."""
    setup_cfg = os.path.join(package_root(), "setup.cfg")
    requirements = []
    if os.path.isfile(setup_cfg):
        parser = configparser.ConfigParser()
        parser.read(setup_cfg, encoding="utf-8")
        raw = parser.get("options", "install_requires", fallback="")
        requirements = [line.strip() for line in raw.splitlines() if line.strip()]
    return requirements or ["numpy>=1.22", "scipy>=1.8"]


def _zip_folder(folder, zip_path, executables=(), top=""):
    """Zip ``folder``'s files; ``top``: the one folder they unpack into (none: at the zip's root)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, subfolders, files in os.walk(folder):
            subfolders[:] = sorted(d for d in subfolders if d not in SKIP - {"autograder"})
            for name in sorted(files):
                if name.endswith(".pyc"):
                    continue
                path = os.path.join(root, name)
                relative = os.path.relpath(path, folder).replace(os.sep, "/")
                info = zipfile.ZipInfo.from_file(path, top + relative)
                mode = 0o755 if relative in executables else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                with open(path, "rb") as handle:
                    archive.writestr(info, handle.read(), zipfile.ZIP_DEFLATED)


def build_release(out, source=None):
    """Write the student release and the autograder zip into ``out``; return the paths written."""
    source = os.path.abspath(source or default_source())
    os.makedirs(out, exist_ok=True)
    student = os.path.join(out, "student")
    exercises = os.path.join(os.path.dirname(source), "exercises")
    build_student_release(os.path.dirname(source), exercises, student)
    student_zip = os.path.join(out, "student.zip")
    _zip_folder(student, student_zip, top=STUDENT_FOLDER + "/")

    staging = tempfile.mkdtemp(prefix="autograder-")
    try:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
        shutil.copytree(package_folder(), os.path.join(staging, "scratchflow"), ignore=ignore)
        shutil.copytree(course_folder(), os.path.join(staging, "scratchflow_course"), ignore=ignore)
        shutil.copytree(source, os.path.join(staging, "solutions"), ignore=ignore)
        shutil.copytree(os.path.join(exercises, "tests", "expected"),
                        os.path.join(staging, "exercises", "tests", "expected"), ignore=ignore)
        with open(os.path.join(staging, "setup.sh"), "w", encoding="utf-8") as handle:
            handle.write(SETUP_SH)
        with open(os.path.join(staging, "run_autograder"), "w", encoding="utf-8") as handle:
            handle.write(RUN_AUTOGRADER)
        with open(os.path.join(staging, "requirements.txt"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(_requirements()) + "\n")
        autograder_zip = os.path.join(out, "autograder.zip")
        _zip_folder(staging, autograder_zip, executables=("setup.sh", "run_autograder"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [student, student_zip, autograder_zip]
