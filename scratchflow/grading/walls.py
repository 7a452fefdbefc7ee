"""The operating system's walls around student code, and a plain report of which are up.

When the grader runs as root (Gradescope and CI do), each task's child process

* gets resource limits first (CPU seconds, address space, processes and threads, file size, open
  files, no core dumps), then drops to a dedicated unprivileged uid and gid (no supplementary
  groups, ``no_new_privs`` so no set-uid program gives root back); one uid per task slot, so
  ``RLIMIT_NPROC`` counts only that task and the grader can kill every process of the uid after it;
* writes only in its sandbox, a fresh folder owned by that uid; the package it imports is the
  grader's root-owned copy; the reference solutions and the hidden checks sit in a folder that
  only root may enter; the results folder belongs to root.

Without root none of the uid walls exist: :meth:`Walls.missing` says so, and the grader prints it
and puts it in the results.
"""
import os
import stat
from dataclasses import dataclass

BASE_UID = int(os.environ.get("SCRATCHFLOW_GRADE_UID", "64000"))   # uids BASE_UID + slot
MEMORY_LIMIT = int(os.environ.get("SCRATCHFLOW_GRADE_MEMORY_MB", "2048")) * 2 ** 20
FILE_SIZE_LIMIT = 64 * 2 ** 20        # bytes any file (and so the captured stdout) may grow to
OPEN_FILES_LIMIT = 64
PROCESS_LIMIT = 16                    # processes and threads of the task's uid
_PR_SET_NO_NEW_PRIVS = 38


@dataclass
class Walls:
    """What the grader can enforce in this process's situation."""
    privileged: bool
    base_uid: int = BASE_UID

    @classmethod
    def detect(cls):
        return cls(privileged=hasattr(os, "geteuid") and os.geteuid() == 0)

    def uid(self, slot):
        """The unprivileged uid (and gid) of task slot ``slot``, or None without root."""
        return self.base_uid + slot if self.privileged else None

    def present(self):
        walls = ["each task in its own process, killed with its process group at the time limit",
                 "inputs in and outputs out through pipes as data (JSON and .npz without pickle); "
                 "scoring in the grader only",
                 "resource limits: CPU time, address space, file size, open files",
                 "a pristine copy of the package, digest-checked before each submission"]
        if self.privileged:
            walls += [f"student code runs as uid {self.base_uid}+task (not root), with a process cap "
                      "and no_new_privs",
                      "writable by it: its own sandbox only; the reference and hidden checks are not "
                      "readable by it; files it leaves in /tmp, /var/tmp, /dev/shm are removed"]
        return walls

    def missing(self):
        if self.privileged:
            return []
        return ["not running as root, so student code runs as your own user: it can read the "
                "reference solution and the hidden checks, write wherever you can and signal "
                "the grader (run as root, e.g. in a container, for these walls)",
                "no process or thread cap (RLIMIT_NPROC needs a dedicated uid)"]

    def describe(self):
        lines = ["walls up: " + "; ".join(self.present())]
        if self.missing():
            lines.append("WALLS MISSING: " + "; ".join(self.missing()))
        return "\n".join(lines)


def limit_resources(cpu_seconds, privileged):
    """Set the task's rlimits (soft = hard, so the child cannot raise them again)."""
    import resource
    limits = [(resource.RLIMIT_CPU, int(cpu_seconds) + 1), (resource.RLIMIT_AS, MEMORY_LIMIT),
              (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT), (resource.RLIMIT_NOFILE, OPEN_FILES_LIMIT),
              (resource.RLIMIT_CORE, 0)]
    if privileged:
        limits.append((resource.RLIMIT_NPROC, PROCESS_LIMIT))
    for kind, value in limits:
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))


def drop_privileges(uid):
    """Become ``uid`` (gid the same number, no supplementary groups) for good; set no_new_privs."""
    import ctypes
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise RuntimeError("could not drop privileges")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise RuntimeError("could not set no_new_privs")


def kill_all_of(uid):
    """In a forked helper: become ``uid`` and send SIGKILL to every process it may signal; never returns."""
    try:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        os.kill(-1, 9)                                    # every process of this uid but the helper
    finally:
        os._exit(0)


def processes_of(uid):
    """Pids of the processes owned by ``uid`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def sweep_files(uid, places=("/tmp", "/var/tmp", "/dev/shm")):
    """Remove every file and folder owned by ``uid`` in the world-writable ``places``."""
    import shutil
    removed = 0
    for place in places:
        try:
            entries = os.scandir(place)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if info.st_uid != uid:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
                removed += 1
    return removed


def close_to_others(path):
    """Take every permission of group and others off ``path`` (root mode: the reference folder).

    Returns True if the mode changed. The folder's own mode is enough: nothing below it can be
    reached by a user who cannot enter it.
    """
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        os.chmod(path, mode & ~0o077)
        return True
    return False


# ---------------------------------------------------------------------------- a Python others cannot read
# (pyenv under /root, mode 0700): the task uids could not import a module NumPy loads lazily, nor
# anything from the standard library. The child, still root, then shows them exactly the folders
# they need, in a mount namespace of its own: a tmpfs over the closed folder, with only the needed
# entries bound back in. Everything else of that folder stays invisible.
_CLONE_NEWNS, _MS_BIND, _MS_REC, _MS_PRIVATE, _MNT_DETACH = 0x00020000, 4096, 16384, 1 << 18, 2


def closed_folders(paths):
    """Sorted ``(folder, entry)`` pairs: ``folder`` cannot be entered by others, on the way to a path."""
    pairs = set()
    for path in paths:
        parts = os.path.realpath(path).split(os.sep)
        for index in range(1, len(parts)):
            folder = os.sep.join(parts[:index]) or os.sep
            try:
                if not os.stat(folder).st_mode & stat.S_IXOTH:
                    pairs.add((folder, parts[index]))
                    break
            except OSError:
                break
    return sorted(pairs)


def _mount_call(libc, result, what):
    if result != 0:
        import ctypes
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def expose(pairs, staging_parent):
    """In a new mount namespace: make each ``folder`` show only its needed entries, enterable by all."""
    import ctypes
    import tempfile
    libc = ctypes.CDLL(None, use_errno=True)
    _mount_call(libc, libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount_call(libc, libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private")
    groups = {}
    for folder, entry in pairs:
        groups.setdefault(folder, []).append(entry)
    for folder, entries in groups.items():
        staging = tempfile.mkdtemp(dir=staging_parent)
        for entry in entries:
            kept = os.path.join(staging, entry).encode()
            os.mkdir(kept)
            _mount_call(libc, libc.mount(os.path.join(folder, entry).encode(), kept, None, _MS_BIND | _MS_REC,
                                         None), f"bind {folder}/{entry}")
        _mount_call(libc, libc.mount(b"tmpfs", folder.encode(), b"tmpfs", 0, b"mode=0755"), f"tmpfs on {folder}")
        for entry in entries:
            os.mkdir(os.path.join(folder, entry))
            kept = os.path.join(staging, entry).encode()
            _mount_call(libc, libc.mount(kept, os.path.join(folder, entry).encode(), None, _MS_BIND | _MS_REC,
                                         None), f"bind back {folder}/{entry}")
            libc.umount2(kept, _MNT_DETACH)
            os.rmdir(kept)
        os.rmdir(staging)


def python_paths():
    """The folders the child's Python reads: its prefixes and every folder on ``sys.path``."""
    import sys
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    paths.update(path for path in sys.path if path and os.path.isdir(path))
    return sorted(paths)
