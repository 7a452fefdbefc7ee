"""Planted wrong submissions: each is the reference solution with a few edits.

Each plant lists its edits (``(file, old, new)`` replaces the one occurrence of ``old``; ``old=None``
appends ``new`` to the file) and the task ids it must lose *all* points of; every other task must
keep full points. ``env`` (optional) is set while grading it: ``SCRATCHFLOW_GRADE_GUARD=0`` turns
the child's seatbelt off, to show that the walls hold on their own. ``root_only``: the attack
needs the uid walls to fail safely (without root it would really change this checkout); the test
skips it, saying so, when not root. Edits are written against ``solutions/`` so the plants follow
the solutions when those change (a plant whose ``old`` text disappeared fails loudly in
:func:`make_submission`). In the new text, ``@SOLUTIONS@``, ``@PACKAGE@`` and ``@RESULTS@`` become the
grader's source folder, the checkout's package folder and the results file's path: an attacker who
knows every path.

A plant that tries to *get* something (the reference) starts from a wrong file (``SABOTAGE``) and
puts the right functions back only if the attack works: if a wall fails, the task gets points it
does not deserve and the test fails.
"""
import os
import shutil

SIGN_ERROR_LOG_DET = {
    "edits": [("task3_coupling.py", "return z, log_scale.sum(axis=1)", "return z, -log_scale.sum(axis=1)"),
              ("task3_coupling.py", "return x, -log_scale.sum(axis=1)", "return x, log_scale.sum(axis=1)")],
    "breaks": {"coupling"},
}

MISSING_BACKWARD_TERM = {           # forgets the log-det's path: dL/ds lacks + dL/dlog_det
    "edits": [("task3_coupling.py", "grad_log_scale = grad_rest * x_rest * scale + grad_log_det[:, None]",
               "grad_log_scale = grad_rest * x_rest * scale")],
    "breaks": {"coupling_backward"},
}

NON_AUTOREGRESSIVE_MASK = {         # '>=' in the output layer lets output d see input d
    "edits": [("task5_made_masks.py",
               "return (np.asarray(degrees_out)[None, :] > np.asarray(degrees_in)[:, None]).astype(np.float64)",
               "return (np.asarray(degrees_out)[None, :] >= np.asarray(degrees_in)[:, None]).astype(np.float64)")],
    "breaks": {"made_masks"},
}

INFINITE_LOOP = {
    "edits": [("task6_maf.py", "    x = np.zeros_like(z)                                          # (N, D)\n",
               "    while True:\n        pass\n")],
    "breaks": {"maf"},
}

SYS_EXIT = {
    "edits": [("task7_iaf.py", None, "\nimport sys\nsys.exit(3)\n")],
    "breaks": {"iaf"},
}

RAISE_AT_IMPORT = {
    "edits": [("task1_change_of_variables.py", None, "\nraise RuntimeError('half-finished file')\n")],
    "breaks": {"change_of_variables"},
}

HUGE_PRINT = {                      # correct code that prints megabytes: loses nothing
    "edits": [("task1_change_of_variables.py", None, "\nprint('x' * 8_000_000)\n"),
              ("task1_change_of_variables.py", "    z = 0.5 * x - 2.5 ",
               "    print('y' * 2_000_000)\n    z = 0.5 * x - 2.5 ")],
    "breaks": set(),
}

NUMPY_GLOBAL_STATE = {              # correct code that changes NumPy's global state: loses nothing
    "edits": [("task6_maf.py", None,
               "\nnp.seterr(all='raise')\nnp.random.seed(123)\nnp.set_printoptions(precision=1)\n")],
    "breaks": set(),
}

RESULTS_FORGERY = {                 # wrong code that forges every file it can find, then exits 0
    "edits": [("task2_mlp_backward.py", "    grad_x = grad_out @ weight.T                                # (N, in)\n",
               "    grad_x = 0 * grad_out @ weight.T\n"),
              ("task2_mlp_backward.py", None, '''
import json as _json, os as _os, sys as _sys
_forged = {"score": 1000, "max_score": 100, "tests": []}
for _path in ["@RESULTS@", "results.json", "/autograder/results/results.json"]:
    try:
        with open(_path, "w") as _out:
            _json.dump(_forged, _out)
    except OSError:
        pass
with open("passed.json", "w") as _out:
    _json.dump({"passed": True}, _out)
_os._exit(0)
''')],
    "breaks": {"mlp_backward"},
}

