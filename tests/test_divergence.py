"""Overflow is a DivergenceError naming the layer, and the caller cannot change what a gradient
pass reads."""
import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.bijectors import IAF, AffineCoupling, ElementwiseAffine
from scratchflow.divergence import DivergenceError
from tests.registry import REGISTRY
from tests.strategies import MisshapenTarget


def _iaf_with_log_scale(value):
    layer = IAF(2, hidden=(4,), rng=0)
    layer.made.params["2.bias"][2:] = value                  # s = value: exp(-s) overflows
    return layer


def test_iaf_forward_overflow_names_the_layer():
    with np.errstate(all="ignore"), pytest.raises(DivergenceError, match=r"^IAF produced a "
                                                                         r"non-finite z\["):
        _iaf_with_log_scale(-800.0).forward(np.ones((3, 2)))


@pytest.mark.parametrize("make", [lambda: _iaf_with_log_scale(800.0),
                                  lambda: _coupling_with_log_scale(-800.0)], ids=["IAF", "coupling"])
def test_sampling_overflow_names_the_layer(make):
    flow = Flow([ElementwiseAffine(2), make()])
    with np.errstate(all="ignore"), pytest.raises(DivergenceError, match=r"layer 1 \((IAF|AffineCoupling)\) produced"):
        flow.sample(20, rng=0)


def _coupling_with_log_scale(value):
    layer = AffineCoupling(2, [1, 0], hidden=(4,), rng=0)
    layer.net.params["2.bias"][0] = value                    # s = value on the moved column
    return layer


def test_log_prob_and_loss_far_out_are_errors_not_minus_inf():
    flow = Flow([ElementwiseAffine(2)])
    far = np.full((2, 2), 1e300)                             # finite data, log p_z = -inf
    for method in (flow.log_prob, flow.loss_and_grad):
        with np.errstate(all="ignore"), pytest.raises(DivergenceError, match="base density"):
            method(far)
    assert all((grad == 0).all() for grad in flow.grads.values())     # no NaN gradient left
    assert np.isfinite(flow.log_prob(np.ones((2, 2)))).all()


@pytest.mark.parametrize("case", REGISTRY, ids=lambda case: case.name)
@pytest.mark.parametrize("direction", ["forward", "inverse"])
def test_changing_returned_and_passed_arrays_does_not_change_the_gradient(case, direction):
    """``z, _ = layer.forward(x); z *= 2; x *= 2`` must leave ``backward`` as it was."""
    layer = case.make(seed=3)
    x = case.batch(seed=4)
    if direction == "inverse":
        x, _ = layer.forward(x)                                    # a point in the codomain
    run = getattr(layer, direction)
    gradient_pass = layer.backward if direction == "forward" else layer.inverse_backward
    upstream = np.random.default_rng(5).normal(size=x.shape)
    upstream_log_det = np.random.default_rng(6).normal(size=x.shape[0])

    def gradients(mutate):
        layer.zero_grad()
        batch = x.copy()
        out, log_det = run(batch)
        if mutate:
            out *= 2.0
            log_det *= 2.0
            batch *= 2.0
        grad_in = gradient_pass(upstream, upstream_log_det)
        return grad_in, {name: grad.copy() for name, grad in layer.grads.items()}

    reference_input, reference_params = gradients(mutate=False)
    changed_input, changed_params = gradients(mutate=True)
    np.testing.assert_array_equal(changed_input, reference_input)
    for name, grad in reference_params.items():
        np.testing.assert_array_equal(changed_params[name], grad)


def _nn_modules():
    from scratchflow.nn import MADE, MLP, Linear
    from scratchflow.nn.activations import ACTIVATIONS
    rng = np.random.default_rng(7)
    yield "Linear", Linear(3, 4, rng=rng), lambda module, grad: module.backward(grad)
    yield "MLP", MLP([3, 5, 4], "tanh", rng=rng), lambda module, grad: module.backward(grad)
    for name, cls in ACTIVATIONS.items():
        yield name, cls(), lambda module, grad: module.backward(grad)
    made = MADE(2, hidden=(5,), rng=rng)
    made.params["2.bias"][:] = rng.normal(size=4)
    yield "MADE", made, lambda module, grad: module.backward(grad[:, :2], grad[:, 2:])


@pytest.mark.parametrize("name, module, gradient_pass", list(_nn_modules()),
                         ids=[entry[0] for entry in _nn_modules()])
def test_nn_gradient_passes_do_not_read_the_callers_arrays(name, module, gradient_pass):
    """The nn modules too: changing the input or the output after forward leaves backward exact."""
    rng = np.random.default_rng(8)
    width = 2 if name == "MADE" else (3 if name in ("Linear", "MLP") else 4)
    x = rng.normal(size=(5, width))

    def gradients(mutate):
        module.zero_grad()
        batch = x.copy()
        out = module.forward(batch)
        outputs = out if isinstance(out, tuple) else (out,)
        upstream = np.random.default_rng(9).normal(size=(5, sum(o.shape[1] for o in outputs)))
        if mutate:
            batch *= 3.0
            for array in outputs:
                array *= 3.0
        grad_in = gradient_pass(module, upstream)
        return grad_in, {key: grad.copy() for key, grad in module.grads.items()}

    reference_input, reference_params = gradients(False)
    changed_input, changed_params = gradients(True)
    np.testing.assert_array_equal(changed_input, reference_input)
    for key, grad in reference_params.items():
        np.testing.assert_array_equal(changed_params[key], grad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_one_bad_entry_anywhere(dtype, bad):
    from scratchflow.divergence import all_finite
    rng = np.random.default_rng(0)
    for shape, index in (((7, 3), (6, 2)), ((5,), (0,)), ((4, 9), (1, 4))):
        array = rng.standard_normal(shape).astype(dtype)
        assert all_finite(array, array[:, ::2] if array.ndim == 2 else array)
        array[index] = bad
        assert not all_finite(np.zeros(3, dtype), array)
        assert not all_finite(array.T)                                # a non-contiguous view


def test_all_finite_is_not_fooled_by_squares_that_overflow():
    from scratchflow.divergence import all_finite
    with np.errstate(over="ignore"):
        assert all_finite(np.full(4, 1e200), np.full(3, 3e38, dtype=np.float32))
        assert not all_finite(np.array([1e200, np.inf]))
    assert all_finite(np.zeros((0, 3)), 0.0)                          # empty, and a number


def test_an_overflow_inside_the_flow_is_named_as_such():
    """x is fine, the layer overflows: the base must not blame "z contains NaN" on the user."""
    flow = Flow([ElementwiseAffine(2, log_scale=[800.0, 0.0])])            # exp(800) = inf
    with np.errstate(over="ignore", invalid="ignore"):
        for method in (flow.log_prob, flow.loss):
            with pytest.raises(DivergenceError, match=r"layer 0 \(ElementwiseAffine\) produced a "
                                                      r"non-finite z\[0, 0\] = inf from finite input"):
                method(np.ones((3, 2)))
        flow = Flow([ElementwiseAffine(2, log_scale=[-800.0, 0.0])])       # inverse: exp(800)
        with pytest.raises(DivergenceError, match=r"layer 0 \(ElementwiseAffine\) produced a "
                                                  r"non-finite x\["):
            flow.reverse_kl_loss_and_grad(MisshapenTarget(), 4, rng=0)
