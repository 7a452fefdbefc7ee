"""Public tests of task made_masks: MADE: degrees from the ordering, masks from the degrees (7 points).

Slide «μ_d(x_{1:d−1}) и s_d(x_{1:d−1}) – нейронные сети с d − 1 входами / MADE». Files: scratchflow/nn/made.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/made_masks.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['degrees', 'masks'])
def test_made_masks(probe):
    run_and_judge(__file__, "made_masks", probe, PROBES)