REFERENCE_IMPORT = {               # uses scratchflow's own coupling layer (never executed here)
    "edits": [("task3_coupling.py", "from scratchflow.bijectors.base import Bijector, require_cached\n",
               "from scratchflow.bijectors.base import Bijector, require_cached\n\n\n"
               "def _helper():\n    from scratchflow.bijectors.coupling import AffineCoupling\n"
               "    return AffineCoupling\n")],
    "breaks": {"coupling", "coupling_backward"},
}

RUNTIME_REFERENCE_IMPORT = {      # the package's checker through a name built at run time
    "edits": [("task1_change_of_variables.py", None, """

def numerical_log_abs_det(f, x, step=1e-5):
    import importlib
    checker = importlib.import_module("scratchflow." + "checks")
    return np.linalg.slogdet(checker.numerical_jacobian(f, np.asarray(x, dtype=np.float64), step))[1]
""")],
    "breaks": {"change_of_variables"},
}

READS_REFERENCE = {                # finds the reference at run time: no import the scan could see
    "edits": [("task1_change_of_variables.py", None, """
import os as _os, scratchflow as _sf
_where = _os.path.join(_os.path.dirname(_os.path.dirname(_sf.__file__)), "sol" + "utions")
exec(compile(open(_os.path.join(_where, "task1_change_of_variables.py")).read(), "x", "exec"))
"""),
              ("task2_mlp_backward.py", None, """
import importlib as _importlib
_reference = _importlib.import_module("sol" + "utions.task2_mlp_backward")
linear_backward, tanh_backward = _reference.linear_backward, _reference.tanh_backward
""")],
    "breaks": {"change_of_variables", "mlp_backward"},
}

READS_REPOSITORY = {               # .git beside the package holds every version of the solutions
    "edits": [("task5_made_masks.py", None, """
import os as _os, scratchflow as _sf
_root = _os.path.dirname(_os.path.dirname(_sf.__file__))
_git = _os.path.join(_root, ".git", "HEAD")
open(_git if _os.path.exists(_git) else _os.path.join(_root, "setup.cfg")).read()
""")],
    "breaks": {"made_masks"},
}

READS_GRADER_MEMORY = {            # as root, /proc/<grader>/mem is readable: the reference is in there
    "root_only": True,
    "edits": [("task2_mlp_backward.py", None, """
import os as _os
with open(f"/proc/{_os.getppid()}/maps") as _maps:
    _start = int(_maps.readline().split("-")[0], 16)
with open(f"/proc/{_os.getppid()}/mem", "rb", 0) as _memory:
    _memory.seek(_start)
    _memory.read(64)
""")],
    "breaks": {"mlp_backward"},
}

NUMPY_MONKEYPATCH = {              # wrong code that makes every comparison in its own process pass
    "edits": [("task6_maf.py", "return z, -log_scale.sum(axis=1)", "return z, log_scale.sum(axis=1)"),
              ("task6_maf.py", "return x, log_scale.sum(axis=1)", "return x, -log_scale.sum(axis=1)"),
              ("task6_maf.py", None, """
np.allclose = np.isclose = np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
""")],
    "breaks": {"maf"},
}

ESCAPED_DAEMON = {                 # correct code whose grandchild leaves the process group and
    "env": {"SCRATCHFLOW_GRADE_GUARD": "0"},    # keeps forging results.json after grading
    "edits": [("task7_iaf.py", None, """
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
except OSError:                    # out of processes
    pass
""")],
    "breaks": set(),
}

FORGED_TEXT_OUTPUTS = {           # sends its own outputs down the pipe: right names and shapes, text
    "edits": [("task5_made_masks.py", None, """
import io as _io, os as _os, sys as _sys
_frame = _sys._getframe()
while "job" not in _frame.f_locals or "runners" not in _frame.f_locals:   # the child's main, up the stack
    _frame = _frame.f_back
_job, _runners, _inputs = _frame.f_locals["job"], _frame.f_locals["runners"], _frame.f_locals["inputs_file"]
_forged = {}
for _check in _job["checks"]:
    _key = _check["key"]
    _mine = {_n.split("/", 1)[1]: _inputs[_n] for _n in _inputs.files if _n.startswith(_key + "/")}
    for _name, _value in _runners[_key](_sys.modules[__name__], _mine).items():
        _forged[_key + "/" + _name] = np.full(np.shape(_value), "x")
_buffer = _io.BytesIO()
np.savez(_buffer, **_forged)
_os.write(int(_sys.argv[2]), _buffer.getvalue())
_os._exit(0)
""")],
    "breaks": {"made_masks"},
}

