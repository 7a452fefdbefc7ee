"""Gradescope's ``results.json``: build it from the verdicts, write it atomically, or say the grader failed.

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
    for number, (task, entries) in enumerate(zip(homework.tasks, per_task), start=1):
        task_score = 0.0
        for index, entry in enumerate(entries, start=1):
            check = entry["check"]
            score = float(check.points) if entry["passed"] else 0.0
            task_score += score
            tests.append({"name": f"{task.name} — {check.name}" + ("" if check.public else " [hidden]"),
                          "number": f"{number}.{index}", "score": round(score, DIGITS),
                          "max_score": round(float(check.points), DIGITS),
                          "output": entry["output"], "tags": [task.id],
                          "visibility": task.visibility if check.public else task.hidden_visibility})
        task_max = sum(float(e["check"].points) for e in entries)
        lines.append(f"  {task_score:5.1f} / {task_max:5.1f}  {task.name}")
        for entry in entries:
            if not entry["passed"]:
                text = entry["output"].strip()
                last_line = text.splitlines()[-1] if text else ""
                lines.append(f"                  ✗ {entry['check'].name}: {last_line[:150]}")
    score = round(sum(t["score"] for t in tests), DIGITS)
    max_score = round(sum(t["max_score"] for t in tests), DIGITS)
    summary = header + "\n".join(lines) + f"\n  {score:5.1f} / {max_score:5.1f}  total\n"
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
