"""Every known mistake (solutions/mistakes.json) through the real grader: the same per-task
package, child process, walls and scoring as a student's upload. Each mistake loses points in its
own task, public and hidden checks alike, and every other task keeps full marks.

The known mistakes go in a few submissions (``BATCHES``), each carrying at most one mistake per task
and leaving some tasks without one: in a batch, task k's score must show task k's mistake and
nothing else — task k is graded on the stubs plus task k's regions only, even where another task's
mistake sits in the same file (coupling / coupling_backward, maf / iaf, sgd / adam, loss /
generation). Every mistaken task runs in its own child. A task without a mistake is graded through
the grader's verdict cache, filled by grading the key first: its cache key is the digest of the
package its child would import (the stubs plus that task's regions), so a hit says that package is
byte-for-byte the key's one — the isolation claim itself — and the test asserts that every such task
was a hit and kept full marks. Each batch is graded at two submission seeds (``SEEDS``); the 50
seeds of the probes themselves are in ``test_homework_corpus.py``. The correct alternatives of
``tests/alternatives.py`` go through the same grader and keep 100.
"""
import json
import os

import pytest

from scratchflow_course.grading.grader import Grader, grade_submission
from scratchflow_course.homework.release import build_release, fill_from
from scratchflow_course.questions import FILE as ANSWERS, write_answers
from tests.grading_fixtures.helpers import FULL_MARKS
from tests.grading_fixtures.plants import make_submission

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "solutions")
SEED = 7
SEEDS = (SEED, 1234)  # every batch at two submission seeds (other hidden inputs)
BATCHES = 10         # more than the most mistakes of one task (9): every batch leaves tasks clean


def _mistakes():
    with open(os.path.join(SOLUTIONS, "mistakes.json"), encoding="utf-8") as handle:
        return json.load(handle)["mistakes"]


def _tasks():
    with open(os.path.join(SOLUTIONS, "homework.json"), encoding="utf-8") as handle:
        return [task["id"] for task in json.load(handle)["tasks"]]


def batches():
    """``BATCHES`` lists of mistakes: the j-th mistake of the i-th task goes to batch (i + j) mod
    ``BATCHES``, so no batch holds two mistakes of one task and each task is clean in some batch."""
    tasks, groups = _tasks(), [[] for _ in range(BATCHES)]
    seen = {task: 0 for task in tasks}
    for mistake in _mistakes():
        task = mistake["task"]
        groups[(tasks.index(task) + seen[task]) % BATCHES].append(mistake)
        seen[task] += 1
    return groups


def test_the_batches_cover_every_mistake_once_and_leave_tasks_clean():
    groups, tasks = batches(), _tasks()
    assert sorted(m["id"] for group in groups for m in group) == sorted(m["id"] for m in _mistakes())
    for group in groups:
        mistaken = [m["task"] for m in group]
        assert len(mistaken) == len(set(mistaken))                  # one mistake per task at most
        assert set(tasks) - set(mistaken)                           # and some tasks without one
    clean_somewhere = {task for group in groups for task in set(tasks) - {m["task"] for m in group}}
    assert clean_somewhere == set(tasks)


@pytest.fixture(scope="module")
def grader():
    return Grader(SOLUTIONS)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    """The release with its gaps filled from the instructor's key (the library's regions)."""
    release = str(tmp_path_factory.mktemp("filled") / "release")
    build_release(ROOT, os.path.join(ROOT, "exercises"), release)
    fill_from(release, ROOT, _tasks())
    write_answers(release)
    return release


@pytest.fixture(scope="module")
def cache(grader, key, tmp_path_factory):
    """The verdict cache after grading the key (full marks, every task in its own child)."""
    verdicts = {}
    submission = make_submission(key, grader.homework.files + [ANSWERS], {"edits": []},
                                 str(tmp_path_factory.mktemp("key")))
    for seed in SEEDS:
        results = grade_submission(submission, hidden=True, seed=seed, cache=verdicts, grader=grader)
        assert results["score"] == pytest.approx(FULL_MARKS), [t["output"] for t in results["tests"] if not t["score"]][:3]
    assert len(verdicts) == len(SEEDS) * len(grader.homework.tasks)
    return verdicts


@pytest.mark.parametrize("batch", range(BATCHES))
@pytest.mark.parametrize("seed", SEEDS)
def test_each_mistake_loses_points_in_its_own_task_only(batch, seed, grader, key, cache, tmp_path):
    group = batches()[batch]
    edits = [(m["file"], find, replace) for m in group for find, replace in m["edits"]]
    submission = make_submission(key, grader.homework.files, {"edits": edits}, str(tmp_path / "s"))
    before = set(cache)
    results = grade_submission(submission, hidden=True, seed=seed, cache=cache, grader=grader)
    mistake_of = {m["task"]: m["id"] for m in group}
    ran = {cache_key[0] for cache_key in set(cache) - before}     # tasks graded in a fresh child
    assert ran <= set(mistake_of), f"tasks without a mistake got a package unlike the key's: {ran - set(mistake_of)}"
    for task in grader.homework.tasks:
        tests = [t for t in results["tests"] if task.id in t["tags"]]
        public = [t for t in tests if not t["name"].endswith("[hidden]")]
        hidden = [t for t in tests if t["name"].endswith("[hidden]")]
        assert public and hidden, task.id
        if task.id in mistake_of:
            where = f"{mistake_of[task.id]} ({task.id})"
            assert sum(t["score"] for t in public) < sum(t["max_score"] for t in public), where
            assert sum(t["score"] for t in hidden) < sum(t["max_score"] for t in hidden), where
            assert any(f"known mistake ({mistake_of[task.id]})" in t["output"] for t in public), where
        else:
            lost = [(t["name"], t["output"][-500:]) for t in tests if t["score"] != t["max_score"]]
            assert lost == [], f"{task.id} has no mistake in this batch ({sorted(mistake_of.values())})"


def alternative_batches():
    """Two submissions: the first, then the second correct alternative of every task."""
    from tests.alternatives import ALTERNATIVES
    groups = [[], []]
    for task in _tasks():
        for group, alternative in zip(groups, [a for a in ALTERNATIVES if a["task"] == task]):
            group.append(alternative)
    return groups


@pytest.mark.parametrize("batch, seed", [(0, SEED), (1, 1234), (0, 99)])
def test_correct_alternatives_keep_full_marks_at_the_grader(batch, seed, grader, key, tmp_path):
    """Different but right code in every task (an import added at the top of compose.py, MAF and
    IAF started from a copy or swept over every column, ...) scores 100, hidden checks included."""
    edits = [(a["file"], old, new) for a in alternative_batches()[batch] for old, new in a["edits"]]
    submission = make_submission(key, grader.homework.files + [ANSWERS], {"edits": edits}, str(tmp_path / "s"))
    results = grade_submission(submission, hidden=True, seed=seed, grader=grader)
    lost = [(t["name"], t["output"][-300:]) for t in results["tests"] if t["score"] != t["max_score"]]
    assert results["score"] == pytest.approx(FULL_MARKS) and lost == []
