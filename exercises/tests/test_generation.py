"""Public tests of task generation: Generation x = f⁻¹(z) and the experiment-vs-theory histogram (6 points).

Slide «Алгоритм генерации; Эксперимент / Теория / Generation algorithm; Experiment / theory». Files: scratchflow/flow.py, scratchflow/histogram.py.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/generation.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", ['samples', 'base', 'histogram'])
def test_generation(probe):
    run_and_judge(__file__, "generation", probe, PROBES)
