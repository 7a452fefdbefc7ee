"""A pass only reads the parameters: forward, inverse and their gradient passes of every layer in
tests/registry.py (plain, image and conditional), of the layers that take their start from data
before that start (ActNorm, ChannelActNorm, Whitening, alone and inside composites), and
``log_prob``, ``loss_and_grad``, ``sample`` and the reverse KL of a freshly built flow of every model
family leave every parameter and every buffer bit for bit as they were, and write into none of
them (the arrays are read-only while the passes run). No layer's underscored pass writes into the
arrays handed to it either (its input, the gradients), which a stack passes from layer to layer.

The one state a pass may move is BatchNorm's running averages in training mode: buffers, not
parameters, and moving them with each training batch is what that mode is (MAF §3.4).
Data-dependent initialisation is its own step, :meth:`Flow.initialize`, tested in
tests/test_permutation_actnorm.py and tests/test_train_start.py.
"""
import contextlib

import numpy as np
import pytest

from scratchflow.bijectors import (ActNorm, BatchNorm, ChannelActNorm, Compose, FactorOut,
                                   Pixelwise, Whitening)
from scratchflow.models import build_model
from tests.registry import CONDITIONAL, IMAGE, REGISTRY
from tests.strategies import GaussianTarget

RUNNING_AVERAGES = ("running_mean", "running_var")

UNINITIALISED = {                        # the data-dependent layers before their start
    "ActNorm": lambda: ActNorm(3),
    "ChannelActNorm": lambda: ChannelActNorm(IMAGE),
    "Whitening": lambda: Whitening(3),
    "Compose-ActNorm-Whitening": lambda: Compose([ActNorm(3), Whitening(3), ActNorm(3)]),
    "Pixelwise-ActNorm": lambda: Pixelwise(IMAGE, ActNorm(IMAGE[0])),
    "FactorOut-ActNorm": lambda: FactorOut(IMAGE, Compose([ActNorm(4), ChannelActNorm((1, 2, 2))])),
}

MODELS = {                               # every family, small, with each option that adds layers
    "realnvp": {"dim": 4, "n_layers": 2, "hidden": [8], "actnorm": True, "whiten": True},
    "realnvp-context": {"model": "realnvp", "dim": 4, "n_layers": 2, "hidden": [8],
                        "actnorm": True, "context_dim": 2},
    "maf": {"dim": 4, "n_layers": 2, "hidden": [8], "batchnorm": True, "whiten": True},
    "iaf": {"dim": 4, "n_layers": 2, "hidden": [8]},
    "nsf": {"dim": 4, "n_layers": 1, "hidden": [8]},
    "nsf-ar": {"dim": 4, "n_layers": 1, "hidden": [8]},
    "planar": {"dim": 4, "n_layers": 2},
    "radial": {"dim": 4, "n_layers": 2},
    "nice": {"dim": 4, "n_layers": 2, "hidden": [8], "lu_linear": True},
    "realnvp-multiscale": {"dim": 64, "n_layers": 1, "hidden": [4], "logit_alpha": 0.05},
    "glow": {"dim": 64, "n_levels": 2, "n_layers": 1, "hidden": [4], "logit_alpha": 0.05},
}


def _state(module):
    """Every parameter and buffer of ``module``, as bytes: ``{("param" | "buffer", name): bytes}``."""
    state = {("param", name): value.tobytes() for name, value in module.params.items()}
    state.update({("buffer", name): value.tobytes() for name, value in module.buffers.items()})
    return state


def _moving_averages(module):
    """Whether some BatchNorm inside ``module`` is in training mode (moves its running averages)."""
    return any(isinstance(part, BatchNorm) and part.training for part in module.modules())


def _assert_read_only(module, before, what):
    """Nothing in ``module`` moved since ``before`` (BatchNorm's running averages in training
    mode excepted)."""
    training = _moving_averages(module)
    moved = [f"{kind} {name}" for (kind, name), value in _state(module).items()
             if value != before[kind, name]
             and not (training and kind == "buffer" and name.endswith(RUNNING_AVERAGES))]
    assert not moved, f"{what} wrote into {', '.join(moved)}"


@contextlib.contextmanager
def _locked(module):
    """Every parameter and buffer array of ``module`` read-only inside the block, so a write into
    one raises, even a write of the same values (BatchNorm's running averages in training mode
    excepted); writeable again afterwards."""
    training = _moving_averages(module)
    arrays = list(module.params.values()) + [
        value for name, value in module.buffers.items()
        if not (training and name.endswith(RUNNING_AVERAGES))]
    for array in arrays:
        array.flags.writeable = False
    try:
        yield
    finally:
        for array in arrays:
            array.flags.writeable = True


