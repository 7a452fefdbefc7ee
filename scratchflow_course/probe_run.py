"""One call of a probe (or of a grader's runner), made the same way wherever it runs: in the worker
that computes the reference's, the stubs' and the mutants' outputs when the exercises are generated
(:mod:`scratchflow_course.homework.worker`), and in the grader's child that runs the student's code
behind the walls (:mod:`scratchflow_course.grading.child`).

The call returns ``{output name: array-like}``. :func:`run_probe` gives back the entries both of
them write into their ``.npz`` file: ``<key>/<output>`` numeric arrays, or one ``<key>/__error__``
text (:func:`~scratchflow_course.homework.verdict.error_text`) when the call raised (anything,
``sys.exit`` included) or returned something that is not numeric arrays. Nothing here decides
whether a check passed: the verdict does, reading the file back with ``allow_pickle=False``.
"""
import numpy as np

from scratchflow_course.homework.verdict import error_text

ERROR = "__error__"


def _numeric(name, value):
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"output {name!r} is not a numeric array (dtype {array.dtype})")
    return array


def run_probe(key, call, student_files=()):
    """``{"<key>/<output>": array}`` from ``call()``, or ``{"<key>/__error__": text}`` if it raised.

    NumPy's floating-point errors are ignored during the call (a NaN is an output, not news), and
    whatever ``np.seterr`` the code under test set is undone when it returns. ``student_files``:
    the files whose frames the error text shows (see ``error_text``).
    """
    try:
        with np.errstate(all="ignore"):
            result = call()
            return {f"{key}/{name}": _numeric(name, value) for name, value in result.items()}
    except BaseException as error:                       # SystemExit, KeyboardInterrupt, anything
        return {f"{key}/{ERROR}": np.array(error_text(error, student_files))}
