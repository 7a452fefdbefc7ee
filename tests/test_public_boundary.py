"""The public boundary: bad input gets an error that names the problem, raised where it entered.

Every public entry point is probed with wrong ndim, wrong D, NaN/inf, integer/object dtype, a
float64 batch for a float32 model, gradient passes before their pass or with a gradient of the
wrong shape, bad constructor arguments and bad counts. Each case asserts the error type AND that
the message names the problem; nothing may be broadcast, truncated, clipped or dropped silently.

Decisions pinned here (see docs/public_boundary.md):

* ``Flow.log_prob`` / ``forward`` / ``inverse`` of an empty batch (N = 0) return empty arrays;
  ``Flow.loss`` of an empty batch is an error (a mean over nothing), and so is training on one.
* ``flow.sample(0)`` is an empty (0, D) array; counts must be integers (2.5 or "3" is an error).
* ``fit`` with ``batch_size`` > N is allowed: every step is a full-batch step over all N rows.
* Gradients may be float32 or float64; they are cast to the model's dtype (a float32 model's
  gradients and outputs stay float32). Inputs x, z must already have the model's dtype.
"""
import contextlib
import signal

import numpy as np
import pytest

from scratchflow import (IAF, MAF, ActNorm, AffineCoupling, BatchNorm, Compose, ElementwiseAffine,
                         Flow, Logit, Permutation, StandardNormal, check_bijector, check_module)
from scratchflow.cli import main
from scratchflow.data import load_dataset, standardize
from scratchflow.io import ModelFileError, load_model, save_model
from scratchflow.models import build_autoregressive, build_model, build_realnvp
from scratchflow.nn import MADE, MLP, Linear, MaskedLinear, ReLU, SiLU, Softplus, Tanh
from scratchflow.optim import SGD, Adam
from scratchflow.realdata import bits_per_dim, dequantize
from scratchflow.targets import load_target, log_normalizer
from scratchflow.train import fit, minibatch_indices
from scratchflow.validation import check_int, check_number
from tests.registry import REGISTRY


# ------------------------------------------------------------------------------------ layers
# Every bijector comes from tests/registry.py; the gradient-pass and float32 checks per layer are
# in tests/test_contract.py.
CASES = {case.name: case for case in REGISTRY}


def _bad_batches(dim):
    nan = np.full((4, dim), 0.5)
    nan[1, dim - 1] = np.nan
    inf = np.full((4, dim), 0.5)
    inf[2, 0] = -np.inf
    return [
        ("1-D row", np.full(dim, 0.5), ValueError, r"must be 2-D with shape \(N, D\).*ndim=1"),
        ("3-D", np.full((2, dim, 1), 0.5), ValueError, r"ndim=3"),
        ("D + 1", np.full((4, dim + 1), 0.5), ValueError, rf"D={dim + 1} columns.*dimension {dim}"),
        ("D = 1 (would broadcast)", np.full((4, 1), 0.5), ValueError, rf"D=1 columns.*dimension {dim}"),
        ("NaN", nan, ValueError, rf"NaN or inf \(first at row 1, column {dim - 1}"),
        ("inf", inf, ValueError, r"NaN or inf \(first at row 2, column 0"),
        ("int64", np.ones((4, dim), dtype=np.int64), TypeError, r"float array.*int64"),
        ("object", np.full((4, dim), 0.5, dtype=object), TypeError, r"float array.*object"),
        ("complex", np.full((4, dim), 0.5, dtype=complex), TypeError, r"float array.*complex128"),
        ("float32 for a float64 model", np.full((4, dim), 0.5, dtype=np.float32), TypeError,
         r"dtype float32 but this model computes in float64"),
        ("ragged rows", [[0.5] * dim, [0.5] * (dim - 1)], ValueError, r"not a rectangular \(N, D\)"),
    ]


BAD_BATCH_CASES = [(name, direction, *bad) for name, case in CASES.items()
                   for direction in ("forward", "inverse") for bad in _bad_batches(case.dim)]


@pytest.mark.parametrize("name, direction, label, bad, error, message", BAD_BATCH_CASES,
                         ids=[f"{c[0]}.{c[1]}-{c[2]}" for c in BAD_BATCH_CASES])
