"""A small progress bar on stderr, written by hand (no tqdm dependency).

    bar = ProgressBar(total=2000, desc="train")
    for step in range(2000):
        ...
        bar.update(step + 1, loss=loss)
    bar.close()

It draws ``train  42% |████████▍           |  840/2000  loss 1.234  [00:12<00:17]`` on one line,
redrawn with a carriage return at most every ``min_interval`` seconds. It stays silent when
``enabled=False`` or, by default, when the stream is not a terminal (a log file, CI, pytest).
"""
import sys
import time

_BLOCKS = " ▏▎▍▌▋▊▉█"


def _format_seconds(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


class ProgressBar:
    """One-line progress bar with named values (``loss=...``) after it.

    Parameters
    ----------
    total : int
        Number of units (steps) at 100 %.
    desc : str
        Label in front of the bar.
    enabled : bool or None
        ``None`` (default): draw only if ``stream`` is a terminal. ``False``: never draw.
    stream : file, default ``sys.stderr``
    width : int
        Bar width in characters.
    min_interval : float
        Seconds between redraws (the last update is always drawn by :meth:`close`).
    """

    def __init__(self, total, desc="", enabled=None, stream=None, width=30, min_interval=0.1):
        self.total = max(int(total), 1)
        self.desc = desc
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.width = width
        self.min_interval = min_interval
        self.count = 0
        self.values = {}
        self._start = time.perf_counter()
        self._last_draw = -float("inf")
        self._closed = False

    def update(self, count, **values):
        """Set the number of finished units to ``count`` and the values shown after the bar."""
        self.count = min(int(count), self.total)
        self.values.update(values)
        now = time.perf_counter()
        if self.enabled and now - self._last_draw >= self.min_interval:
            self._draw(now)

    def render(self, now=None):
        """The bar as a string (what is drawn), e.g. for a log line."""
        now = time.perf_counter() if now is None else now
        fraction = self.count / self.total
        eighths = int(fraction * self.width * 8)            # floor: 100 % only when done
        full, part = divmod(eighths, 8)
        bar = "█" * full + (_BLOCKS[part] if full < self.width else "")
        bar = bar.ljust(self.width)
        elapsed = now - self._start
        remaining = elapsed / self.count * (self.total - self.count) if self.count else 0.0
        shown = "  ".join(f"{name} {value:.4f}" if isinstance(value, float) else f"{name} {value}"
                          for name, value in self.values.items())
        digits = len(str(self.total))
        return (f"{self.desc} {int(100 * fraction):3d}% |{bar}| {self.count:>{digits}}/{self.total}  "
                f"{shown}  [{_format_seconds(elapsed)}<{_format_seconds(remaining)}]").lstrip()

    def _draw(self, now):
        self.stream.write("\r" + self.render(now) + "\x1b[K")     # \x1b[K: clear to end of line
        self.stream.flush()
        self._last_draw = now

    def close(self):
        """Draw the final state and end the line."""
        if self.enabled and not self._closed:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
