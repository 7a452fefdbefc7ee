"""The child process of the grader: run one task's checks on the student's module, report outputs.

    python -m scratchflow.grading.child SANDBOX

``SANDBOX`` holds ``job.json`` (the student module's name and the checks to run), ``inputs.npz``
(the inputs the grader made), ``_grader_checks.py`` (the grader's copy of the tests), the student's
file for this task and nothing else of the submission. The child writes ``outputs.npz``: for each
check either the arrays its ``run`` returned or an ``<key>/__error__`` message. It never decides
whether a check passed; the grader compares the arrays with the reference in its own process, so
whatever this process (or the student code in it) writes can at worst lose points.

Before importing the student's file the child limits its resources, turns the task's forbidden
modules into tripwires (:func:`_install_tripwires`) and installs an audit hook
(:func:`_install_guard`); both are a seatbelt against casual cheating, not a wall (see the
instructor's guide, "Threat model").
"""
import json
import os
import sys
import traceback

OUTPUT_FILE_LIMIT = 64 * 2 ** 20      # bytes any file (and so the captured stdout) may grow to
MEMORY_LIMIT = int(os.environ.get("SCRATCHFLOW_GRADE_MEMORY_MB", "2048")) * 2 ** 20   # address space


def _limit_resources():
    """Cap file size (a print loop cannot fill the disk), memory, and core dumps."""
    try:
        import resource
    except ImportError:                                  # not on POSIX: no limits
        return
    for limit, value in ((resource.RLIMIT_FSIZE, OUTPUT_FILE_LIMIT), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_AS, MEMORY_LIMIT)):
        try:
            soft, hard = resource.getrlimit(limit)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(limit, (value, value))    # the student cannot raise it again
        except (ValueError, OSError):                    # already lower, or not allowed here
            pass


# ---------------------------------------------------------------------------- the in-process guard
PROCESS_EVENTS = ("os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
                  "subprocess.Popen", "os.kill", "os.killpg", "pty.spawn")
INTROSPECTION_EVENTS = ("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace",
                        "sys.setprofile", "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle",
                        "ctypes.cdata", "ctypes.cdata/buffer", "resource.setrlimit", "resource.prlimit")
PATH_WRITE_EVENTS = {"os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.replace": (0, 1),
                     "os.mkdir": (0,), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,),
                     "os.symlink": (1,), "os.link": (1,), "os.utime": (0,), "shutil.rmtree": (0,)}
MAX_THREADS = 4                        # Python threads alive at once (matplotlib starts one)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _make_stop():
    """``stop(message)``: write the message to stderr and end the process at once (exit code 70).

    The functions it needs are bound now, before the student's code runs and could replace them.
    """
    write, exit_now = os.write, os._exit

    def stop(message):
        write(2, ("\nthe grader stopped your code: " + message + "\n").encode("utf-8", "replace"))
        exit_now(70)
    return stop


def _install_tripwires(forbidden, stop):
    """Replace what the task may not use by objects that stop the process when touched.

    The grader's scan reads the source; this catches the same modules reached by a name built at run
    time (``importlib.import_module("scratchflow." + "checks")``, ``getattr(scratchflow, name)``):
    every forbidden module (and the modules below it) in ``sys.modules``, future imports of them,
    and the forbidden names on their packages become tripwires. Objects the grader's checks already
    hold are untouched, and a class reached another way (``Bijector.__subclasses__()``) escapes; the
    instructor's guide says so.
    """
    import importlib.util
    import types

    def tripwire(name):
        message = (f"your code reached {name}, the reference implementation of what this task grades "
                   "(a name built while running; write it yourself); this task scores zero")

        class Tripwire:
            def __getattribute__(self, attribute):
                if attribute == "__spec__":               # the import system asks this; nothing else may
                    return None
                stop(message)

            def __call__(self, *args, **kwargs):
                stop(message)

            def __repr__(self):
                return f"<{name}: not available while grading>"
        return Tripwire()

    wires = set()                                          # ids: a tripwire must never be touched here

    def parent_of(dotted):
        parent_name, _, attribute = dotted.rpartition(".")
        module = sys.modules.get(parent_name)
        if module is None or id(module) in wires or not issubclass(type(module), types.ModuleType):
            return None, attribute
        return module, attribute

    for entry in forbidden:
        names = [name for name in list(sys.modules) if name == entry or name.startswith(entry + ".")]
        if entry not in sys.modules:
            try:
                is_module = importlib.util.find_spec(entry) is not None
            except (ImportError, ValueError, AttributeError):
                is_module = False
            if is_module:
                names.append(entry)                        # not imported yet: block the import too
        for name in names:
            parent, attribute = parent_of(name)
            wire = tripwire(name)
            wires.add(id(wire))
            sys.modules[name] = wire
            if parent is not None:
                setattr(parent, attribute, wire)
        if entry not in names:                             # a class or function on a package
            parent, attribute = parent_of(entry)
            if parent is not None and attribute in vars(parent):
                wire = tripwire(entry)
                wires.add(id(wire))
                setattr(parent, attribute, wire)


