"""The grader's checks for Homework 4: for every probe of every task, a public check and a hidden one.

* the public check runs the probe at the homework's public seed and compares the outputs with the
  values stored in ``exercises/tests/expected/<task>.npz`` — exactly what the student's public test
  does, with the same message and the same known-mistake hints. The student knows those values, and
  the child could send them without computing anything, so the check earns its points only when
  the same probe, run in the same child at a seed drawn from the submission's (unknown to the
  student), also gives the reference's values;
* the hidden check runs the same probe at a seed drawn from the submission's seed and compares with
  the reference library run on the same seed in the grader. It differs from the public check by its
  inputs only.

A task's points are split evenly over its probes (in hundredths), 40 % public and 60 % hidden. The grader loads
``runners.py`` as ``_grader_runners`` before this file.
"""
import os

import numpy as np

import _grader_runners as runners
from scratchflow_course.grading.spec import load_homework
from scratchflow_course.grading.spec import Check
from scratchflow_course.homework import all_probes
from scratchflow_course.homework.verdict import first_difference, judge, load_expected

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = os.path.join(os.path.dirname(SOURCE), "exercises", "tests", "expected")
PUBLIC_SHARE = 0.4
UNKNOWN = runners.UNKNOWN


def _split(outputs):
    """The outputs at the public seed, and those at the seed the student cannot know."""
    return ({name: value for name, value in outputs.items() if not name.startswith(UNKNOWN)},
            {name[len(UNKNOWN):]: value for name, value in outputs.items() if name.startswith(UNKNOWN)})


def _public(task, probe, what):
    meta, expected, signatures = load_expected(EXPECTED, task)

    def evaluate(outputs, inputs, reference):
        public, unknown = _split(outputs)
        passed, message = judge(what, public, expected[probe], signatures.get(probe))
        if not passed:
            return passed, message
        difference = first_difference(unknown, _split(reference)[1])
        if difference is None:
            return True, message
        return False, (f"{message} at the public seed, but the same probe at a seed you cannot know "
                       f"gives other values ({difference}): the public values alone earn no points")
    return evaluate


def _hidden(what):
    def evaluate(outputs, inputs, reference):
        return judge(what, outputs, reference)
    return evaluate


def _seed(rng):
    return np.array(int(rng.integers(2 ** 31)))


def _shares(points, count):
    """``points`` split into ``count`` shares in hundredths that add up exactly (the remainder
    goes to the first ones): 3.2 over 3 probes is 1.07 + 1.07 + 1.06, never 1.0666666666666667."""
    hundredths = round(points * 100)
    return [(hundredths // count + (index < hundredths % count)) / 100 for index in range(count)]


def _checks():
    homework = load_homework(SOURCE)
    probes = all_probes()
    checks = []
    for task in homework.tasks:
        count = len(probes[task.id])
        public = _shares(task.points * PUBLIC_SHARE, count)
        hidden = _shares(task.points - sum(public), count)
        for (probe, _, what), public_points, hidden_points in zip(probes[task.id], public, hidden):
            run = runners.RUNNERS[f"{task.id}/{probe}"]
            public_seed = homework.public_seed
            checks.append(Check(task.id, f"{probe} (public)", public_points, True,
                                lambda rng, seed=public_seed: {"seed": np.array(seed),
                                                               "unknown_seed": _seed(rng)}, run,
                                evaluate=_public(task.id, probe, what)))
            checks.append(Check(task.id, probe, hidden_points, False,
                                lambda rng: {"seed": _seed(rng)}, run,
                                evaluate=_hidden(what)))
    return checks


CHECKS = _checks()
