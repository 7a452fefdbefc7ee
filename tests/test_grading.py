"""The autograder on the homework that is the library with gaps: full marks for the key, zero for
the stubs, exactly the broken tasks' points lost for each planted submission (maths mistakes,
loops, sys.exit, prints, forgery, reads of the reference), the OS walls (attacks that need them
run only as root, as in CI), the per-task package, and the CLI. Release and Gradescope bundle:
``tests/test_grading_release.py``; the mutant corpus: ``tests/test_homework.py``.

Grading runs real child processes. The tests share one :class:`Grader` and one verdict cache: a
task whose files are byte-for-byte the key's is graded once.
"""
import csv
import json
import os
import sys
import time

import pytest

from scratchflow_course.grading.grader import Grader, grade_all, grade_submission, grade_to_file
from scratchflow_course.grading.spec import load_homework
from scratchflow_course.grading.walls import Walls
from scratchflow_course.homework.release import build_release, fill_from
from scratchflow_course.questions import FILE as ANSWERS, write_answers
from tests.grading_fixtures.helpers import assert_gradescope_schema, tree_digest
from tests.grading_fixtures.plants import PLANTS, make_submission

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "solutions")
EXERCISES = os.path.join(ROOT, "exercises")
PACKAGE = os.path.join(ROOT, "scratchflow")
SEED = 7
IS_ROOT = Walls.detect().privileged            # root, and the task uids can run this Python
NEEDS_ROOT = "needs the uid walls (run as root, as CI and Gradescope do); without them the attack " \
             "would really change this checkout"


def outside_the_sandbox():
    return tree_digest(SOLUTIONS, PACKAGE, EXERCISES, os.path.join(ROOT, "tests"))


@pytest.fixture(scope="module")
def grader():
    return Grader(SOLUTIONS)


@pytest.fixture(scope="module")
def cache():
    return {}


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    """The student path's end: the release as built, its gaps filled from the instructor's key (the
    library's regions); the plants start from it."""
    release = str(tmp_path_factory.mktemp("filled") / "release")
    build_release(ROOT, EXERCISES, release)
    fill_from(release, ROOT, [task.id for task in load_homework(SOLUTIONS).tasks])
    write_answers(release)
    return release


@pytest.fixture(scope="module")
def key_results(grader, cache, key, tmp_path_factory):
    submission = make_submission(key, grader.homework.files + [ANSWERS], {"edits": []},
                                 str(tmp_path_factory.mktemp("key")))
    return grade_submission(submission, hidden=True, seed=SEED, cache=cache, grader=grader)


def task_scores(results, grader):
    assert all("tags" in t for t in results["tests"]), results["tests"][0]["output"][-1500:]
    return {task.id: round(sum(t["score"] for t in results["tests"] if task.id in t["tags"]), 6)
            for task in grader.homework.tasks}


def test_the_filled_release_gets_full_marks(key_results, grader):
    assert_gradescope_schema(key_results)
    failed = [(t["name"], t["output"]) for t in key_results["tests"] if t["score"] < t["max_score"]]
    assert failed == []
    assert key_results["score"] == pytest.approx(100) == key_results["max_score"]
    hidden = [t for t in key_results["tests"] if t["name"].endswith("[hidden]")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)