def _install_guard(sandbox, protected, sandbox_prefix, stop):
    """Refuse, for the student's code, what no homework task needs and cheating does.

    An audit hook (PEP 578; it cannot be removed once added) sees every file open, process start,
    signal and ctypes use:

    * reading the grader's source folder (the reference solution), what lies beside the package
      (``.git``, tests), another task's sandbox or another
      process's ``/proc/PID`` (the grader's memory holds the reference) stops the process at once
      (exit code 70) with a message on stderr: the task scores zero;
    * starting processes, sending signals to others, writing or deleting files outside this
      sandbox, reaching other objects through ``gc``, tracing hooks and loading code with ctypes
      raise ``PermissionError`` (an honest library that tries one, e.g. matplotlib looking for
      fonts, carries on; a check that needs one fails with the message).

    The few such calls that raise no audit event (``_posixsubprocess.fork_exec``, ``pidfd_open``,
    ``pidfd_send_signal``) are replaced by a function that refuses; starting a thread is refused
    beyond MAX_THREADS (a task spinning fifty threads would starve the task graded beside it into
    its time limit).

    This is a seatbelt, not a wall: Python cannot sandbox Python, and code determined to patch the
    interpreter can get around it. The walls are outside this process: the time limit kills the
    process group, the grader reaps escaped processes, and only the grader compares outputs.
    """
    import _posixsubprocess
    realpath, sep, fsdecode = os.path.realpath, os.sep, os.fsdecode
    own_pid = os.getpid()
    own_pid_text = str(own_pid)
    sandbox = realpath(sandbox) + sep
    sandboxes = os.path.dirname(sandbox.rstrip(sep)) + sep + sandbox_prefix
    protected = tuple(realpath(p) + sep for p in protected)
    protected = tuple(p for p in protected if not sandbox.startswith(p))   # never the sandbox itself

    def resolve(path):
        return realpath(fsdecode(path))

    def is_writable(path):
        full = resolve(path)
        return (full + sep).startswith(sandbox) or full == "/dev/null"

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            if mode is None and not os.path.isabs(fsdecode(path)):
                raise PermissionError("os.open with a relative path is not allowed while grading")
            full = resolve(path)
            if (full + sep).startswith(protected) or \
                    (full.startswith(sandboxes) and not (full + sep).startswith(sandbox)) or \
                    (full.startswith("/proc/") and full.split("/")[2].isdigit()
                     and full.split("/")[2] != own_pid_text):
                stop(f"it tried to open {full} — the reference solution and the grader's files (and "
                     "other processes, whose memory holds them) are off limits while grading; this "
                     "task scores zero")
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writing and not is_writable(path):
                raise PermissionError(f"writing {full} is not allowed while grading")
        elif event in PATH_WRITE_EVENTS:
            for index in PATH_WRITE_EVENTS[event]:
                if index < len(args) and isinstance(args[index], (str, bytes, os.PathLike)) \
                        and not is_writable(args[index]):
                    raise PermissionError(f"{event} on {resolve(args[index])} is not allowed while grading")
        elif event in ("os.kill", "os.killpg"):
            if event == "os.kill" and args[0] == own_pid:
                return
            raise PermissionError(f"{event} is not allowed while grading")
        elif event in PROCESS_EVENTS:
            raise PermissionError(f"starting processes ({event}) is not allowed while grading")
        elif event in INTROSPECTION_EVENTS:
            raise PermissionError(f"{event} is not allowed while grading")
        elif event == "import" and args[0] in ("_posixsubprocess", "_ctypes", "ctypes", "_signal", "posix",
                                                "_thread"):
            raise PermissionError(f"importing {args[0]} is not allowed while grading")

    def refuse(*args, **kwargs):
        raise PermissionError("starting processes or signalling others is not allowed while grading")

    # the calls that raise no audit event: replaced in every module that holds them (a builtin
    # module imported afresh would bring them back, hence the "import" rule above)
    import _signal
    import _thread
    import signal
    import threading
    for module, name in ((_posixsubprocess, "fork_exec"), (os, "pidfd_open"), (signal, "pidfd_send_signal"),
                         (_signal, "pidfd_send_signal")):
        if hasattr(module, name):
            setattr(module, name, refuse)

    start_thread, active_count = _thread.start_new_thread, threading.active_count

    def few_threads(*args, **kwargs):   # a task spinning many threads would starve the task beside it
        if active_count() >= MAX_THREADS:
            raise PermissionError(f"more than {MAX_THREADS} threads are not allowed while grading")
        return start_thread(*args, **kwargs)
    for module, name in ((_thread, "start_new_thread"), (_thread, "start_new"), (threading, "_start_new_thread")):
        if hasattr(module, name):
            setattr(module, name, few_threads)
    posix = sys.modules.get("posix")
    if posix is not None and hasattr(posix, "pidfd_open"):
        posix.pidfd_open = refuse
    sys.addaudithook(hook)