def test_every_layer_refuses_a_bad_batch_in_both_directions(name, direction, label, bad, error,
                                                            message):
    layer = CASES[name].make()
    with pytest.raises(error, match=message):
        getattr(layer, direction)(bad)


def test_a_forward_that_fails_part_way_leaves_no_pass_to_backward():
    """Layer 0 ran on the new batch, layer 1 refused it: backward must not mix the two batches."""
    stack = Compose([ElementwiseAffine(2, log_scale=[0.1, 0.2]), BatchNorm(2)])
    stack.forward(np.arange(8.0).reshape(4, 2))
    with pytest.raises(ValueError, match="BatchNorm in training mode needs at least one row"):
        stack.forward(np.zeros((0, 2)))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward"):
        stack.backward(np.ones((4, 2)))


@pytest.mark.parametrize("name", CASES)
def test_an_empty_batch_maps_to_empty_arrays_where_it_makes_sense(name):
    layer = CASES[name].make()
    empty = np.zeros((0, CASES[name].dim))
    x, log_det = layer.inverse(empty)
    assert x.shape == empty.shape and log_det.shape == (0,)
    if name == "BatchNorm-train":               # batch statistics of nothing: an error, not NaN
        with pytest.raises(ValueError, match="at least one row"):
            layer.forward(empty)
    else:
        z, log_det = layer.forward(empty)
        assert z.shape == empty.shape and log_det.shape == (0,)


def test_actnorm_initialisation_needs_two_rows_and_leaves_the_layer_untouched():
    layer = ActNorm(2)
    with pytest.raises(ValueError, match=r"at least 2 rows.*got shape \(1, 2\)"):
        layer.forward(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"at least 2 rows.*got shape \(0, 2\)"):
        layer.forward(np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"x contains NaN or inf"):             # was NaN parameters
        layer.initialize(np.full((4, 2), np.nan))
    with pytest.raises(ValueError, match=r"x has D=3 columns but this layer has dimension 2"):
        layer.initialize(np.ones((4, 3)))
    assert not layer.initialized and np.all(layer.log_scale == 0)
    batchnorm = BatchNorm(2)
    with pytest.raises(ValueError, match=r"empty batch.*\.eval\(\)"):
        batchnorm.forward(np.zeros((0, 2)))
    assert np.all(np.isfinite(batchnorm.running_mean)) and np.all(batchnorm.running_var == 1)


# ------------------------------------------------------------------------------------ float32
def test_a_float32_flow_trains_in_float32():
    flow = Flow([AffineCoupling(2, [1, 0], hidden=(4,), rng=0, zero_init=False, dtype=np.float32),
                 Permutation([1, 0], dtype=np.float32)])
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    assert flow.log_prob(x).dtype == np.float32 and flow.sample(3, rng=0).dtype == np.float32
    with pytest.raises(TypeError, match="float64 but this model computes in float32"):
        flow.log_prob(x.astype(np.float64))
    flow.loss_and_grad(x)
    assert all(g.dtype == np.float32 for g in flow.grads.values())


