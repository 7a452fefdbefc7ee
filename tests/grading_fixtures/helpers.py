"""Helpers of the grading tests: Gradescope's results schema, a digest of folders, and Gradescope's
way of running the bundle."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

from scratchflow_course.grading.spec import load_homework
from tests.grading_fixtures.plants import make_submission

_SOLUTIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "solutions")
EXTRA = sum(task.points for task in load_homework(_SOLUTIONS).tasks if task.extra)
FULL_MARKS = 100 + EXTRA       # every task right, the extra-credit one too: its points come on top


def assert_gradescope_schema(results):
    assert set(results) >= {"score", "max_score", "tests"}
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert abs(results["score"] - sum(t["score"] for t in results["tests"])) < 1e-9
    json.dumps(results)


def graded(results):
    """The tests that carry points (not the grader's notes for instructors)."""
    return [test for test in results["tests"] if test["max_score"] > 0]


def task_tests(results):
    """The tests of the code tasks: those that carry points, but for the questions part."""
    return [test for test in graded(results) if test["tags"] != ["questions"]]


def instructor_notes(results):
    """The text of the grader's notes for instructors (a test students never see)."""
    notes = [test for test in results["tests"] if test["visibility"] == "hidden" and not test["max_score"]]
    assert len(notes) == 1
    return notes[0]["output"]


def tree_digest(*folders):
    """One digest of every file under ``folders`` (names, modes and contents): nothing outside a
    sandbox may change while a submission is graded."""
    digest = hashlib.sha256()
    for folder in folders:
        for root, subfolders, files in os.walk(folder):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(files + subfolders):
                path = os.path.join(root, name)
                digest.update(path.encode() + oct(os.lstat(path).st_mode).encode())
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
    return digest.hexdigest()



def unzip_like_gradescope(zip_path, folder):
    """Unpack the zip's contents *into* ``folder`` with their Unix modes (what ``unzip`` does)."""
    import zipfile
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            path = archive.extract(info, folder)
            mode = info.external_attr >> 16 & 0o777
            if mode:
                os.chmod(path, mode)



def build_image(release, image):
    """The release's autograder.zip unpacked into an image's ``source/`` and a Python that has only
    what ``setup.sh`` installs (a venv without this project; ``setup.sh`` runs in it with its
    ``pip3``, from PyPI or pip's cache). Like Gradescope's image, the venv is kept between runs
    (in the temp folder, one per requirements file); setup.sh runs every time."""
    unzip_like_gradescope(release / "autograder.zip", image / "source")
    requirements = (image / "source" / "requirements.txt").read_bytes()
    tag = hashlib.sha256(requirements + sys.version.encode()).hexdigest()[:12]
    venv = os.path.join(tempfile.gettempdir(), f"scratchflow-gradescope-python-{tag}")
    if not os.path.isfile(os.path.join(venv, "bin", "pip3")):
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True, timeout=300)
    env = {"PATH": os.path.join(venv, "bin") + os.pathsep + os.environ.get("PATH", ""),
           "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    setup = subprocess.run(["bash", str(image / "source" / "setup.sh")], cwd=str(image / "source"), env=env,
                           capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
    bare = subprocess.run(["python3", "-c", "import scratchflow"], cwd="/", env=env, capture_output=True)
    assert bare.returncode != 0                              # only setup.sh's installs, not this project
    return env


def run_autograder(image, env, tmp_path, files, plant=None, appended=""):
    """One submission as Gradescope grades it: a fresh /autograder with the image's source/,
    run_autograder copied beside it, the submission and its metadata; run from /autograder.
    ``appended``: lines added to run_autograder before it runs (what an attacker appends while bash
    still reads it; bash must never get to them)."""
    root = tmp_path / "autograder"
    shutil.copytree(image / "source", root / "source", symlinks=True)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    with open(root / "run_autograder", "a") as script:
        script.write(appended.replace("@ROOT@", str(root)))
    make_submission(files[0], files[1], plant or {"edits": []}, str(root / "submission"),
                    values={"@ROOT@": str(root)})
    (root / "submission_metadata.json").write_text(json.dumps({"id": 123456, "users": []}))
    completed = subprocess.run([str(root / "run_autograder")], cwd=str(root), capture_output=True, text=True,
                               env=dict(env, AUTOGRADER_ROOT=str(root)), timeout=300)
    results = json.loads((root / "results" / "results.json").read_text())
    return root, results, completed.stdout + completed.stderr


def mistake_plant(mistake_id):
    """The plant of one mistake of ``solutions/mistakes.json`` (its edits)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "solutions", "mistakes.json"), encoding="utf-8") as handle:
        mistake = next(m for m in json.load(handle)["mistakes"] if m["id"] == mistake_id)
    return {"edits": [(mistake["file"], old, new) for old, new in mistake["edits"]]}


def own_nll(release, files, plant, seed, folder):
    """What a student reads off their own run for q5: the filled ``release`` copied to ``folder``,
    the plant's edits applied to its ``files``, the questions' ``scratchflow train`` command run on
    it; the best validation NLL it prints."""
    import re
    from scratchflow_course.questions import TRAIN
    shutil.copytree(release, folder)
    make_submission(release, files, plant, folder)
    run = subprocess.run([sys.executable, "-m", "scratchflow.cli", "train", *TRAIN.split(), "--seed", str(seed),
                          "--out", os.path.join(folder, "run")], cwd=folder, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": folder, "OMP_NUM_THREADS": "1"}, timeout=300)
    found = re.search(r"best validation NLL ([-0-9.]+)", run.stdout)
    assert run.returncode == 0 and found, run.stdout[-1000:] + run.stderr[-2000:]
    return float(found.group(1))


def grader_run(grader, submission, time_limit=None):
    """q5's training run of ``submission``'s code by ``grader`` (a walled child), at the seed of its
    answers file: the ``own_run`` that :func:`scratchflow_course.questions.graded` takes."""
    from scratchflow_course.grading.package import submission_package
    from scratchflow_course.grading.processes import Guard
    from scratchflow_course.grading.training import train_submission
    from scratchflow_course.questions import answers_seed
    with Guard():
        return train_submission(grader, submission_package(grader.stubbed, submission, grader.homework.tasks),
                                answers_seed(submission), 0, time_limit)
