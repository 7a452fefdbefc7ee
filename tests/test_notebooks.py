"""Every notebook in notebooks/ runs top to bottom (fast setting), so none can rot.

The notebooks are jupytext percent-format ``.py`` files (the reviewed sources; ``.ipynb`` files are
generated and not committed). Each is read with jupytext and executed with nbclient in a fresh
``python3`` kernel (ipykernel's, the interpreter running the tests) with ``SCRATCHFLOW_FAST=1``,
which every notebook reads to shrink its steps, sizes and resolutions. A cell that raises fails the
test with the cell and the traceback.
"""
import pathlib

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOK_FOLDER = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_FOLDER.glob("[0-9][0-9]_*.py"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _execute(path, folder):
    notebook = jupytext.read(path)
    NotebookClient(notebook, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def _progress_widgets(notebook):
    """The tqdm widgets a notebook showed: ``(shown text, final value, total)`` each.

    The output keeps the widget's first text; the widget state saved with the notebook keeps its
    last values (the progress bar model's value and max).
    """
    shown = [output["data"]["text/plain"] for cell in notebook.cells for output in cell.get("outputs", [])
             if WIDGET_VIEW in output.get("data", {})]
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    bars = [model["state"] for model in state.values() if model["model_name"] == "FloatProgressModel"]
    return shown, [(bar["value"], bar["max"]) for bar in bars]


def test_there_is_a_notebook_per_lecture_block():
    assert [path.name for path in NOTEBOOKS] == [
        "01_change_of_variables.py", "02_training_two_moons.py", "03_realnvp_layers.py",
        "04_maf_vs_iaf.py", "05_reverse_kl.py", "06_real_data_digits.py"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_ends_with_what_it_shows_and_questions_for_the_reader(path):
    last = jupytext.read(path).cells[-1]
    assert last.cell_type == "markdown"
    shows, _, questions = last.source.partition("## Questions and experiments")
    assert "## What this shows" in shows and len(shows.split("## What this shows")[1].strip()) > 100
    numbered = [line for line in questions.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]
    assert 2 <= len(numbered) <= 3, questions


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("SCRATCHFLOW_FAST", "1")        # the kernel inherits the environment
    notebook = _execute(path, tmp_path)
    images = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if "image/png" in output.get("data", {})]
    assert images, "a notebook shows its figures inline"
    shown, bars = _progress_widgets(notebook)
    if "fit(" in path.read_text(encoding="utf-8"):   # it trains: tqdm.auto showed a widget
        assert shown and all(text.startswith("train:") for text in shown)
        assert bars and all(value == total > 0 for value, total in bars)   # each ran to its end
