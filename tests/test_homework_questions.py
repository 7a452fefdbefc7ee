"""The questions part (``answers.txt``): answers that depend on the student's seed, read as data,
graded by the autograder; a right file scores, a wrong one does not, an absent one gets 0 for that
part only, on Gradescope's real layout too. q5 is checked against the grader's own training of the
submitted code (every task region, in a walled child): a flow that trains elsewhere scores with its
own number and not with the reference's; code that cannot train costs q5 alone."""
import os
import re

import pytest

from scratchflow_course import questions
from scratchflow_course.grading.grader import Grader
from scratchflow_course.grading.spec import load_homework
from scratchflow_course.homework.release import build_release, fill_from
from tests.grading_fixtures.helpers import EXTRA, build_image, grader_run, mistake_plant, own_nll, run_autograder
from tests.grading_fixtures.plants import (RAISES_IN_TRAINING, READS_IN_TRAINING, REGION, TRAINS_ELSEWHERE,
                                          make_submission)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "solutions")
HOMEWORK = load_homework(SOLUTIONS)
FILES = HOMEWORK.files
SEED = 1234                                   # the seed s written in the answers files
SHARE = 15 / len(questions.QUESTIONS)         # one question's points


def score(folder, own_run=None):
    """The questions' points of ``folder`` with q5 judged against ``own_run`` (default: what the
    key's code reaches at SEED, the reference's number)."""
    _, entries = questions.graded(SOLUTIONS, str(folder), own_run or (SEED, questions._nll(SEED), None))
    return sum(e["check"].points for e in entries if e["passed"]), entries


def set_answer(path, key, value):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(re.sub(rf"(?m)^{key}:.*$", f"{key}: {value}", text))


def test_the_release_template_is_the_files_empty_form():
    with open(os.path.join(ROOT, "exercises", questions.FILE), encoding="utf-8") as handle:
        assert handle.read() == questions.template()
    assert questions.points(SOLUTIONS) == 15


def test_right_answers_score_and_the_answers_depend_on_the_seed(tmp_path):
    questions.write_answers(str(tmp_path), 1234)
    assert score(tmp_path)[0] == pytest.approx(15)
    answers = {seed: [q[4](seed) for q in questions.QUESTIONS if q[3] != "band"] for seed in (1234, 1235, 4321)}
    assert len({str(a) for a in answers.values()}) == 3
    set_answer(str(tmp_path / questions.FILE), "seed", "1235")      # someone else's answers, own seed
    got, entries = score(tmp_path)
    assert got < 6, [e["output"] for e in entries]


@pytest.mark.parametrize("key, wrong", [
    ("q1", "0.9163"),                     # +ln a: the log-det's sign
    ("q2", "-1.0"),                       # log of the signed determinant's absolute value, sign lost
    ("q3", "1, 1, 1, 1"),                 # one pass each
    ("q4", "-0.0316"),                    # Adam without bias correction
    ("q5", "2.53"),                       # the base alone: nothing learnt
    ("q6", "1, 1"),                       # the conditioning coordinate read as the moved one
    ("q1", "not a number"),
])
def test_a_wrong_or_unreadable_answer_scores_zero_for_that_question_only(key, wrong, tmp_path):
    questions.write_answers(str(tmp_path), 1234)
    set_answer(str(tmp_path / questions.FILE), key, wrong)
    got, entries = score(tmp_path)
    assert got == pytest.approx(15 - 15 / len(questions.QUESTIONS))
    assert [e["check"].name for e in entries if not e["passed"]] == [key]


def test_no_file_or_no_seed_scores_zero_for_the_part(tmp_path):
    assert score(tmp_path)[0] == 0 and "no answers.txt" in score(tmp_path)[1][0]["output"]
    questions.write_answers(str(tmp_path), 1234)
    set_answer(str(tmp_path / questions.FILE), "seed", "12")
    assert score(tmp_path)[0] == 0


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    """The release with its gaps filled from the instructor's key (a student's whole working copy)."""
    release = str(tmp_path_factory.mktemp("filled") / "release")
    build_release(ROOT, os.path.join(ROOT, "exercises"), release)
    fill_from(release, ROOT, [task.id for task in HOMEWORK.tasks])
    return release


@pytest.fixture(scope="module")
def grader():
    return Grader(SOLUTIONS)


@pytest.fixture(scope="module")
def elsewhere(key, tmp_path_factory):
    """``(plant, number)``: a coupling whose gradient pass is wrong but trains, and the best
    validation NLL its student reads off their own ``scratchflow train`` at SEED."""
    plant = mistake_plant(TRAINS_ELSEWHERE)
    number = own_nll(key, FILES, plant, SEED, str(tmp_path_factory.mktemp("student") / "release"))
    assert abs(number - questions._nll(SEED)) > 2 * questions.NLL_BAND     # the two answers differ
    return plant, number


def answered(key, plant, folder, q5, values=None):
    """A submission: the key's files with ``plant``'s edits, the key's answers at SEED, q5 = ``q5``."""
    make_submission(key, FILES, plant, str(folder), values=values)
    questions.write_answers(str(folder), SEED)
    set_answer(os.path.join(str(folder), questions.FILE), "q5", q5)
    return str(folder)


