"""Mutation run over the library: plant one-token bugs, see which ones the tests catch.

    python tools/mutate.py                       # every module of scratchflow/
    python tools/mutate.py --only scratchflow/nn --jobs 2 --out /tmp/mutation.json

Each mutant (``tools/mutants.py``: one operator, comparison, boolean or constant token changed) is
written into a temporary copy of the repository and run against the tests that execute its line
(found by one coverage run, ``tools/mutation_coverage.py``), fastest first, stopping at the first
failure; first with 10 Hypothesis examples a test (a killed mutant fails a real test), then the
survivors again with the suite's own profile (``ci``, 100 examples). Outcomes:

    killed       a test failed (or the copy failed to import, or the run timed out)
    survived     every test passed, or no test executes the line ("no test reaches it")
    equivalent   listed in ``tools/mutation_equivalent.py`` with the reason it cannot change
                 behaviour; still run, and reported as an error of the list if a test kills it

A test "executes a line" when the line runs during its setup, call or teardown; code a test module
runs while pytest collects it (a parametrize list built from the library) counts for no test, and a
line run only at import time falls back to every test that runs a line of that module.

The figure is killed / (killed + survived): equivalents are left out, and shown. Each run is a fork
of a process that has imported NumPy, SciPy, Matplotlib and pytest once (``mutation_runner.py``).
In ``scratchflow/plotting/``,
constants in keyword arguments that only style a figure (``FIGURE_STYLE``: sizes, colours, alpha,
bins, ...) are not mutated, and counted.
"""
import argparse
import ast
import collections
import json
import os
import random
import shutil
import signal
import sys
import tempfile

from mutants import find_mutants
from mutation_coverage import collect
from mutation_equivalent import EQUIVALENT
from mutation_runner import copy_repository, fork, run_mutants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURE_STYLE = {"figsize", "alpha", "s", "lw", "linewidth", "linewidths", "fontsize", "dpi", "bins",
                "levels", "color", "cmap", "markersize", "ms", "markerscale", "pad", "shrink",
                "wspace", "hspace", "zorder", "labelsize", "size", "vmin", "vmax", "range",
                "height_ratios", "width_ratios", "labelpad", "rotation"}


def _library_files(only):
    files = []
    for folder, _, names in os.walk(os.path.join(ROOT, "scratchflow")):
        for name in sorted(names):
            path = os.path.relpath(os.path.join(folder, name), ROOT)
            if name.endswith(".py") and any(path.startswith(prefix) for prefix in only):
                files.append(path)
    return sorted(files)


def _is_figure_style(mutant, source):
    """A constant anywhere inside the value of a keyword argument (or a dict entry) that only styles
    a figure: ``alpha=0.5``, ``figsize=(5.6 * len(panels), 4.6)``, ``gridspec_kw={"wspace": 0.45}``;
    except a constant compared with something (``vmax=top if top > 0 else None``) or used as an
    index (``range=(grid[0], grid[-1])``): a condition or a choice of element is logic, not style."""
    if not mutant.path.startswith("scratchflow/plotting/") or mutant.original[:1] not in "0123456789.TF":
        return False
    styles, compared = _figure_style_spans(mutant.path, source)

    def inside(spans):
        return any(start <= mutant.start and mutant.end <= end for start, end in spans)
    return inside(styles) and not inside(compared)


_SPANS = {}


def _figure_style_spans(path, source):
    """(start, end) character offsets of every figure-style value in ``source``, and of the operands
    of the comparisons and the indices inside them."""
    if (path, source) not in _SPANS:
        line_starts = [0]
        for line in source.splitlines(keepends=True):
            line_starts.append(line_starts[-1] + len(line))

        def offset(line, byte_column):   # ast columns count UTF-8 bytes
            text = source[line_starts[line - 1]:line_starts[line]]
            return line_starts[line - 1] + len(text.encode("utf-8")[:byte_column].decode("utf-8"))

        def span(node):
            return offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
        values, compared = [], []
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.keyword) and node.arg in FIGURE_STYLE:
                values.append(node.value)
            elif isinstance(node, ast.Dict):
                values += [value for key, value in zip(node.keys, node.values)
                           if isinstance(key, ast.Constant) and key.value in FIGURE_STYLE]
        for value in values:
            for node in ast.walk(value):
                if isinstance(node, ast.Compare):
                    compared += [span(part) for part in (node.left, *node.comparators)]
                elif isinstance(node, ast.Subscript):
                    compared.append(span(node.slice))
        _SPANS[path, source] = ([span(value) for value in values], compared)
    return _SPANS[path, source]


