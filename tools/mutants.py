"""One-token mutants of a Python source file, chosen by its AST (used by ``tools/mutate.py``).

Each mutant replaces exactly one token of the source text and leaves every other byte as it was:

    operator   a + b -> a - b,  * <-> /,  ** -> *,  // -> /,  @ -> *
    augmented  x += y -> x = y,  x += y -> x -= y  (and the same for -=, *=, /=)
    compare    < <-> <=,  > <-> >=,  == <-> !=,  is <-> is not,  in <-> not in
    boolean    and <-> or;  not x -> x;  -x -> x
    constant   0 -> 1, 1 -> 0, other int n -> n + 1, float f -> 2 f (0.0 -> 1.0), True <-> False

Strings are never mutated, nor anything inside an f-string, a docstring or an annotation: a mutant
is a planted bug in the maths or the logic, not in a message.
"""
import ast
import io
import tokenize
from dataclasses import dataclass

BINARY = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Mult: ("*", "/"), ast.Div: ("/", "*"),
          ast.Pow: ("**", "*"), ast.FloorDiv: ("//", "/"), ast.MatMult: ("@", "*"),
          ast.Mod: ("%", "//")}
AUGMENTED = {ast.Add: ("+=", "-="), ast.Sub: ("-=", "+="), ast.Mult: ("*=", "/="),
             ast.Div: ("/=", "*=")}
COMPARE = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="), ast.GtE: (">=", ">"),
           ast.Eq: ("==", "!="), ast.NotEq: ("!=", "=="), ast.Is: ("is", "is not"),
           ast.IsNot: ("is not", "is"), ast.In: ("in", "not in"), ast.NotIn: ("not in", "in")}


@dataclass(frozen=True)
class Mutant:
    """One planted bug: replace ``source[start:end]`` (character offsets) by ``replacement``."""
    path: str           # relative to the repository root
    line: int           # the line of the mutated token
    statement_line: int  # first line of the enclosing statement (coverage reports this one)
    start: int
    end: int
    original: str
    replacement: str
    source_line: str    # the mutated line, stripped, as it reads before the mutation
    column: int         # where the token starts in ``source_line``

    @property
    def name(self):
        return f"{self.path}:{self.line} {self.original!r} -> {self.replacement!r}"

    def apply(self, source):
        return source[:self.start] + self.replacement + source[self.end:]


def _constant_replacement(value):
    if isinstance(value, bool):
        return repr(not value)
    if isinstance(value, int):
        return {0: "1", 1: "0"}.get(value, repr(value + 1))
    if isinstance(value, float):
        return "1.0" if value == 0.0 else repr(2 * value)
    return None


class _Finder(ast.NodeVisitor):
    """Walk a module's AST and list its mutants (by offsets into the source text)."""

    def __init__(self, path, source):
        self.path, self.source = path, source
        self.lines = source.splitlines(keepends=True)
        self.line_starts = [0]
        for text in self.lines:
            self.line_starts.append(self.line_starts[-1] + len(text))
        self.tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        self.statement_line = 1
        self.mutants = []

    def offset(self, line, byte_column):
        """Character offset in the source of an AST (line, UTF-8 byte column) position."""
        text = self.lines[line - 1]
        return self.line_starts[line - 1] + len(text.encode()[:byte_column].decode())

    def token_offset(self, token_position):
        line, column = token_position   # tokenize counts characters, not bytes
        return self.line_starts[line - 1] + column

    def add(self, line, start, end, replacement):
        text = self.lines[line - 1]
        column = start - self.line_starts[line - 1] - (len(text) - len(text.lstrip()))
        self.mutants.append(Mutant(self.path, line, self.statement_line, start, end,
                                   self.source[start:end], replacement, text.strip(), column))

    def add_between(self, left, right, spelling, replacement):
        """Mutate the token ``spelling`` found between the end of ``left`` and the start of ``right``."""
        low = self.offset(left.end_lineno, left.end_col_offset)
        high = self.offset(right.lineno, right.col_offset)
        words = spelling.split()
        for index, token in enumerate(self.tokens):
            start = self.token_offset(token.start)
            if start < low or start >= high or token.string != words[0]:
                continue
            last = self.tokens[index + len(words) - 1]
            if [t.string for t in self.tokens[index:index + len(words)]] == words:
                self.add(token.start[0], start, self.token_offset(last.end), replacement)
                return

    # --- statements: keep track of the line coverage reports, skip what is not code ---------
    def generic_visit(self, node):
        if isinstance(node, ast.stmt):
            self.statement_line = node.lineno
        super().generic_visit(node)

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring
        self.generic_visit(node)

    def visit_JoinedStr(self, node):
        return  # an f-string: a message, not maths

    def visit_AnnAssign(self, node):
        self.statement_line = node.lineno
        if node.value is not None:
            self.visit(node.value)

    def visit_arg(self, node):
        return  # annotations of arguments

    def visit_FunctionDef(self, node):
        self.statement_line = node.lineno
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(default)
        for decorator in node.decorator_list:
            self.visit(decorator)
        for statement in node.body:
            self.visit(statement)

    # --- the mutation operators -------------------------------------------------------------
    def visit_BinOp(self, node):
        if type(node.op) in BINARY:
            spelling, replacement = BINARY[type(node.op)]
            self.add_between(node.left, node.right, spelling, replacement)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self.statement_line = node.lineno
        if type(node.op) in AUGMENTED:
            spelling, swapped = AUGMENTED[type(node.op)]
            self.add_between(node.target, node.value, spelling, "=")
            self.add_between(node.target, node.value, spelling, swapped)
        self.visit(node.value)

    def visit_Compare(self, node):
        left = node.left
        for operator, right in zip(node.ops, node.comparators):
            spelling, replacement = COMPARE[type(operator)]
            self.add_between(left, right, spelling, replacement)
            left = right
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        spelling = "and" if isinstance(node.op, ast.And) else "or"
        replacement = "or" if spelling == "and" else "and"
        for left, right in zip(node.values, node.values[1:]):
            self.add_between(left, right, spelling, replacement)
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, (ast.USub, ast.Not)):
            start = self.offset(node.lineno, node.col_offset)
            length = 1 if isinstance(node.op, ast.USub) else len("not")
            self.add(node.lineno, start, start + length, "")
        if not (isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)):
            self.generic_visit(node)
        else:
            self.visit_Constant(node.operand)

    def visit_Constant(self, node):
        replacement = _constant_replacement(node.value)
        if replacement is not None:
            start = self.offset(node.lineno, node.col_offset)
            end = self.offset(node.end_lineno, node.end_col_offset)
            self.add(node.lineno, start, end, replacement)


def find_mutants(path, source):
    """All one-token mutants of ``source`` (the text of the file at ``path``), in source order."""
    finder = _Finder(path, source)
    finder.visit(ast.parse(source))
    return sorted(finder.mutants, key=lambda mutant: mutant.start)
