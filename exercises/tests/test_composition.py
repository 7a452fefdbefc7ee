"""Public tests of task composition: More layers: a stack of bijectors is a bijector (log-dets add, gradients chain) (5 points).

Slide «Больше слоев! / More layers!». Files: scratchflow/bijectors/compose.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/composition.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['passes', 'gradients'])
def test_composition(probe):
    run_and_judge(__file__, "composition", probe, PROBES)
