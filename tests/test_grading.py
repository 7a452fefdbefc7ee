"""The autograder: full marks for the solutions, zero for the exercises, exactly the broken tasks'
points lost for each planted wrong submission, robustness (loops, sys.exit, prints, forgery,
reference imports), one source for exercises, the release bundles and the CLI.

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
import zipfile

import pytest

from scratchflow.grading.generate import RegionError, check_sync, generate_exercises, strip_solutions
from scratchflow.grading.grader import Grader, grade_all, grade_submission, grade_to_file
from scratchflow.grading.scan import forbidden_uses
from tests.grading_fixtures.plants import PLANTS, make_submission

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "solutions")
EXERCISES = os.path.join(ROOT, "exercises")
SEED = 7


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


def assert_gradescope_schema(results):
    assert set(results) >= {"score", "max_score", "tests"}
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    json.dumps(results)


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
    submission = make_submission(SOLUTIONS, grader.homework.files, plant, str(tmp_path / "submission"))
    results_path = tmp_path / "results.json"
    monkeypatch.setenv("FORGE_RESULTS_PATH", str(results_path))
    for variable, value in plant.get("env", {}).items():
        monkeypatch.setenv(variable, value)
    limits = {"maf": 2.0} if name == "infinite_loop" else None
    start = time.monotonic()
    results = grade_to_file(submission, str(results_path), hidden=True, seed=SEED, cache=cache,
                            grader=grader, time_limit=limits)
    elapsed = time.monotonic() - start
    if name == "escaped_daemon":
        time.sleep(0.3)                 # a surviving daemon would rewrite the file within 10 ms
    written = json.loads(results_path.read_text())
    assert written == json.loads(json.dumps(results))       # the grader's file, not a forged one
    assert_gradescope_schema(written)
    expected = task_scores(solution_results, grader)
    for task_id in plant["breaks"]:
        expected[task_id] = 0.0
    assert task_scores(written, grader) == expected
    if name == "infinite_loop":
        assert elapsed < 15
        assert all("time limit" in t["output"] for t in written["tests"] if "maf" in t["tags"])
    if name == "reference_import":
        messages = [t["output"] for t in written["tests"] if "coupling" in t["tags"]]
        assert all("reference implementation" in m and "scratchflow.bijectors.coupling" in m for m in messages)
    if name == "raise_at_import":
        assert all("importing your file failed" in t["output"] and "half-finished file" in t["output"]
                   for t in written["tests"] if "change_of_variables" in t["tags"])
    if name == "runtime_reference_import":
        assert all("reached scratchflow.checks" in t["output"] for t in written["tests"]
                   if "change_of_variables" in t["tags"])
    if name == "reads_grader_memory":
        assert all("off limits" in t["output"] and "/proc/" in t["output"]
                   for t in written["tests"] if "mlp_backward" in t["tags"])
    if name == "reads_reference":
        assert all("the grader stopped your code" in t["output"] and "off limits" in t["output"]
                   for t in written["tests"] if {"change_of_variables", "mlp_backward"} & set(t["tags"]))
    if name == "encodings_and_syntax":
        assert all("SyntaxError" in t["output"] for t in written["tests"] if "mlp_backward" in t["tags"])
    if name == "sys_exit":
        assert all("sys.exit(3)" in t["output"] for t in written["tests"] if "iaf" in t["tags"])


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
    results = grade_submission(submission, hidden=True, seed=SEED, cache=cache, grader=grader)
    scores = task_scores(results, grader)
    assert (scores["made_masks"], scores["maf"], scores["iaf"], scores["coupling"]) == (0, 0, 0, 15)
    outputs = {t["tags"][0]: t["output"] for t in results["tests"]}
    assert "symbolic link" in outputs["made_masks"] and "not a regular file" in outputs["maf"]


def test_files_beside_the_task_file_never_reach_the_grader(grader, tmp_path, monkeypatch):
    """Only the task file enters the sandbox: a numpy.py, sitecustomize.py, conftest.py, a copy of
    the grader's checks or a scratchflow/ package in the submission change nothing; and a grader
    that has already imported code from the submission folder refuses to grade."""
    import types
    from scratchflow.grading.grader import grade_task
    submission = make_submission(SOLUTIONS, ["task5_made_masks.py"], {"edits": []}, str(tmp_path / "s"))
    for name in ("numpy.py", "sitecustomize.py", "conftest.py", "_grader_checks.py", "scratchflow/__init__.py"):
        os.makedirs(os.path.dirname(os.path.join(submission, name)), exist_ok=True)
        with open(os.path.join(submission, name), "w") as handle:
            handle.write("raise SystemExit('shadowing file ran')\n")
    task = grader.homework.task("made_masks")
    entries = grade_task(grader, task, submission, hidden=False, seed=SEED, time_limit=None)  # no cache
    assert all(entry["passed"] for entry in entries), [entry["output"] for entry in entries]
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


def test_outputs_file_is_read_defensively(tmp_path):
    """The child's outputs.npz is untrusted: only uncompressed members of known checks, no pickles."""
    import numpy as np
    from scratchflow.grading.grader import _read_outputs
    path = str(tmp_path / "outputs.npz")
    np.savez(path, **{"k1/z": np.arange(3.0)})
    assert _read_outputs(path, ["k1"])["k1"]["z"].tolist() == [0.0, 1.0, 2.0]
    assert _read_outputs(path, ["k2"]) is None                         # a check it was not given
    np.savez_compressed(path, **{"k1/z": np.zeros(10 ** 6)})           # 8 MB that deflate to ~8 kB
    assert os.path.getsize(path) < 100_000 and _read_outputs(path, ["k1"]) is None
    np.savez(path, **{"k1/z": np.array([{"a": 1}], dtype=object)})     # would need pickle
    assert _read_outputs(path, ["k1"]) is None


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
    from scratchflow.grading.grader import _check_seed, submission_seed
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


# ---------------------------------------------------------------------------- CLI and release
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


def test_release_bundles(tmp_path):
    from scratchflow.grading.release import build_release
    build_release(str(tmp_path / "release"), source=SOLUTIONS)
    student = tmp_path / "release" / "student"
    assert (student / "README.md").is_file() and (student / "tests" / "test_task3_coupling.py").is_file()
    assert not (student / "autograder").exists() and not (student / "homework.json").exists()
    with zipfile.ZipFile(tmp_path / "release" / "student.zip") as archive:
        assert all("BEGIN SOLUTION" not in archive.read(n).decode() for n in archive.namelist())
    with zipfile.ZipFile(tmp_path / "release" / "autograder.zip") as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "source/solutions/autograder/checks.py",
                "source/scratchflow/grading/grader.py"} <= set(names)
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
        archive.extractall(tmp_path / "ag" / "source_zip")
    # a dry run of the Gradescope layout: /autograder/{source,submission,results}
    root = tmp_path / "ag"
    shutil.move(str(root / "source_zip" / "source"), str(root / "source"))
    make_submission(SOLUTIONS, ["task5_made_masks.py"], {"edits": []}, str(root / "submission"))
    (root / "submission_metadata.json").write_text(json.dumps({"id": 123}))
    env = dict(os.environ, AUTOGRADER_ROOT=str(root))
    completed = subprocess.run(["bash", str(root / "source_zip" / "run_autograder")], env=env,
                               capture_output=True, text=True, timeout=120)
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 10 and results["max_score"] == 100, completed.stdout + completed.stderr
    assert any(t["name"].endswith("[hidden]") for t in results["tests"])
