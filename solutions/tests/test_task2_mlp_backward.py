"""Public tests of Task 2 (the MLP's backward), by finite differences.

Run: python -m pytest tests/test_task2_mlp_backward.py
"""
import numpy as np

from scratchflow.checks import numerical_gradient, relative_error
from task2_mlp_backward import linear_backward, linear_forward, mlp_backward, mlp_forward, tanh_backward

rng = np.random.default_rng(0)
X = rng.normal(size=(5, 3))
PARAMS = {"W0": rng.normal(size=(3, 4)), "b0": rng.normal(size=4), "W1": rng.normal(size=(4, 2)),
          "b1": rng.normal(size=2)}
UPSTREAM = rng.normal(size=(5, 2))            # g = dL/dout for L = Σ g ⊙ out


def loss():
    return float(np.sum(UPSTREAM * mlp_forward(X, PARAMS)[0]))


def test_linear_backward_by_finite_differences():
    x, weight, bias = X.copy(), PARAMS["W0"].copy(), PARAMS["b0"].copy()
    g = rng.normal(size=(5, 4))
    grad_x, grad_weight, grad_bias = linear_backward(x, weight, g)

    def f():
        return float(np.sum(g * linear_forward(x, weight, bias)))
    assert relative_error(grad_x, numerical_gradient(f, x)) < 1e-7
    assert relative_error(grad_weight, numerical_gradient(f, weight)) < 1e-7
    assert relative_error(grad_bias, numerical_gradient(f, bias)) < 1e-7


def test_tanh_backward_by_finite_differences():
    x = rng.normal(size=(5, 4))
    g = rng.normal(size=(5, 4))
    grad_x = tanh_backward(np.tanh(x), g)
    assert relative_error(grad_x, numerical_gradient(lambda: float(np.sum(g * np.tanh(x))), x)) < 1e-7


def test_mlp_backward_by_finite_differences():
    _, cache = mlp_forward(X, PARAMS)
    grads = mlp_backward(cache, PARAMS, UPSTREAM)
    assert relative_error(grads["x"], numerical_gradient(loss, X)) < 1e-7
    for name, array in PARAMS.items():
        assert grads[name].shape == array.shape, name
        assert relative_error(grads[name], numerical_gradient(loss, array)) < 1e-7, name
