"""Progress with tqdm (scratchflow.reporting): log lines at a bounded rate when not on a terminal."""
import io
import itertools
import re
import sys

import numpy as np
import tqdm.std

from scratchflow import reporting
from scratchflow.data import load_dataset
from scratchflow.models import build_realnvp
from scratchflow.reporting import LineStream, progress_bar
from scratchflow.train import fit


def _elapsed_seconds(line):
    minutes, seconds = re.search(r"\[(\d+):(\d+)<", line).groups()
    return 60 * int(minutes) + int(seconds)


def test_training_in_a_log_writes_lines_at_a_bounded_rate(monkeypatch):
    """fit under a non-terminal stderr: each reading of tqdm's clock is 0.5 s later (a fake clock,
    so the test is deterministic); lines must be at least LOG_INTERVAL_SECONDS apart."""
    clock = itertools.count(start=1_000_000.0, step=0.5)
    monkeypatch.setattr(tqdm.std, "time", lambda: next(clock))
    monkeypatch.setattr(tqdm.std.tqdm, "monitor_interval", 0)      # no refresh from tqdm's thread
    if tqdm.std.tqdm.monitor is not None:                           # one an earlier bar started
        tqdm.std.tqdm.monitor.exit()                                # would redraw on its own clock
        monkeypatch.setattr(tqdm.std.tqdm, "monitor", None)
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    flow = build_realnvp(dim=2, n_layers=1, hidden=(4,), seed=0)
    data = load_dataset("moons", 200, rng=0)
    fit(flow, data, data[:50], steps=400, batch_size=20, eval_every=40)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("train:   0%") and "400/400" in lines[-1]
    assert "val_nll=" in lines[-1]
    elapsed = [_elapsed_seconds(line) for line in lines]
    assert len(lines) >= 4                                          # progress between first and last
    assert min(np.diff(elapsed[:-1])) >= reporting.LOG_INTERVAL_SECONDS   # close() may come sooner


def test_line_stream_turns_redraws_into_lines():
    log = io.StringIO()
    stream = LineStream(log)
    for text in ["\rtrain: 10%", "\rtrain: 9%   ", "\n", ""]:
        stream.write(text)
    assert log.getvalue() == "train: 10%\ntrain: 9%\n"


def test_a_disabled_bar_writes_nothing(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    bar = progress_bar(10, desc="train", enabled=False)
    bar.update(10)
    bar.close()
    assert log.getvalue() == ""
    assert not reporting.in_notebook()                    # pytest is no Jupyter kernel


def test_a_stream_without_isatty_gets_log_lines_not_a_redrawn_bar():
    class _WriteOnly:
        def __init__(self):
            self.parts = []

        def write(self, text):
            self.parts.append(text)

        def flush(self):
            pass
    stream = _WriteOnly()
    bar = progress_bar(10, desc="train", stream=stream)
    bar.update(10)
    bar.close()
    written = "".join(stream.parts)
    assert written.startswith("train:") and "10/10" in written
    assert "\r" not in written and written.endswith("\n")          # lines, never a redraw
