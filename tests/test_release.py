"""The student release as shipped: no file of the course package and nothing of the instructor's
side, a setup.cfg that installs the library only, every public test failing on the stubs, and no
answer anywhere outside the stubs — searched by shape (``scratchflow_course.homework.leaks``),
with a planted renamed copy of a region found. The key filled in passes every public test
(``test_homework.py``, the student path)."""
import configparser
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from scratchflow_course.homework import all_probes
from scratchflow_course.homework.build import package_root, region_files
from scratchflow_course.homework.leaks import course_data, count_checks, find_leaks
from scratchflow_course.homework.regions import OMITTED, find_regions
from scratchflow_course.homework.release import build_release, fill_from

ROOT = package_root()


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("release") / "student")
    return build_release(ROOT, os.path.join(ROOT, "exercises"), folder)


@pytest.fixture(scope="module")
def course():
    return course_data(ROOT)


def listing(folder):
    return sorted(os.path.relpath(os.path.join(where, name), folder).replace(os.sep, "/")
                  for where, _, names in os.walk(folder) for name in names)


def test_the_release_holds_no_course_file_and_installs_the_library_only(release):
    files = listing(release)
    assert "tests/homework_checker.py" in files and "tests/homework_probes.py" in files
    assert not [f for f in files if f.split("/")[0] in ("scratchflow_course", "solutions", "exercises")]
    assert not [f for f in files if os.path.basename(f) in ("homework.json", "mistakes.json", "leaks.json")
                or f.endswith(".md") and f != "README.md"]
    for name in files:
        with open(os.path.join(release, name), "rb") as handle:
            assert b"scratchflow_course" not in handle.read(), name
    parser = configparser.ConfigParser()
    parser.read(os.path.join(release, "setup.cfg"), encoding="utf-8")
    assert parser.get("options.packages.find", "include").split(", ") == ["scratchflow", "scratchflow.*"]
    assert parser.get("options.entry_points", "console_scripts").split() == ["scratchflow", "=",
                                                                              "scratchflow.cli:main"]


def test_the_shipped_probes_are_the_public_ones_at_the_public_seed_only(release):
    with open(os.path.join(release, "tests", "homework_probes.py"), encoding="utf-8") as handle:
        text = handle.read()
    assert "hidden_seeds" not in text and "import scratchflow_course" not in text
    namespace = {}
    sys.path.insert(0, release)
    try:
        exec(compile(text, "homework_probes.py", "exec"), namespace)
    finally:
        sys.path.remove(release)
    assert {task: [name for name, _, _ in probes] for task, probes in namespace["PROBES"].items()} == \
        {task: [name for name, _, _ in probes] for task, probes in all_probes().items()}


def test_every_public_test_fails_on_the_stubs(release, tmp_path):
    copy = str(tmp_path / "student")
    shutil.copytree(release, copy)
    env = {**os.environ, "PYTHONPATH": copy, "OMP_NUM_THREADS": "1"}
    env.pop("CI", None)                        # pytest prints whole summary lines under CI
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rN", "-p", "no:cacheprovider", "tests"],
                         cwd=copy, env=env, capture_output=True, text=True)
    count = sum(len(probes) for probes in all_probes().values())
    summary = run.stdout.strip().splitlines()[-1]
    assert f"{count} failed" in summary and "passed" not in summary, run.stdout[-2000:]
    assert run.stdout.count("not written yet (task ") == count, run.stdout[-2000:]


def test_the_library_holds_markers_and_its_own_text_only():
    """No worksheet in ``scratchflow/``: no student section, no 'Task X: define ...' prompt."""
    tasks = {r.task for text in region_files(ROOT).values() for r in find_regions(text)}
    prompt = re.compile(r"(?i)\btask (%s)\b(?!\s*$)" % "|".join(tasks))
    for relative, text in region_files(ROOT).items():
        assert "# --- student" not in text, relative
        for number, line in enumerate(text.splitlines(), 1):
            if not re.match(r"\s*# (>>>|<<<) task ", line):
                assert not prompt.search(line), f"{relative}:{number}: {line.strip()}"


def test_nothing_in_the_release_answers_a_task(release, course):
    regions, hints, keys, allowed = course
    assert find_leaks(release, regions, hints, keys, allowed) == []
    assert count_checks(regions, hints, keys) > 500
    assert all(r.statements or r.tokens or r.keys or keys.get(r.task) for r in regions)


