"""Where the grader's files are: one helper for the folder that holds the ``scratchflow`` package.

In a checkout that folder is the repository (``solutions/`` beside ``scratchflow/``); in the
Gradescope bundle it is ``/autograder/source`` (the zip's contents are unpacked there).
"""
import os


def package_root():
    """The folder that contains the ``scratchflow`` package folder."""
    grading = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(grading))


def package_folder():
    """The ``scratchflow`` package folder itself."""
    return os.path.join(package_root(), "scratchflow")


def default_source():
    """``solutions/`` next to the package (a source checkout or the autograder bundle)."""
    return os.path.join(package_root(), "solutions")
