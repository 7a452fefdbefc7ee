"""The public boundary of scratchflow.nn: bad batches, gradients and arguments get an error that
names the problem (see tests/test_public_boundary.py for the decisions pinned)."""
import numpy as np
import pytest

from scratchflow.nn import MADE, MLP, Linear, MaskedLinear, ReLU, SiLU, Softplus, Tanh


# ------------------------------------------------------------------------------------ nn modules
def _nn_modules():
    return {
        "Linear": lambda: Linear(3, 2, rng=0),
        "MaskedLinear": lambda: MaskedLinear(3, 2, np.ones((3, 2)), rng=0),
        "MLP": lambda: MLP([3, 4, 2], rng=0),
        "MADE": lambda: MADE(3, hidden=(4,), rng=0),
        "Tanh": Tanh, "ReLU": ReLU, "Softplus": Softplus, "SiLU": SiLU,
    }


NN = _nn_modules()


@pytest.mark.parametrize("name", NN)
@pytest.mark.parametrize("label, bad, error, message", [
    ("1-D", np.ones(3), ValueError, r"must be 2-D"),
    ("NaN", np.full((4, 3), np.nan), ValueError, r"x contains NaN or inf"),        # was silent
    ("inf", np.full((4, 3), np.inf), ValueError, r"x contains NaN or inf"),
    ("int64", np.ones((4, 3), dtype=np.int64), TypeError, r"float array.*int64"),
    ("object", np.ones((4, 3), dtype=object), TypeError, r"float array.*object"),
])
def test_nn_forward_refuses_bad_batches(name, label, bad, error, message):
    with pytest.raises(error, match=message):
        NN[name]().forward(bad)


@pytest.mark.parametrize("name", ["Linear", "MaskedLinear", "MLP", "MADE"])
def test_nn_forward_checks_the_width(name):
    with pytest.raises(ValueError, match=r"x has D=5 columns but this layer has dimension 3"):
        NN[name]().forward(np.ones((4, 5)))
    with pytest.raises(TypeError, match=r"dtype float32 but this model computes in float64"):
        NN[name]().forward(np.ones((4, 3), dtype=np.float32))


@pytest.mark.parametrize("name", ["Linear", "MaskedLinear", "MLP", "Tanh", "ReLU", "Softplus", "SiLU"])
def test_nn_backward_needs_forward_and_a_gradient_of_the_output_shape(name):
    module = NN[name]()
    with pytest.raises(RuntimeError, match=rf"{'Linear' if name == 'MaskedLinear' else ''}.*"
                                           rf"backward\(\) called before"):
        module.backward(np.ones((4, 2)))
    out = module.forward(np.ones((4, 3)))
    n, width = out.shape
    for grad, error, message in [
        (np.ones((n + 1, width)), ValueError, rf"grad_out has N={n + 1} rows but the latest pass had N={n}"),
        (np.ones((1, width)), ValueError, r"grad_out has N=1 rows"),                   # would broadcast
        (np.ones((n, 1)), ValueError, rf"grad_out has D=1 columns.*dimension {width}"),   # would broadcast
        (np.ones(width), ValueError, r"grad_out must be 2-D"),
        (np.full((n, width), np.nan), ValueError, r"grad_out contains NaN or inf"),
        (np.ones((n, width), dtype=object), TypeError, r"grad_out must be a float array.*object"),
    ]:
        with pytest.raises(error, match=message):
            module.backward(grad)
    assert module.backward(np.ones((n, width))).shape == (4, 3)


def test_mlp_and_made_name_themselves_when_backward_comes_first():
    with pytest.raises(RuntimeError, match=r"MLP\.backward\(\) called before MLP\.forward\(\)"):
        MLP([3, 4, 2], rng=0).backward(np.ones((4, 2)))
    for method in ("backward", "input_gradient"):
        with pytest.raises(RuntimeError, match=rf"MADE\.{method}\(\) called before MADE\.forward\(\)"):
            getattr(MADE(3, hidden=(4,), rng=0), method)(np.ones((4, 3)), np.ones((4, 3)))


@pytest.mark.parametrize("method", ["backward", "input_gradient"])
@pytest.mark.parametrize("grad_shift, grad_log_scale, error, message", [
    (np.ones((4, 1)), np.ones((4, 5)), ValueError, r"grad_shift has D=1 columns.*dimension 3"),  # was
    (np.ones((4, 3)), np.ones((4, 2)), ValueError, r"grad_log_scale has D=2 columns"),  # concatenated
    (np.ones((5, 3)), np.ones((5, 3)), ValueError, r"grad_shift has N=5 rows.*N=4"),
    (np.ones(3), np.ones(3), ValueError, r"grad_shift must be 2-D"),
    (np.ones((4, 3), dtype=int), np.ones((4, 3)), TypeError, r"grad_shift must be a float array"),
])
def test_made_gradients_must_each_have_the_shape_of_the_output(method, grad_shift, grad_log_scale,
                                                               error, message):
    made = MADE(3, hidden=(4,), rng=0)
    made.forward(np.ones((4, 3)))
    with pytest.raises(error, match=message):
        getattr(made, method)(grad_shift, grad_log_scale)


@pytest.mark.parametrize("make", [lambda: Linear(3, 2, rng=0, dtype=np.float32),
                                  lambda: MLP([3, 4, 2], rng=0, dtype=np.float32)])
def test_float32_nn_modules_cast_float64_gradients(make):
    module = make()
    with pytest.raises(TypeError, match="float64 but this model computes in float32"):
        module.forward(np.ones((4, 3)))
    assert module.forward(np.ones((4, 3), dtype=np.float32)).dtype == np.float32
    assert module.backward(np.ones((4, 2))).dtype == np.float32
    assert all(g.dtype == np.float32 for g in module.grads.values())
