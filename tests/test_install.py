"""The course command installed from a wheel, run outside any checkout.

The wheel is built from the files a wheel is built from (``pyproject.toml``, ``setup.cfg``, the
README, the two packages), so nothing of the checkout can stand in for a file the wheel lacks. It
holds every module of ``scratchflow/`` and ``scratchflow_course/`` and the course's data file (the
release README's template), and nothing of ``tests/``, ``solutions/`` or ``exercises/``. Unpacked
into a folder of its own (a site-packages), its ``scratchflow-course`` builds the release and
checks the exercises given the checkout's ``solutions/`` (``--source``), and says in one line what
it needs when it is not given one.
"""
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "solutions")
BUILT_FROM = ["pyproject.toml", "setup.cfg", "README.md", "LICENSE", "scratchflow", "scratchflow_course"]
PACKAGES = ["scratchflow", "scratchflow_course"]
COMMAND = ("import sys; sys.path.insert(0, sys.argv[1]); import scratchflow_course; "
           "assert scratchflow_course.__file__.startswith(sys.argv[1]), scratchflow_course.__file__; "
           "from scratchflow_course.grading.__main__ import main; sys.exit(main(sys.argv[2:]))")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("source")
    for name in BUILT_FROM:
        path = os.path.join(ROOT, name)
        if os.path.isdir(path):
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
                            str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (path,) = out.glob("*.whl")
    return str(path)


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory):
    """The wheel unpacked, as pip would lay it into site-packages."""
    folder = str(tmp_path_factory.mktemp("site-packages"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder)
    return folder


def _course(site, cwd, *args):
    return subprocess.run([sys.executable, "-I", "-c", COMMAND, site, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_the_wheel_holds_both_packages_with_their_data_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    wanted = set()
    for package in PACKAGES:
        for folder, folders, files in os.walk(os.path.join(ROOT, package)):
            folders[:] = [name for name in folders if name != "__pycache__"]
            wanted |= {os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/")
                       for name in files if not name.endswith(".pyc")}
    assert "scratchflow_course/homework/README.template.md" in wanted
    assert sorted(wanted - names) == []
    top = {name.split("/")[0] for name in names}
    assert top - set(PACKAGES) == {next(name for name in top if name.endswith(".dist-info"))}


def test_the_course_command_from_the_wheel_needs_and_names_the_solutions_folder(site, tmp_path):
    for command in (["release", "--out", "out"], ["generate-exercises"], ["generate-exercises", "--check"],
                    ["grade", "submission"]):
        run = _course(site, str(tmp_path), *command)
        assert run.returncode == 2 and run.stdout == "" and "Traceback" not in run.stderr, (command, run.stderr)
        assert run.stderr.count("\n") == 1, run.stderr
        assert "needs the instructor's solutions/ folder" in run.stderr, run.stderr
        assert "pass --source CHECKOUT/solutions" in run.stderr, run.stderr


def test_the_course_command_from_the_wheel_builds_the_release_and_checks_the_exercises(site, tmp_path):
    release = _course(site, str(tmp_path), "release", "--out", "out", "--source", SOLUTIONS)
    assert release.returncode == 0, release.stdout[-2000:] + release.stderr[-3000:]
    for name in ("student", "student.zip", "autograder.zip"):
        assert os.path.exists(tmp_path / "out" / name), name
    assert (tmp_path / "out" / "student.zip").is_file() and (tmp_path / "out" / "autograder.zip").is_file()
    assert not os.path.exists(tmp_path / "out" / "student" / "scratchflow_course")
    checked = _course(site, str(tmp_path), "generate-exercises", "--check", "--source", SOLUTIONS)
    assert checked.returncode == 0 and "in sync" in checked.stdout, checked.stdout[-2000:] + checked.stderr[-3000:]
