"""Public tests of Task 5 (MADE masks). Run: python -m pytest tests/test_task5_made_masks.py"""
import numpy as np

from scratchflow.nn import MaskedLinear, Tanh
from task5_made_masks import hidden_degrees, hidden_mask, made_masks, output_mask


def test_hidden_degrees_cycle_through_1_to_d_minus_1():
    np.testing.assert_array_equal(hidden_degrees(7, 4), [1, 2, 3, 1, 2, 3, 1])


def test_masks_of_a_small_example():
    degrees_in, degrees_out = np.array([1, 2, 3]), np.array([1, 2, 2])
    np.testing.assert_array_equal(hidden_mask(degrees_in, degrees_out), [[1, 1, 1], [0, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(output_mask(degrees_out, degrees_in), [[0, 1, 1], [0, 0, 1], [0, 0, 1]])


def test_made_is_autoregressive():
    dim, hidden = 4, [8, 8]
    masks = made_masks(dim, hidden)
    assert [m.shape for m in masks] == [(4, 8), (8, 8), (8, 8)]
    connection = np.linalg.multi_dot([m != 0 for m in masks]) > 0        # (D, 2D): path from input i
    degrees_out = np.tile(np.arange(1, dim + 1), 2)
    assert not np.any(connection & (degrees_out[None, :] <= np.arange(1, dim + 1)[:, None]))


def test_output_d_does_not_move_when_later_inputs_change():
    dim = 3
    masks = made_masks(dim, [6])
    rng = np.random.default_rng(0)
    layers = [MaskedLinear(dim, 6, masks[0], rng=rng), Tanh(), MaskedLinear(6, 2 * dim, masks[1], rng=rng)]

    def net(x):
        for layer in layers:
            x = layer.forward(x)
        return x
    x = rng.normal(size=(1, dim))
    for i in range(dim):
        changed = x.copy()
        changed[0, i] += 1.0
        moved = np.abs(net(changed) - net(x))[0] > 1e-12                 # (2D,)
        degrees_out = np.tile(np.arange(1, dim + 1), 2)
        assert not np.any(moved & (degrees_out <= i + 1)), f"input {i + 1} leaks into an output of degree <= {i + 1}"
