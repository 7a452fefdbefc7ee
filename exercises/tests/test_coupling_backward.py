"""Public tests of task coupling_backward: Real-NVP coupling: both gradient passes (derived, checked with check_bijector) (8 points).

Slide «Real-NVP (gradient pass)». Files: scratchflow/bijectors/coupling.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/coupling_backward.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['gradients', 'twice'])
def test_coupling_backward(probe):
    run_and_judge(__file__, "coupling_backward", probe, PROBES)
