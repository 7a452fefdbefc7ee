"""The code student processes import, written fresh for each task from the grader's memory.

:class:`Library` lays out, in a fresh folder of its own, the package and the child's runners as they
were when the grader started:

* ``lib/`` the package (root-owned and read-only to the task uids when the grader is root; the
  child imports it from here, never from the checkout or the bundle);
* ``private/`` the runners (only root may enter it: the child imports them before it drops its
  privileges).

:class:`ImportedFiles` holds the digests of the files of every module the grader itself has
imported (NumPy, SciPy, the package): a change stops the batch.
"""
import hashlib
import os
import shutil
import sys

_SKIP = ("__pycache__", ".pytest_cache", ".hypothesis")


def _read_tree(folder, prefix):
    files = {}
    for root, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if d not in _SKIP)
        for name in sorted(names):
            if name.endswith(".pyc"):
                continue
            path = os.path.join(root, name)
            relative = os.path.join(prefix, os.path.relpath(path, folder))
            with open(path, "rb") as handle:
                files[relative] = handle.read()
    return files


def read_package(package_folder, course_folder):
    """``{"scratchflow/<path>": bytes, "scratchflow_course/<path>": bytes}``: the library and the
    course package (the child's harness and the probes), no caches, no bytecode."""
    return {**_read_tree(package_folder, "scratchflow"), **_read_tree(course_folder, "scratchflow_course")}


def _parents(folder, top):
    """``folder`` and its parents up to (not including) ``top``."""
    while folder != top and folder.startswith(top + os.sep):
        yield folder
        folder = os.path.dirname(folder)


def _digest_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Library:
    """The package and the runners, in memory and on disk under ``folder``."""

    def __init__(self, folder, package_files, runners_bytes):
        """``package_files``: ``{"scratchflow/...": bytes}`` (see :func:`read_package`)."""
        self.folder = folder
        self.lib = os.path.join(folder, "lib")
        self.private = os.path.join(folder, "private")
        self.files = {os.path.join(self.lib, name): data for name, data in package_files.items()}
        self.files[os.path.join(self.private, "_grader_runners.py")] = runners_bytes
        self._build()

    def _build(self):
        for top, mode in ((self.lib, 0o755), (self.private, 0o700)):
            shutil.rmtree(top, ignore_errors=True)
            os.makedirs(top)
            os.chmod(top, mode)
        for path, data in self.files.items():
            folder = os.path.dirname(path)
            if not os.path.isdir(folder):
                os.makedirs(folder)
                if folder.startswith(self.lib + os.sep):       # whatever the umask: readable by the task uids
                    for parent in _parents(folder, self.lib):
                        os.chmod(parent, 0o755)
            with open(path, "wb") as handle:
                handle.write(data)
            os.chmod(path, 0o644)


class ImportedFiles:
    """Digests of the files of every module this process has imported (taken at construction)."""

    def __init__(self, exclude=()):
        self.exclude = tuple(os.path.abspath(folder) + os.sep for folder in exclude)
        self.digests = self._digests()

    def _digests(self):
        digests = {}
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if not path or not os.path.isfile(path) or os.path.abspath(path).startswith(self.exclude):
                continue
            digests[path] = _digest_file(path)
        return digests

    def changed(self):
        """Files whose content differs from when the grader started (a sorted list)."""
        changed = []
        for path, digest in self.digests.items():
            try:
                if _digest_file(path) != digest:
                    changed.append(path)
            except OSError:
                changed.append(path)
        return sorted(changed)
