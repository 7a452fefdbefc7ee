"""The nn building blocks against their definitions (the gradient checks in test_nn.py cannot see a
forward that is wrong but consistent with its backward): activation values, MADE orders, degrees."""
import numpy as np
import pytest

from scratchflow.nn import ReLU, SiLU, Softplus, Tanh
from scratchflow.nn.activations import activation_class, sigmoid
from scratchflow.nn.made import made_degrees, made_masks, make_order

X = np.array([[-800.0, -3.0, -0.5, 0.0], [0.25, 2.0, 30.0, 800.0]])      # (2, 4), to overflow range


def test_activations_are_their_formulas():
    with np.errstate(over="ignore"):
        exact_sigmoid = 1.0 / (1.0 + np.exp(-X))
    np.testing.assert_allclose(sigmoid(X), exact_sigmoid, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(ReLU().forward(X), np.maximum(X, 0.0))
    np.testing.assert_allclose(Tanh().forward(X), np.tanh(X))
    np.testing.assert_allclose(Softplus().forward(X), np.logaddexp(0.0, X), rtol=1e-15)
    np.testing.assert_allclose(SiLU().forward(X), X * exact_sigmoid, rtol=1e-15)
    assert np.isfinite(Softplus().forward(X)).all() and np.isfinite(SiLU().forward(X)).all()


def test_activation_gradients_at_the_kink_and_far_out():
    relu = ReLU()
    relu.forward(X)
    np.testing.assert_array_equal(relu.backward(np.ones_like(X)), (X > 0).astype(float))
    softplus = Softplus()
    softplus.forward(X)
    np.testing.assert_allclose(softplus.backward(np.full_like(X, 2.0)), 2.0 * sigmoid(X))


def test_activation_names():
    assert activation_class("silu") is SiLU and activation_class("relu") is ReLU
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        activation_class("gelu")


def test_orders():
    np.testing.assert_array_equal(make_order("natural", 4), [0, 1, 2, 3])
    np.testing.assert_array_equal(make_order("reversed", 4), [3, 2, 1, 0])
    np.testing.assert_array_equal(make_order([2, 0, 1], 3), [2, 0, 1])
    random = make_order("random", 5, rng=1)
    np.testing.assert_array_equal(np.sort(random), np.arange(5))
    for bad in ([0, 0, 1], [0, 1], [1, 2, 3]):
        with pytest.raises(ValueError, match="permutation of range"):
            make_order(bad, 3)


def test_degrees_and_masks_follow_the_made_rule():
    order = np.array([2, 0, 1])                                   # x2 first, then x0, then x1
    degrees = made_degrees(order, (6, 5), rng=0)
    np.testing.assert_array_equal(degrees[0], [2, 3, 1])          # degree = position in the order
    for layer in degrees[1:]:
        assert layer.min() >= 1 and layer.max() <= 2              # in {1, ..., D-1}
    masks = made_masks(degrees)
    assert [mask.shape for mask in masks] == [(3, 6), (6, 5), (5, 6)]
    np.testing.assert_array_equal(masks[0], degrees[1][None, :] >= degrees[0][:, None])
    output = masks[-1][:, :3]
    np.testing.assert_array_equal(output, degrees[0][None, :] > degrees[2][:, None])
    np.testing.assert_array_equal(masks[-1][:, 3:], output)        # shift and log-scale alike
    np.testing.assert_array_equal(made_degrees([0], (4,), rng=0)[1], 0)   # D = 1: constants