# ------------------------------------------------------------------------------------ constructors
CONSTRUCTOR_CASES = [
    (lambda: ElementwiseAffine(0), ValueError, r"dim must be >= 1, got 0"),
    (lambda: ElementwiseAffine(2.5), TypeError, r"dim must be an integer, got 2.5"),   # not 2
    (lambda: ElementwiseAffine("3"), TypeError, r"dim must be an integer, got '3'"),
    (lambda: ElementwiseAffine(2, log_scale=[np.nan, 0]), ValueError,
     r"parameter 'log_scale': the initial value contains NaN or inf"),
    (lambda: ElementwiseAffine(2, dtype=np.int32), TypeError, r"dtype must be float64.*or float32"),
    (lambda: ElementwiseAffine(2, dtype=np.float16), TypeError, r"got float16"),
    (lambda: AffineCoupling(3, [1, 0]), ValueError, r"mask must have shape \(3,\)"),
    (lambda: AffineCoupling(2, [2, 0]), ValueError, r"mask must contain only 0.*and 1"),
    (lambda: AffineCoupling(2, [0.5, 0]), ValueError, r"mask must contain only 0"),
    (lambda: AffineCoupling(2, [1, 1]), ValueError, r"at least one 1 \(conditioning\) and one 0"),
    (lambda: AffineCoupling(1, [1]), ValueError, r"needs dim >= 2"),
    (lambda: AffineCoupling(2, [1, 0], hidden=(0,)), ValueError, r"hidden entry must be >= 1, got 0"),
    (lambda: AffineCoupling(2, [1, 0], hidden=8), TypeError, r"hidden must be a sequence"),
    (lambda: AffineCoupling(2, [1, 0], hidden="64"), TypeError, r"hidden must be a sequence.*'64'"),
    (lambda: AffineCoupling(2, [1, 0], hidden=(2.5,)), TypeError, r"hidden entry must be an integer"),
    (lambda: AffineCoupling(2, [1, 0], activation="elu"), ValueError, r"unknown activation 'elu'"),
    (lambda: AffineCoupling(2, [1, 0], scale_bound=0), ValueError, r"scale_bound.*must be > 0"),
    (lambda: AffineCoupling(2, [1, 0], scale_bound=np.inf), ValueError, r"scale_bound.*finite"),
    (lambda: Permutation([0, 0, 1]), ValueError, r"each of 0..2 exactly once"),
    (lambda: Permutation([1, 2]), ValueError, r"each of 0..1 exactly once"),
    (lambda: Permutation([1.0, 0.0]), ValueError, r"sequence of integers"),
    (lambda: Permutation([]), ValueError, r"non-empty"),
    (lambda: Permutation.reverse(0), ValueError, r"dim must be >= 1"),
    (lambda: ActNorm(0), ValueError, r"dim must be >= 1"),
    (lambda: BatchNorm(0), ValueError, r"dim must be >= 1"),
    (lambda: BatchNorm(2, eps=np.inf), ValueError, r"eps must be a finite number"),
    (lambda: BatchNorm(2, momentum=0), ValueError, r"momentum must be in \(0, 1\]"),
    (lambda: BatchNorm(2, log_gamma=[np.nan, 0]), ValueError, r"parameter 'log_gamma'.*NaN"),
    (lambda: MAF(0), ValueError, r"dim must be >= 1"),
    (lambda: MAF(3, order=[0, 0, 1]), ValueError, r"order must be a permutation of range\(3\)"),
    (lambda: IAF(2, hidden=(-1,)), ValueError, r"hidden entry must be >= 1"),
    (lambda: Logit(0), ValueError, r"dim must be >= 1"),
    (lambda: Logit(2, alpha=0.5), ValueError, r"alpha must be in \[0.0, 0.5\), got 0.5"),
    (lambda: Logit(2, alpha=-0.1), ValueError, r"alpha must be in \[0.0, 0.5\)"),
    (lambda: Logit(2, alpha=np.array([0.1, 0.1])), TypeError, r"alpha must be a number"),
    (lambda: Compose([ElementwiseAffine(2), ElementwiseAffine(3)]), ValueError,
     r"layer 1 has dimension 3 but layer 0 has 2"),
    (lambda: Compose([ElementwiseAffine(2), ElementwiseAffine(2, dtype=np.float32)]), ValueError,
     r"layers mix dtypes"),
    (lambda: Compose(ElementwiseAffine(2)), TypeError, r"wrap a single layer as Compose\(\[layer\]\)"),
    (lambda: Compose([ElementwiseAffine(2), "layer"]), TypeError, r"layer 1 is a str, not a Bijector"),
    (lambda: StandardNormal(0), ValueError, r"dimension must be >= 1"),
    (lambda: Flow([ElementwiseAffine(2)], base=StandardNormal(3)), ValueError,
     r"base distribution has dimension 3, layers have 2"),
    (lambda: Flow([ElementwiseAffine(2)], base=object()), TypeError, r"base must be a distribution"),
    (lambda: Linear(0, 2), ValueError, r"in_features must be >= 1"),
    (lambda: Linear(2, 2.5), TypeError, r"out_features must be an integer"),
    (lambda: MaskedLinear(2, 3, np.ones((3, 2))), ValueError, r"mask must have shape \(2, 3\)"),
    (lambda: MaskedLinear(2, 2, np.full((2, 2), 2.0)), ValueError, r"only 0 and 1"),
    (lambda: MLP([2]), ValueError, r"at least an input and an output size"),
    (lambda: MLP([2, 0, 2]), ValueError, r"sizes entry must be >= 1, got 0"),
    (lambda: MLP(3), TypeError, r"sizes must be a sequence"),
    (lambda: MADE(2, hidden=4), TypeError, r"hidden must be a sequence"),
]


