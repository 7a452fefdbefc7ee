"""SIGTERM and SIGHUP stop ``scratchflow train`` the way Ctrl-C does, so the best model is saved.

``timeout``, a batch scheduler and a closed terminal send SIGTERM or SIGHUP, not SIGINT; Python's
default for them ends the process at once and loses the whole run. Inside :func:`as_interrupt` the
two signals raise :class:`Interrupted`, a ``KeyboardInterrupt`` that names its signal: ``fit``
stops as on Ctrl-C ("interrupted (SIGTERM) ...") and returns, and the command saves what it kept.
"""
import contextlib
import signal
import threading

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A termination signal turned into a ``KeyboardInterrupt``; ``signal_name`` says which."""

    def __init__(self, signal_name):
        super().__init__(signal_name)
        self.signal_name = signal_name


def _raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


@contextlib.contextmanager
def as_interrupt():
    """Inside the block SIGTERM and SIGHUP raise :class:`Interrupted`; afterwards the handlers
    that were there before are back. Outside the main thread (no signals there) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _raise_interrupted) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def exit_status(history):
    """The shell's status for a run stopped by a signal: 128 + its number (Ctrl-C: 130)."""
    name = history.stopped[len("interrupted ("):].split(")")[0]
    return 128 + getattr(signal, name, signal.SIGINT) if name.startswith("SIG") else 130
