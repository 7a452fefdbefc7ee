"""The generator: library with markers + ``solutions/`` -> ``exercises/`` (the student side).

``exercises/`` holds, all generated and never edited by hand:

* ``scratchflow/...``: the stubbed copies of the library files that hold task regions (same paths);
* ``tests/test_<task>.py``: one public test per probe of the task, run by the release's own
  ``tests/homework_checker.py`` (a copy of :mod:`~scratchflow_course.homework.verdict`) on the
  probes of ``tests/homework_probes.py`` (:mod:`~scratchflow_course.homework.shipped_probes`);
* ``tests/expected/<task>.npz`` (data only) and ``<task>.json``: the reference's outputs of each
  probe at the public seed and what each probe checks; the known mistakes, numbered, each as a
  sealed signature whose hint only outputs that match it can read;
* ``README.md``: task -> files -> slide -> points.

The expected values and the mistakes' signatures are computed by running the probes on the
reference and on each mutant (``solutions/mistakes.json``) in one worker process
(:mod:`scratchflow_course.homework.worker`). :func:`check_sync` regenerates into a temporary folder and
lists every difference.
"""
import ast
import filecmp
import io
import json
import os
import shutil
import tempfile
import zipfile

import numpy as np

from scratchflow_course.homework import all_probes
from scratchflow_course.homework.regions import OMITTED, RegionError, find_regions, read_prompts, strip
from scratchflow_course.homework.shipped_probes import shipped_probes
from scratchflow_course.homework.verdict import seal
from scratchflow_course.homework.worker import run_variants



def package_root():
    """The folder holding the ``scratchflow`` package (and, in a checkout, ``solutions/``)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CourseSourceMissing(RuntimeError):
    """The instructor's folder, or the library source or exercises beside it, is not where given."""


def course_root(source, exercises=False):
    """The folder holding ``source`` (the instructor's ``solutions/``) and the library's source
    beside it, checked; with ``exercises``, also the generated ``exercises/`` there. Raises
    :class:`CourseSourceMissing` with one line saying what is needed (an installed course package
    has no ``solutions/`` of its own)."""
    source = os.path.abspath(source)
    root = os.path.dirname(source)
    if not os.path.isfile(os.path.join(source, "homework.json")) or \
            not os.path.isdir(os.path.join(root, "scratchflow")):
        raise CourseSourceMissing(
            f"no course source at {source}: this needs the instructor's solutions/ folder "
            "(homework.json, mistakes.json, prompts/) beside the library's scratchflow/ of a "
            "checkout; run it in the checkout or pass --source CHECKOUT/solutions")
    if exercises and not os.path.isdir(os.path.join(root, "exercises", "tests")):
        raise CourseSourceMissing(f"no exercises/ beside {source}: run 'scratchflow-course "
                                  "generate-exercises' first")
    return root


def load_homework(root):
    """``solutions/homework.json``, checked against the regions and the probes."""
    with open(os.path.join(root, "solutions", "homework.json"), encoding="utf-8") as handle:
        homework = json.load(handle)
    tasks = {task["id"]: task for task in homework["tasks"]}
    total = sum(task["points"] for task in tasks.values() if not task.get("extra")) + \
        homework.get("questions", {}).get("points", 0)
    if total != 100:
        raise ValueError(f"homework.json: the regular tasks' and the questions' points add up to {total}, "
                         "not 100 (an extra-credit task's points come on top)")
    probes = all_probes()
    found = {}
    for relative, text in region_files(root).items():
        for region in find_regions(text, relative):
            if region.task == OMITTED:
                continue
            if region.task not in tasks:
                raise RegionError(f"{relative}:{region.begin + 1}: task {region.task!r} is not in homework.json")
            if region.is_code:           # a docstring region may stand in a file the task does not ask for
                found.setdefault(region.task, set()).add(relative)
    for task_id, task in tasks.items():
        if set(task["files"]) != found.get(task_id, set()):
            raise ValueError(f"task {task_id!r}: homework.json lists files {task['files']}, the regions "
                             f"are in {sorted(found.get(task_id, ()))}")
        if task_id not in probes:
            raise ValueError(f"task {task_id!r} has no probes in scratchflow_course.homework")
    return homework


def load_mistakes(root):
    with open(os.path.join(root, "solutions", "mistakes.json"), encoding="utf-8") as handle:
        return json.load(handle)["mistakes"]


