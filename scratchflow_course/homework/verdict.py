"""Judging a probe's outputs: the comparison both the public tests and the grader make, and the
table of known mistakes that turns a recognised wrong answer into a hint.

A mistake's *signature* is what the probes output when the reference region carries that mistake
(computed when the release is built, stored as data only). A failing check whose outputs match a
signature says which mistake it looks like and what to reread.
"""
import numpy as np

RTOL, ATOL = 1e-7, 1e-9


def _close(got, expected):
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        return False
    if expected.dtype.kind not in "fc":
        return bool(np.array_equal(got, expected))
    got = got.astype(np.float64)
    return bool(np.all(np.isfinite(got) == np.isfinite(expected))
                and np.allclose(got, expected, rtol=RTOL, atol=ATOL, equal_nan=True))


def first_difference(outputs, expected):
    """None if every expected output is there with the same shape and close values; else a line
    naming the first output that differs and how."""
    for name, want in expected.items():
        if name not in outputs:
            return f"output {name!r} is missing"
        got, want = np.asarray(outputs[name]), np.asarray(want)
        if got.shape != want.shape:
            return f"{name}: shape {got.shape}, expected {want.shape}"
        if _close(got, want):
            continue
        if want.dtype.kind not in "fc":
            return f"{name}: got {got.ravel()[:8].tolist()}, expected {want.ravel()[:8].tolist()}"
        got = got.astype(np.float64)
        if not np.isfinite(got).all() and np.isfinite(want).all():
            return f"{name}: contains NaN or inf where the expected values are finite"
        error = np.abs(got - want)
        where = np.unravel_index(int(np.nanargmax(np.where(np.isnan(error), np.inf, error))), want.shape)
        return (f"{name}: wrong values (largest |error| {float(np.nanmax(error)):.3g}) — at index "
                f"{tuple(int(i) for i in where)} got {got[where]:.6g}, expected {want[where]:.6g}")
    return None


def error_text(error):
    """How an exception appears in a signature: ``"TypeName: message"``."""
    return f"{type(error).__name__}: {error}"


def recognise(outputs, signatures):
    """Ids of the known mistakes whose signature (dict output -> array) the outputs match; a
    signature ``{"__error__": text}`` matches an exception with that text."""
    if isinstance(outputs, BaseException):
        return [mistake for mistake, signature in signatures.items()
                if "__error__" in signature and str(signature["__error__"]) == error_text(outputs)]
    return [mistake for mistake, signature in signatures.items()
            if signature and "__error__" not in signature and
            all(name in outputs and _close(outputs[name], value) for name, value in signature.items())]


def _hints(outputs, signatures, hints):
    return "".join(f"\n  This looks like a known mistake ({mistake}): {(hints or {}).get(mistake, '')}"
                   for mistake in recognise(outputs, signatures or {}))


def judge(what, outputs, expected, signatures=None, hints=None):
    """``(passed, message)`` for one probe. ``outputs``: the arrays the code gave, or an exception;
    ``signatures``: mistake id -> outputs of that mistake; ``hints``: mistake id -> text."""
    if isinstance(outputs, BaseException):
        if isinstance(outputs, NotImplementedError):
            return False, f"{what}: not written yet ({outputs})"
        return False, f"{what}: your code raised {error_text(outputs)}" + _hints(outputs, signatures, hints)
    difference = first_difference(outputs, expected)
    if difference is None:
        return True, f"{what}: ok"
    return False, f"{what}: {difference}" + _hints(outputs, signatures, hints)
