"""Write a file so that a reader sees the old version or the new one, never half of either.

The new content goes into a file beside the target (same folder, so the same file system) and
``os.replace`` swaps it in only once it is complete; a failure or Ctrl-C part-way removes the
partial file and leaves what was there before. (Nothing good is ever lost.)
"""
import contextlib
import os


def write_atomically(path, write, mode="wb"):
    """Call ``write(file)`` on a file beside ``path``, then swap it in; return ``path``."""
    path = os.fspath(path)
    partial = f"{path}.partial-{os.getpid()}"
    try:
        with open(partial, mode, **({} if "b" in mode else {"newline": ""})) as file:
            write(file)
        os.replace(partial, path)
    except BaseException:                         # also KeyboardInterrupt: no partial file left
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    return path