def region_files(root):
    """``{relative path: text}`` of the library files that hold task regions."""
    files = {}
    for folder, subfolders, names in os.walk(os.path.join(root, "scratchflow")):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            relative = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if not name.endswith(".py"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                text = handle.read()
            if "# >>> task " in text:
                files[relative] = text
    return files


def slides(homework):
    return {task["id"]: task["slide"] for task in homework["tasks"]}


def extras(homework):
    """Extra-credit task id -> what in the library needs it (the stub's message says so)."""
    return {task["id"]: task["needed_for"] for task in homework["tasks"] if task.get("extra")}


def load_prompts(root, homework):
    """``{file: {(task, where): lines}}``: the students' prompts, ``solutions/prompts/<task>.md``
    (see :func:`~scratchflow_course.homework.regions.read_prompts`)."""
    prompts, files = {}, region_files(root)
    for task in homework["tasks"]:
        path = os.path.join(root, "solutions", "prompts", task["id"] + ".md")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                for relative, sections in read_prompts(handle.read(), task["id"], path).items():
                    if relative not in files:
                        raise RegionError(f"{path}: {relative} holds no task region")
                    prompts.setdefault(relative, {}).update(sections)
    return prompts


def stubbed_files(root, homework):
    prompts = load_prompts(root, homework)
    return {relative: strip(text, slides(homework), relative, prompts.get(relative), extras(homework))
            for relative, text in region_files(root).items()}


def mutant_files(root, mistake):
    """The one file a mistake changes, each of its ``edits`` ([find, replace]) applied, each
    ``find`` checked to occur once and to lie in a code region of the mistake's task."""
    relative = mistake["file"]
    text = region_files(root)[relative]
    regions = [r for r in find_regions(text, relative) if r.is_code and r.task == mistake["task"]]
    mutated = text
    for find, replace in mistake["edits"]:
        if text.count(find) != 1:
            raise ValueError(f"mistake {mistake['id']!r}: {find[:40]!r} occurs {text.count(find)} "
                             f"times in {relative}, not once")
        first = text[:text.index(find)].count("\n")
        last = first + find.rstrip("\n").count("\n")
        if not any(r.begin < first and last < r.end for r in regions):
            raise ValueError(f"mistake {mistake['id']!r}: {find[:40]!r} is not inside a region of task "
                             f"{mistake['task']!r}")
        mutated = mutated.replace(find, replace)
    return {relative: mutated}


def _test_file(task, probes):
    names = ", ".join(repr(name) for name, _, _ in probes)
    return f'''"""Public tests of task {task["id"]}: {task["title"]} ({task["points"]} points).

Slide «{task["slide"]}». Files: {", ".join(task["files"])}.
Each test runs one probe (``homework_probes.py``) on your code with the public seed and compares
its outputs with the reference's, stored in ``expected/{task["id"]}.npz``; a recognised mistake
gets its hint. The grader runs the same probes with other seeds. Generated; do not edit.
"""
import pytest

from homework_checker import run_and_judge
from homework_probes import PROBES


@pytest.mark.parametrize("probe", [{names}])
def test_{task["id"]}(probe):
    run_and_judge(__file__, "{task["id"]}", probe, PROBES)
'''


def _shares(root):
    """The public share of a task's points, read from the grader's checks (``PUBLIC_SHARE``)."""
    with open(os.path.join(root, "solutions", "autograder", "checks.py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["PUBLIC_SHARE"]:
            return float(ast.literal_eval(node.value))
    raise ValueError("solutions/autograder/checks.py sets no PUBLIC_SHARE")


def _readme(root, homework):
    with open(os.path.join(root, "solutions", "reading.json"), encoding="utf-8") as handle:
        reading = json.load(handle)["reading"]
    missing = sorted({t["id"] for t in homework["tasks"]} - set(reading))
    if missing:
        raise ValueError(f"solutions/reading.json names no reading for {', '.join(missing)}")
    rows = "\n".join(f"| `{t['id']}` | {t['title']} | {', '.join(f'`{f}`' for f in t['files'])} | "
                     f"{t['slide']} | {reading[t['id']]} | "
                     + (f"+{t['points']} extra credit |" if t.get("extra") else f"{t['points']} |")
                     for t in homework["tasks"])
    public = _shares(root)
    shares = (f"each task's points are split over its checks: {public:.0%} for passing them at the "
              f"public seed (what your tests run) and **{1 - public:.0%} for passing them at hidden "
              "seeds** the grader draws per submission.")
    questions = homework.get("questions")
    handed = ""
    if questions:
        from scratchflow_course.questions import FILE   # local import: the course's side, not shipped
        handed = (f", and `{FILE}` with your answers to the questions ({questions['points']:g} "
                  "of the 100 points; the file explains the seed you choose; for the question that asks "
                  "what your Real-NVP reaches, the grader trains your own submitted code with the same "
                  "command and seed and compares your answer with that run)")
    with open(os.path.join(os.path.dirname(__file__), "README.template.md"), encoding="utf-8") as handle:
        return (handle.read().replace("<!-- tasks -->", rows).replace("<!-- name -->", homework["name"])
                .replace("<!-- shares -->", shares).replace("<!-- questions -->", handed))


def variants(root, homework, mistakes):
    """The reference and one variant per mistake (named ``mistake-<id>``), for :func:`run_variants`."""
    found = [{"name": "reference", "files": {}, "tasks": [t["id"] for t in homework["tasks"]]}]
    return found + [{"name": "mistake-" + m["id"], "files": mutant_files(root, m), "tasks": [m["task"]]}
                    for m in mistakes]


def generate(root, out, results=None):
    """Write the student side into ``out`` (replacing what was there); return the paths written.
    ``results``: the probes' outputs of :func:`variants` at the public seed if already computed."""
    homework, mistakes = load_homework(root), load_mistakes(root)
    seed = homework["public_seed"]
    results = results or run_variants(root, variants(root, homework, mistakes), [seed])
    staging = tempfile.mkdtemp(prefix=".exercises-", dir=os.path.dirname(os.path.abspath(out)))
    try:
        _write_student_side(root, staging, homework, mistakes, results, seed)
    except BaseException:             # a failed run leaves ``out`` as it was and no staging behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_in(staging, out)
    return sorted(os.path.relpath(os.path.join(d, n), out) for d, _, ns in os.walk(out) for n in ns)


def _write_student_side(root, staging, homework, mistakes, results, seed):
    """Write the stubbed files, each task's public test and its expected values into ``staging``."""
    probes = all_probes()
    for relative, text in stubbed_files(root, homework).items():
        _write(os.path.join(staging, relative), text)
    for task in homework["tasks"]:
        task_id = task["id"]
        reference = results["reference"][seed][task_id]
        arrays = {}
        for probe, outputs in reference.items():
            if isinstance(outputs, str):
                raise RuntimeError(f"the reference fails probe {task_id}/{probe}: {outputs}")
            arrays.update({f"expected/{probe}/{name}": value for name, value in outputs.items()})
        number = 0
        for mistake in (m for m in mistakes if m["task"] == task_id):
            hint = f"({mistake['id']}): {mistake['hint']}"
            for probe, outputs in results["mistake-" + mistake["id"]][seed][task_id].items():
                if isinstance(outputs, str) or any(not np.array_equal(outputs.get(n), v)
                                                   for n, v in reference[probe].items()):
                    number += 1                   # numbered, not named: an id would be a hint
                    arrays.update({f"mistake/{number:03d}/{probe}/{field}": value
                                   for field, value in seal(outputs, hint).items()})
        tests = os.path.join(staging, "tests")
        os.makedirs(os.path.join(tests, "expected"), exist_ok=True)
        _save_npz(os.path.join(tests, "expected", f"{task_id}.npz"), arrays)
        meta = {"seed": seed, "probes": {name: what for name, _, what in probes[task_id]}}
        _write(os.path.join(tests, "expected", f"{task_id}.json"),
               json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        _write(os.path.join(tests, f"test_{task_id}.py"), _test_file(task, probes[task_id]))
    _write(os.path.join(staging, "tests", "homework_probes.py"), shipped_probes())
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "verdict.py"), encoding="utf-8") as handle:
        _write(os.path.join(staging, "tests", "homework_checker.py"), handle.read())
    _write(os.path.join(staging, "README.md"), _readme(root, homework))
    if homework.get("questions"):
        from scratchflow_course import questions   # local import: the course's side, not shipped
        _write(os.path.join(staging, questions.FILE), questions.template())


def swap_in(staging, out):
    """Put the complete folder ``staging`` at ``out``; the old ``out`` is moved aside first and
    removed only after, so an interrupted run never leaves ``out`` missing or half-written."""
    aside = None
    if os.path.isdir(out):
        aside = f"{out}.old-{os.getpid()}"
        os.rename(out, aside)
    os.replace(staging, out)
    if aside:
        shutil.rmtree(aside, ignore_errors=True)


def _save_npz(path, arrays):
    """``np.savez`` with fixed member dates (ZipInfo's default, 1980-01-01, not the file's time), so
    that a regeneration writes the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[name]), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(name + ".npy"), buffer.getvalue())


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def check_sync(root, exercises, results=None):
    """Differences between ``exercises`` and a fresh generation (empty list: in sync)."""
    with tempfile.TemporaryDirectory(prefix="scratchflow-sync-") as scratch:
        fresh = os.path.join(scratch, "exercises")
        generate(root, fresh, results)
        return _differences(fresh, exercises)


def _differences(fresh, existing):
    def listing(folder):
        return {os.path.relpath(os.path.join(d, n), folder) for d, sub, ns in os.walk(folder)
                for n in ns if "__pycache__" not in d and not n.endswith(".pyc")} if os.path.isdir(folder) else set()
    new, old = listing(fresh), listing(existing)
    problems = [f"missing: {p}" for p in sorted(new - old)] + [f"not generated: {p}" for p in sorted(old - new)]
    for relative in sorted(new & old):
        a, b = os.path.join(fresh, relative), os.path.join(existing, relative)
        if relative.endswith(".npz"):
            with np.load(a) as x, np.load(b) as y:
                same = set(x.files) == set(y.files) and all(
                    x[k].shape == y[k].shape and np.allclose(x[k], y[k], rtol=1e-10, atol=1e-12, equal_nan=True)
                    if x[k].dtype.kind in "fc" else np.array_equal(x[k], y[k]) for k in x.files)
        else:
            same = filecmp.cmp(a, b, shallow=False)
        if not same:
            problems.append(f"differs: {relative}")
    return problems
