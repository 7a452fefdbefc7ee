"""One flat parameter buffer and one gradient buffer per model (scratchflow.nn.module), the
optimizer's step over that block, and masked weights kept masked (scratchflow.nn.linear)."""
import copy

import numpy as np
import pytest

from scratchflow.bijectors import Compose, ElementwiseAffine
from scratchflow.models import build_autoregressive, build_realnvp
from scratchflow.nn import MADE, Linear, MaskedLinear
from scratchflow.nn.module import Module
from scratchflow.optim import SGD, Adam


def small_realnvp(dtype="float64"):
    return build_realnvp(2, n_layers=2, hidden=(6,), seed=0, dtype=dtype)


def moons(n=32, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_params_and_grads_are_views_of_one_buffer_each_in_order(dtype):
    flow = small_realnvp(dtype)
    for arrays, flat in ((flow.params, flow._flat_params), (flow.grads, flow._flat_grads)):
        assert flat.dtype == np.dtype(dtype) and flat.base is None
        assert all(array.base is flat for array in arrays.values())
        joined = np.concatenate([array.ravel() for array in arrays.values()])
        flat[...] = np.arange(flat.size)                  # the views show the buffer, in order
        assert np.array_equal(np.concatenate([a.ravel() for a in arrays.values()]),
                              np.arange(flat.size)) and joined.size == flat.size


def test_zero_grad_clears_every_gradient_and_backward_accumulates_in_the_views():
    flow = small_realnvp()
    grads = flow.grads
    flow.loss_and_grad(moons())
    first = {name: grad.copy() for name, grad in grads.items()}
    assert any(np.any(grad != 0) for grad in first.values())
    flow.layers.backward(*_upstream(flow))                # adds into the same arrays
    flow.zero_grad()
    assert all(np.all(grad == 0) for grad in grads.values())


def _upstream(flow):
    z, _ = flow.layers.forward(moons())
    return z / len(z), -np.ones(len(z)) / len(z)


def test_rebinding_a_parameter_is_refused_and_writing_in_place_is_seen():
    layer = Linear(3, 2, rng=0)
    with pytest.raises(AttributeError, match=r"weight\[\.\.\.\] = "):
        layer.weight = np.zeros((3, 2))
    layer.weight[...] = 1.0
    assert np.array_equal(layer.params["weight"], np.ones((3, 2)))
    assert np.array_equal(layer.forward(np.ones((1, 3))), [[3.0, 3.0]])


def test_an_optimizer_made_before_the_model_was_finished_fails_loudly():
    layer = ElementwiseAffine(2)
    optimizer = Adam(layer.params, layer.grads, lr=0.1)
    Compose([layer, ElementwiseAffine(2)])                # moves layer's arrays into a new buffer
    with pytest.raises(RuntimeError, match="make the optimizer"):
        optimizer.step()
    first, second = ElementwiseAffine(2), ElementwiseAffine(2)   # two buffers: array by array
    params = {**{f"first.{k}": v for k, v in first.params.items()},
              **{f"second.{k}": v for k, v in second.params.items()}}
    grads = {**{f"first.{k}": v for k, v in first.grads.items()},
             **{f"second.{k}": v for k, v in second.grads.items()}}
    optimizer = SGD(params, grads, lr=0.1)
    assert optimizer._flat_param is None
    Compose([second, ElementwiseAffine(2)])               # only the later arrays go stale
    with pytest.raises(RuntimeError, match="make the optimizer"):
        optimizer.step()


def test_a_module_inside_a_model_takes_no_new_child():
    flow = small_realnvp()
    with pytest.raises(RuntimeError, match="already part of a larger model"):
        flow.layers.layers[0].add_param("extra", np.zeros(2))


def test_a_shared_layer_stays_in_its_first_model():
    flow = small_realnvp()
    layer = flow.layers.layers[0]
    other = Compose([layer, ElementwiseAffine(2)])        # shares layer: not moved
    assert other._flat_grads is None
    assert all(array.base is flow._flat_params for array in layer.params.values())
    flow.loss_and_grad(moons())
    other.zero_grad()                                     # walks its children instead
    assert all(np.all(grad == 0) for grad in layer.grads.values())
    owner = Module()                                      # own parameters and a shared child
    owner.add_param("scale", np.ones(3))
    owner.add_child("shared", layer)
    assert owner._flat_grads is None
    owner.grads["scale"][...] = 5.0
    flow.loss_and_grad(moons())
    owner.zero_grad()                                     # its own arrays, then the child's
    assert all(np.all(grad == 0) for grad in owner.grads.values())


def test_a_deep_copy_has_its_own_packed_buffer():
    flow = small_realnvp()
    twin = copy.deepcopy(flow)
    assert all(array.base is twin._flat_params for array in twin.params.values())
    before = flow._flat_params.copy()
    optimizer = Adam(twin.params, twin.grads, lr=0.1)
    twin.loss_and_grad(moons())
    optimizer.step()
    assert np.array_equal(flow._flat_params, before)
    assert not np.array_equal(twin._flat_params, before)


@pytest.mark.parametrize("make", [lambda p, g: Adam(p, g, lr=0.01, weight_decay=0.1, clip_norm=0.5),
                                  lambda p, g: SGD(p, g, lr=0.1, momentum=0.9, weight_decay=0.1,
                                                   clip_norm=0.5)])
def test_the_flat_step_equals_the_array_by_array_step_and_leaves_gradients_alone(make):
    flow, loose = small_realnvp(), small_realnvp()
    params = {name: array.copy() for name, array in loose.params.items()}   # not one block
    grads = {name: array.copy() for name, array in loose.grads.items()}
    flat, by_array = make(flow.params, flow.grads), make(params, grads)
    half = small_realnvp()                               # parameters one block, gradients not
    half_grads = {name: array.copy() for name, array in half.grads.items()}
    mixed = make(half.params, half_grads)
    assert flat._flat_param is not None and by_array._flat_param is None
    assert mixed._flat_param is not None and mixed._live_flat_grad is None
    for step in range(3):
        flow.loss_and_grad(moons(seed=step))
        for name, grad in flow.grads.items():
            grads[name][...] = grad
            half_grads[name][...] = grad
        kept = flow._flat_grads.copy()
        flat.step()
        by_array.step()
        mixed.step()
        assert np.array_equal(flow._flat_grads, kept)     # clipping and decay used a copy
    for name, array in flow.params.items():
        np.testing.assert_array_equal(array, params[name])
        np.testing.assert_array_equal(array, half.params[name])


def test_masked_weights_stay_zero_through_training():
    flow = build_autoregressive("maf", 3, n_layers=2, hidden=(8,), seed=0)
    optimizer = Adam(flow.params, flow.grads, lr=0.05, weight_decay=0.01)
    masked = [layer for layer in _linears(flow) if layer.mask is not None]
    assert masked and all(np.all(layer.weight[layer.mask == 0] == 0) for layer in masked)
    x = np.random.default_rng(1).normal(size=(64, 3))
    for _ in range(5):
        flow.loss_and_grad(x)
        optimizer.step()
    assert all(np.all(layer.weight[layer.mask == 0] == 0) for layer in masked)
    assert any(np.any(layer.weight[layer.mask == 1] != 0) for layer in masked)


def _linears(module):
    found = [module] if isinstance(module, Linear) else []
    for child in module._children.values():
        found += _linears(child)
    return found


def test_weights_written_from_outside_are_masked_before_the_product():
    rng = np.random.default_rng(2)
    mask = rng.integers(0, 2, size=(4, 3))
    layer = MaskedLinear(4, 3, mask, rng=rng)
    weight = rng.normal(size=(4, 3))
    layer.weight[...] = weight                            # masked entries no longer zero
    x = rng.normal(size=(5, 4))
    np.testing.assert_array_equal(layer.forward(x), x @ (weight * mask) + layer.bias)
    made = MADE(3, hidden=(5,), rng=0)
    made.params["0.weight"][...] = rng.normal(size=(3, 5))
    shift, _ = made.forward(np.ones((1, 3)))
    moved, _ = made.forward(np.array([[1.0, 1.0, 9.0]]))   # the last input feeds no output
    np.testing.assert_array_equal(shift, moved)


def test_a_fortran_ordered_mask_is_kept_in_c_order_with_the_same_entries():
    mask = np.random.default_rng(3).integers(0, 2, size=(5, 4))
    layer = MaskedLinear(4, 5, mask.T, rng=0)               # mask.T: a Fortran-ordered (4, 5)
    assert layer.mask.flags.c_contiguous                    # the per-step W ⊙ M runs unstrided
    np.testing.assert_array_equal(layer.mask, mask.T)


def test_a_shallow_copy_shares_the_arrays_and_leaves_the_model_packed():
    flow = small_realnvp()
    twin = copy.copy(flow)
    assert twin.params["layers.0.net.0.weight"] is flow.params["layers.0.net.0.weight"]
    assert all(array.base is flow._flat_params and array.flags.writeable
               for array in flow.params.values())


def test_a_model_with_a_logit_first_layer_is_one_buffer():
    from scratchflow.models import build_model
    flow = build_model({"model": "maf", "dim": 3, "n_layers": 2, "hidden": [4], "seed": 0,
                        "logit_alpha": 0.05})
    assert flow._flat_params is not None and flow._flat_params.base is None
    assert all(array.base is flow._flat_params for array in flow.params.values())


@pytest.mark.parametrize("name", ["realnvp", "maf", "iaf", "nsf", "nsf-ar", "planar", "radial",
                                  "nice"])
def test_every_built_model_is_one_buffer(name):
    from scratchflow.models import build_model
    config = {"model": name, "dim": 2, "seed": 0}
    flow = build_model(config if name in ("planar", "radial") else {**config, "hidden": [4]})
    assert all(array.base is flow._flat_params for array in flow.params.values())
    assert flow._flat_params.size == flow.num_params() > 0


def test_an_optimizer_steps_rows_of_a_two_dimensional_array_like_separate_arrays():
    """Live arrays that tile a 2-D array (its rows) are not a model's flat buffer: the optimizer
    steps them array by array, to the same values as copies of them."""
    table, table_grads = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    copies = {"a": table[0].copy(), "b": table[1].copy()}
    for optimizer in (SGD({"a": table[0], "b": table[1]}, {"a": table_grads[0], "b": table_grads[1]},
                          lr=0.5),
                      SGD(copies, {"a": np.ones(3), "b": np.ones(3)}, lr=0.5)):
        optimizer.step()
    np.testing.assert_array_equal(table, np.arange(6.0).reshape(2, 3) - 0.5)
    np.testing.assert_array_equal(np.stack([copies["a"], copies["b"]]), table)


@pytest.mark.parametrize("views, block", [
    (lambda array: {"a": array[2:4], "b": array[4:7]}, True),    # a layer inside a model's buffer
    (lambda array: {"a": array[0:2], "b": array[3:5]}, False),   # a gap at index 2: not one block
    (lambda array: {"a": np.frombuffer(array.data, count=2), "b": np.frombuffer(
        array.data, offset=16, count=3)}, False)])                # bases that are not ndarrays
def test_an_optimizer_over_views_of_a_buffer_steps_exactly_those_views(views, block):
    values, gradients = np.zeros(8), np.arange(1.0, 9.0)
    params, grads = views(values), views(gradients)
    optimizer = SGD(params, grads, lr=0.5)
    assert (optimizer._flat_param is not None) is block
    expected = {name: -0.5 * grad for name, grad in grads.items()}
    optimizer.step()
    for name, array in params.items():
        np.testing.assert_array_equal(array, expected[name])
    assert np.count_nonzero(values) == sum(array.size for array in params.values())   # only them
