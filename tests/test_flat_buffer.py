"""A flow's parameters and gradients packed into one flat array each (scratchflow.nn.flat_buffer),
the optimizer's step over them against its step array by array, and masked weights
(scratchflow.nn.linear)."""
import copy

import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.models import build_autoregressive, build_realnvp
from scratchflow.nn import MADE, Linear, MaskedLinear
from scratchflow.nn.flat_buffer import flat_pairs, pack_parameters
from scratchflow.optim import SGD, Adam


def small_realnvp(dtype="float64"):
    return build_realnvp(2, n_layers=2, hidden=(6,), seed=0, dtype=dtype)


def moons(n=32, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_flows_params_and_grads_are_views_of_one_array_each_in_order(dtype):
    flow = small_realnvp(dtype)
    (flat_params, flat_grads), = flat_pairs(flow.params, flow.grads)
    for arrays, flat in ((flow.params, flat_params), (flow.grads, flat_grads)):
        assert flat.dtype == np.dtype(dtype) and flat.base is None
        assert all(array.base is flat for array in arrays.values())
        flat[...] = np.arange(flat.size)                  # the views show the buffer, in order
        assert np.array_equal(np.concatenate([a.ravel() for a in arrays.values()]),
                              np.arange(flat.size))
    layer = flow.layers.layers[0].net.layers[0]
    assert layer.weight is layer.params["weight"]         # the attribute follows its view


def test_packing_keeps_the_values_and_writing_in_place_is_seen():
    layer = Linear(3, 2, rng=0)
    weight = layer.weight.copy()
    pack_parameters(layer)
    np.testing.assert_array_equal(layer.weight, weight)
    layer.weight[...] = 1.0
    assert np.array_equal(layer.params["weight"], np.ones((3, 2)))
    assert np.array_equal(layer.forward(np.ones((1, 3))), [[3.0, 3.0]])


def test_a_second_flow_over_the_same_layers_takes_them_along():
    first = small_realnvp()
    second = Flow(first.layers.layers)                    # packs the layers again, into its own
    assert all(first.params[name] is array for name, array in second.params.items())
    assert len(flat_pairs(second.params, second.grads)) == 1


def test_a_deep_copy_trains_apart_from_its_original():
    flow = small_realnvp()
    twin = copy.deepcopy(flow)
    before = {name: array.copy() for name, array in flow.params.items()}
    optimizer = Adam(twin.params, twin.grads, lr=0.1)
    twin.loss_and_grad(moons())
    optimizer.step()
    assert all(np.array_equal(flow.params[name], array) for name, array in before.items())
    assert not all(np.array_equal(twin.params[name], array) for name, array in before.items())


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
    assert len(flat.pairs) == 1 and len(by_array.pairs) == len(mixed.pairs) == len(params)
    for step in range(3):
        flow.loss_and_grad(moons(seed=step))
        for name, grad in flow.grads.items():
            grads[name][...] = grad
            half_grads[name][...] = grad
        kept = {name: grad.copy() for name, grad in flow.grads.items()}
        flat.step()
        by_array.step()
        mixed.step()
        for name, grad in flow.grads.items():             # clipping and decay used a copy
            np.testing.assert_array_equal(grad, kept[name])
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
    return [part for part in module.modules() if isinstance(part, Linear)]


def test_weights_written_from_outside_are_masked_before_the_product():
    rng = np.random.default_rng(2)
    mask = rng.integers(0, 2, size=(4, 3))
    layer = MaskedLinear(4, 3, mask, rng=rng)
    weight = rng.normal(size=(4, 3))
    layer.weight[...] = weight                            # masked entries no longer zero
    x = rng.normal(size=(5, 4))
    np.testing.assert_array_equal(layer.forward(x), x @ (weight * mask) + layer.bias)
    np.testing.assert_array_equal(layer.weight, weight)  # the pass wrote nothing into W
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
    (lambda array: {"a": array[0:3], "b": array[3:8]}, True),    # the whole buffer: one pair
    (lambda array: {"a": array[2:4], "b": array[4:7]}, False),   # a part of it: array by array
    (lambda array: {"a": array[0:2], "b": array[3:5]}, False),   # a gap at index 2: not one block
    (lambda array: {"a": np.frombuffer(array.data, count=2), "b": np.frombuffer(
        array.data, offset=16, count=3)}, False)])                # bases that are not ndarrays
def test_an_optimizer_over_views_of_a_buffer_steps_exactly_those_views(views, block):
    values, gradients = np.zeros(8), np.arange(1.0, 9.0)
    params, grads = views(values), views(gradients)
    optimizer = SGD(params, grads, lr=0.5)
    assert (len(optimizer.pairs) == 1) is block
    expected = {name: -0.5 * grad for name, grad in grads.items()}
    optimizer.step()
    for name, array in params.items():
        np.testing.assert_array_equal(array, expected[name])
    assert np.count_nonzero(values) == sum(array.size for array in params.values())   # only them


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("make", [lambda p, g: Adam(p, g, lr=0.01, weight_decay=0.1),
                                  lambda p, g: SGD(p, g, lr=0.1, momentum=0.9)])
def test_a_model_larger_than_a_block_steps_block_by_block_as_array_by_array(dtype, make):
    from scratchflow.nn.flat_buffer import BLOCK_BYTES
    from scratchflow.nn.mlp import MLP
    packed, loose = MLP([400, 600, 250], rng=0, dtype=dtype), MLP([400, 600, 250], rng=0, dtype=dtype)
    pack_parameters(packed)
    (flat_params, flat_grads), = {(p.base.ctypes.data, g.base.ctypes.data): (p.base, g.base)
                                  for p, g in zip(packed.params.values(), packed.grads.values())}.values()
    block = BLOCK_BYTES // flat_params.itemsize
    pairs = flat_pairs(packed.params, packed.grads)
    assert flat_params.size > 2 * block and len(pairs) == -(-flat_params.size // block)
    assert all(p.base is flat_params and g.base is flat_grads for p, g in pairs)
    assert [p.size for p, _ in pairs[:-1]] == [block] * (len(pairs) - 1)  # consecutive, whole blocks
    assert np.shares_memory(pairs[-1][0], flat_params[-1:])               # ... up to the last element
    blocked, by_array = make(packed.params, packed.grads), make(loose.params, loose.grads)
    assert len(blocked.pairs) == len(pairs) and len(by_array.pairs) == len(loose.params)
    rng = np.random.default_rng(0)
    for _ in range(3):
        for name in packed.grads:
            packed.grads[name][...] = loose.grads[name][...] = rng.normal(size=packed.grads[name].shape)
        assert blocked.step() == pytest.approx(by_array.step(), rel=1e-6)  # the same global norm
        for name in packed.params:                   # element-wise: the same numbers, bit for bit
            np.testing.assert_array_equal(packed.params[name], loose.params[name])
