"""The course built on the scratchflow library: the homework, its release and its autograder.

The library (:mod:`scratchflow`) never imports this package; the student release never contains it.

* :mod:`scratchflow_course.homework`: the task regions of the library, their stubs, the probes and
  the generator of ``exercises/`` and of the student release;
* :mod:`scratchflow_course.grading`: the autograder (``grade``), the release bundles (``release``)
  and Gradescope's entry point.

Its command is ``scratchflow-course`` (``pip install -e ".[course]"``); see
``docs/instructor_guide.md``.
"""
