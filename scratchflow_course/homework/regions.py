"""Task regions: the markers in the library's own source that say which lines a task asks for.

A code region (the lines a student writes) sits inside a function::

    def _forward(self, x):
        # >>> task coupling
        ...                                       # the library's lines
        # <<< task coupling
        self._forward_cache = Cache(...)          # given: the names the region must define

In the student release it becomes the same indentation and one line,
``raise NotImplementedError("task coupling (slide «Real-NVP»): AffineCoupling._forward is yours
to write; ...")``. A docstring region (markers inside a string: a derivation that would give the
answer away) holds the library's text only; the release replaces it by the student's prompt, which
is course data (``solutions/prompts/<task>.md``, see :func:`strip`), after a ``# --- student``
line, so that the kind stays visible in a submitted file. Markers carry the task id; a task may
own regions in several files.

A region of the pseudo-task ``omitted`` (:data:`OMITTED`) marks library code or text that belongs
to no task but answers one (a sibling layer's gradient pass, a loop a task asks for): the release
drops its markers and keeps one line in its place (:func:`omitted_line`; in a docstring,
:data:`OMITTED_TEXT`). It is never spliced.

The grader takes a student's code regions of one task from the files they submit and splices them
into the stubbed library (:func:`splice`); docstring regions are never taken from a submission.
The module-level imports a student adds to a task file come with the regions (the grader then
runs the code their public tests ran): :func:`carry_imports`.
"""
import ast
import re
import threading

BEGIN = re.compile(r"^(\s*)# >>> task ([a-z0-9_]+)\s*$")
STUDENT = re.compile(r"^\s*# --- student\s*$")
END = re.compile(r"^\s*# <<< task ([a-z0-9_]+)\s*$")
OMITTED = "omitted"          # the pseudo-task of library code the release leaves out
OMITTED_TEXT = "(Not part of the homework release; it is in the public library.)\n"


_PARSE_LOCK = threading.Lock()


class RegionError(ValueError):
    """A malformed or missing task region (unclosed, nested, outside a function, wrong id)."""


class Region:
    """One marked region: task id, 0-based line numbers of its markers, indentation, texts.

    ``body`` is the list of lines between the markers (for a docstring region: the library's part);
    ``student`` the student's part of a docstring region, None for a code region.
    """

    def __init__(self, task, begin, end, indent, body, student):
        self.task, self.begin, self.end, self.indent = task, begin, end, indent
        self.body, self.student = body, student
        self.function = None                     # "Class.method" holding a code region

    @property
    def is_code(self):
        return self.student is None


def _mark_docstring_regions(lines, regions):
    """A region whose opening marker stands inside a triple-quoted string (an odd number of
    triple quotes before it) is a docstring region, with or without a ``# --- student`` line."""
    quotes, counted = 0, 0
    for region in regions:
        quotes += sum(line.count('"""') for line in lines[counted:region.begin])
        counted = region.begin
        if region.student is None and quotes % 2 == 1:
            region.student = []
    return regions


def _task_regions(text, task, path):
    """The regions of one task in a submitted file (code and docstring), read from that task's
    markers only: another task's broken markers in the same file do not matter here."""
    regions, open_region = [], None
    for number, line in enumerate(text.splitlines(keepends=True)):
        begin, end = BEGIN.match(line), END.match(line)
        if begin and begin.group(2) == task:
            if open_region is not None:
                raise RegionError(f"{path}:{number + 1}: region 'task {task}' opens twice")
            open_region = Region(task, number, None, begin.group(1), [], None)
        elif end and end.group(1) == task:
            if open_region is None:
                raise RegionError(f"{path}:{number + 1}: '# <<< task {task}' closes no open region")
            open_region.end = number
            regions.append(open_region)
            open_region = None
        elif open_region is not None:
            if STUDENT.match(line) and open_region.student is None:
                open_region.student = []
            else:
                (open_region.body if open_region.student is None else open_region.student).append(line)
    if open_region is not None:
        raise RegionError(f"{path}:{open_region.begin + 1}: region 'task {task}' is never closed")
    return _mark_docstring_regions(text.splitlines(keepends=True), regions)


def find_regions(text, path="<file>", functions=True):
    """The regions of ``text`` in file order; raises :class:`RegionError` on a malformed marker.
    ``functions``: also name the function of each code region (parses ``text``; a code region
    outside a function is an error)."""
    lines = text.splitlines(keepends=True)
    regions, open_region = [], None
    for number, line in enumerate(lines):
        begin, end, student = BEGIN.match(line), END.match(line), STUDENT.match(line)
        if begin:
            if open_region is not None:
                raise RegionError(f"{path}:{number + 1}: region 'task {begin.group(2)}' opens inside "
                                  f"region 'task {open_region.task}' (line {open_region.begin + 1})")
            open_region = Region(begin.group(2), number, None, begin.group(1), [], None)
        elif student:
            if open_region is None or open_region.student is not None:
                raise RegionError(f"{path}:{number + 1}: '# --- student' outside a region or twice")
            open_region.student = []
        elif end:
            if open_region is None or end.group(1) != open_region.task:
                raise RegionError(f"{path}:{number + 1}: '# <<< task {end.group(1)}' closes no open "
                                  "region of that task")
            open_region.end = number
            regions.append(open_region)
            open_region = None
        elif open_region is not None:
            (open_region.body if open_region.student is None else open_region.student).append(line)
    if open_region is not None:
        raise RegionError(f"{path}:{open_region.begin + 1}: region 'task {open_region.task}' is never closed")
    _mark_docstring_regions(lines, regions)
    if functions:
        _name_functions(text, regions, path)
    return regions


