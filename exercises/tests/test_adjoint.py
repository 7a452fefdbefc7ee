"""Public tests of task adjoint: Extra credit: the gradient of MAF's sampling and IAF's density direction (through the sequential fill) (5 points).

Slide «Masked Autoregressive Flow (MAF); Inverse Autoregressive Flow (IAF)». Files: scratchflow/bijectors/autoregressive.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/adjoint.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['maf_sampling', 'iaf_density'])
def test_adjoint(probe):
    run_and_judge(__file__, "adjoint", probe, PROBES)
