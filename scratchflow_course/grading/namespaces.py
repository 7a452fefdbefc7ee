"""Namespaces: what the child sees of the file system, set up before student code runs.

* As root, when the Python lies in a folder others cannot enter (pyenv under ``/root``), the task
  uid could not import a module NumPy loads lazily, nor anything of the standard library.
  :func:`expose` gives the child, still root, a mount namespace of its own: a tmpfs over the closed
  folder, with only the needed entries bound back in. Everything else of that folder stays hidden.
* Without root, where the kernel allows it (``unshare -U``), :func:`hide_without_root` gives the
  child a user namespace with its own mount and network namespaces: empty folders over the
  reference, the hidden checks and the checkout, no network; the mounts are then locked (a nested
  namespace cannot undo them) and the child gives up every capability.
"""
import ctypes
import os
import stat

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
_MS_BIND, _MS_REC, _MS_PRIVATE, _MNT_DETACH = 4096, 16384, 1 << 18, 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount_call(libc, result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


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




def expose(pairs, staging_parent):
    """In a new mount namespace: make each ``folder`` show only its needed entries, enterable by all."""
    import tempfile
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
    import site
    import sys
    import sysconfig
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(),
             *sysconfig.get_paths().values()}
    return sorted(path for path in paths if os.path.isdir(path))


# ---------------------------------------------------------------------------- without root
def _map_to_self():
    uid, gid = os.getuid(), os.getgid()
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


def _drop_capabilities(libc):
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _mount_call(libc, libc.capset(header, data), "capset")


def hide_without_root(folders):
    """User, mount and network namespaces: an empty read-only tmpfs over each of ``folders``."""
    libc = _libc()
    outside = os.getuid(), os.getgid()
    _mount_call(libc, libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET), "unshare")
    _map_to_self()
    _mount_call(libc, libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private")
    for folder in folders:
        try:
            _mount_call(libc, libc.mount(b"tmpfs", folder.encode(), b"tmpfs", 1, b"mode=0555,size=4k"),
                        f"tmpfs over {folder}")            # 1: MS_RDONLY
        except OSError as error:                           # a folder this user cannot reach anyway
            if not os.path.isdir(folder) or error.errno not in (1, 13):
                raise
    _mount_call(libc, libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare (lock the mounts)")
    _map_to_self()
    _drop_capabilities(libc)
    if (os.getuid(), os.getgid()) != outside:
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


def mount_namespaces_work():
    return namespace_works(_CLONE_NEWNS)
