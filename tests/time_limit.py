"""A bound on how long a block may run, kept by the OS's alarm: a hang becomes a failure, not a wait."""
import contextlib
import signal


@contextlib.contextmanager
def time_limit(seconds, what="the block"):
    """Raise TimeoutError in the block if it runs longer than ``seconds`` (fractions allowed)."""
    def expire(signum, frame):
        raise TimeoutError(f"{what} ran longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
