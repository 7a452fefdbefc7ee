"""The grader run by an ordinary user (a TA's laptop): the key scores 100, the stubs 0, the attacks
that apply without root are scored as they deserve, and the results list exactly the walls that are
missing. CI runs as root, so the test creates a user (see ``grading_fixtures/ordinary_user.py``).

The checkout the grader runs from holds a ``.venv`` (the grader's Python) and a ``.git``; a ``.pth``
file in that ``.venv`` (planted before grading, and one a task tries to plant) must never run in a
task.
"""
import csv
import json
import os
import shutil

import pytest

from scratchflow_course.grading.namespaces import user_namespaces_work
from scratchflow_course.grading.spec import load_homework
from scratchflow_course.grading.walls import Walls
from scratchflow_course.homework.release import build_release, fill_from
from tests.grading_fixtures.helpers import FULL_MARKS, mistake_plant, own_nll, task_tests as point_tests
from tests.grading_fixtures.ordinary_user import give, make_checkout, ordinary_uid, run_as
from scratchflow_course.questions import FILE as ANSWERS, QUESTIONS, write_answers
from tests.grading_fixtures.plants import (RAISES_IN_TRAINING, READS_IN_TRAINING, REGION, TRAINS_ELSEWHERE,
                                          make_submission, replay_plant)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOMEWORK = load_homework(os.path.join(ROOT, "solutions"))
EXAMPLES = "scratchflow/bijectors/examples.py"

READS_CHECKOUT = {"edits": [(EXAMPLES, REGION("change_of_variables"), '''
import os as _os
_read = False
for _path in ("@CHECKOUT@/.venv/pyvenv.cfg", "@CHECKOUT@/.git/HEAD", "@CHECKOUT@/solutions/homework.json",
              "@CHECKOUT@/scratchflow/bijectors/examples.py", "@ORIGINAL@/scratchflow/bijectors/examples.py"):
    try:
        open(_path).read()
        _read = True
    except OSError:
        pass
if not _read:
    x1 = -x1                                    # wrong on purpose unless something was readable
''')]}
PLANTS_PTH = {"edits": [(EXAMPLES, REGION("change_of_variables"), '''
for _folder in ("@PACKAGES@", "@CHECKOUT@"):
    try:
        with open(_folder + "/zz_task_planted.pth", "w") as _out:
            _out.write("import os; open('@CHECKOUT@/task-pth-ran', 'w')\\n")
    except OSError:
        pass
''')]}
# A .pth in the grader's venv before grading: it runs in the grader (harmless there), and must not
# run in a task (it would run before the namespace, as the user).
PLANTED_PTH = ("import sys; 'grading.child' in ' '.join(sys.orig_argv) and "
               "open('@CHECKOUT@/planted-pth-ran', 'w')\n")


