"""Public tests of task loss: The loss (mean NLL) and its gradient (7 points).

Slide «Постановка задачи, Функция потерь / Problem statement, Loss function». Files: scratchflow/flow.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/loss.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['value', 'gradient', 'base'])
def test_loss(probe):
    run_and_judge(__file__, "loss", probe, PROBES)
