"""The import graphs of ``scratchflow/`` and of the course package (``scratchflow_course/``) have no
cycle, the library never imports the course package, and every function-local import of either
package says why it is local.

Imports point one way (docs/architecture.md): nn <- bijectors <- flow <- train <- cli. A cycle hidden
by function-local imports (data <-> realdata, say) is still a cycle, so local imports count as
edges here. A function-local import is allowed only with a ``# local import: <reason>`` comment on its
line or in the comment lines right above it (an optional dependency, a slow import such as matplotlib).

"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "scratchflow"
PACKAGES = ["scratchflow", "scratchflow_course"]
MARK = "# local import:"


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(package="scratchflow"):
    """name -> (path, source text) of every module of ``package``."""
    return {_module_name(path): (path, path.read_text(encoding="utf-8"))
            for path in sorted((ROOT / package).rglob("*.py"))}


def _imported(node, module, is_package, known):
    """Names of the modules of ``module``'s own package that one Import / ImportFrom node loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:                                   # relative: from . import x
            anchor = module.split(".") if is_package else module.split(".")[:-1]
            anchor = anchor[:len(anchor) - node.level + 1]
            base = ".".join(anchor + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                 for alias in node.names]
    root = module.split(".")[0]
    return {name for name in names if name == root or name.startswith(root + ".")}


def _local_imports(tree):
    """Import nodes inside a function body (at any depth)."""
    found = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [node for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))]
    return found


def _has_reason(lines, lineno):
    """True if line ``lineno`` (1-based) or the comment block right above it carries MARK."""
    if MARK in lines[lineno - 1]:
        return True
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        if lines[index].strip().startswith(MARK):
            return True
        index -= 1
    return False


def import_graph(modules):
    known = set(modules)
    packages = {name for name, (path, _) in modules.items() if path.name == "__init__.py"}
    graph = {}
    for name, (_, source) in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _imported(node, name, name in packages, known)
        graph[name] = edges - {name}
    return graph


def find_cycle(graph):
    """One cycle of ``graph`` as a list of names (first == last), or None."""
    state = {}                                           # name -> "open" | "done"
    stack = []

    def visit(name):
        state[name] = "open"
        stack.append(name)
        for other in sorted(graph.get(name, ())):
            if state.get(other) == "open":
                return stack[stack.index(other):] + [other]
            if other not in state:
                cycle = visit(other)
                if cycle:
                    return cycle
        stack.pop()
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name)
            if cycle:
                return cycle
    return None


@pytest.mark.parametrize("package, a_module", [("scratchflow", "scratchflow.flow"),
                                               ("scratchflow_course", "scratchflow_course.grading.grader")])
def test_import_graph_has_no_cycle(package, a_module):
    graph = import_graph(_modules(package))
    assert len(graph) > 20 and graph[a_module]                    # the scan saw the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_function_local_import_gives_its_reason(package):
    missing = []
    for name, (path, source) in _modules(package).items():
        lines = source.splitlines()
        for node in _local_imports(ast.parse(source)):
            if not _has_reason(lines, node.lineno):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not missing, f"function-local imports without a '{MARK} <reason>' comment: {missing}"


@pytest.mark.parametrize("graph, cycle", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"a"}}, ["a", "a"]),
])
def test_find_cycle_finds_a_planted_cycle(graph, cycle):
    assert find_cycle(graph) == cycle


def test_a_planted_local_import_without_reason_is_reported(tmp_path):
    source = ("def f():\n    import os\n    return os\n\n\ndef g():\n"
              "    # local import: optional dependency\n    import json\n    return json\n")
    lines = source.splitlines()
    verdicts = [_has_reason(lines, node.lineno) for node in _local_imports(ast.parse(source))]
    assert sorted(verdicts) == [False, True]


def test_a_cycle_through_a_local_import_is_an_edge():
    source = "def f():\n    from scratchflow.data import standardize\n"
    edges = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            edges |= _imported(node, "scratchflow.realdata", False, {"scratchflow.data"})
    assert edges == {"scratchflow.data"}


def test_the_library_never_imports_the_course_package():
    """Not at module level, not inside a function, not by ``importlib``: the course uses the
    library, never the reverse, so a student's copy of ``scratchflow/`` runs without it."""
    offenders = []
    for name, (path, source) in _modules().items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                hits = [alias.name for alias in node.names if alias.name.split(".")[0] == "scratchflow_course"]
            elif isinstance(node, ast.ImportFrom):
                hits = [node.module] if (node.module or "").split(".")[0] == "scratchflow_course" else []
            else:
                hits = []
            offenders += [f"{name}:{node.lineno} imports {hit}" for hit in hits]
        if "scratchflow_course" in source:            # importlib, __import__, a path string
            offenders.append(f"{name} names scratchflow_course")
    assert offenders == []
