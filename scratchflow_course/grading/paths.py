"""Where the grader's files are: the folder that holds the ``scratchflow`` and ``scratchflow_course``
packages.

In a checkout that folder is the repository (``solutions/`` beside ``scratchflow/``); in the
Gradescope bundle it is ``/autograder/source`` (the zip's contents are unpacked there).
"""
import os


def package_root():
    """The folder that contains the ``scratchflow`` and ``scratchflow_course`` package folders."""
    grading = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(grading))


def course_folder():
    """The ``scratchflow_course`` package folder (this package)."""
    return os.path.join(package_root(), "scratchflow_course")


def package_folder():
    """The ``scratchflow`` package folder itself."""
    return os.path.join(package_root(), "scratchflow")


def default_source():
    """``solutions/`` next to the package (a source checkout or the autograder bundle)."""
    return os.path.join(package_root(), "solutions")
