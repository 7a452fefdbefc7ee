"""The seatbelt: explains an honest mistake (reaching the package's own answer), inside the child.

This is not a wall and no score relies on it for safety: it runs in the student's process, and
code written to get around it can. The walls are the operating system's
(:mod:`scratchflow_course.grading.walls`). What it adds is a clear message: the task's forbidden modules
(``homework.json``, ``forbidden``) become tripwires, so a name built at run time
(``importlib.import_module("scratchflow." + "checks")``) ends the task with "your code reached
scratchflow.checks" instead of a silent copy of the package's answer. With the homework as the
library with gaps, the child's package holds no answer to reach (every other region is a stub), so
the homework lists no forbidden module; the mechanism stays for homework that needs it.
"""
import importlib.util
import os
import sys
import types


def make_stop():
    """``stop(message)``: write the message to stderr and end the process at once (exit code 70).

    The functions it needs are bound now, before the student's code runs and could replace them.
    """
    write, exit_now = os.write, os._exit

    def stop(message):
        write(2, ("\nthe grader stopped your code: " + message + "\n").encode("utf-8", "replace"))
        exit_now(70)
    return stop


def _tripwire(name, stop):
    message = (f"your code reached {name}, the reference implementation of what this task grades "
               "(a name built while running; write it yourself); this task scores zero")

    class Tripwire:
        def __getattribute__(self, attribute):
            if attribute == "__class__":
                return Tripwire
            if attribute.startswith("__"):            # introspection (the import system, inspect.stack(),
                raise AttributeError(attribute)       # getattr(module, "__file__", None)) looks, not uses
            stop(message)

        def __call__(self, *args, **kwargs):
            stop(message)

        def __repr__(self):
            return f"<{name}: not available while grading>"
    return Tripwire()


def install_tripwires(forbidden, stop):
    """Replace what the task may not use by objects that stop the process when touched.

    Every forbidden module (and the modules below it) in ``sys.modules``, future imports of them,
    and forbidden names on their packages become tripwires. Objects the child's runners already hold
    are untouched, and a class reached another way (``Bijector.__subclasses__()``) escapes.
    """
    wires = set()                                          # ids: a tripwire must never be touched here

    def parent_of(dotted):
        parent_name, _, attribute = dotted.rpartition(".")
        module = sys.modules.get(parent_name)
        if module is None or id(module) in wires or not issubclass(type(module), types.ModuleType):
            return None, attribute
        return module, attribute

    def place(name, parent, attribute, in_modules):
        wire = _tripwire(name, stop)
        wires.add(id(wire))
        if in_modules:
            sys.modules[name] = wire
        if parent is not None:
            setattr(parent, attribute, wire)

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
            place(name, *parent_of(name), in_modules=True)
        if entry not in names:                             # a class or function on a package
            parent, attribute = parent_of(entry)
            if parent is not None and attribute in vars(parent):
                place(entry, parent, attribute, in_modules=False)