@pytest.mark.parametrize("make, error, message", CONSTRUCTOR_CASES)
def test_constructors_refuse_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("make, weight", [
    (lambda rng: Linear(2, 3, rng=rng), "weight"),
    (lambda rng: MaskedLinear(2, 2, np.ones((2, 2)), rng=rng), "weight"),
    (lambda rng: MLP([2, 4, 1], rng=rng), "0.weight"),
])
def test_seeds_are_accepted_wherever_rng_is(make, weight):
    """Linear and MLP took only Generators (an int seed crashed deep in __init__)."""
    np.testing.assert_array_equal(make(7).params[weight], make(np.random.default_rng(7)).params[weight])


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


# ------------------------------------------------------------------------------------ Flow
def _flow():
    return Flow([AffineCoupling(2, [1, 0], hidden=(4,), rng=0), Permutation([1, 0])])


class _Target:
    """A reverse-KL target whose outputs can be given the wrong shape."""

    def __init__(self, dim=2, log_prob_shape=None, grad_shape=None):
        self.dim, self.log_prob_shape, self.grad_shape = dim, log_prob_shape, grad_shape

    def log_prob(self, x):
        value = -0.5 * np.sum(x * x, axis=1)                                   # (n,)
        return value if self.log_prob_shape is None else np.zeros(self.log_prob_shape)

    def grad_log_prob(self, x):
        return -x if self.grad_shape is None else np.zeros(self.grad_shape)


@pytest.mark.parametrize("n, error, message", [
    (-1, ValueError, r"n \(the number of samples\) must be >= 0, got -1"),
    (2.5, TypeError, r"n \(the number of samples\) must be an integer, got 2.5"),    # was 2 samples
    ("3", TypeError, r"must be an integer, got '3'"),
    (True, TypeError, r"must be an integer, got True"),
    (None, TypeError, r"must be an integer, got None"),
])
def test_sample_counts_are_non_negative_integers(n, error, message):
    with pytest.raises(error, match=message):
        _flow().sample(n, rng=0)


def test_empty_batches_density_yes_loss_no():
    flow = _flow()
    assert flow.sample(0, rng=0).shape == (0, 2)
    assert flow.log_prob(np.zeros((0, 2))).shape == (0,)
    for method in (flow.loss, flow.loss_and_grad):          # was NaN / ZeroDivisionError
        with pytest.raises(ValueError, match=r"needs at least one row.*empty batch.*\(0, 2\)"):
            method(np.zeros((0, 2)))


@pytest.mark.parametrize("target, n, error, message", [
    (_Target(), 0, ValueError, r"n \(the number of samples\) must be >= 1, got 0"),
    (_Target(), 2.5, TypeError, r"must be an integer"),
    (_Target(dim=3), 4, ValueError, r"target has dimension 3 but the flow has 2"),     # was silent
    (_Target(log_prob_shape=()), 4, ValueError, r"target.log_prob\(x\) must return shape \(4,\).*\(\)"),
    (_Target(log_prob_shape=(4, 1)), 4, ValueError, r"must return shape \(4,\)"),
    (_Target(grad_shape=(4, 1)), 4, ValueError, r"target.grad_log_prob\(x\) has D=1 columns"),
    (_Target(grad_shape=(1, 2)), 4, ValueError, r"target.grad_log_prob\(x\) has N=1 rows"),
    (None, 4, TypeError, r"target must have log_prob\(x\) and grad_log_prob\(x\)"),
])
def test_reverse_kl_checks_n_and_the_target(target, n, error, message):
    with pytest.raises(error, match=message):
        _flow().reverse_kl_loss_and_grad(target, n, rng=0)


