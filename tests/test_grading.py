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
import shutil
import sys
import time

import pytest

from scratchflow_course.grading.grader import Grader, grade_all, grade_submission, grade_to_file
from scratchflow_course.grading.spec import load_homework
from scratchflow_course.grading.walls import Walls
from scratchflow_course.homework.release import build_release, fill_from
from scratchflow_course.questions import FILE as ANSWERS, write_answers
from tests.grading_fixtures.helpers import (FULL_MARKS, assert_gradescope_schema, graded, instructor_notes,
                                           tree_digest)
from tests.grading_fixtures.plants import PLANTS, REGION, make_submission, replay_plant

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
    assert key_results["score"] == pytest.approx(FULL_MARKS) and key_results["max_score"] == pytest.approx(100)
    hidden = [t for t in key_results["tests"] if t["name"].endswith("[hidden]")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)


def test_the_stubs_get_zero_for_every_task(grader, cache):
    results = grade_submission(EXERCISES, hidden=True, seed=SEED, cache=cache, grader=grader)
    assert_gradescope_schema(results)
    assert results["score"] == 0 and results["max_score"] == pytest.approx(100)
    for test in graded(results):
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
    notes = instructor_notes(key_results)
    assert "walls up:" in notes and "walls up" not in key_results["output"]        # instructors only
    extra = key_results["extra_data"]
    assert extra["walls_up"] and (extra["walls_missing"] == []) == IS_ROOT
    assert ("WALLS MISSING" in notes) != IS_ROOT
    assert "closed" not in key_results["output"] and grader.source not in key_results["output"]


@pytest.mark.skipif(not IS_ROOT, reason=NEEDS_ROOT)
def test_reference_and_hidden_checks_are_closed_to_the_task_uids(grader):
    assert os.stat(grader.source).st_mode & 0o077 == 0
    assert os.stat(PACKAGE).st_mode & 0o077 == 0             # the library is the reference
    assert grader.walls.uid(0) not in (None, 0)


def test_without_root_a_user_namespace_hides_the_reference(key, tmp_path, monkeypatch):
    """The walls a user without root gets where the kernel allows user namespaces: the key still
    scores 100, the attack that reads the reference library by its path finds an empty folder (its
    density check loses its points), and the results say what is missing. The grader run by a real
    ordinary user: ``tests/test_grading_without_root.py``."""
    from scratchflow_course.grading import walls
    from scratchflow_course.grading.namespaces import user_namespaces_work
    if not user_namespaces_work():
        pytest.skip("this kernel does not allow user namespaces (unshare -U)")
    monkeypatch.setattr(walls.Walls, "detect", classmethod(lambda cls: cls(privileged=False, user_namespace=True)))
    local = Grader(SOLUTIONS)
    try:
        full = make_submission(key, local.homework.files + [ANSWERS], {"edits": []}, str(tmp_path / "key"))
        attacked = make_submission(key, local.homework.files, PLANTS["reads_reference"], str(tmp_path / "s"),
                                   values={"@PACKAGE@": PACKAGE})
        cache = {}
        key_results = grade_submission(full, hidden=True, seed=SEED, grader=local, cache=cache)
        results = grade_submission(attacked, hidden=True, seed=SEED, grader=local, cache=cache)
    finally:
        local.close()
    assert key_results["score"] == pytest.approx(FULL_MARKS), [t["output"] for t in key_results["tests"]
                                                        if t["score"] < t["max_score"]][:3]
    scores, full_scores = task_scores(results, local), task_scores(key_results, local)
    assert scores["change_of_variables"] < full_scores["change_of_variables"]
    assert {k: v for k, v in scores.items() if k != "change_of_variables"} == \
        {k: v for k, v in full_scores.items() if k != "change_of_variables"}
    assert "a user namespace" in instructor_notes(results) and "WALLS MISSING" in instructor_notes(results)
    assert results["extra_data"]["walls_missing"] == walls.Walls(privileged=False, user_namespace=True).missing()


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
    outputs = {t["tags"][0]: t["output"] for t in graded(results)}
    assert "link that leads out of the submission" in outputs["made_masks"] and "not a regular file" in outputs["triangular"]


