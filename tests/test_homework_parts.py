"""The homework machinery's parts on small made-up inputs, without running a probe: the task-region
parser and splicer, where a planted mistake may edit, the release's reference lines and the sync
comparison. (``test_homework.py`` runs them end to end on the real library and ``solutions/``;
``test_homework_verdict.py`` covers the verdict.)"""
import json
import os

import numpy as np
import pytest

from scratchflow_course.homework.build import _differences, _save_npz, mutant_files, package_root
from scratchflow_course.homework.regions import RegionError, carry_imports, find_regions, splice, strip
from scratchflow_course.homework.release import reference_lines

# ---------------------------------------------------------------------------------- regions


TWO_TASKS = '''def f(x):
    """Doc.

    # >>> task a
    the library's derivation
    # --- student
    the student's hint
    # <<< task a
    """
    # >>> task a
    y = x + 1
    # <<< task a
    return y


def g(x):
    # >>> task b
    return 2 * x
    # <<< task b
'''


def test_regions_are_found_in_order_with_their_function_and_parts():
    regions = find_regions(TWO_TASKS, "m.py")
    assert [(r.task, r.begin, r.end, r.is_code, r.function) for r in regions] == \
        [("a", 3, 7, False, None), ("a", 9, 11, True, "f"), ("b", 16, 18, True, "g")]
    assert regions[0].body == ["    the library's derivation\n"]
    assert regions[0].student == ["    the student's hint\n"]
    assert regions[1].body == ["    y = x + 1\n"] and regions[1].indent == "    "


def test_a_method_region_is_named_by_its_innermost_function():
    text = ("class C:\n    def outer(self):\n        def inner():\n            # >>> task a\n"
            "            return 1\n            # <<< task a\n        return inner()\n")
    assert find_regions(text)[0].function == "C.outer.inner"


@pytest.mark.parametrize("text, message", [
    ("def f():\n    # >>> task a\n    # >>> task b\n    # <<< task b\n    # <<< task a\n",
     "m.py:3: region 'task b' opens inside region 'task a' \\(line 2\\)"),
    ("def f():\n    # >>> task a\n    # <<< task b\n", "m.py:3: '# <<< task b' closes no open"),
    ("def f():\n    # <<< task a\n", "m.py:2: '# <<< task a' closes no open"),
    ("def f():\n    # --- student\n", "m.py:2: '# --- student' outside a region or twice"),
    ('"""\n# >>> task a\n# --- student\n# --- student\n# <<< task a\n"""\n',
     "m.py:4: '# --- student' outside a region or twice"),
    ("def f():\n    pass\n# >>> task a\nx = 1\n# <<< task a\n", "m.py:3: code region 'task a' is not "
     "inside a function"),
])
def test_malformed_markers_are_refused_with_the_line(text, message):
    with pytest.raises(RegionError, match=message):
        find_regions(text, "m.py")


def test_strip_stubs_code_regions_and_keeps_the_students_part_of_docstrings():
    stub = strip(TWO_TASKS, {"a": "Slide A", "b": "Slide B"}, "m.py")
    assert "the library's derivation" not in stub and "y = x + 1" not in stub
    assert "    # >>> task a\n    # --- student\n    the student's hint\n    # <<< task a\n" in stub
    assert ("    # >>> task a\n    raise NotImplementedError('task a (slide «Slide A»): f is yours to "
            "write; the docstring above gives the formula and the contract')\n    # <<< task a\n") in stub
    assert stub.endswith("    # >>> task b\n    raise NotImplementedError('task b (slide «Slide B»): g "
                         "is yours to write; the docstring above gives the formula and the "
                         "contract')\n    # <<< task b\n")


def test_an_extra_credit_stub_names_the_task_as_optional_and_what_needs_it():
    stub = strip(TWO_TASKS, {"a": "Slide A", "b": "Slide B"}, "m.py", extras={"b": "IAF.backward needs it"})
    assert ("raise NotImplementedError('task b (extra credit, slide «Slide B»): g is yours to write if you "
            "take the optional extra-credit task b; IAF.backward needs it')") in stub
    assert "task a (slide «Slide A»): f is yours to write; the docstring" in stub


OMITTED_CODE = '''"""Module.

# >>> task omitted
the sibling's derivation
# <<< task omitted
"""


def g(x):
    # >>> task b
    return 2 * x
    # <<< task b


def f(x):
    # >>> task omitted
    y = x + 1
    # <<< task omitted
    return y
'''


def test_strip_leaves_omitted_regions_out_markers_and_all_and_splice_never_fills_them():
    stub = strip(OMITTED_CODE, {"b": "Slide B"}, "m.py")
    assert "omitted" not in stub and "derivation" not in stub and "y = x + 1" not in stub
    assert stub.startswith('"""Module.\n\n(Not part of the homework release; it is in the public library.)\n"""\n')
    assert stub.endswith("def f(x):\n    raise NotImplementedError('f is not part of the homework release; it is "
                         "in the public library')\n    return y\n")
    spliced = splice(stub, OMITTED_CODE.replace("return 2 * x", "return 3 * x"), "b")
    namespace = {}
    exec(spliced, namespace)
    assert namespace["g"](1) == 3
    with pytest.raises(NotImplementedError, match="f is not part of the homework release"):
        namespace["f"](1)


