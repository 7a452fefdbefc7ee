"""The homework: the student writes parts of this library. What ships with it (the release):

* :mod:`~scratchflow_course.homework.regions`: the ``# >>> task <id>`` / ``# <<< task <id>`` markers in
  the library's source, their stubs and how a submitted region is spliced into the stubbed library;
* :mod:`~scratchflow_course.homework.probes`, :mod:`~scratchflow_course.homework.probes_training` and
  :mod:`~scratchflow_course.homework.standins`: what each task's checks run, with stand-ins for the
  other tasks' code;
* :mod:`~scratchflow_course.homework.verdict` and :mod:`~scratchflow_course.homework.public`: the comparison and
  the known-mistake hints, used alike by the public tests and the grader.

The instructor's side (the task table, hidden seeds, the mistakes table) is ``solutions/``; the
generator of ``exercises/`` and of the release is :mod:`~scratchflow_course.homework.build`.
"""


def all_probes():
    """task id -> [(probe name, function(seed) -> dict of arrays, what it checks)]."""
    # local import: the probes import the whole library; the regions and the verdict do not need it
    from scratchflow_course.homework import probes, probes_training
    return {**probes.PROBES, **probes_training.PROBES}
