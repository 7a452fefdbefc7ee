"""Judging a probe's outputs: the comparison both the public tests and the grader make, and the
known mistakes that turn a recognised wrong answer into a hint.

This file needs only NumPy and the standard library: the release ships it as the public tests'
checker (``tests/homework_checker.py``), so a student's test and the grader's public check judge
alike, with the same messages and the same hints.

A mistake's *signature* is what the probes output when the reference region carries that mistake.
It never ships in plain form, nor does its hint: :func:`seal` keeps a digest of the signature's
values (rounded on a grid whose cells are centred on them, so a value within half a cell rounds the
same way) and the hint encrypted under a key derived from the same values. Only outputs that
match the signature, or code that raises the same error, can read the hint.
"""
import hashlib
import json
import os
import traceback

import numpy as np

RTOL, ATOL = 1e-7, 1e-9
CELL_BITS = 20          # a value matches a signature within 2^-21 of its magnitude (at least 2^-21)


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


def error_text(error, student_files=()):
    """An exception as every check reports it: the public tests, the exercise generator and the
    grader alike.

    The last frames in ``student_files`` (paths ending in ``scratchflow/...py``: the files of the
    task's regions, shown from ``scratchflow/`` on; no other frame, so the grader's code stays
    private), then ``TypeName: message``; ``sys.exit`` as the call it was.
    """
    if isinstance(error, SystemExit):
        return f"the code called sys.exit({error.code!r})"
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if any(frame.filename.replace(os.sep, "/").endswith("/" + name) for name in student_files)]
    for frame in frames:
        frame.filename = frame.filename[frame.filename.rfind("scratchflow" + os.sep):]
    lines = traceback.format_list(frames[-4:]) + traceback.format_exception_only(type(error), error)
    return "".join(lines).replace(os.getcwd() + os.sep, "").rstrip("\n")[-1500:]


def _error_signature(error):
    """What a known mistake that raises is recognised by: the last line of its report,
    ``TypeName: message``, the class named without its module."""
    text = error if isinstance(error, str) else error_text(error)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    name, colon, message = (lines[-1].strip() if lines else "").partition(": ")
    if colon and all(part.isidentifier() for part in name.split(".")):
        name = name.rsplit(".", 1)[-1]
    return name + colon + message


# --- sealed signatures -----------------------------------------------------------------------

def _cells(value, exponent=None):
    """The grid of one output: the cell size's exponent per element (from the signature's own
    magnitude, stored) and the offset that puts the signature's value at a cell's centre."""
    value = np.asarray(value, dtype=np.float64).ravel()
    finite = np.where(np.isfinite(value), value, 0.0)
    if exponent is None:
        exponent = np.ceil(np.log2(np.maximum(np.abs(finite), 1.0))).astype(np.int64) - CELL_BITS
    size = np.ldexp(1.0, exponent)
    offset = (np.floor(finite / size) + 0.5) * size - finite
    return exponent, offset


def _material(outputs, layout):
    """The bytes a key is made of: for each output of ``layout`` (name -> (dtype kind, shape,
    exponent, offset)), its values rounded on the stored grid; None if an output is missing or
    has another shape."""
    parts = []
    for name in sorted(layout):
        kind, shape, exponent, offset = layout[name]
        if name not in outputs:
            return None
        value = np.asarray(outputs[name])
        if value.shape != tuple(shape):
            return None
        if kind not in "fc":
            if value.dtype.kind not in "biu":
                return None
            cells = value.astype(np.int64).ravel()
        else:
            flat = value.astype(np.float64).ravel()
            with np.errstate(all="ignore"):
                cells = np.floor((flat + offset) / np.ldexp(1.0, exponent))
            cells = np.where(np.isnan(flat), 2.0 ** 62, np.where(np.isinf(flat), np.sign(flat) * 2.0 ** 61,
                                                                    cells)).astype(np.int64)
        parts.append(name.encode() + b"|" + repr(tuple(shape)).encode() + b"|" + cells.tobytes())
    return b"\n".join(parts)