def test_q5_is_judged_against_what_the_submitted_code_reaches(grader, key, elsewhere, tmp_path):
    """The key's code, trained by the grader, reaches the reference's number; a coupling that trains
    elsewhere scores q5 with its own number, and not with the reference's."""
    reference = questions._nll(SEED)
    honest = answered(key, {"edits": []}, tmp_path / "honest", f"{reference:.4f}")
    run = grader_run(grader, honest)
    assert run[0] == SEED and run[2] is None and abs(run[1] - reference) < 1e-6
    assert score(honest, run)[0] == pytest.approx(15)
    plant, own = elsewhere
    for q5, right in ((f"{own}", True), (f"{reference:.4f}", False)):
        folder = answered(key, plant, tmp_path / f"elsewhere-{right}", q5)
        run = grader_run(grader, folder)
        assert run[2] is None and abs(run[1] - own) < 1e-3, run
        got, entries = score(folder, run)
        assert got == pytest.approx(15 if right else 15 - SHARE), [e["output"] for e in entries]
        if not right:
            assert "your own code" in entries[4]["output"] and f"{own:.2f}" not in entries[4]["output"]


def test_code_that_raises_in_training_loses_q5_with_its_own_frames(grader, key, tmp_path):
    """A check that raises on full minibatches (which no probe uses; its tasks keep their points on
    Gradescope's layout below): q5 scores 0 with the student's error and frames (no grader file),
    the other questions score."""
    folder = answered(key, RAISES_IN_TRAINING, tmp_path / "raises", f"{questions._nll(SEED):.4f}")
    run = grader_run(grader, folder)
    assert run[1] is None
    got, entries = score(folder, run)
    assert got == pytest.approx(15 - SHARE) and not entries[4]["passed"]
    message = entries[4]["output"]
    assert "could not run q5's command" in message and "full minibatches are not handled yet" in message
    assert "scratchflow/bijectors/coupling.py" in message
    assert not any(name in message for name in ("questions.py", "runners", "child.py", "scratchflow/train.py"))


def test_the_training_run_is_walled_like_a_task(grader, key, tmp_path):
    """Code that, while training, reads the reference or the hidden checks and raises if it could:
    the training child cannot (as root: another uid; without root: the user namespace), so it
    trains to the reference's number."""
    values = {"@PACKAGE@": os.path.join(ROOT, "scratchflow"), "@SOLUTIONS@": SOLUTIONS}
    folder = answered(key, READS_IN_TRAINING, tmp_path / "reads", f"{questions._nll(SEED):.4f}", values)
    run = grader_run(grader, folder)
    assert run[2] is None and abs(run[1] - questions._nll(SEED)) < 1e-6, run


def test_training_past_the_time_limit_loses_q5(grader, key, tmp_path):
    slow = {"edits": [("scratchflow/bijectors/coupling.py", REGION("coupling"),
                       "while x.shape[0] == 256:\n    pass\n")]}
    folder = answered(key, slow, tmp_path / "slow", f"{questions._nll(SEED):.4f}")
    run = grader_run(grader, folder, time_limit=2.0)
    assert run[1] is None and "time limit: training did not finish within 2 s" in run[2], run
    got, entries = score(folder, run)
    assert got == pytest.approx(15 - SHARE) and "time limit" in entries[4]["output"]


@pytest.fixture(scope="module")
def gradescope_image(tmp_path_factory):
    from scratchflow_course.grading.release import build_release as build_bundle
    release = tmp_path_factory.mktemp("release")
    build_bundle(str(release), source=SOLUTIONS)
    image = tmp_path_factory.mktemp("image")
    return image, build_image(release, image)


@pytest.mark.parametrize("answers", ["right", "wrong", "absent", "raises_in_training"])
def test_gradescope_grades_the_questions_part_only(answers, gradescope_image, key, elsewhere, tmp_path):
    """q5 on Gradescope's layout is judged against the submitted code's own run. A coupling that
    trains elsewhere (its task loses points) with right answers (q5: its own number) scores 15;
    with wrong ones (q3, and q5 the reference's number) 15 less two questions' share. The key with
    no answers file: 0 for the part. Code that raises in training with the key's answers: q5 alone
    is lost. The key's answers on the key: test_grading_release.py."""
    image, env = gradescope_image
    plant = {"absent": {"edits": []}, "raises_in_training": RAISES_IN_TRAINING}.get(answers, elsewhere[0])
    submission = make_submission(key, FILES, plant, str(tmp_path / "submission"))
    files = list(FILES)
    if answers != "absent":
        questions.write_answers(submission, SEED)
        files.append(questions.FILE)
    if answers == "right":
        set_answer(os.path.join(submission, questions.FILE), "q5", f"{elsewhere[1]}")
    if answers == "wrong":
        set_answer(os.path.join(submission, questions.FILE), "q3", "6, 6, 1, 1")
    _, results, log = run_autograder(image, env, tmp_path, (submission, files))
    part = [t for t in results["tests"] if t.get("tags") == ["questions"]]
    tasks = sum(t["score"] for t in results["tests"] if t not in part)
    assert len(part) == len(questions.QUESTIONS), log[-3000:]
    assert (tasks < 85 + EXTRA) if plant is elsewhere[0] else (tasks == pytest.approx(85 + EXTRA)), log[-3000:]
    expected = {"right": 15, "wrong": 15 - 2 * SHARE, "absent": 0, "raises_in_training": 15 - SHARE}[answers]
    assert sum(t["score"] for t in part) == pytest.approx(expected), [t["output"] for t in part]
    if answers != "absent":
        q5 = next(t for t in part if t["name"].endswith("q5"))
        assert ("right" in q5["output"]) == (answers == "right"), q5["output"]
    assert results["max_score"] == pytest.approx(100)
