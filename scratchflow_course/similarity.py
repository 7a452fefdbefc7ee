"""How close each submitted task region is to the public library and to the other submissions.

The library is public, so a region can be copied from it, renamed, and pass. What stays after
renaming is the shape of the code: each region is read as a list of Python tokens with every
identifier turned into ``I``, every number into ``N``, every string into ``S`` and comments dropped
(``x_r * exp_s + shift`` and ``moved * e + b`` are the same ``I * I + I``). Two figures per task:

* **library**: the share of the region's k-token windows (k = ``WINDOW``) that occur anywhere in
  the library's code, task regions included (a renamed copy of the library's lines scores 1);
* **peer**: for each other submission, ``difflib``'s ratio 2M / T of the two normalised regions
  (M tokens matched in order, T tokens in both); the closest peer is reported.

A task is flagged when a figure reaches ``FLAG`` and the region has at least ``MINIMUM_TOKENS``
tokens (a two-line task has few ways to be written, and every right answer looks alike there).
The figures are evidence for a reader, not a verdict: the report says which regions to open.
"""
import difflib
import io
import keyword
import os
import textwrap
import tokenize

from scratchflow_course.homework.regions import find_regions

WINDOW = 8
FLAG = 0.9
MINIMUM_TOKENS = 40
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
            tokenize.ENDMARKER}


def normalised(text):
    """The tokens of ``text`` (Python source, any indentation) with identifiers, numbers and
    strings replaced by ``I``, ``N``, ``S``; keywords and operators kept; ``;`` ends a line."""
    out = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(textwrap.dedent(text)).readline):
            if token.type in _SKIPPED:
                continue
            if token.type == tokenize.NAME:
                out.append(token.string if keyword.iskeyword(token.string) else "I")
            elif token.type == tokenize.NUMBER:
                out.append("N")
            elif token.type in (tokenize.STRING, getattr(tokenize, "FSTRING_START", -1)):
                out.append("S")
            elif token.type == tokenize.NEWLINE:
                out.append(";")
            else:
                out.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = [word if keyword.iskeyword(word) else "I" for word in text.split()]
    return out


def task_regions(texts, task):
    """The normalised tokens of each code region of ``task`` in ``texts`` ({path: source}), files
    in name order; a region still holding its stub is left out."""
    regions_tokens = []
    for path in sorted(texts):
        try:
            regions = find_regions(texts[path], path)
        except (ValueError, SyntaxError):
            continue
        for region in regions:
            body = "".join(region.body)
            if region.is_code and region.task == task and "NotImplementedError('task " not in body:
                regions_tokens.append(normalised(body))
    return regions_tokens


def windows(tokens):
    return {tuple(tokens[i:i + WINDOW]) for i in range(len(tokens) - WINDOW + 1)}


def library_windows(library):
    """Every k-token window of the library's code ({path: source}), regions included."""
    found = set()
    for text in library.values():
        found |= windows(normalised(text))
    return found


def library_closeness(regions, known):
    """Share of the regions' windows found in the library (0 for regions shorter than a window);
    a window never spans two regions."""
    mine = set().union(*map(windows, regions)) if regions else set()
    return len(mine & known) / len(mine) if mine else 0.0


def peer_closeness(first, second):
    if not first or not second:
        return 0.0
    return difflib.SequenceMatcher(None, first, second, autojunk=False).ratio()


def read_texts(folder, files):
    """{relative path: text} of the submission's task files that exist under ``folder``."""
    texts = {}
    for relative in files:
        path = os.path.join(folder, relative)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                texts[relative] = handle.read()
    return texts


