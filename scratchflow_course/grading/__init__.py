"""The autograder: the homework is the library with gaps (:mod:`scratchflow_course.homework`); each task
is graded on the stubbed library with the student's regions of that task only, behind the operating
system's walls; Gradescope's ``results.json`` and the release bundles.

It uses the package (nn, bijectors, data), never the reverse. The only module of scratchflow that
touches it is :mod:`scratchflow.cli`, which imports :mod:`scratchflow_course.grading.cli` (argument parsing
only); the grader itself is imported when a grading command runs. Importing this package imports
nothing else of it. See ``docs/instructor_guide.md``.
"""