def _set_q5(path, value):
    with open(path, encoding="utf-8") as handle:
        lines = [f"q5: {value}" if line.startswith("q5:") else line for line in handle.read().splitlines()]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the submissions with ``grade --all --hidden`` as an ordinary user; return (rows by
    submission, results by submission, the checkout)."""
    if not user_namespaces_work():
        pytest.skip("this kernel does not allow user namespaces (unshare -U): the grader without root "
                    "has only the walls a plain process has")
    uid, why = ordinary_uid()
    if uid is None:
        pytest.skip(why)
    checkout, packages = make_checkout(ROOT, uid)
    try:
        with open(os.path.join(packages, "zz_planted.pth"), "w") as handle:
            handle.write(PLANTED_PTH.replace("@CHECKOUT@", checkout))
        release = str(tmp_path_factory.mktemp("filled") / "release")
        build_release(ROOT, os.path.join(ROOT, "exercises"), release)
        fill_from(release, ROOT, [task.id for task in HOMEWORK.tasks])
        write_answers(release)
        folder = os.path.join(checkout, "submissions")
        values = {"@CHECKOUT@": checkout, "@ORIGINAL@": ROOT, "@PACKAGES@": packages}
        for name, start, plant in [("a_key", release, {"edits": []}),
                                   ("b_stubs", os.path.join(ROOT, "exercises"), {"edits": []}),
                                   ("c_reads_checkout", release, READS_CHECKOUT),
                                   ("d_plants_pth", release, PLANTS_PTH),
                                   ("f_replays_public_values", os.path.join(ROOT, "exercises"),
                                    replay_plant(os.path.join(ROOT, "exercises", "tests", "expected"), HOMEWORK.tasks))]:
            make_submission(start, HOMEWORK.files + [ANSWERS], plant, os.path.join(folder, name), values=values)
        elsewhere = mistake_plant(TRAINS_ELSEWHERE)             # q5: the number its own code reaches
        own = own_nll(release, HOMEWORK.files, elsewhere, 1234, str(tmp_path_factory.mktemp("student") / "r"))
        values.update({"@PACKAGE@": os.path.join(checkout, "scratchflow"), "@SOLUTIONS@": os.path.join(checkout, "solutions")})
        for name, plant, q5 in [("g_trains_elsewhere", elsewhere, own), ("h_raises_in_training", RAISES_IN_TRAINING, None),
                                ("i_reads_in_training", READS_IN_TRAINING, None)]:
            make_submission(release, HOMEWORK.files + [ANSWERS], plant, os.path.join(folder, name), values=values)
            if q5 is not None:
                _set_q5(os.path.join(folder, name, ANSWERS), q5)
        os.makedirs(os.path.join(folder, "e_links_the_reference"))
        os.symlink(os.path.join(checkout, "scratchflow"), os.path.join(folder, "e_links_the_reference", "scratchflow"))
        give(checkout, uid)
        completed = run_as(uid, checkout, ["-m", "scratchflow_course", "grade", "--all", folder, "--hidden",
                                           "--results", "out/scores.csv", "--results-dir", "out/results"])
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
        with open(os.path.join(checkout, "out", "scores.csv")) as handle:
            rows = {row["submission"]: row for row in csv.DictReader(handle)}
        results = {}
        for name in rows:
            with open(os.path.join(checkout, "out", "results", name + ".json")) as handle:
                results[name] = json.load(handle)
        yield rows, results, checkout
    finally:
        shutil.rmtree(checkout, ignore_errors=True)


def test_the_key_scores_100_and_the_stubs_0(graded):
    rows, results, _ = graded
    assert float(rows["a_key"]["score"]) == pytest.approx(FULL_MARKS), \
        [t["output"] for t in results["a_key"]["tests"] if t["score"] < t["max_score"]][:3]
    assert float(rows["b_stubs"]["score"]) == 0
    assert all("NotImplementedError" in t["output"] for t in point_tests(results["b_stubs"]))


def test_nothing_in_the_checkout_is_readable(graded):
    """The checkout's ``.venv`` (but for its site-packages), ``.git``, ``solutions/`` and package
    are empty folders to a task."""
    rows, results, _ = graded
    row = rows["c_reads_checkout"]
    assert float(row["change_of_variables"]) < float(rows["a_key"]["change_of_variables"])
    assert all(float(row[task.id]) == float(rows["a_key"][task.id])
               for task in HOMEWORK.tasks if task.id != "change_of_variables")


def test_no_pth_file_runs_in_a_task(graded):
    rows, _, checkout = graded
    assert not os.path.exists(os.path.join(checkout, "planted-pth-ran"))
    assert not os.path.exists(os.path.join(checkout, "task-pth-ran"))
    assert not os.path.exists(os.path.join(checkout, "zz_task_planted.pth"))
    assert not any(name == "zz_task_planted.pth" for _, _, names in os.walk(os.path.join(checkout, ".venv"))
                   for name in names)
    assert float(rows["d_plants_pth"]["score"]) == pytest.approx(FULL_MARKS)


def test_links_out_of_the_submission_and_replayed_public_values_score_zero(graded):
    rows, results, _ = graded
    assert float(rows["e_links_the_reference"]["score"]) == 0
    assert all("link that leads out of the submission" in t["output"] for t in point_tests(results["e_links_the_reference"]))
    assert float(rows["f_replays_public_values"]["score"]) == 0


def test_the_results_list_exactly_the_missing_walls(graded):
    _, results, _ = graded
    extra = results["a_key"]["extra_data"]
    assert extra["walls_missing"] == Walls(privileged=False, user_namespace=True).missing()
    assert extra["walls_up"] == Walls(privileged=False, user_namespace=True).present()


def test_q5_is_judged_against_the_submitted_codes_own_run(graded):
    """A coupling that trains elsewhere, answered with its own number, scores q5 (its task loses
    points); code that raises in training loses q5 alone, its tasks full; code that raises in
    training if it can read the checkout's package or solutions cannot (the user namespace)."""
    rows, results, _ = graded
    share = 15 / len(QUESTIONS)

    def part(name):
        return {t["name"].rsplit(" ", 1)[-1]: t for t in results[name]["tests"] if t.get("tags") == ["questions"]}
    assert sum(t["score"] for t in part("g_trains_elsewhere").values()) == pytest.approx(15)
    assert float(rows["g_trains_elsewhere"]["coupling_backward"]) < float(rows["a_key"]["coupling_backward"])
    raises = part("h_raises_in_training")
    assert sum(t["score"] for t in raises.values()) == pytest.approx(15 - share)
    assert "full minibatches are not handled yet" in raises["q5"]["output"]
    assert all(float(rows["h_raises_in_training"][task.id]) == float(rows["a_key"][task.id]) for task in HOMEWORK.tasks)
    assert sum(t["score"] for t in part("i_reads_in_training").values()) == pytest.approx(15), \
        part("i_reads_in_training")["q5"]["output"]