def _parse(text, path):
    with _PARSE_LOCK:                   # CPython 3.11's AST recursion counter is not thread-safe
        return ast.parse(text, path)    # (SystemError "recursion depth mismatch"; gh-106905)


def _name_functions(text, regions, path):
    """Set ``region.function`` for code regions; a code region outside a function is an error (its
    lines would run when the module is imported)."""
    if not regions:
        return
    code = [region for region in regions if region.is_code]
    if not code:
        return
    tree = _parse(text, path)
    functions = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    functions.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
    visit(tree, "")
    for region in code:
        holders = [f for f in functions if f[0] <= region.begin + 1 <= f[1]]
        if not holders:
            raise RegionError(f"{path}:{region.begin + 1}: code region 'task {region.task}' is not inside "
                              "a function")
        region.function = max(holders, key=lambda f: f[0])[2]      # the innermost


def stub_line(region, slide, extra=None):
    """The one line a code region becomes in the student release. ``extra``: the task is optional
    extra credit, and ``extra`` says what in the library needs it (the stub says both)."""
    if extra is not None:
        message = (f"task {region.task} (extra credit, slide «{slide}»): {region.function} is yours to "
                   f"write if you take the optional extra-credit task {region.task}; {extra}")
    else:
        message = (f"task {region.task} (slide «{slide}»): {region.function} is yours to write; the "
                   "docstring above gives the formula and the contract")
    return f"{region.indent}raise NotImplementedError({message!r})\n"


def omitted_line(region):
    """The one line an omitted code region becomes in the student release."""
    message = (f"{region.function} is not part of the homework release; it is in the public "
               "library")
    return f"{region.indent}raise NotImplementedError({message!r})\n"


def _replace(text, regions, content_of):
    """``text`` with each region's lines replaced by ``content_of(region)``; the markers stay,
    except an omitted region's."""
    lines = text.splitlines(keepends=True)
    out, cursor = [], 0
    for region in regions:
        marked = region.task != OMITTED
        out += lines[cursor:region.begin + marked]
        out += content_of(region)
        out += [lines[region.end]] if marked else []
        cursor = region.end + 1
    return "".join(out + lines[cursor:])


def strip(text, slides, path="<file>", prompts=None, extras=None):
    """The student version of ``text``: code regions stubbed, docstring regions replaced by the
    student's prompt. ``slides``: task id -> slide title (an unknown id is an error); ``extras``:
    extra-credit task id -> what in the library needs it (:func:`stub_line`).
    ``prompts`` (see :func:`read_prompts`): ``{(task, "region k"): lines}`` replaces the k-th
    docstring region of a task in this file (from 1); ``{(task, "Function.name"): lines}`` is added
    to the end of that function's docstring (or, if it has none, as comments at the top of its body)."""
    prompts = prompts or {}
    regions = find_regions(text, path)
    counts = {}
    for region in regions:
        if region.task == OMITTED:
            continue
        if region.task not in slides:
            raise RegionError(f"{path}:{region.begin + 1}: unknown task {region.task!r}")
        if not region.is_code:
            counts[region.task] = counts.get(region.task, 0) + 1
            region.prompt = prompts.get((region.task, f"region {counts[region.task]}"), region.student)

    def student_text(region):
        if region.task == OMITTED:
            return [omitted_line(region) if region.is_code else region.indent + OMITTED_TEXT]
        if region.is_code:
            return [stub_line(region, slides[region.task], (extras or {}).get(region.task))]
        return [f"{region.indent}# --- student\n"] + [_indented(line, region.indent) for line in region.prompt]
    additions = {}
    for (task, where), lines in sorted(prompts.items()):
        if not where.startswith("region "):
            additions[where] = additions.get(where, []) + (["\n"] if where in additions else []) + lines
    return _add_to_docstrings(_replace(text, regions, student_text), additions, path)


def _indented(line, indent):
    return line if not line.strip() or line.startswith(indent) else indent + line


