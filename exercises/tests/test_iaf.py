"""Public tests of task iaf: IAF: sampling in one pass, density in D passes (7 points).

Slide «Inverse Autoregressive Flow (IAF)». Files: scratchflow/bijectors/autoregressive.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/iaf.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['passes', 'kept'])
def test_iaf(probe):
    run_and_judge(__file__, "iaf", probe, PROBES)
