"""How each check runs a probe (the child's side of the grader's checks).

The child imports this file (as ``_grader_runners``) before it drops its privileges; the package it
has imported by then is the stubbed library with the student's regions of ONE task spliced in
(:func:`scratchflow_course.grading.package.task_package`), or, for the questions' training run
(``RUNNERS["questions/train"]``), with every task's regions
(:func:`scratchflow_course.grading.package.submission_package`). ``RUNNERS["<task>/<probe>"](package, inputs)``
runs that probe of :mod:`scratchflow_course.homework` at the seed in ``inputs`` and returns its arrays
(and, when ``inputs`` holds an ``unknown_seed``, the probe's arrays at that seed too, named
``unknown_seed.<output>``: what a public check's points rest on).
The grader runs the same function in its own process, where ``scratchflow`` is the reference.
"""
import numpy as np

UNKNOWN = "unknown_seed."


def _runner(task, probe):
    def run(package, inputs):
        from scratchflow_course.homework import all_probes   # local import: the package the process imported
        function = dict((name, f) for name, f, _ in all_probes()[task])[probe]
        outputs = dict(function(int(np.asarray(inputs["seed"]))))
        if "unknown_seed" in inputs:
            again = function(int(np.asarray(inputs["unknown_seed"])))
            outputs.update({UNKNOWN + name: value for name, value in again.items()})
        return outputs
    run.__name__ = f"{task}/{probe}"
    return run


def _runners():
    from scratchflow_course.homework import all_probes        # local import: only to list the probes
    return {f"{task}/{probe}": _runner(task, probe) for task, probes in all_probes().items()
            for probe, _, _ in probes}


def _train(package, inputs):
    """q5's training run: ``scratchflow train`` with the questions' command at the student's seed,
    on the package this process imported (there: every task region of the submission)."""
    from scratchflow_course.questions import best_validation_nll   # local import: the imported package
    return {"best_val_loss": np.array(best_validation_nll(int(np.asarray(inputs["seed"]))))}


_train.__name__ = "questions/train"
RUNNERS = {**_runners(), _train.__name__: _train}    # "<task>/<probe>" -> run(package, inputs)
