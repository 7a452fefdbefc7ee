"""An optional extra-credit task in ``results.json``: its points come on top of ``max_score``
(the regular 100), an untouched one costs nothing, and the summary names it as extra credit."""
import pytest

from scratchflow_course.grading.results import build_results
from scratchflow_course.grading.spec import Check, Homework, Task
from tests.grading_fixtures.helpers import assert_gradescope_schema


def _homework():
    regular = Task("regular", "A regular task", "Slide", 100.0, ["a.py"])
    extra = Task("extra", "Extra credit: an optional task", "Slide", 5.0, ["a.py"], extra=True,
                 needed_for="nothing regular")
    return Homework("hw", "/nowhere", [regular, extra])


def _entries(task, points, passed):
    return [{"check": Check(task, name, share, public, None, None, None), "passed": passed,
             "output": "ok" if passed else "NotImplementedError: task extra (extra credit ...)"}
            for (name, share, public) in (("probe (public)", points * 0.4, True), ("probe", points * 0.6, False))]


@pytest.mark.parametrize("extra_passed", [True, False])
def test_extra_points_come_on_top_and_an_untouched_extra_task_costs_nothing(extra_passed):
    homework = _homework()
    results = build_results(homework, [_entries("regular", 100.0, True), _entries("extra", 5.0, extra_passed)],
                            "header\n", 1.0)
    assert_gradescope_schema(results)
    assert homework.max_score == 100.0 and results["max_score"] == pytest.approx(100)
    assert results["score"] == pytest.approx(105 if extra_passed else 100)
    extra_tests = [t for t in results["tests"] if t["tags"] == ["extra"]]
    assert all(t["name"].startswith("[extra credit] ") for t in extra_tests)
    assert sum(t["max_score"] for t in extra_tests) == pytest.approx(5)
    assert "extra credit: Extra credit: an optional task" in results["output"]
    assert f"+{5.0 if extra_passed else 0.0:4.1f} /   5.0  extra credit" in results["output"]
    assert "100.0 / 100.0  total" in results["output"]


def test_a_homework_without_an_extra_task_prints_no_extra_line():
    homework = Homework("hw", "/nowhere", _homework().tasks[:1])
    results = build_results(homework, [_entries("regular", 100.0, True)], "header\n", 1.0)
    assert results["score"] == results["max_score"] == pytest.approx(100)
    assert "extra credit" not in results["output"]