def test_flow_backward_reads_only_the_latest_loss():
    """log_prob between loss and backward replaces the layers' caches: an error, not wrong grads."""
    flow, rng = _flow(), np.random.default_rng(1)
    flow.loss(rng.normal(size=(4, 2)))
    flow.log_prob(rng.normal(size=(4, 2)))                  # same N: the shapes alone would pass
    with pytest.raises(RuntimeError, match=r"after a log_prob .*call loss\(x\) again"):
        flow.backward()
    flow.loss(rng.normal(size=(4, 2)))
    with pytest.raises(ValueError, match="empty batch"):
        flow.loss(np.zeros((0, 2)))                          # fails after the layers ran
    with pytest.raises(RuntimeError, match=r"Flow.backward\(\) called before Flow.loss"):
        flow.backward()


def test_an_overflow_inside_the_flow_is_named_as_such():
    """x is fine, the layer overflows: the base must not blame "z contains NaN" on the user."""
    flow = Flow([ElementwiseAffine(2, log_scale=[800.0, 0.0])])            # exp(800) = inf
    with np.errstate(over="ignore", invalid="ignore"):
        for method in (flow.log_prob, flow.loss):
            with pytest.raises(FloatingPointError, match=r"mapped finite data x to a non-finite "
                                                         r"z\[0, 0\] = inf: a layer overflowed"):
                method(np.ones((3, 2)))
        flow = Flow([ElementwiseAffine(2, log_scale=[-800.0, 0.0])])       # inverse: exp(800)
        with pytest.raises(FloatingPointError, match=r"mapped base samples z to a non-finite x"):
            flow.reverse_kl_loss_and_grad(_Target(), 4, rng=0)


def test_a_custom_base_must_return_one_log_prob_per_row():
    class Base(StandardNormal):
        def log_prob(self, z):
            return np.zeros(1)                                      # would broadcast over N
    flow = Flow([ElementwiseAffine(2)], base=Base(2))
    with pytest.raises(ValueError, match=r"base.log_prob\(z\) must return shape \(3,\).*\(1,\)"):
        flow.log_prob(np.zeros((3, 2)))


@pytest.mark.parametrize("call, error, message", [
    (lambda sn: sn.sample(-1), ValueError, r"must be >= 0"),
    (lambda sn: sn.sample(2.5), TypeError, r"must be an integer"),
    (lambda sn: sn.sample(2, dtype=np.int64), TypeError, r"dtype must be float64.*got int64"),
    (lambda sn: sn.log_prob(np.zeros((3, 3))), ValueError, r"z has D=3 columns"),
    (lambda sn: sn.grad_log_prob(np.full((1, 2), np.nan)), ValueError, r"z contains NaN"),
])
def test_standard_normal(call, error, message):
    with pytest.raises(error, match=message):
        call(StandardNormal(2))


# ------------------------------------------------------------------------------------ optim
def _params_grads():
    module = Linear(2, 2, rng=0)
    return module.params, module.grads


