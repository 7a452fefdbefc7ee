"""Gradescope's ``results.json``: build it from the verdicts, write it atomically, or say the grader failed.

The file is written last, atomically (a temporary file in the same folder, then ``os.replace``), so
a file the student's code wrote to the same path is overwritten; if the grader itself fails, the
file still appears, with score 0 and a visible "autograder failed" test (as otter does).
"""
import json
import os
import tempfile

from scratchflow_course.grading.outputs import clip


class GraderFailure(RuntimeError):
    """The grader, not the student, failed (a child that died before student code ran, twice; no
    space for the grader's own files): the submission gets an "autograder failed" result."""


def build_results(homework, per_task, header, seconds):
    """The results dict from ``per_task`` (one list of verdict entries per task, in task order)."""
    tests, lines = [], []
    for number, (task, entries) in enumerate(zip(homework.tasks, per_task), start=1):
        task_score = 0.0
        for index, entry in enumerate(entries, start=1):
            check = entry["check"]
            score = float(check.points) if entry["passed"] else 0.0
            task_score += score
            tests.append({"name": f"{task.name} — {check.name}" + ("" if check.public else " [hidden]"),
                          "number": f"{number}.{index}", "score": score, "max_score": float(check.points),
                          "output": entry["output"], "tags": [task.id],
                          "visibility": task.visibility if check.public else task.hidden_visibility})
        task_max = sum(float(e["check"].points) for e in entries)
        lines.append(f"  {task_score:5.1f} / {task_max:5.1f}  {task.name}")
        for entry in entries:
            if not entry["passed"]:
                text = entry["output"].strip()
                last_line = text.splitlines()[-1] if text else ""
                lines.append(f"                  ✗ {entry['check'].name}: {last_line[:150]}")
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests)
    summary = header + "\n".join(lines) + f"\n  {score:5.1f} / {max_score:5.1f}  total\n"
    return {"score": score, "max_score": max_score, "output": summary, "visibility": "visible",
            "stdout_visibility": "hidden", "execution_time": round(seconds, 2), "tests": tests}


def failure_results(error_text):
    """The results of a grader that failed: score 0 and one visible test saying so."""
    return {"score": 0.0, "max_score": 0.0, "visibility": "visible", "stdout_visibility": "hidden",
            "output": "The autograder failed; this is not your fault. Please tell your instructor.",
            "tests": [{"name": "autograder failed", "score": 0.0, "max_score": 0.0,
                       "output": clip(error_text), "visibility": "visible"}]}


def write_results(results, path):
    """Write ``results`` as JSON to ``path`` atomically (temporary file in the same folder, then replace)."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path
