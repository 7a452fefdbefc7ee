"""Each plotting function states its numeric defaults in its docstring ("Defaults: ``n=1500``, ...",
as ``--help`` does for the command line, tests/test_cli_defaults.py): a call that leaves them out
draws the same figure, read back from the Axes, as a call that passes the stated values."""
import ast
import inspect
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Flow
from scratchflow.figure3 import model_configs
from scratchflow.models import build_model
from scratchflow.plotting import conditional, density, examples, figure, figure3, layers, samples

matplotlib.use("Agg")


def _stated(function):
    """{name: value} of the docstring's "Defaults:" paragraph."""
    paragraph = inspect.getdoc(function).split("Defaults:", 1)[1].split("\n\n")[0]
    return {name: ast.literal_eval(value) for name, value in re.findall(r"``(\w+)=([^`]+)``", paragraph)}


def _numeric_defaults(function):
    return {name: parameter.default for name, parameter in inspect.signature(function).parameters.items()
            if isinstance(parameter.default, (int, float, tuple)) and not isinstance(parameter.default, bool)}


def _conditional_flow(dim):
    flow = build_model({"model": "realnvp", "dim": dim, "n_layers": 1, "hidden": [2], "seed": 0,
                        "context_dim": 2})
    for array in flow.params.values():
        array += 0.3 * np.random.default_rng(1).standard_normal(array.shape)
    return flow


def _figure3_call(**options):
    (label, config), = model_configs()[:1]
    results = {"panels": [{"target": "u1", "model": label, "kl": 0.5}]}
    figure3.plot_figure3({("u1", label): build_model(config)}, results, [(label, config)], ["u1"],
                         **options)


_DATA = np.random.default_rng(0).normal(size=(2500, 2))                 # (2500, 2)
CALLS = {   # function: a call of it on small inputs, taking the options under test
    conditional.plot_conditional_samples: lambda **o: conditional.plot_conditional_samples(
        _conditional_flow(2), **o),
    conditional.plot_conditional_images: lambda **o: conditional.plot_conditional_images(
        _conditional_flow(64), **o),
    density.plot_density: lambda **o: density.plot_density(Flow(ElementwiseAffine(2)), _DATA[:50], **o),
    examples.plot_example: lambda **o: examples.plot_example(1, **o),
    figure3.plot_figure3: _figure3_call,
    layers.plot_layers: lambda **o: layers.plot_layers(
        Flow([ElementwiseAffine(2, shift=[0.1 * k, 0.0]) for k in range(5)]), _DATA, **o),
    samples.plot_samples: lambda **o: samples.plot_samples(Flow(ElementwiseAffine(2)), _DATA[:2000] * 2.0, **o),
    samples.plot_image_samples: lambda **o: samples.plot_image_samples(
        Flow(ElementwiseAffine(64, shift=[0.5] * 64)), _DATA[:1280].reshape(40, 64), **o),
}


def _content(fig):
    """Everything a figure shows, per panel: points, colour values, images, lines, bars."""
    shown = [len(fig.axes)]
    for ax in fig.axes:
        for collection in ax.collections:
            shown += [np.asarray(collection.get_offsets()), np.asarray(collection.get_array())]
        shown += [np.asarray(image.get_array()) for image in ax.get_images()]
        shown += [np.asarray(line.get_xydata()) for line in ax.lines]
        shown += [[patch.get_height() for patch in ax.patches], ax.get_xlim(), ax.get_ylim()]
    return shown


@pytest.fixture
def drawn(monkeypatch):
    """``drawn(call, **options)``: what the figure drawn by ``call(**options)`` shows."""
    kept = []
    for module in (conditional, density, examples, layers, samples):
        monkeypatch.setattr(module, "save_figure", lambda fig, out_dir, name: kept.append(fig) or name)
    monkeypatch.setattr(figure3, "write_atomically", lambda path, write: path)
    monkeypatch.setattr(figure3.plt, "close", kept.append)

    def draw(call, **options):
        call(**options)
        return _content(kept[-1])
    yield draw
    monkeypatch.undo()
    for fig in kept:
        plt.close(fig)


def test_every_numeric_default_is_stated():
    for function in [*CALLS, figure.subsample]:
        assert _stated(function) == _numeric_defaults(function), function.__name__


@pytest.mark.parametrize("function", list(CALLS), ids=lambda function: function.__name__)
def test_leaving_the_defaults_out_draws_what_the_stated_values_draw(drawn, function):
    by_default, as_stated = drawn(CALLS[function]), drawn(CALLS[function], **_stated(function))
    assert len(by_default) == len(as_stated)
    for left, right in zip(by_default, as_stated):
        np.testing.assert_array_equal(left, right)


def test_subsample_by_default_is_the_stated_subsample():
    points = np.arange(8000.0).reshape(4000, 2)
    np.testing.assert_array_equal(figure.subsample(points), figure.subsample(points, **_stated(figure.subsample)))
