"""Planted submissions: the instructor's key (the library's own region files) with a few edits.

A submission is what a student uploads: their copies of the library files that hold task regions,
at the same relative paths. Each plant lists its edits ``(file, old, new)``: ``old`` a text that
occurs once (replaced by ``new``), ``REGION(task)`` to put ``new`` (dedented, then indented like the
marker) at the start of the first region of ``task`` in that file, or ``None`` to append ``new`` at
module level (outside every region: never graded). ``breaks``: the task ids that must lose ALL their
points; every other task keeps full points. ``env``: set while grading it. ``root_only``: the
attack needs the uid walls to fail safely; the test skips it, saying so, without root. In ``new``,
``@SOLUTIONS@``, ``@PACKAGE@`` and ``@RESULTS@`` become the grader's source folder, the checkout's
package folder (the reference library) and the results file's path.

A plant that tries to *get* the reference reads it and is right only if it could: if a wall
fails, the task gets points it does not deserve and the test fails.
"""
import os
import shutil
import textwrap

from scratchflow_course.homework.regions import find_regions

E, T, C = "scratchflow/bijectors/examples.py", "scratchflow/bijectors/triangular.py", "scratchflow/bijectors/compose.py"
L, CP, M = "scratchflow/nn/linear.py", "scratchflow/bijectors/coupling.py", "scratchflow/nn/made.py"
AR, F, OB = "scratchflow/bijectors/autoregressive.py", "scratchflow/flow.py", "scratchflow/objectives.py"


class REGION:
    def __init__(self, task):
        self.task = task


