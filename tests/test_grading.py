"""The autograder: full marks for the solutions, zero for the exercises, exactly the broken tasks'
points lost for each planted wrong submission, robustness (loops, sys.exit, prints, forgery,
reference imports), the OS walls (attacks that need them run only as root, as in CI), one source
for exercises, the Gradescope bundle as Gradescope runs it, and the CLI.

Grading runs real child processes. To stay fast, the tests share one :class:`Grader` and one
verdict cache: a task whose file is byte-for-byte the solution's is graded once (the cache is the
grader's own feature for batch grading, keyed on the file's content, the checks and the seed).
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from scratchflow.grading.generate import RegionError, check_sync, strip_solutions
from scratchflow.grading.grader import Grader, grade_all, grade_submission, grade_to_file
from scratchflow.grading.scan import forbidden_uses
from scratchflow.grading.walls import Walls
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
def solution_results(grader, cache):
    return grade_submission(SOLUTIONS, hidden=True, seed=SEED, cache=cache, grader=grader)


def task_scores(results, grader):
    return {task.id: sum(t["score"] for t in results["tests"] if task.id in t["tags"])
            for task in grader.homework.tasks}


def test_solutions_get_full_marks(solution_results, grader):
    assert_gradescope_schema(solution_results)
    failed = [(t["name"], t["output"]) for t in solution_results["tests"] if t["score"] < t["max_score"]]
    assert failed == []
    assert solution_results["score"] == solution_results["max_score"] == grader.homework.max_score == 100
    hidden = [t for t in solution_results["tests"] if t["name"].endswith("[hidden]")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)


def test_exercises_get_zero_for_every_task(grader, cache):
    results = grade_submission(EXERCISES, hidden=True, seed=SEED, cache=cache, grader=grader)
    assert_gradescope_schema(results)
    assert results["score"] == 0 and results["max_score"] == 100
    for test in results["tests"]:
        assert "NotImplementedError" in test["output"] and "TODO" in test["output"], test


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_planted_submission_loses_exactly_its_tasks(name, grader, cache, solution_results, tmp_path,
                                                    monkeypatch):
    plant = PLANTS[name]
    if plant.get("root_only") and not IS_ROOT:
        pytest.skip(NEEDS_ROOT)
    results_path = tmp_path / "results.json"
    submission = make_submission(SOLUTIONS, grader.homework.files, plant, str(tmp_path / "submission"),
                                 values={"@SOLUTIONS@": SOLUTIONS, "@PACKAGE@": PACKAGE,
                                         "@RESULTS@": str(results_path)})
    for variable, value in plant.get("env", {}).items():
        monkeypatch.setenv(variable, value)
    limits = {"maf": 2.0} if name == "infinite_loop" else None
    before = outside_the_sandbox()
    start = time.monotonic()
    results = grade_to_file(submission, str(results_path), hidden=True, seed=SEED, cache=cache,
                            grader=grader, time_limit=limits)
    elapsed = time.monotonic() - start
    if name == "escaped_daemon":
        time.sleep(0.3)                 # a surviving daemon would rewrite the file within 10 ms
    written = json.loads(results_path.read_text())
    assert written == json.loads(json.dumps(results))       # the grader's file, not a forged one
    assert_gradescope_schema(written)
    assert outside_the_sandbox() == before
    assert not any(os.path.lexists(path) for path in plant.get("planted", ()))
    expected = task_scores(solution_results, grader)
    for task_id in plant["breaks"]:
        expected[task_id] = 0.0
    assert task_scores(written, grader) == expected, [t["output"] for t in written["tests"] if t["score"] == 0]
    outputs = {tag: [t["output"] for t in written["tests"] if tag in t["tags"]] for tag in expected}
    if name == "infinite_loop":
        assert elapsed < 15
        assert all("time limit" in m for m in outputs["maf"])
    if name == "reference_import":
        assert all("reference implementation" in m and "scratchflow.bijectors.coupling" in m
                   for m in outputs["coupling"])
    if name == "raise_at_import":
        assert all("importing your file failed" in m and "half-finished file" in m
                   for m in outputs["change_of_variables"])
    if name == "runtime_reference_import":
        assert all("reached scratchflow.checks" in m for m in outputs["change_of_variables"])
    if name == "reads_grader_memory":
        assert all("PermissionError" in m for m in outputs["mlp_backward"])
    if name == "signals_the_grader":
        assert all("PermissionError" in m for m in outputs["made_masks"] + outputs["change_of_variables"])
    if name == "encodings_and_syntax":
        assert all("SyntaxError" in m for m in outputs["mlp_backward"])
    if name == "sys_exit":
        assert all("sys.exit(3)" in m for m in outputs["iaf"])
    if name == "spinning_threads":
        assert elapsed < 15 and all("thread" in m for m in outputs["iaf"])


def test_walls_are_reported(solution_results, grader):
    """The results and the command's output say which walls were up and which were missing."""
    assert "walls up:" in solution_results["output"]
    extra = solution_results["extra_data"]
    assert extra["walls_up"] and (extra["walls_missing"] == []) == IS_ROOT
    assert ("WALLS MISSING" in solution_results["output"]) != IS_ROOT