def _describe(error, student_file=None):
    """A short, readable message for an exception raised by student code.

    Only the frames of the student's own file are shown (the grader's test code stays private).
    """
    if isinstance(error, SystemExit):
        return f"the code called sys.exit({error.code!r})"
    frames = traceback.extract_tb(error.__traceback__)
    if student_file is not None:
        frames = [frame for frame in frames if os.path.basename(frame.filename) == student_file]
    lines = traceback.format_list(frames[-4:])
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).replace(os.getcwd() + os.sep, "")[-1500:]


def main(sandbox):
    _limit_resources()
    os.chdir(sandbox)
    sys.path.insert(0, sandbox)
    import numpy as np
    numpy_errors = np.geterr()

    with open("job.json", encoding="utf-8") as handle:
        job = json.load(handle)
    outputs = {}
    import importlib
    checks_module = importlib.import_module("_grader_checks")
    by_key = {check.key: check for check in checks_module.CHECKS}
    inputs_file = np.load("inputs.npz", allow_pickle=False)

    def fresh_inputs(key):
        prefix = key + "/"
        return {name[len(prefix):]: inputs_file[name] for name in inputs_file.files if name.startswith(prefix)}

    student_file = job["module"] + ".py"
    if job.get("guard", True):
        stop = _make_stop()
        _install_tripwires(job.get("forbidden", []), stop)
        _install_guard(sandbox, job.get("protected", []), job.get("sandbox_prefix", "grade-"), stop)
    try:
        student = importlib.import_module(job["module"])
        import_error = None
    except BaseException as error:                       # SyntaxError, SystemExit, anything
        student, import_error = None, "importing your file failed:\n" + _describe(error, student_file)

    for key in job["checks"]:
        np.seterr(**numpy_errors)                          # undo global changes the student made
        if import_error is not None:
            outputs[f"{key}/__error__"] = np.array(import_error)
            continue
        try:
            result = by_key[key].run(student, fresh_inputs(key))
            for name, value in result.items():
                array = np.asarray(value)
                if array.dtype.kind not in "biuf":
                    raise TypeError(f"output {name!r} is not a numeric array (dtype {array.dtype})")
                outputs[f"{key}/{name}"] = array
        except BaseException as error:
            outputs[f"{key}/__error__"] = np.array(_describe(error, student_file))

    sys.stdout.flush()
    path = job["outputs"]
    partial = path + ".partial"
    with open(partial, "wb") as handle:
        np.savez(handle, **outputs)
    os.replace(partial, path)


if __name__ == "__main__":
    status = 0
    try:
        main(sys.argv[1])
    except BaseException:                             # the harness itself failed: say so on stderr
        traceback.print_exc()
        status = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)                          # skip atexit handlers the student registered
