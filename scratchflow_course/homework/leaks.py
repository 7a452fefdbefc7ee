"""Does the release answer a task? A search of the release as shipped for the shape of every task
region's reference code, and for the hints in plain form.

The shape of code is its syntax with identifiers and literals normalised (every variable,
attribute and argument name one symbol, every number and string another), so a renamed copy
matches. Three searches, each over every ``.py`` file of the release:

* statements: a window of :data:`STATEMENTS` consecutive statements of a region (in any block of
  it) that stands, with the same shape, as consecutive statements anywhere in the release;
* tokens: a run of :data:`TOKENS` tokens of a region found in the release's token stream;
* key expressions, for a region shorter than both windows: each expression of it with at least
  :data:`KEY_NODES` nodes that calls a function or reads an attribute, compared with names of
  modules and attributes kept (``np.log(np.abs(np.diag(V)))`` is a key expression; ``V * V + V``
  is everyone's);

A region of the pseudo-task ``omitted`` (library code the release leaves out, see
:mod:`~scratchflow_course.homework.regions`) is searched for in its own file only: put back, it is
found.

And, for the hints: every line of every hint (at least :data:`HINT_CHARS` characters) searched
in every file of the release, as text. The stubs (``raise NotImplementedError(...)``) are the
release's own and match nothing of a region.
"""
import ast
import copy
import io
import json
import keyword
import os
import textwrap
import tokenize

from scratchflow_course.homework.regions import OMITTED, find_regions

STATEMENTS, TOKENS, KEY_NODES, HINT_CHARS = 5, 40, 7, 24
KEPT_NAMES = {"np", "numpy", "scipy", "math"}       # modules: a key expression keeps their names


class _Shape(ast.NodeTransformer):
    """Identifiers and literals normalised; with ``keep``, module and attribute names are kept."""

    def __init__(self, keep=False):
        self.keep = keep

    def visit_Name(self, node):
        return ast.Name(id=node.id if self.keep and node.id in KEPT_NAMES else "_", ctx=ast.Load())

    def visit_Attribute(self, node):
        return ast.Attribute(value=self.visit(node.value), attr=node.attr if self.keep else "_", ctx=ast.Load())

    def visit_Constant(self, node):
        return ast.Constant(value=0)

    def visit_arg(self, node):
        return ast.arg(arg="_")

    def visit_keyword(self, node):
        return ast.keyword(arg=node.arg if self.keep else "_", value=self.visit(node.value))

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        node.name = "_"
        return node


def shape(node, keep=False):
    return ast.dump(_Shape(keep).visit(copy.deepcopy(node)), annotate_fields=False)


def _blocks(tree):
    """Every list of consecutive statements in ``tree`` (bodies, else-branches, handlers)."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def statement_windows(tree, size=STATEMENTS):
    return {tuple(shape(s) for s in block[k:k + size]) for block in _blocks(tree)
            for k in range(len(block) - size + 1)}


def tokens(text):
    """The normalised token stream of ``text``: names (not keywords) ``N``, literals ``L``."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME:
            found.append(token.string if keyword.iskeyword(token.string) else "N")
        elif token.type in (tokenize.NUMBER, tokenize.STRING):
            found.append("L")
        elif token.type == tokenize.OP:
            found.append(token.string)
    return found


def token_windows(stream, size=TOKENS):
    return {tuple(stream[k:k + size]) for k in range(len(stream) - size + 1)}


def key_expressions(tree):
    """Shapes (modules and attributes kept) of the region's expressions that say something."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.expr) and not isinstance(node, (ast.Name, ast.Constant)):
            parts = [n for n in ast.walk(node) if isinstance(n, ast.expr)]
            if len(parts) >= KEY_NODES and any(isinstance(n, (ast.Call, ast.Attribute)) for n in parts):
                found.add(shape(node, keep=True))
    return found


class Region:
    """One code region of the reference: where it is and its three fingerprints."""

    def __init__(self, task, path, function, body):
        self.task, self.path, self.function = task, path, function
        self.tree = ast.parse(textwrap.dedent(body))
        self.statements = statement_windows(self.tree)
        self.tokens = token_windows(tokens(textwrap.dedent(body)))
        self.keys = key_expressions(self.tree)

    def __repr__(self):
        return f"task {self.task} ({self.path}, {self.function})"


def reference_regions(root):
    """Every code region of the library under ``root``, as a :class:`Region`."""
    from scratchflow_course.homework.build import region_files       # local import: build imports this module
    found = []
    for path, text in region_files(root).items():
        regions = find_regions(text, path)
        found += [Region(r.task, path, r.function, "".join(r.body)) for r in regions if r.is_code]
        omitted = [region for region in found if region.task == OMITTED and region.path == path]
        if omitted:
            rest = Release.of_text(_without(text, [r for r in regions if r.task == OMITTED]))
            for region in omitted:            # what the file says outside them is no put-back
                region.statements -= set(rest.statements)
                region.tokens -= set(rest.tokens)
                region.keys -= set(rest.expressions)
    return found


def _without(text, regions):
    """``text`` with each of ``regions``' lines (markers included) replaced by ``pass``."""
    lines = text.splitlines(keepends=True)
    for region in sorted(regions, key=lambda r: r.begin, reverse=True):
        lines[region.begin:region.end + 1] = [region.indent + ("pass\n" if region.is_code else "\n")]
    return "".join(lines)