def test_folders_linked_out_of_the_submission_score_zero(grader, cache, key, key_results, tmp_path):
    """Every file the grader reads from a submission is resolved, all its components, inside the
    submission folder: the stubs with ``scratchflow/`` linked to the reference score 0, and the key
    with only ``scratchflow/bijectors`` linked loses exactly the tasks of that folder, each with a
    message; a link that stays inside the submission is fine."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    os.symlink(PACKAGE, stubs / "scratchflow")
    results = grade_submission(str(stubs), hidden=True, seed=SEED, cache=cache, grader=grader)
    assert results["score"] == 0
    assert all("link that leads out of the submission folder" in t["output"] for t in graded(results)
               if t["tags"] != ["questions"])

    partial = make_submission(key, grader.homework.files + [ANSWERS], {"edits": []}, str(tmp_path / "partial"))
    inside = tmp_path / "partial" / "mine"
    os.rename(os.path.join(partial, "scratchflow", "nn"), inside)
    os.symlink(inside, os.path.join(partial, "scratchflow", "nn"))            # inside: fine
    shutil.rmtree(os.path.join(partial, "scratchflow", "bijectors"))
    os.symlink(os.path.join(PACKAGE, "bijectors"), os.path.join(partial, "scratchflow", "bijectors"))
    results = grade_submission(partial, hidden=True, seed=SEED, cache=cache, grader=grader)
    scores, full = task_scores(results, grader), task_scores(key_results, grader)
    linked = {task.id for task in grader.homework.tasks
              if any(name.startswith("scratchflow/bijectors/") for name in task.files)}
    assert linked and all(scores[task] == 0 for task in linked)
    assert {t: s for t, s in scores.items() if t not in linked} == {t: s for t, s in full.items() if t not in linked}
    assert all("link that leads out of the submission folder" in t["output"] for t in results["tests"]
               if set(t["tags"]) & linked)


def test_replaying_the_public_values_earns_nothing(grader, cache, tmp_path):
    """The stubs, each task's child sending the public values the release ships as its outputs
    (from the task's first region; a probe that reaches another region first meets the stub): a
    public check shows "ok" at the public seed, as the local tests would, and earns nothing, since
    the same probe at a seed the student cannot know gives other values."""
    plant = replay_plant(os.path.join(EXERCISES, "tests", "expected"), grader.homework.tasks)
    submission = make_submission(EXERCISES, grader.homework.files, plant, str(tmp_path / "s"))
    results = grade_submission(submission, hidden=True, seed=SEED, cache=cache, grader=grader)
    assert results["score"] == 0
    public = [t for t in graded(results) if not t["name"].endswith("[hidden]") and t["tags"] != ["questions"]]
    replayed = [t for t in public if "ok at the public seed, but the same probe at a seed you cannot know" in t["output"]]
    assert len(replayed) >= 20 and all(t in replayed or "NotImplementedError" in t["output"] for t in public)


@pytest.mark.skipif(not IS_ROOT, reason=NEEDS_ROOT)
@pytest.mark.parametrize("isolated", [True, False], ids=["namespaces", "no-namespaces"])
def test_nothing_outlives_a_task(isolated, grader, cache, key, key_results, tmp_path, monkeypatch):
    """A task that leaves a SysV shared-memory segment (64 MB) and a message queue, a file in
    /run/lock, and tries a service of the machine on 127.0.0.1: after grading nothing of the task
    uids is left in the kernel's IPC tables nor in /run/lock, and the service was out of reach
    (loopback of its own still works: an honest server and client in the task). Where unshare is
    refused (a container without CAP_SYS_ADMIN) the SysV objects are still swept by uid, and the
    results say the network is open."""
    import socket
    from scratchflow_course.grading import walls
    if not isolated:
        monkeypatch.setattr(walls.Walls, "detect", classmethod(lambda cls: cls(privileged=True, isolated=False)))
        grader, cache = Grader(SOLUTIONS), {}
    server = socket.create_server(("127.0.0.1", 0))
    attack = {"edits": [("scratchflow/bijectors/examples.py", REGION("change_of_variables"), f'''
import ctypes as _ctypes, socket as _socket
_libc = _ctypes.CDLL(None, use_errno=True)
_libc.shmget(0x5CA7C4, _ctypes.c_size_t(64 << 20), 0o1666)
_libc.msgget(0x5CA7C5, 0o1666)
open("/run/lock/scratchflow-planted", "w").close()
_own = _socket.create_server(("127.0.0.1", 0))
_socket.create_connection(_own.getsockname(), timeout=1).close()
try:
    _socket.create_connection(("127.0.0.1", {server.getsockname()[1]}), timeout=1).close()
except OSError:
    x1 = -x1                                    # wrong on purpose unless the machine's service answered
''')]}
    submission = make_submission(key, grader.homework.files, attack, str(tmp_path / "s"))
    with server:
        results = grade_submission(submission, hidden=True, seed=SEED, cache=cache, grader=grader)
    if not isolated:
        grader.close()
    scores, full = task_scores(results, grader), task_scores(key_results, grader)
    assert (scores["change_of_variables"] < full["change_of_variables"]) == isolated
    assert {t: s for t, s in scores.items() if t != "change_of_variables"} == \
        {t: s for t, s in full.items() if t != "change_of_variables"}
    assert not any("raised an error" in t["output"] for t in results["tests"])      # loopback worked
    assert bool(results["extra_data"]["walls_missing"]) != isolated
    task_uids = {grader.walls.uid(slot) for slot in range(len(grader.homework.tasks))}
    for table in ("/proc/sysvipc/shm", "/proc/sysvipc/msg"):
        with open(table) as handle:
            rows = [line.split() for line in handle.readlines()[1:]]
        header = open(table).readline().split()
        assert not [row for row in rows if int(row[header.index("uid")]) in task_uids], table
    assert not os.path.exists("/run/lock/scratchflow-planted")


@pytest.mark.skipif(not IS_ROOT, reason="mounts a small tmpfs (root) to stand for Docker's 64 MB /dev/shm")
def test_honest_scratch_files_fit_beside_a_small_dev_shm(key, key_results, monkeypatch):
    """Two tasks graded at once each write 60 MB of scratch files, with the grader's folder on a
    64 MB tmpfs (Docker's default /dev/shm): both keep every point, since each sandbox is a tmpfs of
    its own; and the grader itself would not put its folder on so small a /dev/shm."""
    import subprocess
    import tempfile
    from scratchflow_course.grading import grader as grader_module
    small = tempfile.mkdtemp(prefix="scratchflow-small-shm-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=1777", "tmpfs", small], check=True)
    try:
        assert grader_module.scratch_parent(small) is None and grader_module.scratch_parent() == "/dev/shm"
        monkeypatch.setattr(grader_module, "scratch_parent", lambda: small)
        local = Grader(SOLUTIONS)
        scratch = """
import os as _os
if not _os.path.exists("honest-scratch.bin"):
    with open("honest-scratch.bin", "wb") as _scratch:
        for _ in range(60):
            _scratch.write(bytes(2 ** 20))
"""
        first, second = local.homework.tasks[:2]                     # graded at the same time
        plant = {"edits": [(first.files[0], REGION(first.id), scratch), (second.files[0], REGION(second.id), scratch)]}
        submission = make_submission(key, local.homework.files, plant, tempfile.mkdtemp(prefix="scratchflow-s-"))
        try:
            results = grade_submission(submission, hidden=True, seed=SEED, grader=local)
        finally:
            local.close()
            shutil.rmtree(submission, ignore_errors=True)
    finally:
        subprocess.run(["umount", small], check=True)
        os.rmdir(small)
    assert task_scores(results, local) == task_scores(key_results, local), \
        [t["output"] for t in results["tests"] if t["score"] < t["max_score"]][:2]


def test_a_child_that_dies_before_student_code_is_retried_then_the_grader_fails(grader, key, tmp_path, monkeypatch):
    """The student is never charged for the grader: a child that ends before it reports its walls
    up is run again; once more, and the submission gets a visible "autograder failed", not a zero."""
    import sys as _sys
    from scratchflow_course.grading import task as task_module
    calls = []
    real = task_module.run_child

    def failing(command, *args):
        calls.append(command)
        if len(calls) == 1 or always:               # dies where the grader starts it, before any student code
            command = [_sys.executable, "-c", "import os; os._exit(3)"]
        return real(command, *args)
    monkeypatch.setattr(task_module, "run_child", failing)
    task = grader.homework.task("made_masks")
    submission = make_submission(key, task.files, {"edits": []}, str(tmp_path / "s"))
    always = False
    entries = task_module.grade_task(grader, task, submission, hidden=False, seed=SEED, time_limit=None)
    assert len(calls) == 2 and all(entry["passed"] for entry in entries)            # retried once: full marks
    always, calls[:] = True, []
    results = grade_to_file(submission, str(tmp_path / "results.json"), grader=grader)
    assert results["tests"][0]["name"] == "autograder failed" and results["tests"][0]["visibility"] == "visible"
    assert "tried twice" in results["tests"][0]["output"] and "before student code ran" in results["tests"][0]["output"]


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
    public_inputs = public.make_inputs(check_seed(submission_seed(4, "123"), public))
    assert public_inputs["seed"] == grader.homework.public_seed != first["seed"]
    assert public_inputs["unknown_seed"] != public.make_inputs(check_seed(submission_seed(4, "124"), public))["unknown_seed"]


def test_cli_grade_writes_results_and_summary(tmp_path):
    results_path = tmp_path / "results.json"
    completed = __import__("subprocess").run(
        [sys.executable, "-m", "scratchflow_course", "grade", EXERCISES, "--results", str(results_path),
         "--time-limit", "20"], capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert "total" in completed.stdout and "Real-NVP coupling" in completed.stdout
    results = json.loads(results_path.read_text())
    assert results["score"] == 0 and results["max_score"] > 0


@pytest.mark.parametrize("command, says", [
    (["grade", "no-such-folder"], "no folder 'no-such-folder' to grade"),
    (["grade", "--all", "no-such-folder"], "no folder 'no-such-folder' to grade"),
    (["grade", ".", "--source", "."], "no course source at"),
    (["release", "--out", "a-file/release"], "cannot write"),
])
def test_the_instructors_mistakes_get_one_line_and_a_failing_exit(command, says, tmp_path):
    """A missing folder, a source without homework.json, an output folder that cannot be written:
    one line on stderr, exit status 2, no traceback, no "autograder failed" meant for students."""
    (tmp_path / "a-file").write_text("")
    completed = __import__("subprocess").run([sys.executable, "-m", "scratchflow_course"] + command,
                                             capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.count("\n") == 1 and says in completed.stderr, completed.stderr
    assert not (tmp_path / "results.json").exists() and not (tmp_path / "scores.csv").exists()


def test_points_are_written_rounded_and_add_up(key_results, grader):
    numbers = [key_results["score"], key_results["max_score"]] + \
        [value for t in key_results["tests"] for value in (t["score"], t["max_score"])]
    assert all(value == round(value, 2) and repr(value) == repr(round(value, 2)) for value in numbers)
    scores = task_scores(key_results, grader)
    assert all(repr(score) == repr(float(task.points)) for task, score in
               zip(grader.homework.tasks, scores.values()))


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