def compare(submissions, library, tasks):
    """``submissions``: {name: {path: text}}; ``library``: {path: text}; ``tasks``: ids.

    Returns {name: {task: {"tokens", "library", "peer", "closest", "flags"}}}."""
    known = library_windows(library)
    regions = {name: {task: task_regions(texts, task) for task in tasks} for name, texts in submissions.items()}
    tokens = {name: {task: [t for region in found for t in region + ["|"]] for task, found in by_task.items()}
              for name, by_task in regions.items()}
    report = {}
    for name in submissions:
        report[name] = {}
        for task in tasks:
            mine = tokens[name][task]
            peers = {other: peer_closeness(mine, tokens[other][task]) for other in submissions if other != name}
            closest = max(peers, key=peers.get) if peers else None
            entry = {"tokens": len(mine), "library": library_closeness(regions[name][task], known),
                     "peer": peers[closest] if closest else 0.0, "closest": closest, "flags": []}
            if len(mine) >= MINIMUM_TOKENS:
                if entry["library"] >= FLAG:
                    entry["flags"].append("library")
                if entry["peer"] >= FLAG:
                    entry["flags"].append(f"peer {closest}")
            report[name][task] = entry
    return report


def summary_row(entries):
    """The CSV columns of one submission: mean closeness to the library over its written tasks,
    the highest closeness to a peer (and who), and the flagged tasks."""
    written = [e for e in entries.values() if e["tokens"]]
    top = max(entries.items(), key=lambda item: item[1]["peer"], default=(None, {"peer": 0.0}))
    flags = [f"{task}: {flag}" for task, e in entries.items() for flag in e["flags"]]
    return {"library_similarity": round(sum(e["library"] for e in written) / len(written), 3) if written else 0.0,
            "peer_similarity": round(top[1]["peer"], 3),
            "closest_peer": top[1].get("closest") or "",
            "copy_flags": "; ".join(flags)}


def write_report(report, path):
    """A short Markdown report: the flagged regions first, then every submission's figures."""
    tasks = sorted({task for entries in report.values() for task in entries})
    lines = ["# Similarity of the task regions", "",
             f"Identifiers, numbers and strings normalised; library = share of {WINDOW}-token windows found "
             f"in the public library; peer = difflib ratio with the closest other submission. Flagged: "
             f">= {FLAG} on a region of >= {MINIMUM_TOKENS} tokens.", "", "## Flagged", ""]
    flagged = [(name, task, e) for name, entries in sorted(report.items()) for task, e in entries.items() if e["flags"]]
    lines += [f"- {name} / {task}: {', '.join(e['flags'])} (library {e['library']:.2f}, peer {e['peer']:.2f})"
              for name, task, e in flagged] or ["- none"]
    lines += ["", "## Figures (library / peer)", "", "| submission | " + " | ".join(tasks) + " |",
              "|---|" + "---|" * len(tasks)]
    for name, entries in sorted(report.items()):
        cells = [f"{entries[t]['library']:.2f} / {entries[t]['peer']:.2f}" if entries[t]["tokens"] else "-"
                 for t in tasks]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def library_texts(package_folder):
    """{relative path: text} of every Python file of the library folder ``package_folder``."""
    texts = {}
    for folder, subfolders, names in os.walk(package_folder):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as handle:
                    texts[os.path.relpath(path, os.path.dirname(package_folder))] = handle.read()
    return texts


def copy_columns(folder, names, files, tasks, package_folder, report_path):
    """For ``grade --all``: compare the submissions ``folder/<name>`` (their task ``files``) with
    the library and with each other, write the report to ``report_path`` and return
    {name: the CSV columns of :func:`summary_row`}."""
    submissions = {name: read_texts(os.path.join(folder, name), files) for name in names}
    report = compare(submissions, library_texts(package_folder), tasks)
    write_report(report, report_path)
    rows = {name: summary_row(entries) for name, entries in report.items()}
    seeds = {name: _questions_seed(os.path.join(folder, name)) for name in names}
    for name, seed in seeds.items():
        same = [other for other in names if other != name and seed is not None and seeds[other] == seed]
        if same:                        # the answers follow from the seed: a shared one is a shared file
            flag = f"questions: same seed {seed} as {', '.join(same)}"
            rows[name]["copy_flags"] = "; ".join(filter(None, [rows[name]["copy_flags"], flag]))
    return rows


def _questions_seed(folder):
    from scratchflow_course.questions import FILE, read_answers   # local import: grading's side
    path = os.path.join(folder, FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as handle:
        return read_answers(handle.read(100_000)).get("seed") or None


COLUMNS = ["library_similarity", "peer_similarity", "closest_peer", "copy_flags"]
