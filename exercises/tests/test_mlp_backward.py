"""Public tests of task mlp_backward: The networks' gradient passes: Linear, MaskedLinear, tanh (7 points).

Slide «Алгоритм обучения / Training algorithm (the gradient through the networks s and t)». Files: scratchflow/nn/activations.py, scratchflow/nn/linear.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/mlp_backward.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['linear', 'masked', 'tanh'])
def test_mlp_backward(probe):
    run_and_judge(__file__, "mlp_backward", probe, PROBES)