class Release:
    """The fingerprints of every ``.py`` file of a release folder, and the text of every file."""

    def __init__(self, folder):
        self.files = {}
        for where, subfolders, names in os.walk(folder):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(names):
                path = os.path.join(where, name)
                with open(path, "rb") as handle:
                    self.files[os.path.relpath(path, folder)] = handle.read().decode("utf-8", "replace")
        self._fingerprint()

    @classmethod
    def of_text(cls, text, relative="<file>.py"):
        """The fingerprints of one Python text."""
        release = cls.__new__(cls)
        release.files = {relative: text}
        release._fingerprint()
        return release

    def _fingerprint(self):
        self.statements, self.tokens, self.expressions = {}, {}, {}
        for relative, text in self.files.items():
            if not relative.endswith(".py"):
                continue
            tree = ast.parse(text)
            for window in statement_windows(tree):
                self.statements.setdefault(window, relative)
            for window in token_windows(tokens(text)):
                self.tokens.setdefault(window, relative)
            for node in ast.walk(tree):
                if isinstance(node, ast.expr) and not isinstance(node, (ast.Name, ast.Constant)):
                    self.expressions.setdefault(shape(node, keep=True), relative)


def course_data(root):
    """``(regions, hints, keys, allowed)`` of the course under ``root``: its reference regions, the
    hints of ``solutions/mistakes.json`` and ``solutions/leaks.json``'s extra key expressions
    (task -> shapes) and allowed matches ({(task, file)})."""
    with open(os.path.join(root, "solutions", "mistakes.json"), encoding="utf-8") as handle:
        hints = [mistake["hint"] for mistake in json.load(handle)["mistakes"]]
    with open(os.path.join(root, "solutions", "leaks.json"), encoding="utf-8") as handle:
        table = json.load(handle)
    keys = {task: {shape(ast.parse(text, mode="eval").body, keep=True) for text in texts}
            for task, texts in table["keys"].items()}
    allowed = {(entry["task"], entry["file"]) for entry in table["allowed"]}
    return reference_regions(root), hints, keys, allowed


def find_leaks(release_folder, regions, hints, keys=None, allowed=()):
    """Lines ``"<kind>: <region or hint> in <file>"``, one per leak found; empty: none.
    ``hints``: the hint texts; ``keys``: task -> more key expressions (shapes); ``allowed``:
    {(task, file)} whose matches were read and answer nothing (see :func:`course_data`)."""
    release = Release(release_folder)
    leaks = []
    for region in regions:
        extra = (keys or {}).get(region.task, set())
        for kind, mine, theirs in (("statements", region.statements, release.statements),
                                   ("tokens", region.tokens, release.tokens),
                                   ("key expression", region.keys | extra, release.expressions)):
            places = sorted({theirs[window] for window in mine if window in theirs})
            if region.task == OMITTED:
                places = [place for place in places if place.replace(os.sep, "/") == region.path]
            leaks += [f"{kind}: {region!r} in {place}" for place in places
                      if (region.task, place.replace(os.sep, "/")) not in allowed]
    for hint in hints:
        for line in (part.strip() for part in hint.splitlines()):
            places = [path for path, text in release.files.items() if len(line) >= HINT_CHARS and line in text]
            leaks += [f"hint: {line[:60]!r} in {place}" for place in places]
    return leaks


def count_checks(regions, hints, keys=None):
    """How many fingerprints :func:`find_leaks` searches for (windows, key expressions, hint lines)."""
    return (sum(len(r.statements) + len(r.tokens) + len(r.keys | (keys or {}).get(r.task, set()))
                for r in regions)
            + sum(1 for hint in hints for line in hint.splitlines() if len(line.strip()) >= HINT_CHARS))