PLANTS = {
    "sign_error_log_det": {"edits": [(CP, "log_det = log_scale.sum(axis=1) ", "log_det = -log_scale.sum(axis=1) ")],
                           "breaks": {"coupling"}},
    "missing_backward_term": {"edits": [(CP, "grad_log_scale += grad_log_det[:, None]",
                                         "grad_log_scale += 0.0 * grad_log_det[:, None]")],
                              "breaks": {"coupling_backward"}},
    "non_autoregressive_mask": {"edits": [(M, "output = (degrees[0][None, :] > degrees[-1][:, None])",
                                           "output = (degrees[0][None, :] >= degrees[-1][:, None])")],
                                "breaks": {"made_masks"}},
    "infinite_loop": {"edits": [(AR, REGION("maf"), "while True:\n    pass\n")], "breaks": {"maf"}},
    "sys_exit": {"edits": [(AR, REGION("iaf"), "import sys\nsys.exit(3)\n")], "breaks": {"iaf"}},
    "code_outside_regions": {"edits": [(E, None, "\nraise RuntimeError('half-finished file')\n"),
                                       (L, None, "\nimport os\nos._exit(3)\n")], "breaks": set()},
    "huge_print": {"edits": [(E, REGION("change_of_variables"), "print('y' * 2_000_000)\n")], "breaks": set()},
    "numpy_global_state": {"edits": [(AR, REGION("maf"), "np.seterr(all='raise')\nnp.random.seed(123)\n"
                                      "np.set_printoptions(precision=1)\n")], "breaks": set()},
    "results_forgery": {"edits": [(L, "grad_weight = cache.x.T @ grad_out ", "grad_weight = 0 * cache.x.T @ grad_out "),
                                  (L, REGION("mlp_backward"), '''
import json as _json, os as _os
_forged = {"score": 1000, "max_score": 100, "tests": []}
for _path in ["@RESULTS@", "results.json", "/autograder/results/results.json"]:
    try:
        with open(_path, "w") as _out:
            _json.dump(_forged, _out)
    except OSError:
        pass
_os._exit(0)
''')], "breaks": {"mlp_backward"}},
    "reads_reference": {"edits": [(E, REGION("change_of_variables"), '''
import os as _os, scratchflow as _sf
for _where in ("@PACKAGE@", _os.path.join(_os.path.dirname(_os.path.dirname(_sf.__file__)), "sol" + "utions")):
    try:
        open(_os.path.join(_where, "bijectors", "examples.py")).read()
        break
    except OSError:
        pass
else:
    x1 = -x1                                    # wrong on purpose unless the reference was readable
''')], "breaks": {"change_of_variables"}},
    "reads_repository": {"edits": [(M, REGION("made_masks"), '''
import os as _os, scratchflow as _sf
_root = _os.path.dirname(_os.path.dirname(_sf.__file__))
_git = _os.path.join(_root, ".git", "HEAD")
open(_git if _os.path.exists(_git) else _os.path.join(_root, "setup.cfg")).read()
''')], "breaks": {"made_masks"}},
    "reads_grader_memory": {"root_only": True, "edits": [(L, REGION("mlp_backward"), '''
import os as _os
with open(f"/proc/{_os.getppid()}/maps") as _maps:
    _start = int(_maps.readline().split("-")[0], 16)
with open(f"/proc/{_os.getppid()}/mem", "rb", 0) as _memory:
    _memory.seek(_start)
    _memory.read(64)
''')], "breaks": {"mlp_backward"}},
    "numpy_monkeypatch": {"edits": [(AR, "z = (x - shift) * inv_scale ", "z = (x + shift) * inv_scale "),
                                    (AR, REGION("maf"), '''
np.allclose = np.isclose = np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
''')], "breaks": {"maf"}},
    "escaped_daemon": {"edits": [(AR, REGION("iaf"), '''
import os as _os, time as _time
try:
    if _os.fork() == 0:
        _os.setsid()
        if _os.fork() == 0:
            _deadline = _time.monotonic() + 20
            while _time.monotonic() < _deadline:
                _path = "@RESULTS@"
                if _os.path.exists(_path):
                    with open(_path, "w") as _out:
                        _out.write('{"score": 1000, "max_score": 100, "tests": []}')
                _time.sleep(0.01)
        _os._exit(0)
except OSError:
    pass
''')], "breaks": set()},
    "forged_text_outputs": {"edits": [(M, REGION("made_masks"), '''
import io as _io, os as _os, sys as _sys
_frame = _sys._getframe()
while "job" not in _frame.f_locals or "runners" not in _frame.f_locals:   # the child's main, up the stack
    _frame = _frame.f_back
_forged = {_check["key"] + "/z": np.full(3, "x") for _check in _frame.f_locals["job"]["checks"]}
_buffer = _io.BytesIO()
np.savez(_buffer, **_forged)
_os.write(int(_sys.argv[2]), _buffer.getvalue())
_os._exit(0)
''')], "breaks": {"made_masks"}},
    "fifo_logs": {"edits": [(AR, REGION("iaf"), '''
import os as _os
for _name in ("stdout.txt", "stderr.txt", "outputs.npz"):
    if _os.path.exists(_name):
        _os.remove(_name)
    _os.mkfifo(_name)
_os._exit(1)
''')], "breaks": {"iaf"}},
    "encodings_and_syntax": {"edits": [(M, None, b"\n# r\xe9sum\xe9 in Latin-1, no coding line\n"),
                                       (E, "", b"# -*- coding: latin-1 -*-\n"),
                                       (E, None, b"\n# r\xe9sum\xe9 in Latin-1\n"),
                                       (L, REGION("mlp_backward"), "def broken(:\n    pass\n")],
                             "breaks": {"made_masks", "mlp_backward"}},
    "honest_extras": {"edits": [(AR, REGION("maf"), '''
import gc, inspect, logging, pickle, tempfile, threading, traceback, warnings
import matplotlib.pyplot as plt   # starts a thread and looks for fonts
np.save("debug.npy", np.zeros(3))
print("debugging output", np.load("debug.npy"))
print([frame.function for frame in inspect.stack()][:3])
_workers = [threading.Thread(target=sum, args=([1, 2],)) for _ in range(4)]
for _worker in _workers:
    _worker.start()
for _worker in _workers:
    _worker.join()
with tempfile.NamedTemporaryFile() as _scratch:
    _scratch.write(b"x")
for _ in range(2000):
    print("line of debugging output", _)
''')], "breaks": set()},
    "spinning_threads": {"root_only": True, "edits": [(AR, REGION("iaf"), '''
import threading as _threading
def _spin():
    while True:
        pass
for _ in range(16):
    _threading.Thread(target=_spin, daemon=True).start()
''')], "breaks": {"iaf"}},
    "signals_the_grader": {"root_only": True, "edits": [(M, REGION("made_masks"), '''
import os as _os, signal as _signal
_signal.pidfd_send_signal(_os.pidfd_open(_os.getppid()), 0)
'''), (E, REGION("change_of_variables"), "import os as _os\n_os.kill(_os.getppid(), 0)\n")],
                           "breaks": {"made_masks", "change_of_variables"}},
    "hard_link_reference": {"root_only": True, "edits": [(E, REGION("change_of_variables"), '''
import os as _os
try:
    _os.link("@PACKAGE@/bijectors/examples.py", "r.py")
    open("r.py").read()
except OSError:
    x1 = -x1                                    # wrong on purpose unless the link worked
''')], "breaks": {"change_of_variables"}},
    "guard_switched_off": {"root_only": True, "edits": [(L, REGION("mlp_backward"), '''
import builtins as _builtins, sys as _sys
_original = _builtins.isinstance
_builtins.isinstance = lambda *args: False
vars(_sys.modules["__main__"]).pop("main", None)
try:
    open("@PACKAGE@/nn/linear.py").read()
except OSError:
    grad_out = -grad_out                        # wrong on purpose unless the reference was readable
finally:
    _builtins.isinstance = _original
''')], "breaks": {"mlp_backward"}},
    "dir_fd_writes": {"root_only": True, "edits": [(CP, REGION("coupling"), '''
import os as _os, scratchflow as _sf
for _folder, _name in [("@SOLUTIONS@", "homework.json"), ("@PACKAGE@", "data.py"),
                       (_os.path.dirname(_sf.__file__), "data.py"), ("/tmp", None)]:
    try:
        _fd = _os.open(_folder, _os.O_RDONLY | _os.O_DIRECTORY)
    except OSError:
        continue
    for _attempt in (lambda: _name and _os.unlink(_name, dir_fd=_fd),
                     lambda: _os.mkdir("scratchflow-planted-dir", dir_fd=_fd),
                     lambda: _os.close(_os.open("scratchflow-planted.py", _os.O_CREAT | _os.O_WRONLY, 0o644,
                                                dir_fd=_fd))):
        try:
            _attempt()
        except OSError:
            pass
''')], "breaks": set(), "planted": ["/tmp/scratchflow-planted-dir", "/tmp/scratchflow-planted.py"]},
    "rewrites_package_module": {"root_only": True, "edits": [(OB, REGION("training"), '''
import os as _os, scratchflow.data as _data
_forged = "import json\\njson.dump({'score': 100, 'tests': []}, open('@RESULTS@', 'w'))\\n"
for _path in (_data.__file__, "@PACKAGE@/data.py", "@PACKAGE@/grading/results.py"):
    try:
        with open(_path, "a") as _out:
            _out.write(_forged)
    except OSError:
        pass
''')], "breaks": set()},
}