@pytest.mark.skipif(not IS_ROOT, reason=NEEDS_ROOT)
def test_reference_and_hidden_checks_are_closed_to_the_task_uids(grader):
    assert os.stat(grader.source).st_mode & 0o077 == 0
    assert grader.walls.uid(0) not in (None, 0)


def test_without_root_a_user_namespace_hides_the_reference(tmp_path, monkeypatch):
    """The walls a user without root gets where the kernel allows user namespaces: the attacks that
    read the reference by its path find an empty folder, and the results say what is missing."""
    from scratchflow.grading import walls
    from scratchflow.grading.namespaces import user_namespaces_work
    if not user_namespaces_work():
        pytest.skip("this kernel does not allow user namespaces (unshare -U)")
    monkeypatch.setattr(walls.Walls, "detect", classmethod(lambda cls: cls(privileged=False, user_namespace=True)))
    edits = PLANTS["hard_link_reference"]["edits"] + PLANTS["guard_switched_off"]["edits"]
    submission = make_submission(SOLUTIONS, ["task1_change_of_variables.py", "task2_mlp_backward.py"],
                                 {"edits": edits}, str(tmp_path / "s"), values={"@SOLUTIONS@": SOLUTIONS})
    local = Grader(SOLUTIONS)
    results = grade_submission(submission, seed=SEED, grader=local)
    local.close()
    scores = task_scores(results, local)
    assert (scores["change_of_variables"], scores["mlp_backward"]) == (0, 0)
    assert "a user namespace" in results["output"] and "WALLS MISSING" in results["output"]
    assert results["extra_data"]["walls_missing"]


def test_one_submission_cannot_change_the_next_ones_grading(tmp_path):
    """--all: a submission rewrites the package copy the children import (scratchflow/nn/mlp.py);
    the next one, a copy of the solutions, still gets every point."""
    folder = tmp_path / "submissions"
    attack = {"edits": [("task2_mlp_backward.py", None, """
import scratchflow.nn.mlp as _mlp
try:
    with open(_mlp.__file__, "a") as _out:
        _out.write("\\nMLP.forward = lambda self, x: 0 * x[:, :1]\\n")
except OSError:
    pass
""")]}
    make_submission(SOLUTIONS, ["task2_mlp_backward.py"], attack, str(folder / "a_attacker"))
    make_submission(SOLUTIONS, ["task3_coupling.py"], {"edits": []}, str(folder / "b_solutions"))
    before = outside_the_sandbox()
    rows = grade_all(str(folder), str(tmp_path / "scores.csv"), source=SOLUTIONS)
    assert [(r["submission"], r["coupling"], r["coupling_backward"]) for r in rows] == \
        [("a_attacker", 0, 0), ("b_solutions", 8, 7)]                   # public checks: 4+4 and 4+3
    assert outside_the_sandbox() == before