def _equivalent_reason(mutant):
    for path, line, original, replacement, reason, *column in EQUIVALENT:
        if (path, line, original, replacement) == (mutant.path, mutant.source_line,
                                                    mutant.original, mutant.replacement) \
                and (not column or column[0] == mutant.column):
            return reason
    return None


def _tests_for(mutant, coverage_map, broken):
    lines = coverage_map["lines"].get(mutant.path, {})
    tests = set(lines.get(str(mutant.line), [])) | set(lines.get(str(mutant.statement_line), []))
    if not tests and (str(mutant.line) in lines or str(mutant.statement_line) in lines):
        tests = set(coverage_map["module_tests"].get(mutant.path, []))  # runs at import time
    durations = coverage_map["durations"]
    return sorted(tests - broken, key=lambda test: (durations.get(test, 0.0), test))


def _key(mutant):
    """A mutant's identity across edits elsewhere in its file: path, line text, token, replacement."""
    return (mutant.path, mutant.source_line, mutant.original, mutant.replacement)


def _key_of_row(row):
    path = row["mutant"].split(":", 1)[0]
    original, replacement = row["mutant"].split(" ", 1)[1].split(" -> ")
    return (path, row["line"], original.strip("'\""), replacement.strip("'\""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=["scratchflow/"],
                        help="path prefixes of the modules to mutate (default: all of scratchflow/)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=0, help="run a seeded sample of N mutants")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--survivors-of", default=None, metavar="JSON",
                        help="run only the mutants that survived in this earlier report (same "
                             "--only/--sample/--seed); the summary then counts the earlier kills too")
    parser.add_argument("--timeout-factor", type=float, default=5.0)
    parser.add_argument("--tests", nargs="*", default=["tests"],
                        help="test files or folders the coverage run (and so each mutant) uses")
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "mutation.json"))
    args = parser.parse_args(argv)
    sys.dont_write_bytecode = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))   # stopped: still remove the copies
    work = tempfile.mkdtemp(prefix="mutation-")
    try:
        return _main(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _select_mutants(args):
    """The mutants of ``--only`` (a seeded ``--sample`` of them), the figure-style count and keys."""
    mutants, style, style_keys = [], 0, set()
    for path in _library_files(args.only):
        with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
            source = handle.read()
        for mutant in find_mutants(path, source):
            if _is_figure_style(mutant, source):
                style += 1
                style_keys.add(_key(mutant))
            else:
                mutants.append(mutant)
    if args.sample and args.sample < len(mutants):
        chosen = set(random.Random(args.seed).sample(range(len(mutants)), args.sample))
        mutants = [mutant for index, mutant in enumerate(mutants) if index in chosen]
    return mutants, style, style_keys


def _only_survivors(args, mutants, style_keys):
    """Keep the mutants not killed in ``--survivors-of`` (survived, equivalent, errors); return them and
    that report's kill count. Survivors no longer in the code are counted as survived."""
    with open(args.survivors_of) as handle:
        earlier = json.load(handle)["mutants"]
    wanted = collections.Counter(
        _key_of_row(row) for row in earlier
        if not row["outcome"].startswith("killed"))           # survived, equivalent, errors
    earlier_killed = sum(row["outcome"].startswith("killed") for row in earlier)
    chosen = []
    for mutant in mutants:
        if wanted[_key(mutant)] > 0:
            wanted[_key(mutant)] -= 1
            chosen.append(mutant)
    restyled = [key for key in wanted.elements() if key in style_keys]
    lost = [key for key in wanted.elements() if key not in style_keys]
    print(f"re-running the {len(chosen)} survivors of {args.survivors_of} "
          f"({earlier_killed} killed there); {len(restyled)} are figure-style constants now "
          f"(not counted): {sorted(restyled)}; {len(lost)} are no longer in the code as "
          f"written (counted as survived): {sorted(lost)}", flush=True)
    args.lost_survivors = len(lost)
    return chosen, earlier_killed


def _main(args, work):
    slots = [os.path.join(work, f"copy{index}") for index in range(max(1, args.jobs))]
    for slot in slots:
        copy_repository(ROOT, slot)
    mutants, style, style_keys = _select_mutants(args)
    earlier_killed = 0
    if args.survivors_of:
        mutants, earlier_killed = _only_survivors(args, mutants, style_keys)
    print(f"{len(mutants)} mutants ({style} figure-style constants not mutated); "
          "coverage run of the suite ...", flush=True)
    map_path = os.path.join(work, "coverage.json")
    pid = fork(slots[0], lambda: collect(slots[0], args.tests, map_path) or 0)
    os.waitpid(pid, 0)
    with open(map_path) as handle:
        coverage_map = json.load(handle)
    broken = set(coverage_map["failed"])
    if broken:
        print(f"tests failing on the unmutated copy (never used): {sorted(broken)}", flush=True)
    jobs, outcomes = [], {}
    for mutant in mutants:
        tests = _tests_for(mutant, coverage_map, broken)
        if tests:
            jobs.append((mutant, tests))
        else:
            outcomes[mutant] = ("survived (no test reaches it)", 0.0)
    # First pass with few Hypothesis examples; the survivors again with the suite's own profile.
    outcomes.update(run_mutants(jobs, coverage_map["durations"], slots, args.timeout_factor, "mutation"))
    again = [job for job in jobs if outcomes[job[0]][0] == "survived"]
    print(f"{len(again)} survivors again with the suite's Hypothesis profile ...", flush=True)
    outcomes.update(run_mutants(again, coverage_map["durations"], slots, args.timeout_factor, "ci"))
    return _report(mutants, outcomes, style, args, earlier_killed)


def _report(mutants, outcomes, style, args, earlier_killed=0):
    rows = []
    for mutant in mutants:
        outcome, seconds = outcomes[mutant]
        reason = _equivalent_reason(mutant)
        if reason is not None:
            outcome = "equivalent" if outcome.startswith("survived") else \
                f"ERROR: listed equivalent but {outcome}"
        rows.append({"mutant": mutant.name, "line": mutant.source_line, "outcome": outcome,
                     "seconds": seconds, "reason": reason})
    killed = earlier_killed + sum(row["outcome"].startswith("killed") for row in rows)
    survived = [row for row in rows if row["outcome"].startswith("survived")]
    equivalent = [row for row in rows if row["outcome"] == "equivalent"]
    errors = [row for row in rows if row["outcome"].startswith(("error", "ERROR"))]
    print("\nEquivalent (proven not to change behaviour):")
    for row in equivalent:
        print(f"  {row['mutant']}  [{row['line']}]  -- {row['reason']}")
    print("\nSurvived:")
    for row in survived:
        print(f"  {row['mutant']}  [{row['line']}]  {row['outcome'][8:]}")
    for row in errors:
        print(f"  {row['outcome']}: {row['mutant']}")
    lost = getattr(args, "lost_survivors", 0)
    changing = killed + len(survived) + lost
    figure = 100.0 * killed / changing if changing else float("nan")
    summary = (f"{len(rows) + earlier_killed + lost} mutants: {killed} killed, "
               f"{len(survived) + lost} survived, "
               f"{len(equivalent)} equivalent, {len(errors)} errors; {style} figure-style constants "
               f"not mutated. Killed {figure:.1f} % of the {changing} that change behaviour.")
    print("\n" + summary)
    temporary = args.out + ".partial"
    with open(temporary, "w") as handle:
        json.dump({"summary": summary, "only": args.only, "sample": args.sample,
                   "seed": args.seed, "mutants": rows}, handle, indent=1)
    os.replace(temporary, args.out)   # an interrupted run never replaces the last report
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