def read_prompts(text, task, path="<prompts>"):
    """``{file: {(task, where): lines}}`` from a task's prompts file: sections that start with a
    line ``=== <file>: <where>`` (``where``: ``region k`` or a function's name), each followed by
    its text; the lines before the first section are a note to the instructor and ignored."""
    prompts, lines = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("=== "):
            relative, _, where = line[4:].partition(":")
            key = (task, where.strip())
            if not where.strip() or key in prompts.get(relative.strip(), {}):
                raise RegionError(f"{path}: section {line.strip()!r} is malformed or twice")
            lines = prompts.setdefault(relative.strip(), {})[key] = []
        elif lines is not None:
            lines.append(line)
    for sections in prompts.values():
        for lines in sections.values():
            while lines and not lines[-1].strip():
                lines.pop()
    return prompts


def _add_to_docstrings(text, additions, path):
    """``text`` with each ``{"Function.name": lines}`` added to the end of that function's docstring."""
    if not additions:
        return text
    tree = _parse(text, path)
    found = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                found[prefix + child.name] = child
                visit(child, prefix + child.name + ".")
    visit(tree, "")
    lines = text.splitlines(keepends=True)
    edits = []
    for name, added in additions.items():
        if name not in found:
            raise RegionError(f"{path}: the prompts name {name!r}, which is not a function or class here")
        node = found[name]
        first = node.body[0]
        indent = " " * first.col_offset
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            closing = first.end_lineno - 1
            head, _, tail = lines[closing].rpartition('"""')
            new = [head.rstrip() + "\n"] if head.strip() else []
            new += ["\n"] + [_indented(line, indent) for line in added] + [indent + '"""' + tail]
            edits.append((closing, closing + 1, new))
        else:
            start = first.lineno - 1
            edits.append((start, start, [indent + "# " + line.strip() + "\n" for line in added]))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    return "".join(lines)


def splice(stubbed, submitted, task, path="<file>"):
    """The stubbed file ``stubbed`` with the code regions of ``task`` taken from ``submitted``.

    Raises :class:`RegionError` with a message for the student when the submitted file has not got
    the same regions of that task (a marker deleted or renamed), a line of a region is indented
    less than its marker (it would leave the function), or the result is not valid Python.
    """
    wanted = [r for r in find_regions(stubbed, path) if r.is_code and r.task == task]
    try:
        given = [r for r in _task_regions(submitted, task, path) if r.is_code]
    except (RegionError, SyntaxError) as error:
        raise RegionError(f"{path}: the markers of your file cannot be read ({error})") from None
    if len(given) != len(wanted):
        raise RegionError(f"{path}: expected {len(wanted)} region(s) '# >>> task {task}' ... "
                          f"'# <<< task {task}' as in the release, found {len(given)}; keep the "
                          "marker lines as they were handed out")
    for mine, theirs in zip(wanted, given):
        for line in theirs.body:
            if line.strip() and len(line) - len(line.lstrip()) < len(mine.indent):
                raise RegionError(f"{path}: a line of region 'task {task}' in {mine.function} is indented "
                                  f"less than its marker: {line.strip()[:60]!r}")
    bodies = iter([r.body for r in given])
    result = _replace(stubbed, [r for r in find_regions(stubbed, path)],
                      lambda r: next(bodies) if (r.is_code and r.task == task) else _kept(r, stubbed))
    result = carry_imports(result, submitted, path)
    try:
        spliced = [r for r in find_regions(result, path) if r.is_code and r.task == task]
    except SyntaxError as error:
        raise RegionError(f"{path}: with your region 'task {task}' the file is not valid Python "
                          f"(line {error.lineno}: {error.msg})") from None
    if [r.function for r in spliced] != [r.function for r in wanted]:
        raise RegionError(f"{path}: your region 'task {task}' does not stay inside "
                          f"{', '.join(r.function for r in wanted)}")
    return result


def _module_imports(text, path):
    with _PARSE_LOCK:
        tree = ast.parse(text, path)
    return tree, [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]


def carry_imports(stubbed, submitted, path="<file>"):
    """``stubbed`` with the module-level ``import`` / ``from ... import`` statements of
    ``submitted`` that it lacks, put after its own last module-level import (or its docstring).

    Only import statements travel; any other code outside the regions stays the release's. A
    ``from __future__`` import, which must open a file, is not carried."""
    try:
        _, wanted = _module_imports(submitted, path)
        tree, present = _module_imports(stubbed, path)
    except SyntaxError:
        return stubbed                      # the caller's own checks say what is wrong
    have = {ast.unparse(node) for node in present}
    carried = []
    for node in wanted:
        line = ast.unparse(node)
        if line not in have and not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            carried.append(line + "\n")
            have.add(line)
    if not carried:
        return stubbed
    docstring = tree.body[:1] if tree.body and isinstance(tree.body[0], ast.Expr) and \
        isinstance(getattr(tree.body[0], "value", None), ast.Constant) else []
    anchor = present or docstring
    after = anchor[-1].end_lineno if anchor else 0                  # 1-based last line, 0: the top
    lines = stubbed.splitlines(keepends=True)
    return "".join(lines[:after] + carried + lines[after:])


def _kept(region, text):
    """The lines between a region's markers as they stand in ``text`` (untouched regions)."""
    lines = text.splitlines(keepends=True)
    return lines[region.begin + 1:region.end]
