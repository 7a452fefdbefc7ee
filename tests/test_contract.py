"""Every layer in tests/registry.py against the contract, in both directions (test ids by name).

Numerically, for Hypothesis-drawn dimensions, parameters and batches, :func:`check_bijector` must
report, in float64: reconstruction error <= 1e-10 (x -> z -> x and z -> x -> z); log-det error
against the numerical Jacobian <= 1e-7 (BatchNorm-train: with the batch statistics held fixed) and
forward + inverse log-dets summing to 0; relative error of every input and parameter gradient,
forward and inverse, <= 1e-6.

Bookkeeping, per layer and direction: a gradient pass needs its own pass first and a gradient of
that pass's shape; gradients accumulate (a gradient pass run twice doubles every gradient, in the
same arrays an optimizer holds: ``=`` in place of ``+=`` fails here); ``zero_grad`` zeroes them in
place; a float32 layer refuses float64 input and computes, and casts gradients, in float32.
"""
import inspect

import numpy as np
import pytest
from hypothesis import given

import scratchflow.bijectors as bijectors
from scratchflow.bijectors import Bijector
from scratchflow.checks import check_bijector
from scratchflow.optim import SGD
from tests.registry import REGISTRY
from tests.strategies import layer_and_batch

CASES = pytest.mark.parametrize("case", REGISTRY, ids=lambda case: case.name)
DIRECTIONS = pytest.mark.parametrize("direction", ["forward", "inverse"])


def _passes(layer, direction):
    if direction == "forward":
        return layer.forward, layer.backward
    return layer.inverse, layer.inverse_backward


@CASES
def test_contract(case):
    @given(layer_and_batch(case))
    def run(drawn):
        layer, x, seed = drawn
        assert isinstance(layer, case.cls)
        # perturb=False: the parameters are Hypothesis' draws, checked as drawn; a line they make
        # vacuous (x = 0 rows) is reported skipped as such, never ok
        report = check_bijector(layer, x, rng=seed, perturb=False, **case.check_options)
        report.assert_ok()
        assert report.skipped() == report.vacuous(), str(report)   # vacuous: nothing to compare        # every line checked, none skipped
        z, log_det = layer.forward(x)
        assert z.shape == x.shape and log_det.shape == (x.shape[0],)
        x_back, log_det_inv = layer.inverse(z)
        assert x_back.shape == x.shape and log_det_inv.shape == (x.shape[0],)
    run()


@CASES
def test_gradient_passes_need_their_own_pass_and_a_gradient_of_its_shape(case):
    layer, x = case.make(), case.batch()
    dim = x.shape[1]
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(np.ones_like(x))
    with pytest.raises(RuntimeError, match=r"inverse_backward\(\) called before inverse\(\)"):
        layer.inverse_backward(np.ones_like(x))
    layer.forward(x)
    with pytest.raises(RuntimeError, match=r"inverse_backward\(\) called before inverse"):
        layer.inverse_backward(np.ones_like(x))               # a forward is not an inverse
    for grad, grad_log_det, error, message in [
        (np.ones((5, dim)), None, ValueError, r"grad_z has N=5 rows but the latest pass had N=4"),
        (np.ones((1, dim)), None, ValueError, r"grad_z has N=1 rows"),          # would broadcast
        (np.ones((4, dim + 1)), None, ValueError, rf"grad_z has D={dim + 1} columns.*dimension {dim}"),
        (np.ones(dim), None, ValueError, r"grad_z must be 2-D"),
        (np.full((4, dim), np.nan), None, ValueError, r"grad_z contains NaN or inf"),
        (np.ones((4, dim), dtype=int), None, TypeError, r"grad_z must be a float array.*int64"),
        (np.ones((4, dim)), np.ones((4, 1)), ValueError, r"grad_log_det must have shape \(4,\)"),
        (np.ones((4, dim)), 1.0, ValueError, r"grad_log_det must have shape \(4,\)"),
        (np.ones((4, dim)), np.ones(4, dtype=int), TypeError, r"grad_log_det must be a float array"),
    ]:
        with pytest.raises(error, match=message):
            layer.backward(grad, grad_log_det)
    assert layer.backward(np.ones_like(x), np.ones(4)).shape == x.shape   # and the right one works


@CASES
@DIRECTIONS
def test_gradients_accumulate_in_the_arrays_the_optimizer_holds_until_zero_grad(case, direction):
    layer, x = case.make(), case.batch()
    optimizer = SGD(layer.params, layer.grads, lr=0.1)
    held = layer.grads
    run, run_backward = _passes(layer, direction)
    rng = np.random.default_rng(3)
    grad_out, grad_log_det = rng.standard_normal(x.shape), rng.standard_normal(len(x))
    layer.zero_grad()
    run(x)
    first = run_backward(grad_out, grad_log_det)
    once = {name: grad.copy() for name, grad in held.items()}
    second = run_backward(grad_out, grad_log_det)             # the same pass again: grads double
    np.testing.assert_allclose(second, first, rtol=1e-12)     # and the pass kept its cache intact
    for name, grad in held.items():
        assert layer.grads[name] is grad
        np.testing.assert_allclose(grad, 2 * once[name], rtol=1e-12, atol=1e-300, err_msg=name)
    assert any(np.any(grad != 0) for grad in once.values()) or not held
    read = [grad for _, grad in optimizer.pairs]              # the vectors the optimizer reads
    assert all(any(np.shares_memory(vector, grad) for vector in read) for grad in held.values())
    layer.zero_grad()
    for name, grad in held.items():
        assert layer.grads[name] is grad and not np.any(grad), name


@CASES
def test_a_float32_layer_refuses_float64_input_and_stays_float32(case):
    if not case.float32:
        pytest.skip(f"{case.name} is float64 only")
    layer = case.make(dtype=np.float32)
    with pytest.raises(TypeError, match=r"x has dtype float64 but this model computes in float32"):
        layer.forward(case.batch())
    with pytest.raises(TypeError, match=r"z has dtype float64 but this model computes in float32"):
        layer.inverse(case.batch())
    x = case.batch(dtype=np.float32)
    for run, run_backward in ((layer.forward, layer.backward),
                              (layer.inverse, layer.inverse_backward)):
        out, log_det = run(x)
        assert out.dtype == np.float32 and log_det.dtype == np.float32      # Logit's log_det too
        grad = run_backward(np.ones(x.shape), np.ones(len(x)))              # float64 gradients...
        assert grad.dtype == np.float32                                     # ...are cast
        assert all(g.dtype == np.float32 for g in layer.grads.values())


def test_every_exported_bijector_is_registered():
    exported = {obj for obj in vars(bijectors).values()
                if inspect.isclass(obj) and issubclass(obj, Bijector) and obj is not Bijector}
    registered = {case.cls for case in REGISTRY}
    missing = sorted(cls.__name__ for cls in exported - registered)
    assert not missing, f"bijectors without a line in tests/registry.py: {missing}"


def test_registry_factories_build_their_class_with_unique_ids():
    for case in REGISTRY:
        layer = case.make()
        assert type(layer) is case.cls, f"{case.name}'s factory built a {type(layer).__name__}"
    names = [case.name for case in REGISTRY]
    assert len(set(names)) == len(names) and "BatchNorm-train" in names and "BatchNorm-eval" in names