@pytest.mark.parametrize("make, error, message", [
    (lambda p, g: Adam(p, g, lr=-1), ValueError, r"lr must be > 0, got -1"),
    (lambda p, g: SGD(p, g, lr=0), ValueError, r"lr must be > 0"),
    (lambda p, g: Adam(p, g, lr=np.inf), ValueError, r"lr must be a finite number, got inf"),
    (lambda p, g: Adam(p, g, lr="0.1"), TypeError, r"lr must be a number"),
    (lambda p, g: Adam(p, g, weight_decay=np.nan), ValueError, r"weight_decay must be a finite"),
    (lambda p, g: Adam(p, g, betas=(0.9, 0.9, 0.9)), ValueError, r"betas must be a pair"),
    (lambda p, g: Adam(p, g, betas=(1.0, 0.9)), ValueError, r"betas must be in \[0.0, 1.0\)"),
    (lambda p, g: SGD(p, g, lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0.0, 1.0\)"),
    (lambda p, g: Adam(p, {"weight": g["weight"]}), ValueError, r"same keys"),
    (lambda p, g: Adam(list(p.values()), list(g.values())), TypeError, r"must be dicts"),
    (lambda p, g: Adam({"w": [0.0, 1.0]}, {"w": [0.0, 0.0]}), TypeError, r"live ndarrays"),
    (lambda p, g: Adam({"w": np.zeros(2)}, {"w": np.zeros(2, np.float32)}), TypeError,
     r"w: parameter dtype float64 and gradient dtype float32"),
    (lambda p, g: Adam({"w": np.zeros(2)}, {"w": np.zeros(3)}), ValueError,
     r"w: parameter shape \(2,\) != gradient shape \(3,\)"),
])
def test_optimizers_refuse_bad_settings_and_mismatched_params(make, error, message):
    params, grads = _params_grads()
    with pytest.raises(error, match=message):
        make(params, grads)


# ------------------------------------------------------------------------------------ train.fit
@contextlib.contextmanager
def _no_hang(seconds=10):
    """Turn a hang (training on zero rows used to loop forever) into a test failure."""
    def alarm(signum, frame):
        raise TimeoutError(f"no answer in {seconds} s")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


DATA = np.random.default_rng(0).normal(size=(20, 2))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(data=np.zeros((0, 2))), ValueError, r"data is empty .*at least one row"),     # was a hang
    (dict(data=DATA, val_data=np.zeros((0, 2))), ValueError, r"val_data is empty"),     # was NaN
    (dict(data=np.zeros((10, 3))), ValueError, r"data has D=3 columns but this layer has dimension 2"),
    (dict(data=np.where(np.eye(20, 2) > 0, np.nan, DATA)), ValueError, r"data contains NaN or inf"),
    (dict(data=DATA, val_data=np.zeros((5, 3))), ValueError, r"val_data has D=3 columns"),
    (dict(data=DATA.astype(int)), TypeError, r"data must be a float array"),
    (dict(data=DATA, target=_Target()), ValueError, r"either data .* or target .*not both"),
    (dict(), ValueError, r"either data .* or target"),
    (dict(target=_Target(), val_data=DATA), ValueError, r"val_data is for maximum likelihood"),
    (dict(target=_Target(dim=3)), ValueError, r"target has dimension 3 but the flow has 2"),
    (dict(data=DATA, steps=0), ValueError, r"steps must be >= 1, got 0"),
    (dict(data=DATA, steps=2.5), TypeError, r"steps must be an integer, got 2.5"),      # was 2
    (dict(data=DATA, epochs=0), ValueError, r"epochs must be >= 1"),
    (dict(data=DATA, epochs=1.5), TypeError, r"epochs must be an integer"),             # was 1
    (dict(data=DATA, steps=2, epochs=1), ValueError, r"steps or epochs, not both"),
    (dict(data=DATA, batch_size=0), ValueError, r"batch_size must be >= 1"),
    (dict(data=DATA, batch_size=2.5), TypeError, r"batch_size must be an integer"),     # was 2
    (dict(data=DATA, val_data=DATA, eval_every=0), ValueError, r"eval_every must be >= 1"),
    (dict(data=DATA, val_data=DATA, patience=0), ValueError, r"patience must be >= 1"),  # stopped at once
    (dict(data=DATA, patience=2), ValueError, r"patience\) needs val_data"),
    (dict(target=_Target(), val_size=0), ValueError, r"val_size must be >= 1"),         # was NaN
    (dict(data=DATA, lr=-1.0), ValueError, r"lr must be > 0"),
    (dict(data=DATA, optimizer="rmsprop"), ValueError, r"unknown optimizer 'rmsprop'"),
])
def test_fit_refuses_bad_settings(kwargs, error, message):
    kwargs = {"steps": 2, **kwargs} if "epochs" not in kwargs else kwargs
    with _no_hang(), pytest.raises(error, match=message):
        fit(_flow(), progress=False, **kwargs)


def test_minibatches_of_nothing_are_an_error_not_an_endless_loop():
    with _no_hang(), pytest.raises(ValueError, match=r"n must be >= 1, got 0"):
        next(minibatch_indices(0, 4, np.random.default_rng(0)))


