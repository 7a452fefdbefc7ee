"""The questions part (``answers.txt``): answers that depend on the student's seed, read as data,
graded by the autograder; a right file scores, a wrong one does not, an absent one gets 0 for that
part only, on Gradescope's real layout too."""
import os
import re

import pytest

from scratchflow_course import questions
from scratchflow_course.grading.spec import load_homework
from tests.grading_fixtures.helpers import EXTRA, build_image, run_autograder
from tests.grading_fixtures.plants import make_submission

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "solutions")
FILES = load_homework(SOLUTIONS).files


def score(folder):
    _, entries = questions.graded(SOLUTIONS, str(folder))
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
def gradescope_image(tmp_path_factory):
    from scratchflow_course.grading.release import build_release
    release = tmp_path_factory.mktemp("release")
    build_release(str(release), source=SOLUTIONS)
    image = tmp_path_factory.mktemp("image")
    return image, build_image(release, image)


@pytest.mark.parametrize("answers", ["right", "wrong", "absent"])
def test_gradescope_grades_the_questions_part_only(answers, gradescope_image, tmp_path):
    """The key's tasks with a right, a wrong (q3 and q5) and no answers file: the tasks keep their
    85 points (and the extra credit's) every time; the questions give 15, 15 less two questions' share, and 0."""
    image, env = gradescope_image
    key = make_submission(ROOT, FILES, {"edits": []}, str(tmp_path / "key"))
    files = list(FILES)
    if answers != "absent":
        questions.write_answers(key, 1234)
        files.append(questions.FILE)
    if answers == "wrong":
        set_answer(os.path.join(key, questions.FILE), "q3", "6, 6, 1, 1")
        set_answer(os.path.join(key, questions.FILE), "q5", "1.2")
    _, results, log = run_autograder(image, env, tmp_path, (key, files))
    part = [t for t in results["tests"] if t.get("tags") == ["questions"]]
    tasks = sum(t["score"] for t in results["tests"] if t not in part)
    assert len(part) == len(questions.QUESTIONS) and tasks == pytest.approx(85 + EXTRA), log[-3000:]
    wrong = 15 - 2 * 15 / len(questions.QUESTIONS)
    assert sum(t["score"] for t in part) == pytest.approx({"right": 15, "wrong": wrong, "absent": 0}[answers])
    assert results["max_score"] == pytest.approx(100)
