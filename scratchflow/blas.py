"""One BLAS thread for the library's own calls, so a hand-written loop runs at ``fit``'s speed.

A small flow multiplies matrices of a few hundred by 64: far too small for BLAS threads to pay.
OpenBLAS's default (one thread per core) spends more time waking and syncing its threads than
multiplying, and on a shared or busy machine the threads wait for each other's cores: a training
loop written out as on the slide ran many times slower than ``fit``, which limited the threads
(``docs/speed.md``). So the limit is the library's, not the loop's: :class:`~scratchflow.flow.Flow`'s
public passes (``log_prob``, ``loss``, ``backward``, ``loss_and_grad``, ``sample``, the reverse-KL
ones) and the optimizers' ``step`` run with at most :func:`blas_threads` BLAS threads and put the
caller's setting back when they return (two C calls per BLAS library, with ``threadpoolctl``).

Opting out: ``scratchflow.blas.set_blas_threads(None)`` (or the environment variable
``SCRATCHFLOW_BLAS_THREADS=none`` before import) leaves BLAS alone; ``set_blas_threads(4)`` allows
four threads, for a large flow on a machine of its own.
"""
import functools
import os
import sys
import threading

from threadpoolctl import ThreadpoolController

_state = threading.local()            # depth of limited calls in this thread: only the outermost sets
_libraries = None                     # the BLAS libraries' controllers
_modules_seen = 0                     # len(sys.modules) when they were found


def _limit_from_environment():
    text = os.environ.get("SCRATCHFLOW_BLAS_THREADS", "1").strip().lower()
    if text in ("none", "", "0"):
        return None
    return max(1, int(text))


_limit = _limit_from_environment()


def set_blas_threads(limit):
    """Cap the BLAS threads of the library's calls at ``limit`` (an int >= 1); ``None``: no cap."""
    global _limit
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"the BLAS thread limit must be an integer >= 1 or None, got {limit!r}")
    _limit = limit


def blas_threads():
    """The current cap (``None``: the library leaves BLAS alone)."""
    return _limit


def _blas_libraries():
    """The loaded BLAS libraries' controllers, found again after any import (an import such as
    SciPy's may load a BLAS of its own; a scan takes about a millisecond, a check nothing)."""
    global _libraries, _modules_seen
    if _libraries is None or len(sys.modules) != _modules_seen:
        _libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        _modules_seen = len(sys.modules)
    return _libraries


def limited_blas(method):
    """Decorator: run ``method`` with at most :func:`blas_threads` BLAS threads, then restore."""
    @functools.wraps(method)
    def limited(*args, **kwargs):
        limit = _limit
        if limit is None or getattr(_state, "depth", 0):
            return method(*args, **kwargs)
        changed = []
        for library in _blas_libraries():
            threads = library.num_threads
            if threads > limit:
                library.set_num_threads(limit)
                changed.append((library, threads))
        _state.depth = 1
        try:
            return method(*args, **kwargs)
        finally:
            _state.depth = 0
            for library, threads in changed:
                library.set_num_threads(threads)
    return limited