def test_the_package_copy_is_repaired_and_the_graders_own_files_are_watched(grader, tmp_path, monkeypatch):
    """What the walls stop as root, the digests catch without root: a changed or added file in the
    package copy is rewritten before the next submission; a changed file the grader imported stops it."""
    from scratchflow.grading.library import ImportedFiles
    mlp = os.path.join(grader.library.lib, "scratchflow", "nn", "mlp.py")
    with open(mlp, "a") as out:
        out.write("\nMLP = None\n")
    planted = os.path.join(grader.library.lib, "scratchflow", "planted.py")
    open(planted, "w").close()
    assert grader.library.ensure_pristine() is False
    assert grader.library.ensure_pristine() is True
    assert not os.path.exists(planted) and "MLP = None" not in open(mlp).read()
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


def test_missing_file_scores_zero_for_its_tasks(grader, cache, tmp_path):
    submission = make_submission(SOLUTIONS, [f for f in grader.homework.files if f != "task5_made_masks.py"],
                                 {"edits": []}, str(tmp_path / "s"))
    results = grade_submission(submission, hidden=True, seed=SEED, cache=cache, grader=grader)
    scores = task_scores(results, grader)
    assert scores["made_masks"] == 0 and scores["maf"] == 15
    assert all("task5_made_masks.py was not found" in t["output"] for t in results["tests"]
               if "made_masks" in t["tags"])


def test_links_and_special_files_score_zero_without_hanging(grader, cache, tmp_path):
    """A symlink to the reference gets no points; a FIFO or /dev/zero named like a task file
    neither hangs the grader nor fills its memory."""
    submission = make_submission(SOLUTIONS, grader.homework.files, {"edits": []}, str(tmp_path / "s"))
    for name, make in [("task5_made_masks.py", lambda p: os.symlink(os.path.join(SOLUTIONS, name), p)),
                       ("task6_maf.py", os.mkfifo),
                       ("task7_iaf.py", lambda p: os.symlink("/dev/zero", p))]:
        os.remove(os.path.join(submission, name))
        make(os.path.join(submission, name))
    before = outside_the_sandbox()
    results = grade_submission(submission, hidden=True, seed=SEED, cache=cache, grader=grader)
    assert outside_the_sandbox() == before
    assert_gradescope_schema(json.loads(json.dumps(results)))
    scores = task_scores(results, grader)
    assert (scores["made_masks"], scores["maf"], scores["iaf"], scores["coupling"]) == (0, 0, 0, 15)
    outputs = {t["tags"][0]: t["output"] for t in results["tests"]}
    assert "symbolic link" in outputs["made_masks"] and "not a regular file" in outputs["maf"]


def test_files_beside_the_task_file_never_reach_the_grader(grader, tmp_path, monkeypatch):
    """Only the task file enters the sandbox: a numpy.py, sitecustomize.py, conftest.py, a copy of
    the grader's checks or a scratchflow/ package in the submission change nothing; and a grader
    that has already imported code from the submission folder refuses to grade."""
    import types
    from scratchflow.grading.task import grade_task
    submission = make_submission(SOLUTIONS, ["task5_made_masks.py"], {"edits": []}, str(tmp_path / "s"))
    for name in ("numpy.py", "sitecustomize.py", "conftest.py", "_grader_checks.py", "scratchflow/__init__.py"):
        os.makedirs(os.path.dirname(os.path.join(submission, name)), exist_ok=True)
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


