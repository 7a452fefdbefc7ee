"""Task 2 — The MLP's backward pass, by hand (the networks s and t of every flow layer are MLPs;
slide "Алгоритм обучения" / "Training algorithm" needs ∇_θ L, and nothing computes it for us).

Row convention: a batch is ``x`` (N, in) and a Linear layer is ``y = x @ W + b``, W (in, out).
For an upstream gradient ``g = dL/dy`` (N, out), the chain rule gives

    dL/dx = g @ W.T   (N, in)      dL/dW = x.T @ g   (in, out)      dL/db = Σ_rows g   (out,)

and for ``y = tanh(x)``, with the output y kept by forward: ``dL/dx = g ⊙ (1 − y²)``.

You write:

Shapes: x (N, in), W0 (in, H), b0 (H,), W1 (H, out), b1 (out,); every gradient has the shape of
what it is the gradient of.

* ``linear_backward(x, weight, grad_out)`` -> ``(grad_x, grad_weight, grad_bias)``;
* ``tanh_backward(y, grad_out)`` -> ``grad_x`` (``y = tanh(x)``, the forward's output);
* ``mlp_backward(cache, params, grad_out)`` -> dict with ``"x", "W0", "b0", "W1", "b1"``: the
  gradient of the two-layer MLP ``out = tanh(x @ W0 + b0) @ W1 + b1`` whose forward,
  :func:`mlp_forward` (given), returns the ``cache`` you need. Use your two functions above.

What the public tests check (``python -m pytest tests/test_task2_mlp_backward.py``): every
gradient against finite differences of ``L = Σ g ⊙ out`` (the cs231n gradient check), using
:func:`scratchflow.checks.numerical_gradient`. Run the checker yourself::

    from scratchflow.checks import numerical_gradient, relative_error

Not allowed in this file: ``scratchflow.nn`` (it has Linear, Tanh and MLP with their backward) and
``scratchflow.checks`` (finite differences are the check, not the answer).
"""
import numpy as np


def linear_forward(x, weight, bias):
    """y = x @ W + b: ``x`` (N, in), ``weight`` (in, out), ``bias`` (out,) -> (N, out). Given."""
    return x @ weight + bias


def tanh_forward(x):
    """y = tanh(x), any shape. Given."""
    return np.tanh(x)


def linear_backward(x, weight, grad_out):
    """Gradient pass of ``y = x @ W + b``.

    Parameters
    ----------
    x : ndarray (N, in)       the forward's input
    weight : ndarray (in, out)
    grad_out : ndarray (N, out)   dL/dy

    Returns
    -------
    grad_x (N, in), grad_weight (in, out), grad_bias (out,)
    """
    ### BEGIN SOLUTION
    ### TODO dL/dx = g @ W.T, dL/dW = x.T @ g, dL/db = sum of g over rows (module docstring)
    grad_x = grad_out @ weight.T                                # (N, in)
    grad_weight = x.T @ grad_out                                # (in, out)
    grad_bias = grad_out.sum(axis=0)                            # (out,)
    return grad_x, grad_weight, grad_bias
    ### END SOLUTION


def tanh_backward(y, grad_out):
    """Gradient pass of ``y = tanh(x)``: ``grad_out`` (N, H) -> dL/dx (N, H), with y kept by forward."""
    ### BEGIN SOLUTION
    ### TODO d tanh(x)/dx = 1 - tanh(x)^2 = 1 - y^2
    return grad_out * (1.0 - y * y)                             # (N, H)
    ### END SOLUTION


def mlp_forward(x, params):
    """out = tanh(x @ W0 + b0) @ W1 + b1. Given. Returns ``(out (N, out), cache)``."""
    hidden = tanh_forward(linear_forward(x, params["W0"], params["b0"]))   # (N, H)
    out = linear_forward(hidden, params["W1"], params["b1"])                # (N, out)
    cache = {"x": x, "hidden": hidden}
    return out, cache


def mlp_backward(cache, params, grad_out):
    """Gradient pass of :func:`mlp_forward`: dL/dout (N, out) -> dict of dL/dx, dL/dW0, ..., dL/db1."""
    ### BEGIN SOLUTION
    ### TODO run the layers in reverse: linear_backward for W1, tanh_backward, linear_backward for W0
    grad_hidden, grad_w1, grad_b1 = linear_backward(cache["hidden"], params["W1"], grad_out)  # (N, H)
    grad_pre = tanh_backward(cache["hidden"], grad_hidden)                                  # (N, H)
    grad_x, grad_w0, grad_b0 = linear_backward(cache["x"], params["W0"], grad_pre)          # (N, in)
    return {"x": grad_x, "W0": grad_w0, "b0": grad_b0, "W1": grad_w1, "b1": grad_b1}
    ### END SOLUTION
