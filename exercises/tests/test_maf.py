"""Public tests of task maf: MAF: density in one pass, sampling in D passes (7 points).

Slide «Masked Autoregressive Flow (MAF)». Files: scratchflow/bijectors/autoregressive.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/maf.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['passes', 'kept'])
def test_maf(probe):
    run_and_judge(__file__, "maf", probe, PROBES)
