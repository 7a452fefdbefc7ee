"""scratchflow.nn: every module's backward against finite differences, and a planted bug caught."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchflow.checks import check_module
from scratchflow.nn import MADE, MLP, Linear, MaskedLinear, ReLU, SiLU, Softplus, Tanh
from scratchflow.nn.linear import _row_ones
from tests.strategies import SEEDS


def away_from_zero(x):
    """Keep ReLU inputs away from its kink, where finite differences straddle two slopes."""
    return np.where(np.abs(x) < 0.05, 0.05 * np.sign(x + 1e-12) + x, x)


@pytest.mark.parametrize("activation", [Tanh, Softplus, SiLU])
def test_activation_gradients(activation):
    x = np.random.default_rng(0).normal(size=(5, 4)) * 2
    check_module(activation(), x).assert_ok()


def test_relu_gradient_away_from_kink():
    x = away_from_zero(np.random.default_rng(1).normal(size=(5, 4)))
    check_module(ReLU(), x).assert_ok()


@given(seed=SEEDS, n=st.integers(1, 6), d_in=st.integers(1, 5), d_out=st.integers(1, 5))
@settings(max_examples=30)
def test_linear_and_masked_linear_gradients(seed, n, d_in, d_out):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d_in))
    check_module(Linear(d_in, d_out, rng=rng), x).assert_ok()
    mask = rng.integers(0, 2, size=(d_in, d_out))
    layer = MaskedLinear(d_in, d_out, mask, rng=rng)
    check_module(layer, x).assert_ok()
    layer.zero_grad()
    layer.forward(x)
    layer.backward(rng.normal(size=(n, d_out)))
    assert np.all(layer.grads["weight"][mask == 0] == 0), "a masked weight received gradient"


@pytest.mark.parametrize("activation", ["tanh", "relu", "softplus", "silu"])
def test_mlp_gradients(activation):
    rng = np.random.default_rng(2)
    mlp = MLP([3, 6, 5, 2], activation=activation, rng=rng)
    x = rng.normal(size=(4, 3))
    if activation == "relu":      # nudge pre-activations off the kink by choosing a seed that has none
        pre = x @ mlp.params["0.weight"] + mlp.params["0.bias"]
        assert np.min(np.abs(pre)) > 1e-3
    check_module(mlp, x).assert_ok()


def test_params_are_live_and_grads_match_shapes():
    mlp = MLP([2, 4, 3], rng=np.random.default_rng(0))
    params, grads = mlp.params, mlp.grads
    assert list(params) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(grads[k].shape == params[k].shape for k in params)
    x = np.ones((1, 2))
    before = mlp.forward(x).copy()
    params["2.bias"] += 1.0                        # in-place change of the dict's array ...
    assert np.allclose(mlp.forward(x), before + 1.0)   # ... changes the next forward
    mlp.backward(np.ones((1, 3)))
    assert np.abs(mlp.grads["0.weight"]).sum() > 0
    mlp.zero_grad()
    assert all(np.all(g == 0) for g in mlp.grads.values())


@pytest.mark.parametrize("make", [
    lambda: Linear(2, 3, rng=0),
    lambda: MaskedLinear(2, 3, [[1, 0, 1], [1, 1, 0]], rng=0),
    lambda: MLP([2, 4, 3], activation="silu", rng=0),
    lambda: MADE(3, hidden=(4,), rng=0),
], ids=["Linear", "MaskedLinear", "MLP", "MADE"])
def test_every_gradient_accumulates_in_place_until_zero_grad(make):
    """A gradient pass run twice doubles every gradient (weights and biases), in the same arrays."""
    module = make()
    held = module.grads
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2 if not isinstance(module, MADE) else 3))
    out = module.forward(x)
    upstream = [rng.standard_normal(part.shape) for part in (out if isinstance(out, tuple) else (out,))]
    module.backward(*upstream)
    once = {name: grad.copy() for name, grad in held.items()}
    module.backward(*upstream)
    for name, grad in module.grads.items():
        assert grad is held[name]
        np.testing.assert_allclose(grad, 2 * once[name], rtol=1e-12, err_msg=name)
        assert np.any(once[name] != 0) or name.endswith("weight"), name   # a bias always gets some
    module.zero_grad()
    assert all(grad is held[name] and not np.any(grad) for name, grad in module.grads.items())


def test_zero_last_layer_outputs_zero():
    mlp = MLP([3, 8, 2], rng=np.random.default_rng(0), zero_last=True)
    assert np.all(mlp.forward(np.random.default_rng(1).normal(size=(5, 3))) == 0)


def test_lecun_init_keeps_unit_scale():
    rng = np.random.default_rng(0)
    layer = Linear(256, 256, rng=rng)
    y = layer.forward(rng.normal(size=(512, 256)))
    assert 0.9 < y.std() < 1.1


def test_backward_before_forward_and_bad_shapes():
    with pytest.raises(RuntimeError, match="before"):
        Linear(2, 3).backward(np.ones((1, 3)))
    with pytest.raises(RuntimeError, match="before"):
        Tanh().backward(np.ones((1, 3)))
    layer = Linear(2, 3)
    with pytest.raises(ValueError, match="D=3 columns"):
        layer.forward(np.ones((4, 3)))
    layer.forward(np.ones((4, 2)))
    with pytest.raises(ValueError, match="N=5 rows"):
        layer.backward(np.ones((5, 3)))
    with pytest.raises(ValueError, match="mask must have shape"):
        MaskedLinear(2, 3, np.ones((3, 2)))
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([2, 2], activation="sigmoidish")


@pytest.mark.parametrize("sizes, mask_shape, name", [((0, 3), (1, 3), "in_features"),
                                                     ((2, 0), (2, 1), "out_features")])
def test_masked_linear_names_a_bad_size_before_comparing_the_mask_with_it(sizes, mask_shape, name):
    with pytest.raises(ValueError, match=f"{name} must be >= 1, got 0"):
        MaskedLinear(*sizes, np.ones(mask_shape))


def test_linear_row_sums_never_share_a_writable_vector():
    """Every Linear's bias gradient sums rows with one shared vector of ones per batch size: it is
    read-only, so no caller can change what the next row sum reads."""
    layer = Linear(3, 2, rng=0)
    layer.forward(np.ones((5, 3)))
    layer.backward(np.ones((5, 2)))
    np.testing.assert_array_equal(layer.grads["bias"], [5.0, 5.0])
    ones = _row_ones(5, np.dtype(np.float64))
    with pytest.raises(ValueError, match="read-only"):
        ones[0] = 7.0


def test_relu_slope_at_its_kink_is_zero_as_documented():
    """dy/dx = 1[x > 0]: at x = 0 exactly the gradient pass lets nothing through."""
    relu = ReLU()
    y = relu.forward(np.array([[0.0, -0.0, 2.0, -1.0]]))
    np.testing.assert_array_equal(y, [[0.0, 0.0, 2.0, 0.0]])
    np.testing.assert_array_equal(relu.backward(np.ones((1, 4))), [[0.0, 0.0, 1.0, 0.0]])


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
    ("NaN", np.full((4, 3), np.nan), ValueError, r"x contains NaN or inf"),        # not passed through
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


@pytest.mark.parametrize("make", [lambda: Linear(3, 2, rng=0, dtype=np.float32),
                                  lambda: MLP([3, 4, 2], rng=0, dtype=np.float32)])
def test_float32_nn_modules_cast_float64_gradients(make):
    module = make()
    with pytest.raises(TypeError, match="float64 but this model computes in float32"):
        module.forward(np.ones((4, 3)))
    assert module.forward(np.ones((4, 3), dtype=np.float32)).dtype == np.float32
    assert module.backward(np.ones((4, 2))).dtype == np.float32
    assert all(g.dtype == np.float32 for g in module.grads.values())


@pytest.mark.parametrize("make, error, message", [
    (lambda: Linear(0, 2), ValueError, r"in_features must be >= 1"),
    (lambda: Linear(2, 2.5), TypeError, r"out_features must be an integer"),
    (lambda: MaskedLinear(2, 3, np.ones((3, 2))), ValueError, r"mask must have shape \(2, 3\)"),
    (lambda: MaskedLinear(2, 2, np.full((2, 2), 2.0)), ValueError, r"only 0 and 1"),
    (lambda: MLP([2]), ValueError, r"at least an input and an output size"),
    (lambda: MLP([2, 0, 2]), ValueError, r"sizes entry must be >= 1, got 0"),
    (lambda: MLP(3), TypeError, r"sizes must be a sequence"),
    (lambda: MADE(2, hidden=4), TypeError, r"hidden must be a sequence"),
])
def test_nn_constructors_refuse_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("make, weight", [
    (lambda rng: Linear(2, 3, rng=rng), "weight"),
    (lambda rng: MaskedLinear(2, 2, np.ones((2, 2)), rng=rng), "weight"),
    (lambda rng: MLP([2, 4, 1], rng=rng), "0.weight"),
])
def test_seeds_are_accepted_wherever_rng_is(make, weight):
    """An int seed gives the weights of a Generator made from that seed."""
    np.testing.assert_array_equal(make(7).params[weight], make(np.random.default_rng(7)).params[weight])