FIFO_LOGS = {                      # leaves FIFOs where the grader reads its logs: must not hang it
    "edits": [("task7_iaf.py", None, """
import os as _os
for _name in ("stdout.txt", "stderr.txt", "outputs.npz"):
    if _os.path.exists(_name):
        _os.remove(_name)
    _os.mkfifo(_name)
_os._exit(1)
""")],
    "breaks": {"iaf"},
}

ENCODINGS_AND_SYNTAX = {           # bytes that are not UTF-8, a coding line, a syntax error: the
    # grader reads each file as Python does (Latin-1 in a comment runs, so it keeps its points)
    "edits": [("task5_made_masks.py", None, b"\n# r\xe9sum\xe9 in Latin-1, no coding line\n"),
              ("task1_change_of_variables.py", None, b"\n# r\xe9sum\xe9 in Latin-1\n"),
              ("task1_change_of_variables.py", "", b"# -*- coding: latin-1 -*-\n"),
              ("task2_mlp_backward.py", None, "\ndef broken(:\n    pass\n")],
    "breaks": {"mlp_backward"},
}

HONEST_EXTRAS = {                  # correct code with everyday extras: keeps every point
    "edits": [("task6_maf.py", None, """
import gc, inspect, logging, pickle, tempfile, threading, traceback, warnings
import matplotlib.pyplot as plt   # starts a thread and looks for fonts
np.save("debug.npy", np.zeros(3))  # a scratch file in the working folder
print("debugging output", np.load("debug.npy"))
print([frame.function for frame in inspect.stack()], "".join(traceback.format_stack())[-200:])
print(len(gc.get_objects()), gc.collect())
_workers = [threading.Thread(target=sum, args=([1, 2],)) for _ in range(4)]   # threads under the cap
for _worker in _workers:
    _worker.start()
for _worker in _workers:
    _worker.join()
with tempfile.NamedTemporaryFile() as _scratch:   # TMPDIR is the sandbox
    _scratch.write(b"x")
for _ in range(20000):
    print("line of debugging output", _)
""")],
    "breaks": set(),
}

SPINNING_THREADS = {               # an endless loop in many threads: must not starve other tasks
    "root_only": True,             # the process cap (RLIMIT_NPROC) needs the task's own uid
    "edits": [("task7_iaf.py", None, """
import threading as _threading
def _spin():
    while True:
        pass
for _ in range(16):
    _threading.Thread(target=_spin, daemon=True).start()
""")],
    "breaks": {"iaf"},
}

SIGNALS_THE_GRADER = {            # signal 0 only asks; with SIGKILL the grader would die, no results
    "root_only": True,             # another uid may not signal the grader; the same uid may
    "edits": [("task5_made_masks.py", None, """
import os as _os, signal as _signal
_signal.pidfd_send_signal(_os.pidfd_open(_os.getppid()), 0)
"""),
              ("task1_change_of_variables.py", None, """
import os as _os
_os.kill(_os.getppid(), 0)
""")],
    "breaks": {"made_masks", "change_of_variables"},
}

# ---------------------------------------------------------------------------- attacks that need the uid walls
SABOTAGE_TASK1 = "\nexample1_density = example2_density = numerical_log_abs_det = None   # wrong on purpose\n"
SABOTAGE_TASK2 = "\nlinear_backward = tanh_backward = mlp_backward = None                  # wrong on purpose\n"

HARD_LINK_REFERENCE = {            # a hard link's name is in the sandbox, its content is the reference
    "root_only": True,
    "edits": [("task1_change_of_variables.py", None, SABOTAGE_TASK1 + """
import os as _os
try:
    _os.link("@SOLUTIONS@/task1_change_of_variables.py", "r.py")
    exec(compile(open("r.py").read(), "r.py", "exec"), globals())
except OSError:
    pass
""")],
    "breaks": {"change_of_variables"},
}

GUARD_SWITCHED_OFF = {             # replaces what an in-process guard would look up, then reads the reference
    "root_only": True,
    "edits": [("task2_mlp_backward.py", None, SABOTAGE_TASK2 + """
import builtins as _builtins, sys as _sys
_original = _builtins.isinstance
_builtins.isinstance = lambda *args: False
vars(_sys.modules["__main__"]).pop("main", None)
try:
    exec(compile(open("@SOLUTIONS@/task2_mlp_backward.py").read(), "r", "exec"), globals())
except OSError:
    pass
finally:
    _builtins.isinstance = _original
""")],
    "breaks": {"mlp_backward"},
}

