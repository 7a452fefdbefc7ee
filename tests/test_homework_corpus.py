"""Fair both ways, at every one of 50 seeds: each known mistake (solutions/mistakes.json) fails a
check of its task, and each correct alternative (tests/alternatives.py) passes every check of its
task, as the grader sees it (the stubs, that task's regions and the module-level imports the file
adds). The probes of every variant run in one worker process, in-process per variant; the full
grader runs a few of them in ``test_grading_mistakes.py`` / ``test_grading.py``.

The probes' labels hold at the public seed too: what a check says it tests, its public inputs have
(a random ordering that is not the natural one, a determinant that is negative, ...).
"""
import os

import numpy as np
import pytest

from scratchflow_course.homework.build import (load_homework, load_mistakes, package_root, stubbed_files,
                                               variants)
from scratchflow_course.homework.regions import splice
from scratchflow_course.homework.verdict import first_difference
from scratchflow_course.homework.worker import run_variants
from tests.alternatives import ALTERNATIVES

ROOT = package_root()
HOMEWORK = load_homework(ROOT)
MISTAKES = load_mistakes(ROOT)
TASKS = [task["id"] for task in HOMEWORK["tasks"]]
SEEDS = [HOMEWORK["public_seed"]] + list(range(50))
STUBS = stubbed_files(ROOT, HOMEWORK)


def edited(file, edits):
    """The library's ``file`` with each ``(old, new)`` applied; ``old`` must occur once."""
    with open(os.path.join(ROOT, file), encoding="utf-8") as handle:
        text = handle.read()
    for old, new in edits:
        assert text.count(old) == 1, (file, old[:80], text.count(old))
        text = text.replace(old, new)
    return text


def graded_files(alternative):
    """What the grader's child imports for the alternative's task: its file spliced into the stubs."""
    text = edited(alternative["file"], alternative["edits"])
    return {alternative["file"]: splice(STUBS[alternative["file"]], text, alternative["task"], alternative["file"])}


def _without_carried_imports(alternative):
    """The same, as a grader that splices the regions only would see it (the import left behind)."""
    file = alternative["file"]
    spliced = graded_files(alternative)[file]
    return {file: spliced.replace("import numpy as np\n", "", 1)}


IMPORTING = next(a for a in ALTERNATIVES if a["id"] == "compose_imports_numpy")


@pytest.fixture(scope="module")
def outputs():
    found = variants(ROOT, HOMEWORK, MISTAKES)
    found += [{"name": "alternative-" + a["id"], "files": graded_files(a), "tasks": [a["task"]]}
              for a in ALTERNATIVES]
    found.append({"name": "imports-dropped", "files": _without_carried_imports(IMPORTING),
                  "tasks": [IMPORTING["task"]]})
    return run_variants(ROOT, found, SEEDS)


def failing(outputs, name, task, seed):
    reference = outputs["reference"][seed][task]
    return [probe for probe, got in outputs[name][seed][task].items()
            if isinstance(got, str) or first_difference(got, reference[probe]) is not None]


def test_the_corpus_has_two_alternatives_per_task_or_more():
    counts = {task: sum(a["task"] == task for a in ALTERNATIVES) for task in TASKS}
    assert min(counts.values()) >= 2, counts
    assert len({a["id"] for a in ALTERNATIVES}) == len(ALTERNATIVES)


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m["id"] for m in MISTAKES])
def test_a_known_mistake_fails_its_task_at_every_seed(mistake, outputs):
    passes_at = [seed for seed in SEEDS if not failing(outputs, "mistake-" + mistake["id"], mistake["task"], seed)]
    assert passes_at == [], f"{mistake['id']} passes every check of {mistake['task']} at seeds {passes_at}"


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=[a["id"] for a in ALTERNATIVES])
def test_a_correct_alternative_passes_its_task_at_every_seed(alternative, outputs):
    lost = {seed: failing(outputs, "alternative-" + alternative["id"], alternative["task"], seed) for seed in SEEDS}
    lost = {seed: probes for seed, probes in lost.items() if probes}
    assert lost == {}, {seed: {p: outputs["alternative-" + alternative["id"]][seed][alternative["task"]][p]
                               for p in probes if isinstance(outputs["alternative-" + alternative["id"]][seed]
                                                             [alternative["task"]][p], str)} or probes
                        for seed, probes in list(lost.items())[:2]}


