"""The hand-written progress bar, drawn at fixed times: the bar's eighths, the percentage, the
elapsed and remaining time, throttled redraws, one final line. (If the bar is replaced by tqdm,
this file goes with it.)"""
import io

from scratchflow.progress import ProgressBar, _format_seconds


def _bar(total=16, **options):
    stream = io.StringIO()
    return ProgressBar(total, desc="fit", stream=stream, enabled=True, width=4, **options), stream


def test_render_shows_eighths_percentage_and_times():
    bar, _ = _bar()
    bar._start = 100.0
    assert bar.render(now=100.0) == "fit   0% |    |  0/16    [00:00<00:00]"   # nothing done yet
    bar.update(3, loss=1.23456)
    text = bar.render(now=106.0)               # 3/16 of 4 cells = 6 eighths; 2 s per step
    assert text == "fit  18% |▊   |  3/16  loss 1.2346  [00:06<00:26]"
    bar.update(99, note="x")                   # clamped to the total
    assert bar.render(now=106.0) == "fit 100% |████| 16/16  loss 1.2346  note x  [00:06<00:00]"
    assert ProgressBar(0, stream=io.StringIO()).total == 1


def test_format_seconds():
    assert _format_seconds(59.9) == "00:59"
    assert _format_seconds(61) == "01:01"
    assert _format_seconds(3 * 3600 + 62) == "3:01:02"


def test_redraws_are_throttled_and_close_ends_the_line_once():
    bar, stream = _bar(min_interval=3600.0)
    bar.update(1)
    bar.update(2)                              # within min_interval: not drawn
    assert stream.getvalue().count("\r") == 1
    bar.close()
    bar.close()
    assert stream.getvalue().count("\r") == 2 and stream.getvalue().endswith("\n")
    assert stream.getvalue().count("\n") == 1
    quiet = io.StringIO()
    with ProgressBar(5, stream=quiet) as silent:    # not a terminal: silent by default
        silent.update(5)
    assert quiet.getvalue() == ""
