"""Public tests of task coupling: Real-NVP coupling: forward, inverse, log-det (9 points).

Slide «Real-NVP». Files: scratchflow/bijectors/coupling.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/coupling.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['forward', 'inverse', 'contiguous', 'stacked'])
def test_coupling(probe):
    run_and_judge(__file__, "coupling", probe, PROBES)
