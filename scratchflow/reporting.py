"""Progress of a long loop (training, grading) with ``tqdm``: a widget, a terminal bar or log lines.

    bar = progress_bar(2000, desc="train")
    for step in range(2000):
        ...
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        bar.update(1)
    bar.close()

Where it draws, chosen once per bar:

* in a Jupyter notebook (``tqdm.auto`` picked ``tqdm.notebook``, which needs ``ipywidgets``): a
  widget under the cell;
* on a terminal: tqdm's usual bar on stderr, redrawn in place at most every 0.1 s;
* anywhere else (a log file, CI, ``nohup``, a pipe): one plain line per
  :data:`LOG_INTERVAL_SECONDS` seconds at most, plus the first and the last line, so a 100-second
  run leaves about ten lines in the log instead of nothing (or thousands of carriage returns).
"""
import sys

from tqdm.auto import tqdm as auto_tqdm
from tqdm.std import tqdm as terminal_tqdm

LOG_INTERVAL_SECONDS = 10.0
"""Least time between two progress lines when the stream is not a terminal."""

LOG_WIDTH = 100
"""Characters per progress line in a log (there is no terminal to ask)."""


def in_notebook():
    """True when ``tqdm.auto`` chose the notebook widget (a Jupyter kernel with ipywidgets).

    ``tqdm.auto.tqdm`` is always a class of its own (it adds asyncio support), built on either
    ``tqdm.notebook.tqdm`` or ``tqdm.std.tqdm``: its base classes say which.
    """
    return any(base.__module__ == "tqdm.notebook" for base in auto_tqdm.__mro__)


def progress_bar(total, desc="", enabled=True, stream=None):
    """A tqdm bar counting to ``total``; see the module docstring for where it draws.

    Parameters
    ----------
    total : int
        Number of units (steps, submissions) at 100 %.
    desc : str
        Label in front of the bar.
    enabled : bool
        ``False``: a silent bar (same methods, draws nothing).
    stream : file, default ``sys.stderr``
        Where a terminal bar or the log lines go (not used by the notebook widget).
    """
    if not enabled:
        return terminal_tqdm(total=total, desc=desc, disable=True)
    if in_notebook():
        return auto_tqdm(total=total, desc=desc)
    stream = sys.stderr if stream is None else stream
    if getattr(stream, "isatty", lambda: False)():
        return terminal_tqdm(total=total, desc=desc, file=stream, dynamic_ncols=True)
    return terminal_tqdm(total=total, desc=desc, file=LineStream(stream), ncols=LOG_WIDTH,
                         mininterval=LOG_INTERVAL_SECONDS, maxinterval=LOG_INTERVAL_SECONDS)


class LineStream:
    """Turns tqdm's in-place redraws (``"\\r" + status``) into one finished line per redraw.

    A log has no cursor to move back: each status becomes ``status + "\\n"``; the padding tqdm adds
    to overwrite a longer previous status, and its lone closing newline, are dropped.
    """

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        line = text.replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")
            self.flush()

    def flush(self):
        getattr(self.stream, "flush", lambda: None)()
