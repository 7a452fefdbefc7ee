"""Public tests of task training: The training loop: a fresh minibatch every step, a fresh permutation every epoch (4 points).

Slide «Алгоритм обучения / Training algorithm». Files: scratchflow/objectives.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/training.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['batches', 'steps'])
def test_training(probe):
    run_and_judge(__file__, "training", probe, PROBES)