def _insert(text, task, code):
    """``code`` at the start of the first CODE region of ``task`` (not a docstring region)."""
    region = next(r for r in find_regions(text) if r.is_code and r.task == task)
    lines = text.splitlines(keepends=True)
    body = [region.indent + line if line.strip() else line
            for line in textwrap.dedent(code).strip("\n").splitlines(keepends=True)]
    body[-1] = body[-1].rstrip("\n") + "\n"
    return "".join(lines[:region.begin + 1] + body + lines[region.begin + 1:])


def make_submission(key, files, plant, out, values=None):
    """Copy the key's ``files`` (paths under ``key``) into ``out`` and apply the plant's edits."""
    for name in files:
        os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)
        shutil.copyfile(os.path.join(key, name), os.path.join(out, name))
    for name, old, new in plant["edits"]:
        path = os.path.join(out, name)
        with open(path, "rb") as handle:
            data = handle.read()
        new = new if isinstance(new, bytes) else new.encode("utf-8")
        for placeholder, value in (values or {}).items():
            new = new.replace(placeholder.encode(), value.encode())
        if isinstance(old, REGION):
            data = _insert(data.decode("utf-8"), old.task, new.decode("utf-8")).encode("utf-8")
        elif old is None:
            data += new
        elif old == "":
            data = new + data
        else:
            old = old.encode("utf-8")
            if data.count(old) != 1:
                raise AssertionError(f"plant edit no longer applies: {old!r} occurs {data.count(old)} times in {name}")
            data = data.replace(old, new)
        with open(path, "wb") as handle:
            handle.write(data)
    return out


