"""The edges of the layers that the contract suite's random draws do not reach: the smallest batch
ActNorm initialises on, Example 2's domain x1 > 0 (whatever x2), a stack checking its input against
its first layer and its latent against its last, the documented defaults, ``set_training``'s
default. Found by the mutation run (``tools/mutate.py``)."""
import numpy as np
import pytest

from scratchflow.bijectors import (IAF, MAF, ActNorm, AffineCoupling, Compose, ElementwiseAffine,
                                   Example2Map, SplineAutoregressive, SplineCoupling, set_training)
from scratchflow.bijectors.additive import AdditiveCoupling
from scratchflow.bijectors.batchnorm import BatchNorm
from scratchflow.bijectors.triangular import LowerTriangular


def test_actnorm_initialises_on_two_rows_and_refuses_one():
    x = np.array([[1.0, 5.0], [3.0, 1.0]])                    # (2, 2)
    layer = ActNorm(2)
    z, _ = layer.forward(x)
    np.testing.assert_allclose(np.abs(z), 1.0, rtol=1e-5)    # two rows: mean 0, std 1 -> ±1
    with pytest.raises(ValueError, match="at least 2"):
        ActNorm(2).forward(x[:1])
    with pytest.raises(ValueError, match="dim"):
        ActNorm(0)


def test_example2_domain_is_x1_positive_whatever_x2():
    layer = Example2Map()
    inside = np.array([[0.5, -3.0], [1e-3, 0.0], [1.0, -1.0], [7.0, 2.0]])   # x1 in (0, 1] too
    z, _ = layer.forward(inside)
    np.testing.assert_allclose(z[:, 0], np.log(inside[:, 0]))
    for x1 in (0.0, -0.5):
        outside = np.array([[1.0, 1.0], [2.0, 3.0], [x1, 4.0]])
        with pytest.raises(ValueError, match="row 2"):
            layer.forward(outside)


class _PositiveLatent(ElementwiseAffine):
    """An affine layer whose image is declared to be z > 0 (a stand-in for a constrained map)."""

    def _check_codomain(self, z):
        if (z <= 0).any():
            raise ValueError("z must be positive")


def test_stack_checks_each_layer_domain_on_what_reaches_it_and_names_the_layer():
    x_bad = np.array([[-1.0, 1.0]])                           # x1 < 0: outside Example 2's domain
    with pytest.raises(ValueError, match="x1 > 0"):
        Compose([Example2Map(), ElementwiseAffine(2)]).forward(x_bad)
    with pytest.raises(ValueError, match=r"layer 1 \(Example2Map\) of the stack: .*x1 > 0"):
        Compose([ElementwiseAffine(2), Example2Map()]).forward(x_bad)   # identity shift: still < 0
    z_bad = np.array([[-1.0, 1.0]])
    with pytest.raises(ValueError, match="positive"):
        Compose([ElementwiseAffine(2), _PositiveLatent(2)]).inverse(z_bad)
    with pytest.raises(ValueError, match=r"layer 0 \(_PositiveLatent\) of the stack: z must be positive"):
        Compose([_PositiveLatent(2), ElementwiseAffine(2)]).inverse(z_bad)
    z_good = np.array([[1.0, 2.0]])
    x, _ = Compose([_PositiveLatent(2), ElementwiseAffine(2)]).inverse(z_good)
    np.testing.assert_array_equal(x, z_good)


def test_documented_default_widths():
    assert AffineCoupling(2, [1, 0]).hidden == (64, 64)
    assert AdditiveCoupling(2, [1, 0]).hidden == (64, 64)
    assert MAF(2).made.hidden == (64, 64)
    assert IAF(2).made.hidden == (64, 64)
    assert SplineCoupling(2, [1, 0]).hidden == (64, 64)
    assert SplineAutoregressive(2).made.hidden == (64, 64)


def test_set_training_defaults_to_training_mode():
    layer = BatchNorm(2, training=False)
    assert set_training(Compose([ElementwiseAffine(2), layer])) == 1
    assert layer.training


def test_every_layer_refuses_dimension_zero_and_takes_its_smallest():
    from scratchflow.bijectors import Logit
    from scratchflow.nn import MADE, Linear, MaskedLinear
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


def test_permutation_refuses_empty_nested_and_zero_sized():
    from scratchflow.bijectors import Permutation
    for bad in ([], [[0, 1]], [0.0, 1.0]):
        with pytest.raises(ValueError, match="non-empty 1-D sequence of integers"):
            Permutation(bad)
    for build in (Permutation.reverse, Permutation.random):
        with pytest.raises(ValueError, match="dim must be >= 1"):
            build(0)
        assert build(1).dim == 1


def test_lower_triangular_needs_a_square_finite_invertible_matrix():
    """A non-square matrix, or a batch of matrices (np.tril would keep it), is refused."""
    for matrix in (np.ones((2, 3)), np.ones((3, 2)), np.ones((2, 2, 2))):
        with pytest.raises(ValueError, match="must be square"):
            LowerTriangular(matrix)
    for matrix in ([[1.0, 0.0], [2.0, 0.0]], [[1.0, 0.0], [np.nan, 1.0]], [[np.inf, 0.0], [0.0, 1.0]]):
        with pytest.raises(ValueError, match="finite with no zero on its diagonal"):
            LowerTriangular(matrix)                    # a zero pivot, or a non-finite entry alone
    assert LowerTriangular(np.eye(2)).dim == 2


def test_additive_coupling_starts_as_the_identity_by_default():
    x = np.random.default_rng(0).normal(size=(5, 3)) * 3
    z, log_det = AdditiveCoupling(3, [1, 0, 1], hidden=(4,), rng=0).forward(x)
    np.testing.assert_array_equal(z, x)
    np.testing.assert_array_equal(log_det, np.zeros(5))
