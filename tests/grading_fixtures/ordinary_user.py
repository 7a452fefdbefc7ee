"""Run the grader as an ordinary user, from a checkout of its own with a ``.venv`` inside it.

CI runs as root, so the test creates a user (``useradd``) and starts the grader through a small
root wrapper: a mount namespace that shows that user the Python (when it lies in a folder others
cannot enter, like pyenv's under ``/root``, the grader's own :func:`expose` does it), then the
user's ids for good, then ``exec`` of the grader. Without root the grader just runs as this user.

The checkout holds copies of the packages, ``solutions/``, the public expected values, a ``.git``
and a ``.venv`` (``python -m venv``, whose ``.pth`` adds the test's site-packages: NumPy and the
rest). The grader is that ``.venv``'s Python, so the Python lies inside the checkout.
"""
import os
import pwd
import shutil
import site
import subprocess
import sys
import tempfile

USER = "scratchflow-grade-test"
WRAPPER = """
import os, sys, tempfile
sys.path.insert(0, sys.argv[1])
from scratchflow_course.grading.namespaces import closed_folders, expose, python_paths
pairs = closed_folders(python_paths() + sys.argv[4:5])
if pairs:
    expose(pairs, tempfile.mkdtemp())
uid = gid = int(sys.argv[2])
os.setgroups([])
os.setresgid(gid, gid, gid)
os.setresuid(uid, uid, uid)
os.chdir(sys.argv[3])
os.execv(sys.argv[4], sys.argv[4:])
"""


def ordinary_uid():
    """``(uid, None)`` of a user that is not root (this one, or one created now), or ``(None, why)``."""
    if os.geteuid() != 0:
        return os.geteuid(), None
    try:
        return pwd.getpwnam(USER).pw_uid, None
    except KeyError:
        pass
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                          capture_output=True, text=True)
    if made.returncode != 0:
        return None, f"useradd could not create the user {USER!r}: {made.stderr.strip() or made.returncode}"
    return pwd.getpwnam(USER).pw_uid, None


def make_checkout(root, uid):
    """A checkout of the grader at ``tempfile``'s folder, owned by ``uid``: the packages,
    ``solutions/``, ``exercises/tests/expected``, a ``.git/HEAD`` and a ``.venv``. Returns its path."""
    checkout = tempfile.mkdtemp(prefix="scratchflow-checkout-")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("scratchflow", "scratchflow_course", "solutions", os.path.join("exercises", "tests", "expected")):
        shutil.copytree(os.path.join(root, name), os.path.join(checkout, name), ignore=ignore)
    os.makedirs(os.path.join(checkout, ".git"))
    with open(os.path.join(checkout, ".git", "HEAD"), "w") as handle:
        handle.write("ref: refs/heads/main\n")
    venv = os.path.join(checkout, ".venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    packages = subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import site; print(site.getsitepackages()[0])"],
                              check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(packages, "the_tests_packages.pth"), "w") as handle:
        handle.write("\n".join(site.getsitepackages()) + "\n")
    return checkout, packages


def give(folder, uid):
    """``folder`` and everything below it to ``uid``; the folder itself enterable by all."""
    if os.geteuid() != 0:
        return
    for path, subfolders, files in os.walk(folder):
        for name in [path] + [os.path.join(path, entry) for entry in subfolders + files]:
            os.lchown(name, uid, uid)
    os.chmod(folder, 0o755)


def run_as(uid, checkout, arguments, timeout=600):
    """``checkout``'s ``.venv`` Python, as ``uid``, with ``arguments``, from ``checkout``."""
    python = os.path.join(checkout, ".venv", "bin", "python")
    if os.geteuid() != 0:
        return subprocess.run([python] + arguments, cwd=checkout, capture_output=True, text=True, timeout=timeout)
    wrapper = [sys.executable, "-I", "-c", WRAPPER, checkout, str(uid), checkout, python]
    return subprocess.run(wrapper + arguments, capture_output=True, text=True, timeout=timeout)
