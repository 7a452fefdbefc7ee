"""Public tests of task triangular: The log-det of a triangular Jacobian (a diagonal of either sign) (5 points).

Slide «MAF: нижнетреугольная матрица, значение Якобиана / lower-triangular Jacobian and its determinant». Files: scratchflow/bijectors/triangular.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/triangular.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['forward', 'inverse'])
def test_triangular(probe):
    run_and_judge(__file__, "triangular", probe, PROBES)
