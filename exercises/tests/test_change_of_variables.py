"""Public tests of task change_of_variables: Change of variables: Example 2's map, inverse, log-dets, gradient passes and density (7 points).

Slide «Теорема о замене переменных; Пример 2 / Change of variables; Example 2». Files: scratchflow/bijectors/examples.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/change_of_variables.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['passes', 'theory'])
def test_change_of_variables(probe):
    run_and_judge(__file__, "change_of_variables", probe, PROBES)