def test_a_batch_larger_than_the_data_means_full_batch_steps():
    flow = _flow()
    full_batch_loss = flow.loss(DATA)
    history = fit(flow, DATA, steps=1, batch_size=1000, progress=False)
    np.testing.assert_allclose(history.train_loss[0], full_batch_loss, rtol=1e-12)   # all 20 rows


# ------------------------------------------------------------------------------------ data, io
@pytest.mark.parametrize("n, error, message", [
    (0, ValueError, r"n must be a positive number of points, got 0"),
    (-3, ValueError, r"positive"),
    (2.5, TypeError, r"n \(the number of points\) must be an integer, got 2.5"),     # was 2 points
    ("5", TypeError, r"must be an integer, got '5'"),
    (True, TypeError, r"must be an integer, got True"),
])
def test_load_dataset_counts(n, error, message):
    with pytest.raises(error, match=message):
        load_dataset("moons", n)


def test_load_dataset_unknown_name():
    with pytest.raises(ValueError, match=r"unknown data set 'mooons'; choose one of .*'moons'"):
        load_dataset("mooons", 5)


@pytest.mark.parametrize("args, message", [
    ((np.array([[np.nan, 1.0], [1.0, 2.0]]),), r"x contains NaN or inf"),              # was NaN out
    ((np.ones(5),), r"x must be 2-D"),
    ((np.zeros((0, 2)),), r"cannot standardise an empty x"),
    ((np.random.default_rng(0).normal(size=(5, 2)), np.zeros(3), np.ones(3)),
     r"mean must have shape \(2,\), one entry per column"),                        # was broadcast
    ((np.random.default_rng(0).normal(size=(5, 2)), None, np.ones((1, 2))), r"std must have shape \(2,\)"),
])
def test_standardize(args, message):
    with pytest.raises(ValueError, match=message):
        standardize(*args)


def test_load_model_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError, match=r"is a directory, not a model file.*model\.npz"):
        load_model(tmp_path)
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match=r"single NumPy array \(\.npy\), not a scratchflow model"):
        load_model(tmp_path / "array.npy")
    np.savez(tmp_path / "pickled.npz", header=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError, match=r"cannot read .*allow_pickle=False"):    # never unpickled
        load_model(tmp_path / "pickled.npz")


def test_save_model_to_a_directory_names_it(tmp_path):
    flow = build_realnvp(2, n_layers=2, hidden=(4,), seed=0)
    with pytest.raises(IsADirectoryError, match=r"is a directory; give the model file's path"):
        save_model(flow, tmp_path)


