"""The grader's checks for Homework 4: for every probe of every task, a public check and a hidden one.

* the public check runs the probe at the homework's public seed and compares the outputs with the
  values stored in ``exercises/tests/expected/<task>.npz`` — exactly what the student's public test
  does, with the same message and the same known-mistake hints;
* the hidden check runs the same probe at a seed drawn from the submission's seed and compares with
  the reference library run on the same seed in the grader. It differs from the public check by its
  inputs only.

A task's points are split evenly over its probes, 40 % public and 60 % hidden. The grader loads
``runners.py`` as ``_grader_runners`` before this file.
"""
import os

import numpy as np

import _grader_runners as runners
from scratchflow_course.grading.spec import load_homework
from scratchflow_course.grading.spec import Check
from scratchflow_course.homework import all_probes
from scratchflow_course.homework.verdict import judge, load_expected

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = os.path.join(os.path.dirname(SOURCE), "exercises", "tests", "expected")
PUBLIC_SHARE = 0.4


def _public(task, probe, what):
    meta, expected, signatures = load_expected(EXPECTED, task)

    def evaluate(outputs, inputs, reference):
        return judge(what, outputs, expected[probe], signatures.get(probe))
    return evaluate


def _hidden(what):
    def evaluate(outputs, inputs, reference):
        return judge(what, outputs, reference)
    return evaluate


def _checks():
    homework = load_homework(SOURCE)
    probes = all_probes()
    checks = []
    for task in homework.tasks:
        share = float(task.points) / len(probes[task.id])
        for probe, _, what in probes[task.id]:
            run = getattr(runners, f"run_{task.id}__{probe}")
            public_seed = homework.public_seed
            checks.append(Check(task.id, f"{probe} (public)", share * PUBLIC_SHARE, True,
                                lambda rng, seed=public_seed: {"seed": np.array(seed)}, run,
                                evaluate=_public(task.id, probe, what), needs_reference=False))
            checks.append(Check(task.id, probe, share * (1 - PUBLIC_SHARE), False,
                                lambda rng: {"seed": np.array(int(rng.integers(2 ** 31)))}, run,
                                evaluate=_hidden(what)))
    return checks


CHECKS = _checks()
