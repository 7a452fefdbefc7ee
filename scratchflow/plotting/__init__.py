"""Figures, written to PNG files (the Agg backend: no window, no display needed).

One figure per file: ``examples.py`` (the lecture's Example 1 and 2, "Эксперимент / Теория"),
``density.py``, ``samples.py`` (points, or images for pixel data), ``layers.py`` ("Больше слоев!"),
``loss.py``, ``conditional.py`` (samples per class of a conditional flow), ``spline.py`` (one learned spline of a neural spline flow), ``figure3.py`` (Rezende &
Mohamed's Figure 3 grid), ``generated_vs_real.py`` (the MAF slide's "(a) Generated images,
(b) Real images"); ``figure.py`` holds what they share. Each ``plot_*`` returns the path of
the PNG written.
"""
import matplotlib

matplotlib.use("Agg")       # before any pyplot import below: figures go to files, never to a window

from scratchflow.plotting.conditional import plot_conditional_images, plot_conditional_samples  # noqa: E402,E501
from scratchflow.plotting.density import plot_density  # noqa: E402  (the backend must be chosen first)
from scratchflow.plotting.examples import plot_example, sample_example  # noqa: E402
from scratchflow.plotting.generated_vs_real import plot_generated_vs_real  # noqa: E402
from scratchflow.plotting.layers import plot_layers  # noqa: E402
from scratchflow.plotting.loss import plot_loss  # noqa: E402
from scratchflow.plotting.samples import plot_image_samples, plot_samples  # noqa: E402
from scratchflow.plotting.spline import learned_spline, plot_learned_spline, spline_layers  # noqa: E402

__all__ = ["plot_conditional_images", "plot_conditional_samples", "plot_density", "plot_example", "sample_example", "plot_layers", "plot_loss",
           "plot_image_samples", "plot_samples", "learned_spline", "plot_learned_spline",
           "spline_layers", "plot_generated_vs_real"]
