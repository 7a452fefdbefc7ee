"""Public tests of task adam: Adam with bias correction (4 points).

Slide «Алгоритм обучения: θ ← θ − lr·∇L / Training algorithm: the update step (Adam)». Files: scratchflow/optim.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/adam.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['steps', 'epsilon'])
def test_adam(probe):
    run_and_judge(__file__, "adam", probe, PROBES)
