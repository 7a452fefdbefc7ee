"""Gradescope's ``results.json``: build it from the verdicts, write it atomically, or say the grader failed.

An optional extra-credit task (``Task.extra``) is graded like any other, test by test, but its
points are not part of ``max_score``: they come on top. Gradescope's specification of
``results.json`` (gradescope-autograders.readthedocs.io, "Autograder Specifications") has no
top-level ``max_score`` (the assignment's total points are set in Gradescope, 100 here); the
top-level ``score`` "overrides total of tests if specified", so it is written as the regular points
plus the extra ones and may exceed 100. Each test keeps its own ``max_score`` (a test is shown as
passed when it is awarded its ``max_score``), so an untouched extra task shows its tests at 0 and
takes nothing from the regular points. ``max_score`` here (read by the local tools, ignored by
Gradescope) is the regular total.

The file is written last, atomically (:func:`scratchflow.atomic.write_atomically`), so
a file the student's code wrote to the same path is overwritten; if the grader itself fails, the
file still appears, with score 0 and a visible "autograder failed" test (as otter does).
"""
import json
import os

from scratchflow.atomic import write_atomically

from scratchflow_course.grading.outputs import clip


class GraderFailure(RuntimeError):
    """The grader, not the student, failed (a child that died before student code ran, twice; no
    space for the grader's own files): the submission gets an "autograder failed" result."""


DIGITS = 4                            # points are written rounded: 1.2, not 1.2000000000000002


def build_results(homework, per_task, header, seconds, instructor_notes=""):
    """The results dict from ``per_task`` (one list of verdict entries per task, in task order).

    ``header`` opens the text every student sees; ``instructor_notes`` (which walls were up, what
    the grader changed on the machine) go to a test only instructors see (visibility "hidden")."""
    tests, lines = [], []
    extra_score = extra_max = 0.0
    for number, (task, entries) in enumerate(zip(homework.tasks, per_task), start=1):
        task_score = 0.0
        for index, entry in enumerate(entries, start=1):
            check = entry["check"]
            score = float(check.points) if entry["passed"] else 0.0
            task_score += score
            tests.append({"name": ("[extra credit] " if task.extra else "") + f"{task.name} — {check.name}"
                          + ("" if check.public else " [hidden]"),
                          "number": f"{number}.{index}", "score": round(score, DIGITS),
                          "max_score": round(float(check.points), DIGITS),
                          "output": entry["output"], "tags": [task.id],
                          "visibility": task.visibility if check.public else task.hidden_visibility})
        task_max = sum(float(e["check"].points) for e in entries)
        if task.extra:
            extra_score, extra_max = extra_score + task_score, extra_max + task_max
        lines.append(f"  {task_score:5.1f} / {task_max:5.1f}  " + ("extra credit: " if task.extra else "")
                     + task.name)
        for entry in entries:
            if not entry["passed"]:
                text = entry["output"].strip()
                last_line = text.splitlines()[-1] if text else ""
                lines.append(f"                  ✗ {entry['check'].name}: {last_line[:150]}")
    score = round(sum(t["score"] for t in tests), DIGITS)                 # the extra points too
    max_score = round(sum(t["max_score"] for t in tests) - extra_max, DIGITS)   # the regular ones
    summary = header + "\n".join(lines) + f"\n  {score - extra_score:5.1f} / {max_score:5.1f}  total\n"
    if extra_max:
        summary += (f"  +{extra_score:4.1f} / {extra_max:5.1f}  extra credit (on top of the {max_score:g}; "
                    f"none lost by leaving it)\n  {score:5.1f}          score\n")
    if instructor_notes:
        tests.append({"name": "grader: walls and notes (instructors only)", "score": 0.0, "max_score": 0.0,
                      "output": instructor_notes, "visibility": "hidden", "tags": []})
    return {"score": score, "max_score": max_score, "output": summary, "visibility": "visible",
            "stdout_visibility": "hidden", "execution_time": round(seconds, 2), "tests": tests}


def failure_results(error_text):
    """The results of a grader that failed: score 0 and one visible test saying so."""
    return {"score": 0.0, "max_score": 0.0, "visibility": "visible", "stdout_visibility": "hidden",
            "output": "The autograder failed; this is not your fault. Please tell your instructor.",
            "tests": [{"name": "autograder failed", "score": 0.0, "max_score": 0.0,
                       "output": clip(error_text), "visibility": "visible"}]}


def write_results(results, path):
    """Write ``results`` as JSON to ``path`` atomically; return the path."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return write_atomically(path, lambda out: json.dump(results, out, indent=2, ensure_ascii=False), mode="w")