def test_the_stubs_get_zero_for_every_task(grader, cache):
    results = grade_submission(EXERCISES, hidden=True, seed=SEED, cache=cache, grader=grader)
    assert_gradescope_schema(results)
    assert results["score"] == 0 and results["max_score"] == pytest.approx(100)
    for test in results["tests"]:
        if test["tags"] == ["questions"]:                    # answers.txt as handed out: no seed yet
            assert "no seed" in test["output"], test
            continue
        assert "NotImplementedError" in test["output"] and "is yours to write" in test["output"], test


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_planted_submission_loses_exactly_its_tasks(name, grader, cache, key, key_results, tmp_path, monkeypatch):
    plant = PLANTS[name]
    if plant.get("root_only") and not IS_ROOT:
        pytest.skip(NEEDS_ROOT)
    results_path = tmp_path / "results.json"
    submission = make_submission(key, grader.homework.files, plant, str(tmp_path / "submission"),
                                 values={"@SOLUTIONS@": SOLUTIONS, "@PACKAGE@": PACKAGE,
                                         "@RESULTS@": str(results_path)})
    for variable, value in plant.get("env", {}).items():
        monkeypatch.setenv(variable, value)
    limits = {"maf": 2.0} if name == "infinite_loop" else None
    before = outside_the_sandbox()
    results = grade_to_file(submission, str(results_path), hidden=True, seed=SEED, cache=cache,
                            grader=grader, time_limit=limits)
    if name == "escaped_daemon":
        time.sleep(0.3)                 # a surviving daemon would rewrite the file within 10 ms
    written = json.loads(results_path.read_text())
    assert written == json.loads(json.dumps(results))       # the grader's file, not a forged one
    assert_gradescope_schema(written)
    assert outside_the_sandbox() == before
    assert not any(os.path.lexists(path) for path in plant.get("planted", ()))
    full, scores = task_scores(key_results, grader), task_scores(written, grader)
    assert {task: scores[task] for task in full if task not in plant["breaks"]} == \
        {task: full[task] for task in full if task not in plant["breaks"]}, \
        [t["output"] for t in written["tests"] if t["score"] == 0]
    assert all(scores[task] < full[task] for task in plant["breaks"]), \
        {task: [t["output"] for t in written["tests"] if task in t["tags"]] for task in plant["breaks"]}
    expected = full
    outputs = {tag: [t["output"] for t in written["tests"] if tag in t["tags"] and t["score"] == 0]
               for tag in expected}                                      # the failing checks' messages
    if name == "infinite_loop":
        assert all("time limit" in m for m in outputs["maf"])    # the limit fired, not the test's patience
    if name == "reads_grader_memory":
        assert all("PermissionError" in m for m in outputs["mlp_backward"])
    if name == "signals_the_grader":
        assert all("PermissionError" in m for m in outputs["made_masks"] + outputs["change_of_variables"])
    if name == "encodings_and_syntax":
        assert all("not valid Python" in m for m in outputs["mlp_backward"])
        assert all("save it as UTF-8" in m for m in outputs["made_masks"])
    if name == "sys_exit":
        assert all("sys.exit(3)" in m for m in outputs["iaf"])
    if name == "spinning_threads":
        assert all("thread" in m for m in outputs["iaf"])
    if name == "sign_error_log_det":
        assert any("known mistake (coupling_log_det_sign)" in m for m in outputs["coupling"])


def test_walls_are_reported(key_results, grader):
    """The results and the command's output say which walls were up and which were missing."""
    assert "walls up:" in key_results["output"]
    extra = key_results["extra_data"]
    assert extra["walls_up"] and (extra["walls_missing"] == []) == IS_ROOT
    assert ("WALLS MISSING" in key_results["output"]) != IS_ROOT


@pytest.mark.skipif(not IS_ROOT, reason=NEEDS_ROOT)
def test_reference_and_hidden_checks_are_closed_to_the_task_uids(grader):
    assert os.stat(grader.source).st_mode & 0o077 == 0
    assert os.stat(PACKAGE).st_mode & 0o077 == 0             # the library is the reference
    assert grader.walls.uid(0) not in (None, 0)


def test_without_root_a_user_namespace_hides_the_reference(tmp_path, monkeypatch):
    """The walls a user without root gets where the kernel allows user namespaces: the attack that
    reads the reference library by its path finds an empty folder, and the results say what is missing."""
    from scratchflow_course.grading import walls
    from scratchflow_course.grading.namespaces import user_namespaces_work
    if not user_namespaces_work():
        pytest.skip("this kernel does not allow user namespaces (unshare -U)")
    monkeypatch.setattr(walls.Walls, "detect", classmethod(lambda cls: cls(privileged=False, user_namespace=True)))
    local = Grader(SOLUTIONS)
    submission = make_submission(ROOT, local.homework.files, PLANTS["reads_reference"], str(tmp_path / "s"),
                                 values={"@PACKAGE@": PACKAGE})
    results = grade_submission(submission, seed=SEED, grader=local)
    local.close()
    assert task_scores(results, local)["change_of_variables"] == 0
    assert "a user namespace" in results["output"] and "WALLS MISSING" in results["output"]
    assert results["extra_data"]["walls_missing"]


def test_one_submission_cannot_change_the_next_ones_grading(tmp_path):
    """--all: a submission rewrites the package its child imports (scratchflow/nn/mlp.py); the
    next one, the key, still gets every point (each child gets a fresh copy from the grader's memory)."""
    folder = tmp_path / "submissions"
    key = Grader(SOLUTIONS)
    attack = {"edits": [("scratchflow/nn/linear.py", PLANTS_REGION("mlp_backward"), """
import scratchflow.nn.mlp as _mlp
try:
    with open(_mlp.__file__, "a") as _out:
        _out.write("\\nMLP = None\\n")
except OSError:
    pass
""")]}
    make_submission(ROOT, key.homework.files, attack, str(folder / "a_attacker"))
    make_submission(ROOT, key.homework.files, {"edits": []}, str(folder / "b_key"))
    key.close()
    before = outside_the_sandbox()
    rows = grade_all(str(folder), str(tmp_path / "scores.csv"), source=SOLUTIONS)
    public = round(0.4 * sum(task.points for task in key.homework.tasks), 6)      # public checks only: 40 %
    assert [(r["submission"], round(r["score"], 6)) for r in rows] == [("a_attacker", public), ("b_key", public)]
    assert outside_the_sandbox() == before


