"""Process control for the grader: run one task's child, kill it whole, and reap what escapes.

* :func:`run_child` starts ``python -m scratchflow.grading.child SANDBOX`` in a new session (its own
  process group), stdout and stderr to files in the sandbox, and kills the whole group at the time
  limit (SIGKILL: ignoring SIGTERM does not help).
* :class:`Guard`: while grading, the grader is the Linux "child subreaper", so a process that left
  the group (``setsid``, a double fork) is re-parented to the grader instead of to init;
  :func:`kill_strays` then kills every child the grader did not start, after each task and before
  the results are written. Outside Linux only the process-group kill applies.
"""
import os
import signal
import subprocess
import sys
import threading
import time

# A child that escapes its process group (os.setsid, a double fork, a daemon) would survive the
# kill at the time limit and could rewrite results.json after the grader wrote it. On Linux the
# grader makes itself a "child subreaper" while it grades: every orphan of its children is
# re-parented to the grader instead of to init, however it detached itself, and the grader kills
# every child of its own that it did not start itself (and reaps it) after each task and before any
# results are written.
_children_lock = threading.Lock()
_active_children = set()               # pids of the task processes running right now
_grading = {"depth": 0, "before": frozenset()}
_PR_SET_CHILD_SUBREAPER = 36


def _set_subreaper(on):
    """Turn the subreaper flag on (True if this call set it) or off; False where there is none."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if on:
            already = ctypes.c_int(0)
            if libc.prctl(_PR_SET_CHILD_SUBREAPER + 1, ctypes.byref(already), 0, 0, 0) == 0 and already.value:
                return False                              # someone else's: leave it as it is
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, int(bool(on)), 0, 0, 0) == 0
    except (OSError, AttributeError):                    # not Linux: process groups only
        return False


def _own_children():
    """Pids whose parent is this process (Linux /proc; an empty list elsewhere)."""
    me, children = os.getpid(), []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return children
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == me:
            children.append(int(entry))
    return children


def kill_strays():
    """Kill and reap every child of this process that the grader neither started nor runs now.

    Returns the number of processes killed. Rounds repeat until none is left, since a stray's own
    children are re-parented to the grader when it dies.
    """
    killed = 0
    with _children_lock:
        if _grading["depth"] == 0:                         # not grading: every child is someone else's
            return 0
        for _ in range(100):
            strays = [pid for pid in _own_children()
                      if pid not in _active_children and pid not in _grading["before"]]
            if not strays:
                break
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            for pid in strays:
                try:
                    os.waitpid(pid, 0)
                    killed += 1
                except ChildProcessError:
                    pass
    return killed


class Guard:
    """While grading: be the subreaper of the task processes; on leaving, kill whatever is left."""

    def __enter__(self):
        with _children_lock:
            if _grading["depth"] == 0:
                _grading["before"] = frozenset(_own_children())
                _grading["subreaper"] = _set_subreaper(True)
            _grading["depth"] += 1
        return self

    def __exit__(self, *exc):
        kill_strays()                                      # still counted in: the sweep runs
        with _children_lock:
            _grading["depth"] -= 1
            if _grading["depth"] == 0 and _grading.pop("subreaper", False):
                _set_subreaper(False)
        return False


def run_child(sandbox, time_limit):
    """Run the child in its own session; kill the whole process group at the time limit."""
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
                "MPLCONFIGDIR": os.path.join(sandbox, ".matplotlib")})
    start = time.monotonic()
    with open(os.path.join(sandbox, "stdout.txt"), "wb") as out, \
            open(os.path.join(sandbox, "stderr.txt"), "wb") as err:
        with _children_lock:              # registered before a sweep can see it
            process = subprocess.Popen([sys.executable, "-m", "scratchflow.grading.child", sandbox],
                                       cwd=sandbox, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                       env=env, start_new_session=True)
            _active_children.add(process.pid)
        try:
            timed_out = not _wait_unreaped(process.pid, start + time_limit)
            try:
                # the child is not reaped yet, so its process-group id cannot have been reused: this
                # kills the child (if it is still running) and anything it started, and nothing else
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        finally:
            with _children_lock:
                _active_children.discard(process.pid)
    return timed_out, process.returncode, time.monotonic() - start


def _wait_unreaped(pid, deadline):
    """Wait until ``pid`` exits or the deadline passes, leaving it unreaped; True if it exited."""
    delay = 0.005
    while True:
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        if info is not None and info.si_pid == pid:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.05)
