"""The public probes as the release ships them: one self-contained module, ``tests/homework_probes.py``.

The release holds no file of the course package. Its public tests need the probes' code all the
same (the student runs what the grader's public check runs, at the public seed), so this module
writes the source of exactly what the probes in ``PROBES`` use — the probe functions, their
helpers and the pieces they build their inputs from — cut out of the course's probe modules by name,
with the library's imports and nothing else of the course (no grader, no other probe list).
"""
import ast
import os

MODULES = ("standins", "probes", "probes_training")       # in the order their definitions are written
HEADER = '''"""The public probes of the homework: each builds its inputs from the seed it is given (the
public seed, stored in ``expected/<task>.json``), runs your code and returns its outputs. Generated
by the course's release builder from the grader's own probes; do not edit.
"""
'''


def _source(name):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"), encoding="utf-8") as handle:
        return handle.read()


def _definitions(text):
    """``(imports, {name: (source, names it uses)}, probes)``: the module's imports of anything
    but the course, its top-level definitions and the source of its ``PROBES`` dict."""
    tree = ast.parse(text)
    imports, definitions, probes = [], {}, None
    for node in tree.body:
        segment = ast.get_source_segment(text, node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if not (module or "").startswith("scratchflow_course"):
                imports.append(segment)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            definitions[node.name] = (segment, used)
        elif isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["PROBES"]:
            probes = node.value
        elif isinstance(node, ast.Assign):
            used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            definitions[node.targets[0].id] = (segment, used)
    return imports, definitions, (probes, text)


def shipped_probes():
    """The text of ``tests/homework_probes.py``."""
    imports, definitions, tables = [], {}, []
    for module in MODULES:
        found_imports, found, table = _definitions(_source(module))
        imports += [line for line in found_imports if line not in imports]
        for name, (segment, used) in found.items():
            if name in definitions and definitions[name][0] != segment:
                raise ValueError(f"{name} is defined differently in two probe modules")
            definitions.setdefault(name, (segment, used))
        if table[0] is not None:
            tables.append(table)
    wanted, queue = set(), [n.id for node, _ in tables for n in ast.walk(node) if isinstance(n, ast.Name)]
    while queue:
        name = queue.pop()
        if name in definitions and name not in wanted:
            wanted.add(name)
            queue += sorted(definitions[name][1])
    body = [segment for name, (segment, _) in definitions.items() if name in wanted]
    entries = ["    " + ast.get_source_segment(text, node).strip()[1:-1].strip().rstrip(",") + ","
               for node, text in tables]
    return (HEADER + "\n".join(sorted(imports)) + "\n\n\n" + "\n\n\n".join(body)
            + "\n\n\nPROBES = {\n" + "\n".join(entries) + "\n}\n")