def PLANTS_REGION(task):
    from tests.grading_fixtures.plants import REGION
    return REGION(task)


def test_the_graders_own_files_are_watched(tmp_path, monkeypatch):
    from scratchflow_course.grading.library import ImportedFiles
    module = tmp_path / "watched_module.py"
    module.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("watched_module")
    watched = ImportedFiles()
    assert watched.changed() == []
    module.write_text("VALUE = 2\n")
    assert watched.changed() == [str(module)]
    monkeypatch.delitem(sys.modules, "watched_module")


def test_grader_failure_still_writes_valid_results(tmp_path):
    results_path = tmp_path / "out" / "results.json"
    results = grade_to_file(str(tmp_path / "no-such-submission"), str(results_path), source=SOLUTIONS)
    written = json.loads(results_path.read_text())
    assert written == results and written["score"] == 0
    assert written["tests"][0]["name"] == "autograder failed"
    assert "no-such-submission" in written["tests"][0]["output"]


def test_missing_file_or_marker_scores_zero_for_its_tasks_only(grader, cache, tmp_path):
    files = [f for f in grader.homework.files if f != "scratchflow/nn/made.py"]
    submission = make_submission(ROOT, files, {"edits": [
        ("scratchflow/optim.py", "        # <<< task adam\n", "")]}, str(tmp_path / "s"))
    results = grade_submission(submission, hidden=True, seed=SEED, cache=cache, grader=grader)
    scores = task_scores(results, grader)
    points = {task.id: task.points for task in grader.homework.tasks}
    assert scores["made_masks"] == 0 and scores["adam"] == 0 and scores["maf"] == points["maf"] and \
        scores["sgd"] == points["sgd"]
    outputs = {tag: [t["output"] for t in results["tests"] if tag in t["tags"]] for tag in scores}
    assert all("scratchflow/nn/made.py was not found" in m for m in outputs["made_masks"])
    assert all("closes no open region" in m or "markers of your file" in m for m in outputs["adam"])


def test_flat_upload_links_and_special_files(grader, cache, tmp_path):
    """Files uploaded flat (no folders) are found by name; a symlink to the reference gets no
    points; a FIFO or /dev/zero named like a task file neither hangs the grader nor fills its memory."""
    submission = tmp_path / "s"
    submission.mkdir()
    for name in grader.homework.files:
        (submission / os.path.basename(name)).write_bytes(open(os.path.join(ROOT, name), "rb").read())
    for name, make in [("made.py", lambda p: os.symlink(os.path.join(PACKAGE, "nn", "made.py"), p)),
                       ("triangular.py", os.mkfifo), ("compose.py", lambda p: os.symlink("/dev/zero", p))]:
        os.remove(submission / name)
        make(str(submission / name))
    before = outside_the_sandbox()
    results = grade_submission(str(submission), hidden=True, seed=SEED, cache=cache, grader=grader)
    assert outside_the_sandbox() == before
    assert_gradescope_schema(json.loads(json.dumps(results)))
    scores = task_scores(results, grader)
    assert (scores["made_masks"], scores["triangular"], scores["composition"]) == (0, 0, 0)
    assert scores["coupling"] == grader.homework.task("coupling").points and \
        scores["loss"] == grader.homework.task("loss").points
    outputs = {t["tags"][0]: t["output"] for t in results["tests"]}
    assert "symbolic link" in outputs["made_masks"] and "not a regular file" in outputs["triangular"]


