"""Public tests of task sgd: The plain gradient step θ ← θ − lr·∇L (and momentum) (2 points).

Slide «Алгоритм обучения: θ ← θ − lr·∇L / Training algorithm: the update step». Files: scratchflow/optim.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/sgd.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['plain', 'momentum'])
def test_sgd(probe):
    run_and_judge(__file__, "sgd", probe, PROBES)
