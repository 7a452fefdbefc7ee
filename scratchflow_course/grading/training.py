"""The questions' training run: the student's whole library trained in one walled child.

q5 asks for the best validation NLL that ``scratchflow train`` (the questions' fixed command, the
student's seed s) reaches with the student's own code, so the grader trains the submitted code
itself rather than the reference:

1. compose the package with every task region of the submission
   (:func:`~scratchflow_course.grading.package.submission_package`; a task whose regions cannot be
   taken stays a stub, and a run that then fails says so);
2. run ``RUNNERS["questions/train"]`` on it in one child, behind the walls of a task's child
   (:func:`~scratchflow_course.grading.task.run_twice`: a fresh package copy and sandbox, the
   resource limits, its own uid slot as root, the user namespace without root), with a CPU time
   limit of :data:`TIME_LIMIT` seconds; the seed goes in and one number comes back, as data;
3. an error (with the frames of the student's files only), a run that diverged or gave no finite
   loss, or the time limit: no number, and the reason for q5's message.

The child's result is kept per grader and per (seed, submitted regions): training is
deterministic, so byte-identical regions at one seed train to the same number.
"""
import numpy as np

from scratchflow_course.grading.outputs import read_outputs
from scratchflow_course.grading.spec import Check, Task
from scratchflow_course.grading.task import hash_contents, run_twice

RUNNER = "questions/train"
TIME_LIMIT = 30.0         # seconds: ~40 times the CPU time of the reference's run in its child (docs/speed.md)


def _verdict(run, grouped, key, limit, logs):
    """``(best validation NLL or None, why not or None)`` from the child's run."""
    if run.timed_out:
        return None, (f"time limit: training did not finish within {limit:g} s (the reference takes "
                      "a few seconds; a loop over samples?) and was stopped")
    outputs = (grouped or {}).get(key)
    if outputs is None:
        detail = logs[1].strip() or logs[0].strip()
        return None, (f"the training process ended (exit code {run.returncode}) before reporting a result"
                      + (f"; its last output:\n{detail}" if detail else ""))
    if "__error__" in outputs:
        return None, "your code raised an error:\n" + str(outputs["__error__"])
    value = np.asarray(outputs.get("best_val_loss", np.nan), dtype=float)
    if value.shape != () or not np.isfinite(value):
        return None, "the run gave no finite best validation NLL"
    return float(value), None


def train_submission(grader, package, seed, slot, time_limit=None):
    """``(seed, best validation NLL or None, why it did not train or None)`` of the submitted code
    at ``seed``: what :func:`scratchflow_course.questions.graded` takes as ``own_run``.
    ``package``: :func:`~scratchflow_course.grading.package.submission_package`'s result (composed
    before any thread starts); ``slot``: the unprivileged uid slot (one no task graded at the same
    time uses)."""
    files, problems = package
    limit = float(time_limit if time_limit is not None else TIME_LIMIT)
    cache_key = (seed, hash_contents(sorted((name, files[name]) for name in grader.homework.files)
                                     + [("reference", grader.reference_digest),
                                        ("runners", grader.files["autograder/runners.py"])]))
    if cache_key in grader.own_runs and grader.own_runs[cache_key][0] <= limit:
        return grader.own_runs[cache_key][1]
    task = Task("questions", "q5: the submitted code, trained", "", 0, grader.homework.files, limit)
    check = Check("questions", "q5 training run", 0, True, None, grader.runners[RUNNER], None)
    run, *logs = run_twice(grader, task, [check], {check.key: {"seed": np.array(seed)}}, files, limit, slot)
    grouped = None if run.timed_out else read_outputs(run.output, [check.key])
    value, problem = _verdict(run, grouped, check.key, limit, logs)
    if problem is not None and problems:
        problem += "\n(kept as stubs, not taken from your files: " + "; ".join(problems) + ")"
    if not run.timed_out:
        grader.own_runs[cache_key] = (run.seconds, (seed, value, problem))
    return seed, value, problem