def test_splice_takes_one_tasks_code_regions_and_nothing_else():
    stub = strip(TWO_TASKS, {"a": "A", "b": "B"})
    submitted = TWO_TASKS.replace("y = x + 1", "y = x + 10").replace("return 2 * x", "return 3 * x") \
        .replace("the student's hint", "the student's own text")
    spliced = splice(stub, submitted, "a")
    assert "y = x + 10" in spliced and "return 3 * x" not in spliced and "task b (slide «B»)" in spliced
    assert "the student's hint" in spliced and "own text" not in spliced
    namespace = {}
    exec(spliced, namespace)
    assert namespace["f"](1) == 11


def test_splice_carries_the_imports_a_submission_adds_and_no_other_code():
    library = '"""Doc."""\nimport math\n\n' + TWO_TASKS
    stub = strip(library, {"a": "A", "b": "B"})
    submitted = library.replace("import math\n", "import math\nimport numpy as np\nfrom os import path\n"
                                "from __future__ import annotations\nHELPER = 1\n") \
        .replace("y = x + 1", "y = np.add(x, 1)")
    spliced = splice(stub, submitted, "a")
    assert spliced.startswith('"""Doc."""\nimport math\nimport numpy as np\nfrom os import path\n\n')
    assert "HELPER" not in spliced and "__future__" not in spliced
    namespace = {}
    exec(spliced, namespace)
    assert namespace["f"](1) == 2
    assert carry_imports(stub, stub) == stub                          # nothing new: unchanged
    assert carry_imports("x = 1\n", "import os\n") == "import os\nx = 1\n"   # no import, no docstring: the top


def test_splice_reads_only_the_tasks_own_markers_of_a_submission():
    stub = strip(TWO_TASKS, {"a": "A", "b": "B"})
    broken_b = TWO_TASKS.replace("    # <<< task b\n", "")
    assert "y = x + 1" in splice(stub, broken_b, "a")
    for submitted, message in (
            (TWO_TASKS.replace("    # <<< task a\n    return y", "    return y"), "never closed"),
            (TWO_TASKS.replace("    y = x + 1\n", "    y = x + 1\n    # >>> task a\n"), "opens twice"),
            (TWO_TASKS.replace("    # >>> task a\n    y = x + 1\n", "    y = x + 1\n"),
             "closes no open region")):
        with pytest.raises(RegionError, match="the markers of your file cannot be read .*" + message):
            splice(stub, submitted, "a", "m.py")


def test_splice_refuses_a_region_that_leaves_its_function_or_breaks_the_file():
    stub = strip(TWO_TASKS, {"a": "A", "b": "B"})
    dedented = TWO_TASKS.replace("    return 2 * x\n", "    return 2 * x\n  y = 1\n")
    with pytest.raises(RegionError, match="indented less than its marker: 'y = 1'"):
        splice(stub, dedented, "b", "m.py")
    blank_line = TWO_TASKS.replace("    return 2 * x\n", "\n    return 2 * x\n")   # not a dedent
    assert "# >>> task b\n\n    return 2 * x\n" in splice(stub, blank_line, "b")
    with pytest.raises(RegionError, match=r"not valid Python \(line 17: invalid syntax\)"):
        splice(stub, TWO_TASKS.replace("return 2 * x", "return 2 *"), "b", "m.py")

# ---------------------------------------------------------------------------------- build


def _mistake(find, task="a"):
    return {"id": "m", "task": task, "file": "scratchflow/m.py", "edits": [[find, "changed\n"]]}


@pytest.fixture
def root(tmp_path):
    os.makedirs(tmp_path / "scratchflow")
    (tmp_path / "scratchflow" / "m.py").write_text(TWO_TASKS, encoding="utf-8")
    return str(tmp_path)


def test_a_mistake_edits_lines_inside_a_code_region_of_its_own_task(root):
    assert mutant_files(root, _mistake("    y = x + 1\n")) == \
        {"scratchflow/m.py": TWO_TASKS.replace("    y = x + 1\n", "changed\n")}
    assert "changed" in mutant_files(root, _mistake("    return 2 * x\n", task="b"))["scratchflow/m.py"]


@pytest.mark.parametrize("find, task", [
    ("    return 2 * x\n", "a"),                                 # another task's code region
    ("    the library's derivation\n", "a"),                    # a docstring region
    ("    # >>> task a\n    y = x + 1\n", "a"),                  # reaches the opening marker
    ("    y = x + 1\n    # <<< task a\n", "a"),                  # reaches the closing marker
    ("    return y\n", "a"),                                     # after the region
    ("def g(x):\n", "b"),                                        # before the region
])
def test_a_mistake_outside_its_tasks_code_region_is_refused(root, find, task):
    with pytest.raises(ValueError, match="is not inside a region of task"):
        mutant_files(root, _mistake(find, task))


