"""Every ```python block of README.md and docs/*.md runs as printed, and prints what the text says.

Rules the documents follow (and this file enforces):

* a block is whole: it runs alone, in a fresh namespace, in an empty folder. A block that goes on
  from the one above it says so on the line before it with ``<!-- continues the block above -->``
  and runs in that block's namespace;
* a plain ``` block right after a python block is that block's printed output: each of its lines
  must be printed, in order (a line ``...`` stands for any lines);
* a ``print(...)`` line whose comment starts with a number (``print(kl)   # 0.36``) printed that
  number, rounded as the comment is.

To stay fast the blocks run with their training loops cut to :data:`FAST_STEPS` steps (``range(K)``
and ``steps=K`` in the text); the printed numbers are compared when a block ran as printed: always
for a block without a training loop, and at its printed size for the others in the slow test
(the long ones with ``SCRATCHFLOW_DOCS_FULL=1``).
"""
import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CONTINUES = "<!-- continues the block above -->"
FAST_STEPS = 20
LOOP_SIZES = re.compile(r"(range\(|steps=)(\d[\d_]*)")
QUOTED_NUMBER = re.compile(r"^\s*print\(.*\)\s*#\s*≈?\s*(-?\d+\.\d+)")
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def doc_blocks(path):
    """``[(line, code, expected_output or None, continues)]`` of the python blocks in ``path``."""
    text = path.read_text()
    fences = list(FENCE.finditer(text))
    blocks = []
    for index, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        following = fences[index + 1] if index + 1 < len(fences) else None
        output = None
        if (following is not None and following.group(1) == ""
                and not text[fence.end():following.start()].strip()):
            output = following.group(2)
        before = text[:fence.start()].rstrip().splitlines()
        continues = bool(before) and before[-1].strip() == CONTINUES
        blocks.append((text[:fence.start()].count("\n") + 1, fence.group(2), output, continues))
    return blocks


def block_groups():
    """Blocks grouped by continuation: each group runs in one namespace, as one pytest case."""
    groups = []
    for path in DOCUMENTS:
        for line, code, output, continues in doc_blocks(path):
            if continues and groups and groups[-1][0] == path:
                groups[-1][1].append((line, code, output))
            else:
                groups.append((path, [(line, code, output)]))
    return groups


GROUPS = block_groups()
IDS = [f"{path.name}:{blocks[0][0]}" for path, blocks in GROUPS]
# Blocks that quote numbers printed after a training loop, run at their printed size: the reverse-KL
# recipe takes seconds; the README's and training.md's 2000 Real-NVP steps take a minute or more
# each on a busy machine, so they run with SCRATCHFLOW_DOCS_FULL=1.
FULL_SIZE = (("README.md", "training.md", "reverse_kl.md") if os.environ.get("SCRATCHFLOW_DOCS_FULL")
             else ("reverse_kl.md",))


def cut_loops(code):
    """The code with every ``range(K)`` / ``steps=K`` above FAST_STEPS cut to FAST_STEPS."""
    def shorter(match):
        size = int(match.group(2).replace("_", ""))
        return f"{match.group(1)}{min(size, FAST_STEPS)}"
    return LOOP_SIZES.sub(shorter, code)


def run_group(blocks, fast, tmp_path, monkeypatch):
    """Run the blocks in one namespace inside ``tmp_path``; check outputs and quoted numbers."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__doc_block__"}
    for line, code, output in blocks:
        run_code = cut_loops(code) if fast else code
        as_printed = run_code == code
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(run_code, f"<block at line {line}>", "exec"), namespace)
        printed = printed.getvalue()
        if output is not None and as_printed:
            check_output(printed, output, line)
        if as_printed:
            check_quoted_numbers(code, printed, line)


def check_output(printed, expected, line):
    """Each expected line is printed, in order; ``...`` skips any lines."""
    lines = printed.splitlines()
    position, skipping = 0, False
    for wanted in expected.splitlines():
        if wanted.strip() == "...":
            skipping = True
            continue
        if skipping:
            while position < len(lines) and lines[position] != wanted:
                position += 1
        assert position < len(lines) and lines[position] == wanted, (
            f"block at line {line}: expected the line\n{wanted}\nprinted:\n{printed}")
        position, skipping = position + 1, False


def check_quoted_numbers(code, printed, line):
    """``print(...)  # 1.23``: the n-th such print printed 1.23 (rounded to the comment's digits)."""
    quoted = [QUOTED_NUMBER.match(source_line) for source_line in code.splitlines()]
    quoted = [match.group(1) for match in quoted if match]
    if not quoted:
        return
    numbers = re.findall(r"-?\d+\.\d+", printed)
    for value in quoted:
        decimals = len(value.split(".")[1])
        rounded = [f"{float(number):.{decimals}f}" for number in numbers]
        assert value in rounded, f"block at line {line} quotes {value}; it printed:\n{printed}"


@pytest.mark.parametrize("path, blocks", GROUPS, ids=IDS)
def test_every_doc_block_runs(path, blocks, tmp_path, monkeypatch):
    run_group(blocks, True, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("path, blocks", [group for group, name in zip(GROUPS, IDS)
                                          if name.startswith(FULL_SIZE)
                                          and any(QUOTED_NUMBER.match(source_line)
                                                  for _, code, _ in group[1]
                                                  for source_line in code.splitlines())],
                         ids=lambda value: getattr(value, "name", None))
def test_numbers_quoted_beside_a_training_loop_are_what_it_prints(path, blocks, tmp_path,
                                                                  monkeypatch):
    run_group(blocks, False, tmp_path, monkeypatch)


def test_the_rules_hold_for_a_made_up_document(tmp_path, monkeypatch):
    """A continuation runs in its block's namespace; a wrong output line and a wrong quoted number
    fail; a cut loop skips the comparison."""
    doc = tmp_path / "doc.md"
    doc.write_text("```python\nvalue = 2.5\n```\n\n" + CONTINUES + "\n```python\n"
                   "print(value)   # 2.5\n```\n\n```\n2.5\n```\n")
    blocks = doc_blocks(doc)
    assert [continues for *_, continues in blocks] == [False, True] and blocks[1][2] == "2.5\n"
    run_group([block[:3] for block in blocks], True, tmp_path, monkeypatch)
    with pytest.raises(AssertionError, match="quotes 2.6"):
        run_group([(1, "print(2.5)   # 2.6\n", None)], True, tmp_path, monkeypatch)
    with pytest.raises(AssertionError, match="expected the line"):
        run_group([(1, "print('a')\nprint('b')\n", "a\n...\nc\n")], True, tmp_path, monkeypatch)
    run_group([(1, "for step in range(3000):\n    pass\nprint(1.0)   # 2.0\n", None)], True,
              tmp_path, monkeypatch)
    assert cut_loops("range(3000), steps=2_000, range(5)") == "range(20), steps=20, range(5)"
    assert os.path.isdir(tmp_path)
