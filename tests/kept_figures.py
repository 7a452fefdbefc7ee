"""Figures kept instead of saved, for the tests that read back what a plotting function drew."""
import contextlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt   # noqa: E402  (after the backend is chosen)


@contextlib.contextmanager
def kept_figures(monkeypatch, *modules):
    """Within the block, each module's ``save_figure`` appends the figure to the yielded list and
    returns the file name it would have written; the figures are closed afterwards."""
    kept = []

    def keep(fig, out_dir, filename):
        kept.append(fig)
        return filename
    for module in modules:
        monkeypatch.setattr(module, "save_figure", keep)
    try:
        yield kept
    finally:
        for fig in kept:
            plt.close(fig)