def test_a_mistakes_text_must_occur_exactly_once(root):
    with pytest.raises(ValueError, match="occurs 2 times in scratchflow/m.py, not once"):
        mutant_files(root, _mistake("    # >>> task a\n"))
    with pytest.raises(ValueError, match="occurs 0 times"):
        mutant_files(root, _mistake("    y = x + 2\n"))
    assert json.dumps(_mistake("x"))                               # a mistake is plain JSON


def test_differences_lists_missing_extra_and_changed_files_and_ignores_bytecode(tmp_path):
    """``check_sync``'s comparison: text files byte for byte, ``.npz`` files by their arrays (floats
    to round-off, NaN equal to NaN, other dtypes exactly); ``__pycache__`` and ``.pyc`` are not
    part of a release."""
    fresh, existing = tmp_path / "fresh", tmp_path / "existing"
    for folder in (fresh, existing):
        os.makedirs(folder / "tests" / "__pycache__")
        (folder / "tests" / "__pycache__" / "x.cpython-311.pyc").write_bytes(os.urandom(8))
        (folder / "README.md").write_text("same\n")
    (existing / "stale.pyc").write_bytes(b"")
    np.savez(fresh / "a.npz", x=np.array([1.0, np.nan]), n=np.array([1, 2]))
    np.savez(existing / "a.npz", x=np.array([1.0 + 1e-13, np.nan]), n=np.array([1, 2]))
    assert _differences(str(fresh), str(existing)) == []
    for changed in ({"x": np.array([1.0 + 1e-6, np.nan]), "n": np.array([1, 2])},
                    {"x": np.array([1.0, 0.0]), "n": np.array([1, 2])},
                    {"x": np.array([1.0, np.nan]), "n": np.array([1, 3])},
                    {"x": np.array([[1.0, np.nan]]), "n": np.array([1, 2])},
                    {"x": np.array([1.0, np.nan])}):
        np.savez(existing / "a.npz", **changed)
        assert _differences(str(fresh), str(existing)) == ["differs: a.npz"], changed
    np.savez(existing / "a.npz", x=np.array([1.0, np.nan]), n=np.array([1, 2]))
    (existing / "README.md").write_text("sane\n")              # same size and time: still read
    stat = os.stat(fresh / "README.md")
    os.utime(existing / "README.md", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _differences(str(fresh), str(existing)) == ["differs: README.md"]
    (existing / "README.md").write_text("edited by hand\n")
    (fresh / "new.py").write_text("")
    (existing / "old.py").write_text("")
    assert _differences(str(fresh), str(existing)) == ["missing: new.py", "not generated: old.py",
                                                       "differs: README.md"]
    assert _differences(str(fresh), str(tmp_path / "absent")) == \
        ["missing: README.md", "missing: a.npz", "missing: new.py"]



@pytest.mark.parametrize("task", ["adam", "coupling"])
def test_saved_npz_files_hold_data_only_and_are_rewritten_byte_for_byte(task, tmp_path):
    """The expected outputs are data (no pickle), and writing the same arrays again gives the same
    bytes as the committed file: a regeneration shows no change in a checkout unless a value did."""
    committed = os.path.join(package_root(), "exercises", "tests", "expected", f"{task}.npz")
    with np.load(committed, allow_pickle=False) as loaded:
        arrays = {name: loaded[name] for name in loaded.files}
    _save_npz(str(tmp_path / "again.npz"), arrays)
    with open(committed, "rb") as old, open(tmp_path / "again.npz", "rb") as new:
        assert old.read() == new.read()
    with pytest.raises(ValueError, match="allow_pickle"):
        _save_npz(str(tmp_path / "bad.npz"), {"bad": np.array([{}], dtype=object)})


def test_reference_lines_are_every_telling_line_of_every_region_and_only_those(root):
    """What the release must not leak: each region line of some length, not a comment, found
    nowhere else in the library; the last line of a region included."""
    assert reference_lines(root, minimum=5) == {
        "the library's derivation": ("scratchflow/m.py", "a"),
        "y = x + 1": ("scratchflow/m.py", "a"), "return 2 * x": ("scratchflow/m.py", "b")}
    assert set(reference_lines(root, minimum=12)) == {"the library's derivation", "return 2 * x"}
    assert set(reference_lines(root, minimum=13)) == {"the library's derivation"}   # 12 characters
    with open(os.path.join(root, "scratchflow", "other.py"), "w", encoding="utf-8") as handle:
        handle.write("def h(x):\n    return 2 * x\n")                 # everyone's line now
    assert set(reference_lines(root, minimum=5)) == {"the library's derivation", "y = x + 1"}