def test_solution_files_never_go_into_a_sandbox(tmp_path):
    from scratchflow.grading.spec import load_homework
    shutil.copytree(SOLUTIONS, tmp_path / "source", ignore=shutil.ignore_patterns("__pycache__", ".*"))
    meta = json.loads((tmp_path / "source" / "homework.json").read_text())
    meta["tasks"][-1]["grader_modules"] = ["task3_coupling.py"]
    (tmp_path / "source" / "homework.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="solution files"):
        load_homework(str(tmp_path / "source"))


def test_outputs_are_read_defensively():
    """The child's outputs are untrusted bytes: only uncompressed members of known checks, no pickles."""
    import io
    import numpy as np
    from scratchflow.grading.outputs import read_outputs

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


# ---------------------------------------------------------------------------- one source
def test_exercises_are_in_sync_with_solutions():
    assert check_sync(SOLUTIONS, EXERCISES) == [], "run: scratchflow generate-exercises"


def test_exercises_have_no_solutions_and_no_hidden_tests():
    for folder, _, files in os.walk(EXERCISES):
        assert "autograder" not in folder.split(os.sep)
        for name in files:
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            assert "BEGIN SOLUTION" not in text and "CHECKS" not in text, name
    stubbed = open(os.path.join(EXERCISES, "task3_coupling.py"), encoding="utf-8").read()
    assert "raise NotImplementedError('Task 4. Real-NVP coupling: the backward pass: CouplingLayer._backward" in stubbed
    assert "# TODO slide \"Real-NVP\"" in stubbed and "np.exp(log_scale)" not in stubbed


def test_sync_check_notices_a_stale_exercise(tmp_path):
    copy = tmp_path / "exercises"
    shutil.copytree(EXERCISES, copy)
    (copy / "task1_change_of_variables.py").write_text("# edited by hand\n")
    (copy / "stray.py").write_text("")
    problems = check_sync(SOLUTIONS, str(copy))
    assert "out of date: task1_change_of_variables.py" in problems
    assert any("stray.py" in p for p in problems)


def test_every_exercise_reads_like_a_worksheet(grader):
    """Docstring: the slide, the formula's shapes, what the public tests check and how to run them."""
    import ast
    for name in grader.homework.files:
        docstring = ast.get_docstring(ast.parse(open(os.path.join(EXERCISES, name), encoding="utf-8").read()))
        assert docstring and "slide" in docstring and "Shapes" in docstring.replace("shapes", "Shapes"), name
        assert "What the public tests check" in docstring and "python -m pytest tests/test_" in docstring, name
        assert "Not allowed" in docstring, name
        assert "scratchflow.checks" in docstring, name          # how to run the checker on your own code


def test_hidden_inputs_are_fixed_per_submission(grader):
    from scratchflow.grading.submission import submission_seed
    from scratchflow.grading.task import check_seed as _check_seed
    assert submission_seed(4, "123") == submission_seed(4, "123") != submission_seed(4, "124")
    check = next(c for c in grader.checks if not c.public and c.task == "coupling")
    first, again = (check.make_inputs(_check_seed(submission_seed(4, "123"), check)) for _ in range(2))
    other = check.make_inputs(_check_seed(submission_seed(4, "124"), check))
    assert all((first[k] == again[k]).all() for k in first)
    assert not (first["x"] == other["x"]).all()


def test_regions_need_a_todo_and_must_close():
    names = {"t": "Task T"}
    good = "def f(x):\n    ### BEGIN SOLUTION\n    ### TODO slide X: y = 2x\n    return 2 * x\n    ### END SOLUTION\n"
    stub = "    raise NotImplementedError('Task T: f is not written yet (see the TODO above)')\n"
    assert strip_solutions(good, names, "t") == "def f(x):\n    # TODO slide X: y = 2x\n" + stub
    with pytest.raises(RegionError, match="TODO"):
        strip_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", names, "t")
    with pytest.raises(RegionError, match="never closed"):
        strip_solutions("def f():\n    ### BEGIN SOLUTION\n    ### TODO x\n", names, "t")


def test_forbidden_import_scan():
    forbidden = ["scratchflow.bijectors.coupling", "scratchflow.AffineCoupling"]
    assert forbidden_uses("from scratchflow.bijectors.coupling import AffineCoupling", forbidden)
    assert forbidden_uses("import scratchflow as sf\nlayer = sf.AffineCoupling", forbidden)
    assert forbidden_uses("import importlib\nimportlib.import_module('scratchflow.bijectors.coupling')", forbidden)
    assert forbidden_uses("import _grader_checks", [])
    assert forbidden_uses("import solutions.task3_coupling", [])       # the homework folder itself
    # read as Python reads it: '+AAo-' is a newline in UTF-7, so line 2 is an import, not a comment
    hidden = b"# coding: utf-7\n# +AAo-from scratchflow.bijectors.coupling import AffineCoupling\n"
    assert forbidden_uses(hidden, forbidden) and not forbidden_uses(hidden.decode(), forbidden)
    assert forbidden_uses("from scratchflow.nn import MLP\nfrom scratchflow.bijectors.base import Bijector",
                          forbidden) == []


PUBLIC_PYTEST = [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", "-p",
                 "no:hypothesispytest", "tests"]


def test_public_tests_pass_on_the_solutions():
    completed = subprocess.run(PUBLIC_PYTEST, cwd=SOLUTIONS, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout[-3000:]


def test_public_tests_catch_the_planted_bugs(grader, tmp_path):
    """The students' own tests fail on the three planted maths bugs, and only where they should."""
    submission = tmp_path / "student"
    shutil.copytree(os.path.join(SOLUTIONS, "tests"), submission / "tests")
    edits = [e for name in ("sign_error_log_det", "missing_backward_term", "non_autoregressive_mask")
             for e in PLANTS[name]["edits"]]
    make_submission(SOLUTIONS, grader.homework.files, {"edits": edits}, str(submission))
    completed = subprocess.run(PUBLIC_PYTEST, cwd=str(submission), capture_output=True, text=True, timeout=120)
    failed = {line.split("::")[1].split()[0] for line in completed.stdout.splitlines() if line.startswith("FAILED")}
    # the sign error is consistent (forward and inverse), so the round trip passes; the Jacobian catches it
    assert failed == {"test_log_det_matches_numerical_jacobian",
                      "test_backward_matches_finite_differences", "test_masks_of_a_small_example",
                      "test_made_is_autoregressive", "test_output_d_does_not_move_when_later_inputs_change"}, \
        completed.stdout[-3000:]


# ---------------------------------------------------------------------------- CLI (release: test_grading_release.py)
def test_cli_grade_writes_results_and_summary(tmp_path):
    results_path = tmp_path / "results.json"
    completed = subprocess.run([sys.executable, "-m", "scratchflow.cli", "grade", EXERCISES,
                                "--results", str(results_path), "--time-limit", "20"],
                               capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert "0.0 / 100.0" not in completed.stdout                    # public tests only
    assert "total" in completed.stdout and "Task 3." in completed.stdout
    results = json.loads(results_path.read_text())
    assert results["score"] == 0 and results["max_score"] > 0


def test_grade_all_writes_a_csv(tmp_path, grader, capsys):
    folder = tmp_path / "submissions"
    shutil.copytree(EXERCISES, folder / "alice")
    make_submission(SOLUTIONS, ["task1_change_of_variables.py"], {"edits": []}, str(folder / "bob"))
    csv_path = tmp_path / "scores.csv"
    grade_all(str(folder), str(csv_path), source=SOLUTIONS)
    rows = list(csv.DictReader(open(csv_path)))
    assert [r["submission"] for r in rows] == ["alice", "bob"]
    assert float(rows[0]["score"]) == 0
    assert float(rows[1]["change_of_variables"]) == 6 and float(rows[1]["score"]) == 6   # public: 2+2+2
    output = capsys.readouterr()
    assert "grade: 100%" in output.err and "2/2" in output.err                 # the tqdm progress
    assert "alice: 0 / " in output.out and "bob: 6 / " in output.out

