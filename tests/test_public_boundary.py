"""The layers' public boundary: bad input gets an error that names the problem, raised where it
entered.

This file: every registered layer (tests/registry.py) in both directions, and the bijectors'
constructors. The other modules' bad-input tests sit beside their module's tests (test_nn.py,
test_made.py, test_flow.py, test_distributions.py, test_optim.py, test_train.py, test_data.py,
test_io.py, test_checks.py, test_input_checks.py, ...).

Every public entry point is probed with wrong ndim, wrong D, NaN/inf, integer/object dtype, a
float64 batch for a float32 model, gradient passes before their pass or with a gradient of the
wrong shape, bad constructor arguments and bad counts. Each case asserts the error type AND that
the message names the problem; nothing may be broadcast, truncated, clipped or dropped silently.

Decisions pinned (see docs/public_boundary.md):

* A layer's ``forward`` / ``inverse`` of an empty batch (N = 0) returns empty arrays (here), and
  so do ``Flow.log_prob`` / ``forward`` / ``inverse``; ``Flow.loss`` of an empty batch is an error
  (a mean over nothing), and so is training on one (test_flow.py, test_train.py).
* ``flow.sample(0)`` is an empty (0, D) array; counts must be integers (2.5 or "3" is an error).
* ``fit`` with ``batch_size`` > N is allowed: every step is a full-batch step over all N rows.
* Gradients may be float32 or float64; they are cast to the model's dtype (a float32 model's
  gradients and outputs stay float32). Inputs x, z must already have the model's dtype.
"""
import numpy as np
import pytest

from scratchflow import (IAF, MAF, ActNorm, AffineCoupling, BatchNorm, Compose, ElementwiseAffine,
                         Logit, Permutation)
from scratchflow.nn import MADE, Linear, MaskedLinear
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


def test_a_list_of_numbers_is_accepted():
    z, _ = ElementwiseAffine(2).forward([[1, 2], [3, 4]])
    assert z.dtype == np.float64 and np.array_equal(z, [[1, 2], [3, 4]])


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
        layer.initialize(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"at least 2 rows.*got shape \(0, 2\)"):
        layer.initialize(np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"x contains NaN or inf"):             # no NaN parameters
        layer.initialize(np.full((4, 2), np.nan))
    with pytest.raises(ValueError, match=r"x has D=3 columns but this layer has dimension 2"):
        layer.initialize(np.ones((4, 3)))
    assert not layer.initialized and np.all(layer.log_scale == 0)
    batchnorm = BatchNorm(2)
    with pytest.raises(ValueError, match=r"empty batch.*\.eval\(\)"):
        batchnorm.forward(np.zeros((0, 2)))
    assert np.all(np.isfinite(batchnorm.running_mean)) and np.all(batchnorm.running_var == 1)


# ------------------------------------------------------------------------------------ constructors
CONSTRUCTOR_CASES = [
    (lambda: ElementwiseAffine(0), ValueError, r"dim must be >= 1, got 0"),
    (lambda: ElementwiseAffine(2.5), TypeError, r"dim must be an integer, got 2.5"),   # not 2
    (lambda: ElementwiseAffine("3"), TypeError, r"dim must be an integer, got '3'"),
    (lambda: ElementwiseAffine(2, log_scale=[np.nan, 0]), ValueError,
     r"parameter 'log_scale': the initial value contains NaN or inf"),
    (lambda: ElementwiseAffine(2, dtype=np.int32), TypeError, r"dtype must be float64.*or float32"),
    (lambda: ElementwiseAffine(2, dtype=np.float16), TypeError, r"got float16"),
    (lambda: ElementwiseAffine(3, log_scale=[0.0, 1.0]), ValueError, r"log_scale must have shape \(3,\)"),
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
    (lambda: Compose([]), ValueError, r"at least one layer"),
    (lambda: Compose(ElementwiseAffine(2)), TypeError, r"wrap a single layer as Compose\(\[layer\]\)"),
    (lambda: Compose([ElementwiseAffine(2), "layer"]), TypeError, r"layer 1 is a str, not a Bijector"),
]


@pytest.mark.parametrize("make, error, message", CONSTRUCTOR_CASES)
def test_constructors_refuse_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_every_layer_refuses_dimension_zero_and_takes_its_smallest():
    for build in (ElementwiseAffine, ActNorm, BatchNorm, Logit, MAF, IAF, MADE,
                  lambda dim: Linear(dim, 2), lambda dim: Linear(2, dim),
                  lambda dim: MaskedLinear(dim, 2, np.ones((dim, 2))),
                  lambda dim: MaskedLinear(2, dim, np.ones((2, dim)))):
        with pytest.raises(ValueError, match=">= 1"):
            build(0)
        build(1)
    with pytest.raises(ValueError, match="dim >= 2"):
        AffineCoupling(1, [1])
    assert MADE(2).hidden == (64, 64)
