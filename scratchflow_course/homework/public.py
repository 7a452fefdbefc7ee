"""The public checks on the course's side: the stored values of ``exercises/tests/expected`` and
a probe run as the public test runs it (the release's tests do the same with their own copy of
:mod:`~scratchflow_course.homework.verdict`)."""
from scratchflow_course.homework import all_probes
from scratchflow_course.homework.verdict import load_expected, run_and_judge

__all__ = ["load_expected", "check_probe"]


def check_probe(test_file, task, probe):
    """Assert that probe ``probe`` of ``task`` gives the values stored beside ``test_file``."""
    run_and_judge(test_file, task, probe, all_probes())