def test_an_import_the_student_adds_is_carried_and_needed(outputs):
    """The wall's other side: without the carried import the same correct code fails."""
    assert "import numpy as np\n" in graded_files(IMPORTING)[IMPORTING["file"]]
    got = outputs["imports-dropped"][SEEDS[0]][IMPORTING["task"]]
    assert all(isinstance(v, str) and "NameError" in v for v in got.values()), got


# ---------------------------------------------------------------------- labels at the public seed

PUBLIC = HOMEWORK["public_seed"]


def test_the_autoregressive_probes_use_an_ordering_that_moves_every_dimension():
    from scratchflow.bijectors.autoregressive import IAF, MAF
    from scratchflow_course.homework.probes import _autoregressive
    for cls, salts in ((MAF, (10, 11)), (IAF, (12, 13))):
        for salt in salts:
            layer, _ = _autoregressive(cls, PUBLIC, salt)
            assert (layer.order != np.arange(4)).all(), (cls.__name__, salt, layer.order)


def test_the_adjoint_probes_use_an_ordering_that_moves_every_dimension_in_both_dtypes():
    from scratchflow.bijectors.autoregressive import IAF, MAF
    from scratchflow_course.homework.probes import adjoint_layer
    for cls, salt in ((MAF, 16), (IAF, 17)):
        for dtype in (np.float64, np.float32):
            layer, _ = adjoint_layer(cls, PUBLIC, salt, dtype)
            assert (layer.order != np.arange(4)).all(), (cls.__name__, layer.order)
            assert layer.made.mix_shift.dtype == dtype and np.count_nonzero(layer.made.mix_shift) == 6


def test_the_made_degrees_probe_uses_an_ordering_that_is_not_its_own_inverse():
    from scratchflow_course.homework.probes_training import made_input_degrees
    order = made_input_degrees(PUBLIC)["order"]
    assert (order != np.arange(6)).all() and (np.argsort(order) != order).any()


@pytest.mark.parametrize("salt", [3, 4])
def test_the_triangular_probes_have_a_negative_determinant(salt):
    from scratchflow_course.homework.probes import _triangular
    layer, _ = _triangular(PUBLIC, salt)
    assert np.linalg.det(layer.matrix) < 0 and (np.diag(layer.matrix) < 0).any()


def test_the_coupling_probes_use_one_non_contiguous_and_one_contiguous_mask():
    from scratchflow_course.homework.probes import CONTIGUOUS, _coupling
    default, _ = _coupling(PUBLIC, 7)
    contiguous, _ = _coupling(PUBLIC, 14, CONTIGUOUS)
    assert not isinstance(default._moved_columns, slice)
    assert isinstance(contiguous._moved_columns, slice) and isinstance(contiguous._kept_columns, slice)


def test_the_example2_theory_probe_has_points_outside_the_domain_and_the_histogram_unequal_bins():
    from scratchflow_course.homework.probes import example2_theory
    from scratchflow_course.homework.probes_training import generation_histogram
    density = example2_theory(PUBLIC)["density"]
    assert (density[-3:] == 0).all() and (density[:-3] > 0).all()
    rng = np.random.default_rng([PUBLIC, 32])
    rng.normal(5.0, 2.0, 400)
    edges = np.sort(np.concatenate([[-3.0, 13.0], rng.uniform(-2, 12, 9)]))
    assert np.ptp(np.diff(edges)) > 0.1
    assert generation_histogram(PUBLIC)["experiment"].shape == (10,)


def test_the_other_base_is_not_the_standard_normal_and_adams_gradients_are_of_the_order_of_eps():
    from scratchflow_course.homework.standins import StandInBase
    base = StandInBase(3, np.random.default_rng([PUBLIC, 33]))
    assert np.abs(base.mean).max() > 0.1 and np.abs(np.log(base.std)).max() > 0.1
    z = np.zeros((1, 3))
    assert np.abs(base.grad_log_prob(z)).max() > 0.1          # N(0, I) would give 0 at z = 0