def test_files_beside_the_task_files_never_reach_the_grader(grader, tmp_path, monkeypatch):
    """Only the task's regions enter the child's package: a numpy.py, sitecustomize.py, a copy of
    the grader's checks or a whole scratchflow/__init__.py in the submission change nothing; and a
    grader that has already imported code from the submission folder refuses to grade."""
    import types
    from scratchflow_course.grading.task import grade_task
    submission = make_submission(ROOT, ["scratchflow/nn/made.py"], {"edits": []}, str(tmp_path / "s"))
    for name in ("numpy.py", "sitecustomize.py", "conftest.py", "_grader_checks.py", "scratchflow/__init__.py"):
        with open(os.path.join(submission, name), "w") as handle:
            handle.write("raise SystemExit('shadowing file ran')\n")
    task = grader.homework.task("made_masks")
    before = outside_the_sandbox()
    entries = grade_task(grader, task, submission, hidden=False, seed=SEED, time_limit=None)  # no cache
    assert all(entry["passed"] for entry in entries), [entry["output"] for entry in entries]
    assert outside_the_sandbox() == before
    shadow = types.ModuleType("numpy_shadow")
    shadow.__file__ = os.path.join(submission, "numpy.py")
    monkeypatch.setitem(sys.modules, "numpy_shadow", shadow)
    results = grade_to_file(submission, str(tmp_path / "results.json"), grader=grader)
    assert results["tests"][0]["name"] == "autograder failed" and "from the submission folder" in \
        results["tests"][0]["output"]


def test_outputs_are_read_defensively():
    """The child's outputs are untrusted bytes: only uncompressed members of known checks, no pickles."""
    import io
    import numpy as np
    from scratchflow_course.grading.outputs import read_outputs

    def npz(save, **arrays):
        buffer = io.BytesIO()
        save(buffer, **arrays)
        return buffer.getvalue()
    data = npz(np.savez, **{"k1/z": np.arange(3.0)})
    assert read_outputs(data, ["k1"])["k1"]["z"].tolist() == [0.0, 1.0, 2.0]
    assert read_outputs(data, ["k2"]) is None                          # a check it was not given
    bomb = npz(np.savez_compressed, **{"k1/z": np.zeros(10 ** 6)})    # 8 MB that deflate to ~8 kB
    assert len(bomb) < 100_000 and read_outputs(bomb, ["k1"]) is None
    assert read_outputs(npz(np.savez, **{"k1/z": np.array([{"a": 1}], dtype=object)}), ["k1"]) is None
    assert read_outputs(b"not a zip", ["k1"]) is None and read_outputs(None, ["k1"]) is None


def test_hidden_inputs_are_fixed_per_submission_and_differ_from_public(grader):
    from scratchflow_course.grading.submission import submission_seed
    from scratchflow_course.grading.task import check_seed
    assert submission_seed(4, "123") == submission_seed(4, "123") != submission_seed(4, "124")
    check = next(c for c in grader.checks if not c.public and c.task == "coupling")
    public = next(c for c in grader.checks if c.public and c.task == "coupling" and c.run is check.run)
    first, again = (check.make_inputs(check_seed(submission_seed(4, "123"), check)) for _ in range(2))
    other = check.make_inputs(check_seed(submission_seed(4, "124"), check))
    assert first["seed"] == again["seed"] != other["seed"]
    assert public.make_inputs(None)["seed"] == grader.homework.public_seed != first["seed"]


def test_cli_grade_writes_results_and_summary(tmp_path):
    results_path = tmp_path / "results.json"
    completed = __import__("subprocess").run(
        [sys.executable, "-m", "scratchflow_course", "grade", EXERCISES, "--results", str(results_path),
         "--time-limit", "20"], capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert "total" in completed.stdout and "Real-NVP coupling" in completed.stdout
    results = json.loads(results_path.read_text())
    assert results["score"] == 0 and results["max_score"] > 0


def test_grade_all_writes_a_csv(tmp_path, grader, capsys):
    folder = tmp_path / "submissions"
    make_submission(ROOT, ["scratchflow/nn/made.py"], {"edits": [("scratchflow/nn/made.py", "np.arange(1, dim + 1)",
                                                                   "np.arange(dim)")]}, str(folder / "alice"))
    make_submission(ROOT, ["scratchflow/bijectors/triangular.py"], {"edits": []}, str(folder / "bob"))
    csv_path = tmp_path / "scores.csv"
    grade_all(str(folder), str(csv_path), source=SOLUTIONS)
    rows = list(csv.DictReader(open(csv_path)))
    assert [r["submission"] for r in rows] == ["alice", "bob"]
    masks, triangular = 0.4 * grader.homework.task("made_masks").points / 2, 0.4 * grader.homework.task("triangular").points
    assert float(rows[0]["score"]) == pytest.approx(masks) == float(rows[0]["made_masks"])   # masks only
    assert float(rows[1]["triangular"]) == pytest.approx(triangular) == float(rows[1]["score"])   # public: 40 %
    output = capsys.readouterr()
    assert "grade: 100%" in output.err and "2/2" in output.err                 # the tqdm progress
    assert f"alice: {masks:g} / " in output.out and f"bob: {triangular:g} / " in output.out