def _all_passes(layer, x, context=None):
    """forward, backward, inverse and inverse_backward of ``layer`` on x (and context)."""
    z, _ = layer.forward(x, context)
    layer.backward(np.ones_like(z), np.ones(len(z), dtype=z.dtype))
    x_back, _ = layer.inverse(z, context)
    layer.inverse_backward(np.ones_like(x_back), np.ones(len(z), dtype=z.dtype))


@pytest.mark.parametrize("case", REGISTRY, ids=lambda case: case.name)
def test_a_registered_layer_s_passes_leave_its_parameters_and_buffers(case):
    layer = case.make(seed=3)
    before = _state(layer)
    with _locked(layer):
        _all_passes(layer, case.batch(n=max(6, case.min_rows), seed=4))
    _assert_read_only(layer, before, f"{case.name}'s passes")


@pytest.mark.parametrize("case", CONDITIONAL, ids=lambda case: case.name)
def test_a_conditional_layer_s_passes_leave_its_parameters_and_buffers(case):
    layer = case.make(seed=3)
    context = np.random.default_rng(5).normal(size=(6, layer.context_dim))
    before = _state(layer)
    with _locked(layer):
        _all_passes(layer, case.batch(n=6, seed=4), context)
    _assert_read_only(layer, before, f"{case.name}'s passes")


@pytest.mark.parametrize("name", UNINITIALISED)
def test_a_data_dependent_layer_before_its_start_is_read_not_initialised_by_its_passes(name):
    layer = UNINITIALISED[name]()
    x = np.random.default_rng(6).normal(size=(10, layer.dim)) * 3.0 + 2.0        # (N, D)
    before = _state(layer)
    with _locked(layer):
        _all_passes(layer, x)
    _assert_read_only(layer, before, f"{name}'s passes")
    np.testing.assert_allclose(layer.forward(x)[0], x, atol=1e-12)   # the identity until started


def _flow(name):
    config = dict(MODELS[name])
    config.setdefault("model", name)
    return build_model(config)


@pytest.mark.parametrize("name", MODELS)
def test_a_fresh_flow_s_passes_leave_its_parameters_and_buffers(name):
    flow = _flow(name)
    rng = np.random.default_rng(7)
    if flow.dim == 64:                                            # pixels in (0, 1), for the logit
        x = rng.uniform(0.05, 0.95, size=(8, flow.dim))
    else:
        x = rng.normal(size=(8, flow.dim)) * 2.0 + 1.0
    context = rng.normal(size=(8, flow.context_dim)) if flow.context_dim else None
    before = _state(flow)
    with _locked(flow):
        flow.log_prob(x, context)
        flow.loss_and_grad(x, context)
        flow.sample(5, rng=1, context=None if context is None else context[:5])
        if not flow.context_dim:
            flow.reverse_kl_loss_and_grad(GaussianTarget(np.ones(flow.dim)), 6, rng=2)
        _all_passes(flow.layers, x, context)
    _assert_read_only(flow, before, f"{name}'s passes")


def _read_only(*arrays):
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _underscored_passes_on_read_only_input(layer, x, context=None):
    """The four underscored passes, as a stack calls them, each on read-only arrays: a write into
    what it was handed raises."""
    z, log_det = layer._forward(*_read_only(x.copy()), context)
    grad_z, grad_log_det = _read_only(np.ones_like(z), np.ones_like(log_det))
    layer._backward(grad_z, grad_log_det)
    x_back, _ = layer._inverse(*_read_only(np.array(z)), context)
    layer._inverse_backward(*_read_only(np.ones_like(x_back), np.ones_like(log_det)))


@pytest.mark.parametrize("case", REGISTRY + CONDITIONAL, ids=lambda case: case.name)
def test_a_layer_s_passes_never_write_into_the_arrays_handed_to_them(case):
    """In a stack, a layer's input is the output of the layer before it, which that layer may keep
    for its gradient pass (ActNorm keeps z); the gradients handed in are the next layer's results.
    So no underscored pass writes into its input (the public passes copy theirs, which would hide
    it)."""
    layer = case.make(seed=3)
    x = case.batch(n=max(6, case.min_rows), seed=4)
    context = (np.random.default_rng(5).normal(size=(len(x), layer.context_dim))
               if layer.context_dim else None)
    layer.forward(x, context)                                   # a public pass first: checks, caches
    _underscored_passes_on_read_only_input(layer, x, None if context is None else _read_only(context)[0])
