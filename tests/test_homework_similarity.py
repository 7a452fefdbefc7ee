"""Copying is visible: ``grade --all`` reports how close each task region of a submission is to
the public library and to every other submission, identifiers and literals normalised.

Three made-up submissions: the library's own regions with their local names renamed (two
different renamings: a copy, and a pair sharing it), and an honest one written from the correct
alternatives of ``tests/alternatives.py``.
"""
import csv
import os
import re

import pytest

from scratchflow_course import similarity
from scratchflow_course.grading.paths import package_folder
from scratchflow_course.homework.build import load_homework, package_root
from scratchflow_course.homework.regions import find_regions
from scratchflow_course.questions import write_answers
from tests.alternatives import ALTERNATIVES

ROOT = package_root()
HOMEWORK = load_homework(ROOT)
TASKS = [task["id"] for task in HOMEWORK["tasks"]]
FILES = sorted({name for task in HOMEWORK["tasks"] for name in task["files"]})
RENAMINGS = [  # region-local names only: the lines after each region still find theirs
    {"shift": "translation", "grad_r": "upstream", "grad_cond": "through_net", "layer_log_det": "piece",
     "local": "slope", "counts": "tally", "correction2": "fix2", "lr_t": "rate",
     "grad_z_r": "latent_grad", "earlier": "lo",
     "later": "hi", "grad_scale_log": "grad_s"},
    {"shift": "offset", "grad_r": "g_moved", "grad_cond": "g_net", "layer_log_det": "part", "local": "d_tanh",
     "counts": "n_in_bin", "correction2": "c2", "lr_t": "step", "grad_z_r": "gz",
     "earlier": "prev", "later": "nxt", "grad_scale_log": "g_log_scale"},
]


def _library(relative):
    with open(os.path.join(ROOT, relative), encoding="utf-8") as handle:
        return handle.read()


def renamed_copy(renaming):
    """The library's files with the names renamed inside the code regions only."""
    texts = {}
    for relative in FILES:
        lines = _library(relative).splitlines(keepends=True)
        for region in find_regions("".join(lines), relative):
            if region.is_code:
                for number in range(region.begin + 1, region.end):
                    for old, new in renaming.items():
                        lines[number] = re.sub(rf"\b{old}\b", new, lines[number])
        texts[relative] = "".join(lines)
    return texts


def honest():
    texts = {relative: _library(relative) for relative in FILES}
    for task in TASKS:
        alternative = [a for a in ALTERNATIVES if a["task"] == task][-1]
        for old, new in alternative["edits"]:
            texts[alternative["file"]] = texts[alternative["file"]].replace(old, new)
    return texts


def write(folder, texts):
    for relative, text in texts.items():
        os.makedirs(os.path.dirname(os.path.join(folder, relative)), exist_ok=True)
        with open(os.path.join(folder, relative), "w", encoding="utf-8") as handle:
            handle.write(text)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for name, texts in (("copy_a", renamed_copy(RENAMINGS[0])), ("copy_b", renamed_copy(RENAMINGS[1])),
                        ("honest", honest())):
        write(str(folder / name), texts)
        write_answers(str(folder / name), 4242 if name.startswith("copy") else 1234)   # the copies: one seed
    return str(folder)


def test_normalising_ignores_names_literals_comments_and_indentation():
    first = similarity.normalised("    z = x_r * exp_s + 2.0   # scaled\n")
    assert first == similarity.normalised("y=moved*e+3\n") == ["I", "=", "I", "*", "I", "+", "N", ";"]
    assert similarity.normalised("if a: return 'b'\n") == ["if", "I", ":", "return", "S", ";"]


def test_a_renamed_copy_and_the_pair_sharing_it_are_flagged_the_honest_one_scores_lower(submissions, tmp_path):
    report_path = str(tmp_path / "scores_similarity.md")
    rows = similarity.copy_columns(submissions, ["copy_a", "copy_b", "honest"], FILES, TASKS, package_folder(),
                                   report_path)
    for copy, other in (("copy_a", "copy_b"), ("copy_b", "copy_a")):
        assert rows[copy]["library_similarity"] == pytest.approx(1.0)
        assert rows[copy]["closest_peer"] == other and rows[copy]["peer_similarity"] == pytest.approx(1.0)
        assert rows[copy]["copy_flags"].count("library") >= 10
        assert rows[copy]["copy_flags"].count(f"peer {other}") >= 10
    assert "questions: same seed 4242 as copy_b" in rows["copy_a"]["copy_flags"]
    assert rows["honest"]["library_similarity"] < 0.85 and "questions" not in rows["honest"]["copy_flags"]
    assert rows["honest"]["copy_flags"].count("library") <= 3
    with open(report_path, encoding="utf-8") as handle:
        report = handle.read()
    assert "- copy_a / coupling: library, peer copy_b" in report and "| honest |" in report


def test_the_figures_drop_when_the_region_is_really_rewritten():
    """The check can fail: a region rewritten by hand is far from the library's."""
    library = {"m.py": "def f(x):\n    # >>> task a\n    y = x * 2 + 1\n    return sum(y)\n    # <<< task a\n"}
    rewritten = {"m.py": "def f(x):\n    # >>> task a\n    total = 0\n    for v in x:\n"
                         "        total += 2 * v + 1\n    return total\n    # <<< task a\n"}
    report = similarity.compare({"s": rewritten, "t": dict(library)}, library, ["a"])
    assert report["t"]["a"]["library"] == 1.0 and report["s"]["a"]["library"] < 0.3
    assert report["s"]["a"]["peer"] < 0.6


def test_grade_all_writes_the_columns_and_the_report(submissions, tmp_path):
    from scratchflow_course.grading.grader import grade_all
    csv_path = str(tmp_path / "scores.csv")
    grade_all(submissions, csv_path, hidden=False)
    with open(csv_path, encoding="utf-8") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    assert float(rows["copy_a"]["score"]) == float(rows["honest"]["score"])      # full marks, extra credit on top
    assert float(rows["copy_a"]["score"]) == float(rows["copy_a"]["max_score"]) + float(rows["copy_a"]["adjoint"])
    assert float(rows["copy_a"]["adjoint"]) > 0
    assert float(rows["copy_a"]["library_similarity"]) == 1.0 > float(rows["honest"]["library_similarity"])
    assert "peer copy_b" in rows["copy_a"]["copy_flags"]
    assert os.path.isfile(str(tmp_path / "scores_similarity.md"))
