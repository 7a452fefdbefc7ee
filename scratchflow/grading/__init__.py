"""The autograder: homework from one source (``solutions/``), exercises generated from it, grading in
sandboxed processes, Gradescope's ``results.json`` and the release bundles.

Nothing else in scratchflow imports this package; it uses the package (nn, checks, data), never
the reverse. See ``docs/instructor_guide.md``.
"""
from scratchflow.grading.generate import check_sync, generate_exercises
from scratchflow.grading.grader import Grader, grade_all, grade_submission, grade_to_file, write_results

__all__ = ["Grader", "grade_submission", "grade_to_file", "grade_all", "write_results",
           "generate_exercises", "check_sync"]
