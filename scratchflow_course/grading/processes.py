"""Process control for the grader: run one untrusted child, kill it whole, and reap what escapes.

* :func:`run_child` starts a command in a new session (its own process group) with stdout and
  stderr going to files the grader opened, writes its input to the child's stdin, reads its output
  from a pipe (capped), and kills the whole group at the time limit (SIGKILL: ignoring SIGTERM does
  not help). Nothing is exchanged through files the child could reach.
* :class:`Guard`: while grading, the grader is the Linux "child subreaper", so a process that left
  the group (``setsid``, a double fork) is re-parented to the grader instead of to init;
  :func:`kill_strays` then kills every child the grader did not start, after each task and before
  the results are written. Outside Linux only the process-group kill applies.
"""
import ctypes
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from scratchflow_course.grading.walls import kill_all_of, processes_of

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


def kill_uid(uid):
    """Kill every process of the task's ``uid`` (root only): a forked helper turns into ``uid`` and
    signals -1. Repeated while any is left (one may fork while the signal goes round)."""
    for _ in range(5):
        with _children_lock:                              # a sweep must not take the helper for a stray
            pid = os.fork()
            if pid == 0:
                kill_all_of(uid)
            _active_children.add(pid)
        try:
            os.waitpid(pid, 0)
        finally:
            with _children_lock:
                _active_children.discard(pid)
        if not processes_of(uid):
            return


@dataclass
class ChildRun:
    """What the grader learns from one child: how it ended, the bytes it sent (None: too many) and
    whether it reported its walls up (a child that did not never ran student code)."""
    timed_out: bool
    returncode: int
    seconds: float
    output: bytes
    walls_up: bool


def _send(stream, payload):
    try:
        stream.write(payload)
    except (BrokenPipeError, ValueError, OSError):       # the child died before reading it all
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass


def run_child(command, payload, cwd, env, time_limit, stdout_path, stderr_path, output_limit):
    """Run ``command + [output fd, ready fd]`` (the write ends of two pipes) in its own session.

    ``payload`` goes to its stdin; its output is read from the pipe while it runs (at most
    ``output_limit`` bytes are kept; more and ``output`` is None). At the time limit, or when it has
    exited, the whole process group is killed. The child writes "walls up" on the ready pipe and
    closes it before it runs student code.
    """
    out_read, out_write = os.pipe()
    ready_read, ready_write = os.pipe()
    start = time.monotonic()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        with _children_lock:              # registered before a sweep can see it
            process = subprocess.Popen(command + [str(out_write), str(ready_write)], cwd=cwd, env=env,
                                       stdin=subprocess.PIPE, stdout=out, stderr=err,
                                       pass_fds=(out_write, ready_write), start_new_session=True)
            _active_children.add(process.pid)
    os.close(out_write)
    os.close(ready_write)
    writer = threading.Thread(target=_send, args=(process.stdin, payload), daemon=True)
    writer.start()
    try:
        timed_out, output = _collect(process.pid, out_read, start + time_limit, output_limit)
        try:
            # the child is not reaped yet, so its process-group id cannot have been reused: this
            # kills the child (if it is still running) and anything it started, and nothing else
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()
        os.set_blocking(ready_read, False)
        try:
            walls_up = os.read(ready_read, 16) == b"walls up"
        except BlockingIOError:
            walls_up = False
    finally:
        os.close(out_read)
        os.close(ready_read)
        with _children_lock:
            _active_children.discard(process.pid)
    writer.join(timeout=1.0)
    return ChildRun(timed_out, process.returncode, time.monotonic() - start, output, walls_up)


def _collect(pid, descriptor, deadline, limit):
    """Read the pipe until the child has exited and the pipe is drained, or the deadline passes."""
    chunks, size, exited = [], 0, False
    while True:
        if not exited:
            exited = _exited(pid)
        now = time.monotonic()
        if not exited and now >= deadline:
            return True, None
        ready, _, _ = select.select([descriptor], [], [], 0 if exited else min(0.05, max(0.0, deadline - now)))
        if not ready:
            if exited:                    # exited and nothing more to read (a grandchild may hold it)
                break
            continue
        data = os.read(descriptor, 1 << 16)
        if not data:
            break
        size += len(data)
        if size <= limit:
            chunks.append(data)
        elif exited:
            break
    return False, (b"".join(chunks) if size <= limit else None)


def _exited(pid):
    """True once ``pid`` has exited (left unreaped, so its process-group id stays reserved)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None and info.si_pid == pid