REPLAY = '''
import base64 as _base64, io as _io, os as _os, sys as _sys, zlib as _zlib
import numpy as _np
_expected = _np.load(_io.BytesIO(_base64.b64decode("@NPZ@")), allow_pickle=False)
_frame = _sys._getframe()
while "job" not in _frame.f_locals or "runners" not in _frame.f_locals:   # the child's main, up the stack
    _frame = _frame.f_back
_forged = {}
for _check in _frame.f_locals["job"]["checks"]:
    for _name in _expected.files:
        _kind, _probe, _output = _name.split("/", 2)
        if _kind == "expected" and _check["key"] == "@TASK@-%08x" % _zlib.crc32((_probe + " (public)").encode()):
            for _prefix in ("", "unknown_seed."):               # the public values are all it knows
                _forged[_check["key"] + "/" + _prefix + _output] = _expected[_name]
_buffer = _io.BytesIO()
_np.savez(_buffer, **_forged)
_os.write(int(_sys.argv[2]), _buffer.getvalue())
_os._exit(0)
'''


def replay_plant(expected_folder, tasks):
    """A plant that sends, from the first code region of each task, the public values the release
    ships (``tests/expected/<task>.npz``, embedded in the file) as the child's outputs."""
    import base64
    edits = []
    for task in tasks:
        with open(os.path.join(expected_folder, f"{task.id}.npz"), "rb") as handle:
            data = base64.b64encode(handle.read()).decode("ascii")
        for name in task.files:
            with open(os.path.join(os.path.dirname(os.path.dirname(expected_folder)), name), encoding="utf-8") as handle:
                if any(region.is_code and region.task == task.id for region in find_regions(handle.read())):
                    edits.append((name, REGION(task.id), REPLAY.replace("@NPZ@", data).replace("@TASK@", task.id)))
                    break
    return {"edits": edits}


# q5's training run (the grader trains the submitted code): a coupling whose gradient pass is wrong
# but still trains, to another number than the reference's; and a debugging check that raises on
# the training command's full minibatches (256 rows) only, so every task's probes still pass.
TRAINS_ELSEWHERE = "coupling_grad_x_r_unscaled"        # an id of solutions/mistakes.json
RAISES_IN_TRAINING = {"edits": [(CP, REGION("coupling"), '''
if x.shape[0] == 256:
    raise ValueError("debugging: full minibatches are not handled yet")
''')]}
READS_IN_TRAINING = {"edits": [(CP, REGION("coupling"), '''
if x.shape[0] == 256:
    for _path in ("@PACKAGE@/bijectors/coupling.py", "@SOLUTIONS@/homework.json"):
        try:
            open(_path).read()
        except OSError:
            continue
        raise RuntimeError("the training run could read " + _path)
''')]}
