"""The grader's side of a child's outputs: read them defensively.

Everything here runs in the grader, on bytes that came from an untrusted process.
"""
import io
import os
import stat
import zipfile

import numpy as np

OUTPUT_LIMIT = 2000                   # characters of a message shown per test
TAIL = 600                            # characters of a child's stdout/stderr quoted on failure
OUTPUTS_LIMIT = 256 * 2 ** 20         # bytes of outputs the grader is willing to read


def clip(text):
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT - 20] + "\n… (cut)"


def open_regular(path):
    """A binary file object for ``path`` if it is a regular file (not a link, FIFO or device), else None."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    handle = os.fdopen(descriptor, "rb")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        handle.close()
        return None
    return handle


def tail(path):
    """The last TAIL characters of a log file (empty if it is not a regular file)."""
    handle = open_regular(path)
    if handle is None:
        return ""
    with handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - TAIL))
        text = handle.read().decode("utf-8", "replace")
    return ("…" if size > TAIL else "") + text


def read_outputs(data, keys):
    """Arrays the child sent (``.npz`` bytes), grouped by check key; None if not acceptable.

    Before numpy sees them: at most OUTPUTS_LIMIT bytes, every member stored uncompressed (a
    deflated "zip bomb" could not expand) and named ``<known check key>/<name>.npy``; loaded with
    ``allow_pickle=False``. An array that is not numeric turns into an error for its check (only
    ``__error__`` is text).
    """
    if data is None or len(data) > OUTPUTS_LIMIT:
        return None
    keys, grouped = set(keys), {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                key = info.filename.partition("/")[0]
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > info.compress_size \
                        or key not in keys or not info.filename.endswith(".npy"):
                    return None
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            for name in arrays.files:
                key, _, output = name.partition("/")
                grouped.setdefault(key, {})[output] = arrays[name]
    except Exception:                                     # truncated, not an npz, pickled
        return None
    for key, outputs in grouped.items():
        for output, array in outputs.items():
            if output != "__error__" and array.dtype.kind not in "biuf":
                grouped[key] = {"__error__": np.array(f"output {output!r} is not a numeric array "
                                                      f"(dtype {array.dtype})")}
                break
    return grouped
