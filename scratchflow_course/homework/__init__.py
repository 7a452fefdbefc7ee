"""The homework: the student writes parts of this library.

* :mod:`~scratchflow_course.homework.regions`: the ``# >>> task <id>`` / ``# <<< task <id>`` markers in
  the library's source, their stubs, the students' prompts written into the release's docstrings,
  and how a submitted region is spliced into the stubbed library;
* :mod:`~scratchflow_course.homework.probes`, :mod:`~scratchflow_course.homework.probes_training` and
  :mod:`~scratchflow_course.homework.standins`: what each task's checks run, with stand-ins for the
  other tasks' code;
* :mod:`~scratchflow_course.homework.verdict`: the comparison and the sealed known-mistake hints,
  used alike by the public tests and the grader.

The generator of ``exercises/`` is :mod:`~scratchflow_course.homework.build`; the release
(:mod:`~scratchflow_course.homework.release`) ships none of this package: its public tests carry a
copy of the verdict and the public probes cut out by :mod:`~scratchflow_course.homework.shipped_probes`.
:mod:`~scratchflow_course.homework.leaks` searches a release for answers. The instructor's side (the
task table, hidden seeds, the mistakes, the prompts) is ``solutions/``.
"""


def all_probes():
    """task id -> [(probe name, function(seed) -> dict of arrays, what it checks)]."""
    # local import: the probes import the whole library; the regions and the verdict do not need it
    from scratchflow_course.homework import probes, probes_training
    return {**probes.PROBES, **probes_training.PROBES}
