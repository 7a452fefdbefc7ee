"""The operating system's walls around student code, and a plain report of which are up.

When the grader runs as root (Gradescope and CI do), each task's child process

* gets resource limits first (CPU seconds, address space, processes and threads, file size, open
  files, no core dumps), then drops to a dedicated unprivileged uid and gid (no supplementary
  groups, ``no_new_privs`` so no set-uid program gives root back); one uid per task slot, so
  ``RLIMIT_NPROC`` counts only that task and the grader can kill every process of the uid after it;
* writes only in its sandbox, a fresh folder owned by that uid; the package it imports is the
  grader's root-owned copy; the reference solutions and the hidden checks sit in a folder that
  only root may enter; the results folder belongs to root.

As root each child also gets IPC, network and mount namespaces of its own where the kernel allows
them (:func:`~scratchflow_course.grading.namespaces.isolate`). Without root none of the uid walls
exist. Where the kernel lets an ordinary user create a user namespace, the child still gets empty
folders over the reference, the hidden checks and the checkout, and only loopback
(:func:`~scratchflow_course.grading.namespaces.hide_without_root`).
:meth:`Walls.missing` says what is missing; the grader prints it and puts it in the results.
"""
import ctypes
import os
import resource
import shutil
import stat
from dataclasses import dataclass, field

from scratchflow_course.grading import namespaces

UID_BLOCK = 64                        # task slots of one grader: uids base .. base + 63


def _base_uid():
    """The first of this grader's task uids: ``SCRATCHFLOW_GRADE_UID``, or a block of 64 below 60000
    picked by the process id, so two graders on one machine (each killing every process of its
    uids after a task) are unlikely to share one. Below 65534, for containers that map only 16 bits."""
    if "SCRATCHFLOW_GRADE_UID" in os.environ:
        return int(os.environ["SCRATCHFLOW_GRADE_UID"])
    return 50000 + (os.getpid() % 150) * UID_BLOCK
MEMORY_LIMIT = int(os.environ.get("SCRATCHFLOW_GRADE_MEMORY_MB", "2048")) * 2 ** 20
FILE_SIZE_LIMIT = 64 * 2 ** 20        # bytes any file (and so the captured stdout) may grow to
OPEN_FILES_LIMIT = 64
PROCESS_LIMIT = 16                    # processes and threads of the task's uid
_PR_SET_NO_NEW_PRIVS = 38


@dataclass
class Walls:
    """What the grader can enforce in this process's situation."""
    privileged: bool
    user_namespace: bool = False          # without root: the child hides folders in a user namespace
    base_uid: int = field(default_factory=_base_uid)
    reason: str = ""                      # why a root grader could not use the uid walls
    isolated: bool = True                 # as root: each task in its own IPC, network and mount namespaces

    @classmethod
    def detect(cls):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            closed = namespaces.closed_folders(namespaces.python_paths())
            if not closed or namespaces.mount_namespaces_work():
                return cls(privileged=True, isolated=namespaces.isolation_works())
            return cls(privileged=False, reason=f"the Python lies in {closed[0][0]}, which other users "
                       "cannot enter, and this machine allows no mount namespace to show it to the task uids")
        return cls(privileged=False, user_namespace=namespaces.user_namespaces_work())

    def uid(self, slot):
        """The unprivileged uid (and gid) of task slot ``slot``, or None without root."""
        return self.base_uid + slot % UID_BLOCK if self.privileged else None

    def present(self):
        walls = ["each task in its own process, killed with its process group at the time limit",
                 "inputs in and outputs out through pipes as data (JSON and .npz without pickle); "
                 "scoring in the grader only",
                 "resource limits: CPU time, address space, file size, open files",
                 "a fresh copy of the package per task (the stubs and that task's regions only), written "
                 "from the grader's memory",
                 "Python started without site hooks (-I -S): no .pth file or sitecustomize runs in a task"]
        if self.privileged:
            walls += [f"student code runs as uid {self.base_uid}+task (not root), with a process cap "
                      "and no_new_privs",
                      "writable by it: its own sandbox only; the reference and hidden checks are not "
                      "readable by it; files it leaves in /tmp, /var/tmp, /dev/shm, /run/lock and the "
                      "SysV objects of its uid are removed"]
            if self.isolated:
                walls += ["its own IPC, network and mount namespaces: SysV objects and sockets die with "
                          "it; loopback only; its sandbox a 256 MB tmpfs of its own"]
        elif self.user_namespace:
            walls += ["a user namespace: empty read-only folders over the reference, the hidden checks "
                      "and the checkout (Python's own folders bound back read-only); its own IPC and "
                      "network namespaces (loopback only); its sandbox a 256 MB tmpfs of its own"]
        return walls

    def missing(self):
        """Exactly the walls a root grader has and this one lacks (empty as root)."""
        if self.privileged:
            return [] if self.isolated else [
                "no IPC, network or mount namespace (unshare is refused here): student code can use the "
                "network and the machine's local services, and its sandbox shares the grader's folder"]
        who = (f"running as root but {self.reason}, so student code runs AS ROOT" if self.reason else
               "not running as root, so student code runs as your own user")
        remedy = ("make that folder enterable by others (chmod o+x) or use a Python installed elsewhere"
                  if self.reason else "run as root, e.g. in a container, for these walls")
        missing = [f"{who}: it can signal your processes and write where you can outside the folders "
                   f"made read-only ({remedy})",
                   "no process or thread cap (RLIMIT_NPROC needs a dedicated uid)",
                   "files left in /tmp, /var/tmp, /dev/shm are not swept (they are not told apart from yours)"]
        if not self.user_namespace:
            missing += ["no user namespace (unshare -U is not allowed here): student code can read the "
                        "reference solution, the hidden checks and the checkout, and use the network; "
                        "SysV objects it makes outlive it"]
        return missing

    def describe(self):
        lines = ["walls up: " + "; ".join(self.present())]
        if self.missing():
            lines.append("WALLS MISSING: " + "; ".join(self.missing()))
        return "\n".join(lines)


def limit_resources(cpu_seconds, privileged):
    """Set the task's rlimits (soft = hard, so the child cannot raise them again)."""
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


def sweep_files(uid, places=("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock")):
    """Remove every file and folder owned by ``uid`` in the world-writable ``places``."""
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


def sweep_sysv(uid):
    """Remove the SysV shared-memory segments, message queues and semaphore sets of ``uid``
    (they outlive their process unless its IPC namespace dies with it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    removers = {"shm": lambda ident: libc.shmctl(ident, 0, None),            # 0: IPC_RMID
                "msg": lambda ident: libc.msgctl(ident, 0, None),
                "sem": lambda ident: libc.semctl(ident, 0, 0)}
    for table, remove in removers.items():
        try:
            with open(f"/proc/sysvipc/{table}") as handle:
                header, *rows = [line.split() for line in handle]
        except (OSError, ValueError):
            continue
        for row in rows:
            if int(row[header.index("uid")]) == uid:
                remove(int(row[1]))


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
