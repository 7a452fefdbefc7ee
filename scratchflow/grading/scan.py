"""Does a student file use the reference implementation of the piece it is graded on?

The grader reads the file's syntax tree (it never runs it for this) and collects every dotted name
the file can reach: ``import a.b``, ``from a.b import c`` (as ``a.b.c``), attribute chains
``alias.b.c`` with import aliases resolved, and string constants that look like module paths (for
``importlib.import_module("a.b")``). A name is forbidden when it equals a forbidden entry or lies
below it (``scratchflow.nn`` forbids ``scratchflow.nn.linear.Linear``).

Always forbidden: the grader itself (``scratchflow.grading``), the grader's private modules in
the sandbox (names starting with ``_grader``) and the homework's source folder as a package
(``solutions``: its folder is importable as a namespace package wherever ``scratchflow`` is). This is a static check: code built to hide an
import (``__import__("scratch" + "flow...")``) escapes it; the child's run-time tripwires
(:mod:`scratchflow.grading.child`) catch most of those, and the instructor's guide says what is left.
"""
import ast
import threading

ALWAYS_FORBIDDEN = ("scratchflow.grading", "_grader", "solutions")

_PARSE_LOCK = threading.Lock()
"""grade_submission scans tasks on two threads; CPython 3.11's ``ast.parse`` is not safe to run on
two at once ("SystemError: AST constructor recursion depth mismatch", CPython issue gh-106905;
seen in this test suite under load as an "autograder failed" result)."""


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return list(reversed(parts))
    return None


def reachable_names(source):
    """Every dotted name ``source`` imports or refers to (a set of strings).

    ``source`` is best given as the file's bytes: then its ``# coding:`` line is honoured exactly
    as when Python imports it (text hidden from a UTF-8 reader by ``# coding: utf-7`` is seen).
    """
    with _PARSE_LOCK:
        tree = ast.parse(source)
    aliases, names = {}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.name)
                top = alias.name.split(".")[0]           # "import a.b" binds a; "import a.b as c" binds c
                aliases[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full)
                aliases[alias.asname or alias.name] = full
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts = _dotted(node)
            if parts and parts[0] in aliases:
                names.add(".".join([aliases[parts[0]]] + parts[1:]))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            if text and len(text) < 200 and all(part.isidentifier() for part in text.split(".")):
                names.add(text)
    return names


def _matches(name, forbidden):
    if forbidden == "_grader":
        return name.split(".")[0].startswith("_grader")
    return name == forbidden or name.startswith(forbidden + ".")


def forbidden_uses(source, forbidden):
    """Sorted list of the forbidden names ``source`` reaches (empty when the file is clean).

    A file that does not parse reaches nothing here: it fails in the child instead, with its
    SyntaxError as the message. A file that parses but cannot be walked here (nesting deep enough
    to exhaust the parser's recursion) fails closed: it is reported, not let through.
    """
    try:
        names = reachable_names(source)
    except (SyntaxError, ValueError):                    # ValueError: null bytes (older Pythons)
        return []
    except (RecursionError, MemoryError):
        return ["<the file is nested too deeply to be checked>"]
    entries = tuple(forbidden) + ALWAYS_FORBIDDEN
    return sorted(name for name in names if any(_matches(name, entry) for entry in entries))