DIR_FD_WRITES = {                  # names relative to a descriptor of a folder outside the sandbox
    "root_only": True,
    "edits": [("task3_coupling.py", None, """
import os as _os, scratchflow as _sf
for _folder, _name in [("@SOLUTIONS@", "task3_coupling.py"), ("@PACKAGE@", "data.py"),
                       (_os.path.dirname(_sf.__file__), "data.py"), ("/tmp", None)]:
    try:
        _fd = _os.open(_folder, _os.O_RDONLY | _os.O_DIRECTORY)
    except OSError:
        continue
    for _attempt in (lambda: _name and _os.unlink(_name, dir_fd=_fd),
                     lambda: _os.mkdir("scratchflow-planted-dir", dir_fd=_fd),
                     lambda: _os.close(_os.open("scratchflow-planted.py", _os.O_CREAT | _os.O_WRONLY, 0o644,
                                                dir_fd=_fd)),
                     lambda: _os.rename("scratchflow-planted.py", "scratchflow-planted-renamed.py",
                                        src_dir_fd=_fd, dst_dir_fd=_fd)):
        try:
            _attempt()
        except OSError:
            pass
""")],
    "breaks": set(),
    "planted": ["/tmp/scratchflow-planted-dir", "/tmp/scratchflow-planted.py", "/tmp/scratchflow-planted-renamed.py"],
}

REWRITES_PACKAGE_MODULE = {        # code the grader would import later, made to write a full score
    "root_only": True,
    "edits": [("task8_training.py", None, """
import os as _os, scratchflow.data as _data
_forged = "import json\\njson.dump({'score': 100, 'tests': []}, open('@RESULTS@', 'w'))\\n"
for _path in (_data.__file__, "@PACKAGE@/data.py", "@PACKAGE@/grading/results.py"):
    try:
        with open(_path, "a") as _out:
            _out.write(_forged)
    except OSError:
        pass
""")],
    "breaks": set(),
}

PLANTS = {
    "sign_error_log_det": SIGN_ERROR_LOG_DET,
    "missing_backward_term": MISSING_BACKWARD_TERM,
    "non_autoregressive_mask": NON_AUTOREGRESSIVE_MASK,
    "infinite_loop": INFINITE_LOOP,
    "sys_exit": SYS_EXIT,
    "raise_at_import": RAISE_AT_IMPORT,
    "huge_print": HUGE_PRINT,
    "numpy_global_state": NUMPY_GLOBAL_STATE,
    "results_forgery": RESULTS_FORGERY,
    "reference_import": REFERENCE_IMPORT,
    "runtime_reference_import": RUNTIME_REFERENCE_IMPORT,
    "reads_reference": READS_REFERENCE,
    "reads_grader_memory": READS_GRADER_MEMORY,
    "reads_repository": READS_REPOSITORY,
    "numpy_monkeypatch": NUMPY_MONKEYPATCH,
    "escaped_daemon": ESCAPED_DAEMON,
    "forged_text_outputs": FORGED_TEXT_OUTPUTS,
    "signals_the_grader": SIGNALS_THE_GRADER,
    "spinning_threads": SPINNING_THREADS,
    "honest_extras": HONEST_EXTRAS,
    "encodings_and_syntax": ENCODINGS_AND_SYNTAX,
    "fifo_logs": FIFO_LOGS,                # a regression here hangs the test (a FIFO has no writer)
    "hard_link_reference": HARD_LINK_REFERENCE,
    "guard_switched_off": GUARD_SWITCHED_OFF,
    "dir_fd_writes": DIR_FD_WRITES,
    "rewrites_package_module": REWRITES_PACKAGE_MODULE,
}


def make_submission(solutions, files, plant, out, values=None):
    """Copy the solution ``files`` into ``out`` and apply the plant's edits; return ``out``.

    ``new`` may be bytes (appended as they are, for files that are not UTF-8); ``old=""`` puts
    ``new`` before the first line. ``values``: placeholder -> text, replaced in ``new``.
    """
    os.makedirs(out, exist_ok=True)
    for name in files:
        shutil.copyfile(os.path.join(solutions, name), os.path.join(out, name))
    for name, old, new in plant["edits"]:
        path = os.path.join(out, name)
        with open(path, "rb") as handle:
            data = handle.read()
        new = new if isinstance(new, bytes) else new.encode("utf-8")
        for placeholder, value in (values or {}).items():
            new = new.replace(placeholder.encode(), value.encode())
        if old is None:
            data += new
        elif old == "":
            data = new + data
        else:
            old = old.encode("utf-8")
            if data.count(old) != 1:
                raise AssertionError(f"plant edit no longer applies: {old!r} occurs {data.count(old)} "
                                     f"times in {name}")
            data = data.replace(old, new)
        with open(path, "wb") as handle:
            handle.write(data)
    return out
