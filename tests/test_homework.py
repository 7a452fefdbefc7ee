"""The homework built from the library's own regions: exercises/ in sync, the release without an
answer, the student path (fill from the key -> public tests pass -> train), stubs failing every
check, and the mutant corpus (solutions/mistakes.json): each mistake fails its own task's public
and hidden checks, is recognised by its hint, and cannot reach another task's grading package.

The probes of every variant (reference, stubs, each mutant) run once, in one worker process.
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from scratchflow_course import questions
from scratchflow_course.grading.grader import Grader
from scratchflow_course.homework import all_probes
from scratchflow_course.homework.build import (check_sync, generate, load_homework, load_mistakes,
                                        mutant_files, package_root, stubbed_files, variants)
from scratchflow_course.homework.regions import RegionError, find_regions, splice, strip
from scratchflow_course.homework.release import build_release, fill_from, reference_lines
from scratchflow_course.homework.verdict import first_difference, judge, load_expected
from scratchflow_course.homework.worker import run_variants
from tests.grading_fixtures.helpers import grader_run

ROOT = package_root()
HOMEWORK = load_homework(ROOT)
MISTAKES = load_mistakes(ROOT)
TASKS = [task["id"] for task in HOMEWORK["tasks"]]
PUBLIC, HIDDEN = HOMEWORK["public_seed"], HOMEWORK["hidden_seeds"]


HALF_FILLED_CHECKS = """
import numpy as np
from scratchflow import AffineCoupling, Example2Map, check_bijector, check_module
from scratchflow.bijectors.triangular import LowerTriangular
from scratchflow.nn.linear import Linear
rng = np.random.default_rng(0)
x = np.column_stack([rng.uniform(0.5, 2, 5), rng.normal(size=5)])
print(check_bijector(Example2Map(), x))
print(check_bijector(LowerTriangular(np.array([[-2.0, 0], [0.5, 1.5]])), rng.normal(size=(5, 2))))
print(check_bijector(AffineCoupling(3, [1, 0, 0], hidden=(4,), zero_init=False, rng=0), rng.normal(size=(5, 3))))
print(check_module(Linear(3, 2, rng=0), rng.normal(size=(4, 3))))
"""


@pytest.fixture(scope="module")
def outputs():
    stubs = {"name": "stubs", "files": stubbed_files(ROOT, HOMEWORK), "tasks": TASKS}
    return run_variants(ROOT, variants(ROOT, HOMEWORK, MISTAKES) + [stubs], [PUBLIC] + HIDDEN)


def failing_probes(outputs, name, task, seed):
    reference = outputs["reference"][seed][task]
    return [probe for probe, got in outputs[name][seed][task].items()
            if isinstance(got, str) or first_difference(got, reference[probe]) is not None]


def test_exercises_are_in_sync_with_the_library(outputs):
    assert check_sync(ROOT, os.path.join(ROOT, "exercises"), outputs) == []


def test_points_and_the_corpus_cover_every_task():
    regular = [task for task in HOMEWORK["tasks"] if not task.get("extra")]
    assert sum(task["points"] for task in regular) + HOMEWORK["questions"]["points"] == 100
    assert 10 <= HOMEWORK["questions"]["points"] <= 20
    assert len(MISTAKES) >= 40 and len({m["id"] for m in MISTAKES}) == len(MISTAKES)
    assert {m["task"] for m in MISTAKES} == set(TASKS)


def test_reference_passes_every_probe_at_every_seed(outputs):
    for seed in [PUBLIC] + HIDDEN:
        for task in TASKS:
            for probe, got in outputs["reference"][seed][task].items():
                assert not isinstance(got, str), (task, probe, got)
                assert all(np.isfinite(np.asarray(v, dtype=float)).all() for v in got.values()), (task, probe)


def test_hidden_inputs_differ_from_public_ones(outputs):
    for task in TASKS:
        for probe, public in outputs["reference"][PUBLIC][task].items():
            hidden = outputs["reference"][HIDDEN[0]][task][probe]
            assert first_difference(hidden, public) is not None, (task, probe)


def test_stubs_fail_every_check_public_and_hidden(outputs):
    for seed in [PUBLIC] + HIDDEN:
        for task in TASKS:
            for probe, got in outputs["stubs"][seed][task].items():
                assert isinstance(got, str) and got.startswith("NotImplementedError: task "), (task, probe, got)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m["id"] for m in MISTAKES])
def test_mutant_fails_its_task_only_and_gets_its_hint(mistake, outputs):
    task = mistake["task"]
    for seed in [PUBLIC] + HIDDEN:
        assert failing_probes(outputs, "mistake-" + mistake["id"], task, seed), f"passes at seed {seed}"
    meta, expected, signatures = load_expected(os.path.join(ROOT, "exercises", "tests", "expected"), task)
    messages = []
    for probe, got in outputs["mistake-" + mistake["id"]][PUBLIC][task].items():
        got = {"__error__": got} if isinstance(got, str) else got       # as the grader reports it
        messages.append(judge(meta["probes"][probe], got, expected[probe], signatures.get(probe))[1])
    assert any(f"({mistake['id']})" in message for message in messages), messages
    mutated = mutant_files(ROOT, mistake)
    for relative, text in mutated.items():           # no other task's grading package can see it
        stub = stubbed_files(ROOT, HOMEWORK)[relative]
        with open(os.path.join(ROOT, relative), encoding="utf-8") as handle:
            reference = handle.read()
        for other in {r.task for r in find_regions(stub, relative) if r.is_code} - {task}:
            assert splice(stub, text, other, relative) == splice(stub, reference, other, relative)


def test_release_has_no_answer_and_the_student_path_works(tmp_path):
    release = str(tmp_path / "release")
    build_release(ROOT, os.path.join(ROOT, "exercises"), release)
    lines = reference_lines(ROOT)
    assert len(lines) > 100
    for folder, _, names in os.walk(release):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
            leaked = [line for line in lines if line in text]
            assert not leaked, (os.path.join(folder, name), leaked[:3])
    assert not os.path.exists(os.path.join(release, "solutions"))
    env = {**os.environ, "PYTHONPATH": release, "OMP_NUM_THREADS": "1"}
    half = ["change_of_variables", "triangular", "mlp_backward", "coupling", "coupling_backward"]
    fill_from(release, ROOT, half)               # the checkers work while the other tasks are stubs
    checked = subprocess.run([sys.executable, "-c", HALF_FILLED_CHECKS], cwd=str(tmp_path), env=env,
                             capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.count(" 0 failed, 0 skipped") == 4, \
        checked.stdout[-2000:] + checked.stderr[-2000:]
    fill_from(release, ROOT, TASKS)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                           cwd=release, env=env, capture_output=True, text=True)
    count = sum(len(probes) for probes in all_probes().values())
    assert tests.returncode == 0 and f"{count} passed" in tests.stdout, tests.stdout[-2000:]
    train = subprocess.run([sys.executable, "-m", "scratchflow.cli", "train", "--model", "realnvp", "--data",
                            "moons", "--steps", "30", "--layers", "2", "--hidden", "8", "--n-train", "300",
                            "--n-val", "100", "--no-progress", "--no-figures", "--out", str(tmp_path / "run")],
                           cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert train.returncode == 0, train.stderr[-2000:]
    assert os.path.isfile(tmp_path / "run" / "model.npz")
    answer_the_questions(release, env, tmp_path)


def test_a_student_who_skips_the_extra_credit_runs_everything_but_what_needs_it(tmp_path):
    """Every regular task filled, the extra-credit one left as handed out: the regular public tests
    pass, a MAF trains on data, and IAF maximum-likelihood training stops with the stub's message,
    which names the optional task and what needs it."""
    release = str(tmp_path / "release")
    build_release(ROOT, os.path.join(ROOT, "exercises"), release)
    extra = [task["id"] for task in HOMEWORK["tasks"] if task.get("extra")]
    assert extra == ["adjoint"]
    fill_from(release, ROOT, [task for task in TASKS if task not in extra])
    env = {**os.environ, "PYTHONPATH": release, "OMP_NUM_THREADS": "1"}
    env.pop("CI", None)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                           cwd=release, env=env, capture_output=True, text=True)
    count, skipped = sum(len(p) for p in all_probes().values()), len(all_probes()["adjoint"])
    assert f"{skipped} failed, {count - skipped} passed" in tests.stdout, tests.stdout[-2000:]
    assert tests.stdout.count("not written yet (task adjoint (extra credit") == skipped, tests.stdout[-2000:]
    common = ["--data", "moons", "--steps", "3", "--layers", "1", "--hidden", "8", "--n-train", "100", "--n-val",
              "50", "--no-progress", "--no-figures"]
    runs = {model: subprocess.run([sys.executable, "-m", "scratchflow.cli", "train", "--model", model, *common,
                                   "--out", str(tmp_path / model)], cwd=str(tmp_path), env=env,
                                  capture_output=True, text=True) for model in ("maf", "iaf")}
    assert runs["maf"].returncode == 0, runs["maf"].stderr[-2000:]
    assert runs["iaf"].returncode != 0
    message = runs["iaf"].stderr + runs["iaf"].stdout
    assert "task adjoint (extra credit" in message and "scratchflow train --model iaf" in message, message[-2000:]


def answer_the_questions(release, env, tmp_path):
    """The questions, answered as a student would: q5 by running the filled release's own
    ``scratchflow train`` with the seed chosen; the file then scores every question (q5 against the
    grader's own training of the release's code, in its walled child)."""
    seed = 2718
    written = questions.write_answers(release, seed)
    train = subprocess.run([sys.executable, "-m", "scratchflow.cli", "train", *questions.TRAIN.split(), "--seed",
                            str(seed), "--out", str(tmp_path / "q5")], cwd=str(tmp_path), env=env,
                           capture_output=True, text=True)
    printed = float(re.search(r"best validation NLL ([-0-9.]+)", train.stdout).group(1))
    with open(written, encoding="utf-8") as handle:
        text = handle.read()
    with open(written, "w", encoding="utf-8") as handle:
        handle.write(re.sub(r"(?m)^q5: .*$", f"q5: {printed}", text))
    grader = Grader(os.path.join(ROOT, "solutions"))              # q5: the grader trains the release's code
    _, entries = questions.graded(os.path.join(ROOT, "solutions"), release, grader_run(grader, release))
    grader.close()
    assert [e["passed"] for e in entries] == [True] * len(questions.QUESTIONS), [e["output"] for e in entries]


def test_region_markers_are_checked():
    good = "def f(x):\n    # >>> task a\n    return x\n    # <<< task a\n"
    assert strip(good, {"a": "S"}).count("NotImplementedError('task a (slide «S»): f is yours") == 1
    with pytest.raises(RegionError, match="never closed"):
        find_regions("def f(x):\n    # >>> task a\n    return x\n")
    with pytest.raises(RegionError, match="not inside a function"):
        find_regions("# >>> task a\nx = 1\n# <<< task a\n")
    with pytest.raises(RegionError, match="unknown task"):
        strip(good, {"b": "S"})
    stub = strip(good, {"a": "S"})
    with pytest.raises(RegionError, match="found 0"):
        splice(stub, "def f(x):\n    return x\n", "a")
    with pytest.raises(RegionError, match="indented less"):
        splice(stub, "def f(x):\n    # >>> task a\nimport os\n    # <<< task a\n", "a")
    assert "return 2 * x" in splice(stub, good.replace("return x", "return 2 * x"), "a")


def test_a_failed_generation_keeps_the_old_exercises_and_leaves_no_staging(tmp_path):
    """The reference failing a probe stops generate() before the swap: the old folder is intact and
    its parent holds no half-written ``.exercises-*`` staging folder."""
    out = tmp_path / "exercises"
    out.mkdir()
    (out / "mine.txt").write_text("kept")
    seed = HOMEWORK["public_seed"]
    first = HOMEWORK["tasks"][0]["id"]
    failing = {"reference": {seed: {first: {"value": "TypeError: the reference broke"}}}}
    with pytest.raises(RuntimeError, match="the reference fails probe"):
        generate(ROOT, str(out), failing)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exercises"]
    assert (out / "mine.txt").read_text() == "kept"


def test_a_failed_worker_is_reported_as_its_exit_status_not_a_missing_file(tmp_path):
    """A worker that dies (here: its root holds no package to copy) raises CalledProcessError at
    the caller, with its traceback on stderr, before any output is read."""
    with pytest.raises(subprocess.CalledProcessError):
        run_variants(str(tmp_path), [{"name": "reference", "files": {}, "tasks": []}], [0])