@pytest.mark.parametrize("build, error, message", [
    (lambda: build_realnvp(2.5, n_layers=2, hidden=(4,)), TypeError, r"dim must be an integer, got 2.5"),
    (lambda: build_realnvp(2, n_layers=2.5, hidden=(4,)), TypeError, r"n_layers must be an integer"),
    (lambda: build_realnvp(2, n_layers=2, hidden=(4.5,)), TypeError, r"hidden entry must be an integer"),
    (lambda: build_realnvp(2, n_layers=2, hidden=4), TypeError, r"hidden must be a sequence"),
    (lambda: build_realnvp(1, n_layers=2), ValueError, r"Real-NVP needs dim >= 2"),
    (lambda: build_autoregressive("maf", 3.0, n_layers=1, hidden=(4,)), TypeError, r"dim must be an integer"),
    (lambda: build_autoregressive("maf", 2, n_layers=0, hidden=(4,)), ValueError, r"n_layers must be >= 1"),
    (lambda: build_model({"model": "glow", "dim": 2}), ValueError, r"unknown model 'glow'"),
])
def test_model_builders_do_not_truncate(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize("call, error, message", [
    (lambda: load_target("u2", box=-1), ValueError, r"box \(a positive number or None\) must be > 0"),
    (lambda: load_target("u2", box=np.nan), ValueError, r"box .*finite"),          # was NaN densities
    (lambda: load_target("u5"), ValueError, r"unknown target 'u5'; choose one of"),
    (lambda: log_normalizer(load_target("u1"), n=0), ValueError, r"n \(cells per side\) must be >= 1"),
    (lambda: log_normalizer(load_target("u1"), n=2.5), TypeError, r"must be an integer"),
    (lambda: log_normalizer(load_target("u1"), limit=-1), ValueError, r"limit must be > 0"),
    (lambda: dequantize(np.array([[0.5, 3.0]])), ValueError, r"integer counts in 0..16; counts\[0, 0\] = 0.5"),
    (lambda: dequantize(np.array([[3, 17]])), ValueError, r"counts\[0, 1\] = 17"),   # x would be >= 1
    (lambda: bits_per_dim(1.0, 0), ValueError, r"dim must be >= 1"),
])
def test_targets_and_real_data_helpers(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------------------------ checks
class _BroadcastingLayer(ElementwiseAffine):
    """A student's layer whose log_det has shape (N, 1): the checker used to broadcast it."""

    def _forward(self, x):
        z, log_det = super()._forward(x)
        return z, log_det[:, None]


@pytest.mark.parametrize("call, error, message", [
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 3))), ValueError,
     r"x has D=3 columns but this layer has dimension 2"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros(2)), ValueError, r"x must be 2-D"),
    (lambda: check_bijector(ElementwiseAffine(2), np.full((3, 2), np.nan)), ValueError, r"x contains NaN"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((0, 2))), ValueError,
     r"needs at least one point; x is empty"),                                  # used to "pass"
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 2)), z=np.zeros((3, 3))), ValueError,
     r"z has D=3 columns"),
    (lambda: check_bijector(ElementwiseAffine(2), np.zeros((3, 2)), directions=("fwd",)), ValueError,
     r"directions must be a non-empty subset of \('forward', 'inverse'\)"),     # used to "pass"
    (lambda: check_bijector(ElementwiseAffine(2, dtype=np.float32), np.zeros((3, 2), np.float32)),
     TypeError, r"finite differences in float64; build the layer with dtype=np.float64"),
    (lambda: check_bijector(Linear(2, 2, rng=0), np.zeros((3, 2))), TypeError,
     r"layer.forward\(x\) must return a pair \(output, log_det\)"),
    (lambda: check_bijector(_BroadcastingLayer(2), np.zeros((3, 2))), ValueError,
     r"log_det of shape \(3, 1\); expected \(3,\)"),
    (lambda: check_module(Linear(2, 2, rng=0), np.zeros((3, 3))), ValueError, r"x has D=3 columns"),
    (lambda: check_module(Linear(2, 2, rng=0), np.zeros((0, 2))), ValueError, r"check_module needs"),
    (lambda: check_module(MADE(2, hidden=(4,), rng=0), np.ones((3, 2))), TypeError,
     r"forward\(x\) to return one \(3, out\) array; MADE.forward returned a tuple"),
])
def test_the_checker_refuses_what_it_cannot_check(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------------------------ helpers
@pytest.mark.parametrize("value, error, message", [
    (2.0, TypeError, r"n must be an integer, got 2.0"), (np.int64(-1), ValueError, r"n must be >= 0"),
])
def test_check_int(value, error, message):
    with pytest.raises(error, match=message):
        check_int(value, "n", 0)
    assert check_int(np.int64(3), "n", 0) == 3 and type(check_int(np.int64(3), "n")) is int


def test_check_number():
    assert check_number(np.float32(0.5), "alpha", 0, 0.5, high_open=False) == 0.5
    with pytest.raises(ValueError, match=r"lr must be > 0, got 0.0"):
        check_number(0, "lr", 0, low_open=True)
    with pytest.raises(TypeError, match=r"flag must be a number, got True"):
        check_number(True, "flag")


@pytest.mark.parametrize("option, value", [("--lr", "-1"), ("--lr", "nan"), ("--clip-norm", "0")])
def test_cli_refuses_a_bad_learning_rate_before_training(option, value, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:                  # --lr -1 was a traceback from Adam
        main(["train", "--data", "moons", "--steps", "1", option, value, "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert f"argument {option}: expected a positive number, got {value}" in capsys.readouterr().err
