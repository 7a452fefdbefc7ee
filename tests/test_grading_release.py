"""The release bundles, and the Gradescope bundle as Gradescope runs it: unpacked *into* an image's
``source/``, ``setup.sh``'s installs only, ``run_autograder`` copied to the image's root and run from
there with the submission and its metadata beside it. Nothing is moved by hand."""
import os
import zipfile

import pytest

from scratchflow_course.grading.spec import load_homework
from scratchflow_course.grading.walls import Walls
from tests.grading_fixtures.helpers import FULL_MARKS, assert_gradescope_schema, build_image, run_autograder
from scratchflow_course.questions import FILE as ANSWERS, write_answers
from tests.grading_fixtures.plants import REGION, make_submission

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "solutions")
EXERCISES = os.path.join(ROOT, "exercises")
FILES = load_homework(SOLUTIONS).files
IS_ROOT = Walls.detect().privileged


def test_release_bundles(tmp_path):
    from scratchflow_course.grading.release import build_release
    build_release(str(tmp_path / "release"), source=SOLUTIONS)
    student = tmp_path / "release" / "student"
    assert (student / "README.md").is_file() and (student / "tests" / "test_coupling.py").is_file()
    assert (student / "setup.cfg").is_file() and (student / "tests" / "expected" / "coupling.npz").is_file()
    assert not (student / "solutions").exists() and not (student / "homework.json").exists()
    with zipfile.ZipFile(tmp_path / "release" / "student.zip") as archive:
        assert {name.split("/")[0] for name in archive.namelist()} == {"scratchflow-homework"}
        coupling = archive.read("scratchflow-homework/scratchflow/bijectors/coupling.py").decode()
        assert "is yours to write" in coupling and "z[:, moved] = x_moved * exp_scale + shift" not in coupling
    with zipfile.ZipFile(tmp_path / "release" / "autograder.zip") as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "solutions/autograder/checks.py",
                "solutions/autograder/runners.py", "scratchflow_course/grading/grader.py",
                "exercises/tests/expected/coupling.npz"} <= names
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
        last_line = archive.read("run_autograder").decode().strip().splitlines()[-1]
        assert last_line.startswith("exec ")


@pytest.fixture(scope="module")
def gradescope_image(tmp_path_factory):
    """The release's autograder.zip unpacked into an image's ``source/``, and the environment of a
    Python that has only what ``setup.sh`` installs (see ``build_image``)."""
    from scratchflow_course.grading.release import build_release
    release = tmp_path_factory.mktemp("release")
    build_release(str(release), source=SOLUTIONS)
    image = tmp_path_factory.mktemp("image")
    return image, build_image(release, image)


def test_gradescope_grades_the_key_full_marks(gradescope_image, tmp_path):
    image, env = gradescope_image
    key = make_submission(ROOT, FILES, {"edits": []}, str(tmp_path / "key"))
    write_answers(key)                                   # and the questions answered
    _, results, log = run_autograder(image, env, tmp_path, (key, FILES + [ANSWERS]))
    assert_gradescope_schema(results)
    assert results["score"] == pytest.approx(FULL_MARKS) and results["max_score"] == pytest.approx(100), log[-3000:]
    assert any(t["name"].endswith("[hidden]") for t in results["tests"])


def test_gradescope_grades_the_stubs_zero_and_run_autograder_cannot_be_extended(gradescope_image, tmp_path):
    """The stubs score 0 even when a forged score is appended to run_autograder (bash would still
    be reading it without the final exec) and their code appends to it and to results.json."""
    image, env = gradescope_image
    attack = {"edits": [("scratchflow/bijectors/examples.py", REGION("change_of_variables"), """
import json as _json
_forged = _json.dumps({"score": 100, "tests": []})
for _path, _text in (("@ROOT@/run_autograder", "\\necho '" + _forged + "' > @ROOT@/results/results.json\\n"),
                     ("@ROOT@/results/results.json", _forged)):
    try:
        with open(_path, "a") as _out:
            _out.write(_text)
    except OSError:
        pass
""")]}
    before = (image / "source" / "run_autograder").read_bytes()
    forged_line = """\necho '{"score": 100, "tests": []}' > @ROOT@/results/results.json\n"""
    root, results, log = run_autograder(image, env, tmp_path, (EXERCISES, FILES), attack,
                                        appended=forged_line)
    assert_gradescope_schema(results)
    assert results["score"] == 0 and results["max_score"] == pytest.approx(100), log[-3000:]
    assert sum("NotImplementedError" in t["output"] for t in results["tests"]) >= 50
    if IS_ROOT:                                              # the student's own append was refused
        assert (root / "run_autograder").read_bytes() == before + forged_line.replace("@ROOT@", str(root)).encode()
        assert "WALLS MISSING" not in results["output"]
