"""Namespaces: what the child sees of the file system and the machine, set up before student code runs.

* As root, :func:`isolate` gives each child IPC, network and mount namespaces of its own: SysV
  objects and sockets die with it, only loopback is up, and its sandbox is a tmpfs of its own.
* As root, when the Python lies in a folder others cannot enter (pyenv under ``/root``), the task
  uid could not import a module NumPy loads lazily, nor anything of the standard library.
  :func:`expose` gives the child, still root, a mount namespace of its own: a tmpfs over the closed
  folder, with only the needed entries bound back in. Everything else of that folder stays hidden.
* Without root, where the kernel allows it (``unshare -U``), :func:`hide_without_root` gives the
  child a user namespace with its own mount, IPC and network namespaces: empty read-only folders
  over the reference, the hidden checks and the checkout (:func:`hidden_folders`), Python's import
  folders (:func:`import_paths`) bound back read-only, loopback only, a tmpfs sandbox; the mounts
  are then locked (a nested namespace cannot undo them) and the child gives up every capability.
"""
import ctypes
import fcntl
import os
import site
import socket
import stat
import struct
import sys
import sysconfig
import tempfile

from scratchflow_course.grading.paths import course_folder, package_folder, package_root

_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWUSER, _CLONE_NEWNET = 0x00020000, 0x08000000, 0x10000000, 0x40000000
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 1
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE, _MNT_DETACH = 1, 32, 4096, 16384, 1 << 18, 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
SANDBOX_BYTES = 256 * 2 ** 20           # each task's scratch space (a tmpfs: memory while it runs)


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount_call(libc, result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def closed_folders(paths):
    """Sorted ``(folder, entry)`` pairs: ``folder`` cannot be entered by others, on the way to a path
    (every such folder on the way, outermost first)."""
    pairs = set()
    for path in paths:
        parts = os.path.realpath(path).split(os.sep)
        for index in range(1, len(parts)):
            folder = os.sep.join(parts[:index]) or os.sep
            try:
                if not os.stat(folder).st_mode & stat.S_IXOTH:
                    pairs.add((folder, parts[index]))        # and on: a closed folder inside it too
            except OSError:
                break
    return sorted(pairs)




def expose(pairs, staging_parent):
    """In a new mount namespace: make each ``folder`` show only its needed entries, enterable by all."""
    libc = _libc()
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
    """The folders of the running Python: its prefixes, the standard library, site-packages."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(),
             *sysconfig.get_paths().values()}
    return sorted(path for path in paths if os.path.isdir(path))


def _holds_the_course(folder):
    return any(os.path.isdir(os.path.join(folder, name)) for name in ("scratchflow", "scratchflow_course"))


def import_paths():
    """The folders the child imports from besides its package copy: the grader's ``sys.path``
    without the working folder and without any checkout of the library (a folder on the path that
    holds ``scratchflow/`` and is not one of Python's own)."""
    own = python_paths()
    paths = dict.fromkeys(os.path.realpath(path) for path in sys.path if path and os.path.isdir(path))
    return [path for path in paths if path in own or not _holds_the_course(path)]


def hidden_folders():
    """What a user namespace covers without root: the package folders the grader runs from, the
    folder holding them (the checkout: its ``.git``, a ``.venv``, notes) and every checkout of the
    library on ``sys.path`` (an editable install's); Python's own folders inside them stay visible."""
    own = python_paths()
    on_path = [os.path.realpath(path) for path in sys.path if path and os.path.isdir(path)]
    return list(dict.fromkeys([package_folder(), course_folder(), package_root()]
                              + [path for path in on_path if path not in own and _holds_the_course(path)]))


# ---------------------------------------------------------------------------- without root
def _map_ids(uid, gid):
    """Map the namespace's ``uid``/``gid`` to the same ids outside (read before ``unshare``: inside a
    fresh user namespace they read as the overflow id, 65534, until the map is written)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


def _drop_capabilities(libc):
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _mount_call(libc, libc.capset(header, data), "capset")


def _bind(libc, source, target, read_only):
    _mount_call(libc, libc.mount(source.encode(), target.encode(), None, _MS_BIND | _MS_REC, None),
                f"bind {source}")
    if read_only:
        _mount_call(libc, libc.mount(None, target.encode(), None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_REC,
                                     None), f"read-only {target}")


def _inside(path, folder):
    return (os.path.realpath(path) + os.sep).startswith(os.path.realpath(folder) + os.sep)


def _cover(libc, folders):
    """An empty tmpfs over each folder this user can reach; the folders covered."""
    covered = []
    for folder in folders:
        try:
            _mount_call(libc, libc.mount(b"tmpfs", folder.encode(), b"tmpfs", 0, b"mode=0755,size=64k"),
                        f"tmpfs over {folder}")
            covered.append(folder)
        except OSError as error:                           # a folder this user cannot reach anyway
            if error.errno not in (1, 13):
                raise
    return covered


def loopback_up():
    """Bring up ``lo`` in a fresh network namespace: the task may talk to itself, to nothing else."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as handle:
        request = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(handle, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(handle, _SIOCSIFFLAGS, struct.pack("16sh14x", b"lo", flags | _IFF_UP))


def _scratch(libc, sandbox, uid):
    """A tmpfs of SANDBOX_BYTES over the sandbox, owned by ``uid``: the task's scratch space, its
    own quota whatever the grader's folder has left, gone with the mount namespace."""
    options = f"size={SANDBOX_BYTES},mode=0700,uid={uid},gid={uid}".encode()
    _mount_call(libc, libc.mount(b"tmpfs", sandbox.encode(), b"tmpfs", 0, options), "tmpfs sandbox")


def isolate(sandbox, uid):
    """As root: new IPC, network and mount namespaces: SysV objects and sockets the task makes die
    with it, only loopback, and its sandbox a tmpfs of its own."""
    libc = _libc()
    _mount_call(libc, libc.unshare(_CLONE_NEWIPC | _CLONE_NEWNET | _CLONE_NEWNS),
                "unshare(CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWNS)")
    _mount_call(libc, libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private")
    _scratch(libc, sandbox, uid)
    loopback_up()


def hide_without_root(hidden, kept, sandbox):
    """User, mount and network namespaces: an empty read-only tmpfs over each folder of ``hidden``,
    with the folders of ``kept`` (``(path, read_only)`` pairs: Python's own folders, the package
    copy, the sandbox) bound back where they lie inside a hidden one; Python's folders outside them
    become read-only too, so a task cannot plant a ``.pth`` or a module for the next one."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    _mount_call(libc, libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC), "unshare")
    _map_ids(uid, gid)
    _mount_call(libc, libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private")
    kept = [(os.path.realpath(path), read_only) for path, read_only in kept if os.path.isdir(path)]
    hidden = [os.path.realpath(folder) for folder in hidden if os.path.isdir(folder)]
    hidden = [folder for folder in hidden if folder not in {path for path, _ in kept}]
    outer = [folder for folder in hidden if not any(_inside(folder, path) for path, _ in kept)]
    outer = [folder for folder in outer if not any(f != folder and _inside(folder, f) for f in outer)]
    covered = [(path, read_only, f"{sandbox}/.kept-{index}") for index, (path, read_only) in enumerate(kept)
               if any(_inside(path, folder) for folder in outer)]
    for path, _, staging in covered:
        os.mkdir(staging)
        _bind(libc, path, staging, False)
    covers = _cover(libc, outer)
    for path, read_only, staging in covered:
        os.makedirs(path, exist_ok=True)
        _bind(libc, staging, path, read_only)
        libc.umount2(staging.encode(), _MNT_DETACH)
        os.rmdir(staging)
    covers += _cover(libc, [folder for folder in hidden if folder not in outer
                            and not any(_inside(folder, f) for f in outer)])
    for folder in covers:
        _mount_call(libc, libc.mount(None, folder.encode(), None, _MS_REMOUNT | _MS_RDONLY, None),
                    f"read-only {folder}")
    for path, read_only in kept:
        if read_only and not any(_inside(path, folder) for folder in outer):
            _bind(libc, path, path, True)
    _scratch(libc, sandbox, uid)
    loopback_up()
    _mount_call(libc, libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare (lock the mounts)")
    _map_ids(uid, gid)
    _drop_capabilities(libc)
    if (os.getuid(), os.getgid()) != (uid, gid):
        raise RuntimeError("the user namespace changed the child's ids")


def namespace_works(flags):
    """True if this process may unshare the namespaces ``flags`` (tried in a forked process)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if _libc().unshare(flags) == 0 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def user_namespaces_work():
    return namespace_works(_CLONE_NEWUSER | _CLONE_NEWNS)


def isolation_works():
    return namespace_works(_CLONE_NEWIPC | _CLONE_NEWNET | _CLONE_NEWNS)


def mount_namespaces_work():
    return namespace_works(_CLONE_NEWNS)