def test_the_leak_search_finds_a_renamed_copy_and_a_hint(release, course, tmp_path):
    """A copy of the coupling's backward, every name changed, planted in another module; and one
    hint line pasted into a comment. Each is found, and only by what planted it."""
    regions, hints, keys, allowed = course
    backward = next(r for r in regions if r.function == "AffineCoupling._backward")
    with open(os.path.join(ROOT, backward.path), encoding="utf-8") as handle:
        region = next(r for r in find_regions(handle.read()) if r.function == "AffineCoupling._backward")
    body = "".join(region.body)
    for old, new in (("grad_", "g_"), ("exp_s", "e"), ("cache", "kept"), ("cond", "c"), ("trans", "t"),
                     ("self._net_backward", "network_back")):
        body = body.replace(old, new)
    copy = str(tmp_path / "student")
    shutil.copytree(release, copy)
    planted = os.path.join(copy, "scratchflow", "bijectors", "logit.py")
    with open(planted, "a", encoding="utf-8") as handle:
        handle.write("\n\ndef _helper(kept, g_z, g_log_det, c, t, g_x, network_back):\n"
                     + textwrap.indent(textwrap.dedent(body), "    ") + "    return g_x\n"
                     + f"\n# {hints[0].splitlines()[0]}\n")
    leaks = find_leaks(copy, regions, hints, keys, allowed)
    assert leaks and all("logit.py" in leak for leak in leaks), leaks
    assert any(leak.startswith(("statements", "tokens")) and "coupling_backward" in leak for leak in leaks)
    assert any(leak.startswith("hint:") for leak in leaks)
    assert not [leak for leak in leaks if not leak.startswith("hint:") and "coupling_backward" not in leak]


@pytest.mark.slow
def test_the_notebooks_run_on_a_filled_in_release(release, tmp_path):
    """Every notebook, run as a script (fast setting), imports the release's library with the key's
    regions filled in: what a student's finished release runs."""
    copy = str(tmp_path / "student")
    shutil.copytree(release, copy)
    fill_from(copy, ROOT, sorted({r.task for text in region_files(ROOT).values() for r in find_regions(text)}))
    env = {**os.environ, "PYTHONPATH": copy, "OMP_NUM_THREADS": "1", "SCRATCHFLOW_FAST": "1",
           "MPLBACKEND": "Agg"}
    runner = ("import runpy, sys, scratchflow\n"
              "assert scratchflow.__file__.startswith(sys.argv[1]), scratchflow.__file__\n"
              "for path in sys.argv[2:]:\n"
              "    runpy.run_path(path, run_name='__main__')\n")
    notebooks = sorted(os.path.join(ROOT, "notebooks", name) for name in os.listdir(os.path.join(ROOT, "notebooks"))
                       if re.match(r"\d\d_.*\.py$", name))
    run = subprocess.run([sys.executable, "-c", runner, copy, *notebooks], cwd=str(tmp_path), env=env,
                         capture_output=True, text=True)
    assert len(notebooks) == 6 and run.returncode == 0, run.stderr[-3000:]


def test_code_left_out_of_the_release_is_found_when_put_back(release, course, tmp_path):
    """Every omitted region (library code that answers a task but belongs to none: a sibling
    layer's gradient passes, a sequential fill) ships as one ``NotImplementedError`` line; the
    library's own file put back in its place is found by the leak search, region by region."""
    regions, hints, keys, allowed = course
    omitted = [r for r in regions if r.task == OMITTED]
    assert {r.path for r in omitted} >= {"scratchflow/bijectors/additive.py", "scratchflow/bijectors/elementwise.py",
                                         "scratchflow/bijectors/spline_autoregressive.py"}
    for path in sorted({r.path for r in omitted}):
        with open(os.path.join(release, path), encoding="utf-8") as handle:
            shipped = handle.read()
        assert "task omitted" not in shipped
        assert shipped.count("is not part of the homework release") == sum(r.path == path for r in omitted)
        copy = str(tmp_path / path.replace("/", "_"))
        shutil.copytree(release, copy)
        shutil.copyfile(os.path.join(ROOT, path), os.path.join(copy, path))
        leaks = find_leaks(copy, regions, hints, keys, allowed)
        found = {leak.split(" in ")[0].split(": ", 1)[1] for leak in leaks}
        own = {repr(r) for r in omitted if r.path == path}
        # the spline layer's sequential gradient is the same back-substitution: it answers task adjoint too
        answered = {repr(r) for r in regions if r.task == "adjoint"} if path.endswith("spline_autoregressive.py") else set()
        assert own <= found <= own | answered, leaks