def _stream(material, size):
    blocks = [hashlib.sha256(b"hint-key|%d|" % k + material).digest() for k in range(size // 32 + 1)]
    return np.frombuffer(b"".join(blocks)[:size], dtype=np.uint8)


def _digest(material):
    return np.frombuffer(hashlib.sha256(b"hint-check|" + material).digest(), dtype=np.uint8)


def seal(signature, hint):
    """The stored form of one signature and its hint (a dict of arrays, data only).
    ``signature``: dict output -> array, or the error text of a mistake that raises."""
    if isinstance(signature, str):
        material = b"error|" + _error_signature(signature).encode()
        sealed = {}
    else:
        sealed, layout = {}, {}
        for name, value in signature.items():
            value = np.asarray(value)
            exponent, offset = _cells(value) if value.dtype.kind in "fc" else (np.zeros(0, np.int64),
                                                                               np.zeros(0))
            sealed[f"{name}/kind"] = np.array(value.dtype.kind)
            sealed[f"{name}/shape"] = np.array(value.shape, dtype=np.int64)
            sealed[f"{name}/exponent"], sealed[f"{name}/offset"] = exponent, offset
            layout[name] = (value.dtype.kind, value.shape, exponent, offset)
        material = _material(signature, layout)
    text = hint.encode("utf-8")
    sealed["__check__"] = _digest(material)
    sealed["__hint__"] = np.frombuffer(text, dtype=np.uint8) ^ _stream(material, len(text))
    return sealed


def unseal(outputs, sealed):
    """The hint of a sealed signature if ``outputs`` (dict of arrays, an exception, or
    ``{"__error__": text}``) match it; else None."""
    error = outputs if isinstance(outputs, BaseException) else \
        outputs.get("__error__") if isinstance(outputs, dict) else None
    names = sorted({key.split("/")[0] for key in sealed if "/" in key})
    if error is not None:
        material = None if names else b"error|" + _error_signature(
            error if isinstance(error, BaseException) else str(error)).encode()
    elif not names:
        material = None
    else:
        layout = {name: (str(sealed[f"{name}/kind"]), tuple(int(n) for n in sealed[f"{name}/shape"]),
                         sealed[f"{name}/exponent"], sealed[f"{name}/offset"]) for name in names}
        material = _material(outputs, layout)
    if material is None or not np.array_equal(_digest(material), sealed["__check__"]):
        return None
    code = np.asarray(sealed["__hint__"], dtype=np.uint8)
    return (code ^ _stream(material, len(code))).tobytes().decode("utf-8", "replace")


def recognise(outputs, signatures):
    """The hints of the known mistakes whose sealed signature the outputs match, in order."""
    found = [unseal(outputs, sealed) for _, sealed in sorted((signatures or {}).items())]
    return [hint for hint in found if hint is not None]


def judge(what, outputs, expected, signatures=None):
    """``(passed, message)`` for one probe. ``outputs``: the arrays the code gave, an exception, or
    ``{"__error__": text}`` (the grader's report of one); ``signatures``: mistake -> sealed
    signature (see :func:`seal`)."""
    hints = "".join(f"\n  This looks like a known mistake {hint}" for hint in recognise(outputs, signatures))
    if isinstance(outputs, BaseException):
        if isinstance(outputs, NotImplementedError):
            return False, f"{what}: not written yet ({outputs})"
        return False, f"{what}: your code raised {error_text(outputs)}" + hints
    if "__error__" in outputs:
        return False, f"{what}: your code raised an error:\n{outputs['__error__']}" + hints
    difference = first_difference(outputs, expected)
    if difference is None:
        return True, f"{what}: ok"
    return False, f"{what}: {difference}" + hints


# --- the stored values of a task's public checks ------------------------------------------

def load_expected(folder, task):
    """``(meta, expected, signatures)`` of a task from ``folder`` (``tests/expected``): meta is the
    JSON (seed, what each probe checks), expected[probe][output] the reference's arrays and
    signatures[probe][mistake] the sealed signatures (mistakes are numbered, not named)."""
    with open(os.path.join(folder, f"{task}.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    expected, signatures = {}, {}
    with np.load(os.path.join(folder, f"{task}.npz"), allow_pickle=False) as arrays:
        for key in arrays.files:
            parts = key.split("/")
            if parts[0] == "expected":                              # expected/<probe>/<output>
                expected.setdefault(parts[1], {})[parts[2]] = arrays[key]
            else:                                                   # mistake/<k>/<probe>/<field...>
                signatures.setdefault(parts[2], {}).setdefault(parts[1], {})["/".join(parts[3:])] = arrays[key]
    return meta, expected, signatures


def run_and_judge(test_file, task, probe, probes):
    """The body of a public test: run ``probe`` of ``task`` (from ``probes``, task -> [(name,
    function, what)]) at the stored seed and assert it gives the stored values."""
    folder = os.path.join(os.path.dirname(os.path.abspath(test_file)), "expected")
    meta, expected, signatures = load_expected(folder, task)
    function = {name: f for name, f, _ in probes[task]}[probe]
    try:
        outputs = function(meta["seed"])
    except Exception as error:                                      # judged, not crashed on
        outputs = error
    passed, message = judge(meta["probes"][probe], outputs, expected[probe], signatures.get(probe))
    assert passed, message
