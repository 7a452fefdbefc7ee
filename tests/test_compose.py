"""Compose beyond the contract suite: what its errors name, which error type says whose points
were bad, the batch-statistics-fixed stack, each layer's domain checked on what reaches it, and a
layer used twice refused."""
import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.bijectors import (AffineCoupling, BatchNorm, Compose, ElementwiseAffine, Example2Map,
                                   Logit, Permutation)
from scratchflow.bijectors.base import Bijector
from scratchflow.divergence import DomainError


class _PositiveLatent(ElementwiseAffine):
    """An affine layer whose image is declared to be z > 0 (a stand-in for a constrained map)."""

    def _check_codomain(self, z):
        if (z <= 0).any():
            raise ValueError("z must be positive")


class _BatchDependent(ElementwiseAffine):
    """A layer whose rows depend on each other and that cannot hold its statistics fixed."""
    samples_independent = False


@pytest.mark.parametrize("not_a_sequence", [3, None, 2.5])
def test_something_that_is_not_a_sequence_of_layers_is_a_type_error_naming_compose(not_a_sequence):
    with pytest.raises(TypeError, match="Compose takes a sequence of Bijector layers"):
        Compose(not_a_sequence)


def test_errors_name_the_first_and_the_last_layer_by_their_position():
    x_bad = np.array([[-1.0, 1.0]])                           # outside Example 2's x1 > 0
    stack = Compose([Example2Map(), ElementwiseAffine(2), ElementwiseAffine(2)])
    with pytest.raises(ValueError, match=r"^layer 0 \(Example2Map\) of the stack: .*x1 > 0"):
        stack.forward(x_bad)
    z_bad = np.array([[-1.0, 1.0]])
    stack = Compose([ElementwiseAffine(2), ElementwiseAffine(2), _PositiveLatent(2)])
    with pytest.raises(ValueError, match=r"^layer 2 \(_PositiveLatent\) of the stack: z must be"):
        stack.inverse(z_bad)


def test_the_callers_bad_points_are_a_value_error_the_models_own_a_domain_error():
    """A DomainError means "the layers before it made these points" (``fit`` stops on it as on a
    divergence); the caller's own input outside the first layer's domain is a plain ValueError."""
    x_bad = np.array([[-1.0, 1.0]])
    with pytest.raises(ValueError) as caught:
        Compose([Example2Map(), ElementwiseAffine(2)]).forward(x_bad)
    assert not isinstance(caught.value, DomainError)
    with pytest.raises(ValueError) as caught:
        Compose([ElementwiseAffine(2), _PositiveLatent(2)]).inverse(x_bad)
    assert not isinstance(caught.value, DomainError)
    with pytest.raises(DomainError, match="made by the layers before it"):
        Compose([ElementwiseAffine(2), Example2Map()]).forward(x_bad)
    with pytest.raises(DomainError, match="made by the layers before it"):
        Compose([_PositiveLatent(2), ElementwiseAffine(2)]).inverse(x_bad)


def test_statistics_fixed_stack_is_none_when_a_layer_cannot_hold_them():
    x = np.random.default_rng(0).normal(size=(6, 2))
    independent = Compose([ElementwiseAffine(2), ElementwiseAffine(2)])
    assert independent.with_statistics_fixed() is independent
    batch_norm = BatchNorm(2)
    stack = Compose([ElementwiseAffine(2), batch_norm])
    z, log_det = stack.forward(x)
    fixed = stack.with_statistics_fixed()
    assert isinstance(fixed, Compose) and fixed.samples_independent
    z_fixed, log_det_fixed = fixed.forward(x)                 # the batch's m, v held: same map
    np.testing.assert_allclose(z_fixed, z, rtol=1e-12)
    np.testing.assert_allclose(log_det_fixed, log_det, rtol=1e-12)
    assert Compose([ElementwiseAffine(2), _BatchDependent(2)]).with_statistics_fixed() is None
    assert isinstance(_BatchDependent(2), Bijector) and _BatchDependent(2).with_statistics_fixed() is None


def test_a_parameterless_layer_takes_the_dtype_of_the_stack():
    """Only layers with parameters fix the stack's dtype: a float32 stack may hold a Permutation
    built with the default float64 (it has nothing to round)."""
    stack = Compose([ElementwiseAffine(2, dtype=np.float32), Permutation([1, 0])])
    assert stack.dtype == np.float32
    z, log_det = stack.forward(np.ones((3, 2), dtype=np.float32))
    assert z.dtype == np.float32 and log_det.dtype == np.float32


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


def test_each_layer_checks_its_own_domain_in_a_stack():
    shifted = Compose([ElementwiseAffine(2, shift=[2, 0]), Logit(2)])
    with pytest.raises(ValueError, match=r"layer 1 \(Logit\) of the stack"):
        shifted.forward([[0.5, 0.5]])
    swapped = Flow([Permutation([1, 0]), Example2Map()])
    with pytest.raises(ValueError, match=r"layer 1 \(Example2Map\) of the stack"):
        swapped.log_prob(np.array([[1.0, -1.0]]))           # x1 = 1 > 0, but after the swap -1
    assert np.isfinite(swapped.log_prob(np.array([[-1.0, 1.0]]))).all()


def test_a_shared_layer_is_refused_at_construction():
    layer = ElementwiseAffine(2, log_scale=[0.3, -0.2])
    for build in (lambda: Compose([layer, layer]), lambda: Flow([layer, ElementwiseAffine(2), layer]),
                  lambda: Compose([Compose([layer]), layer])):
        with pytest.raises(ValueError, match="reuses the ElementwiseAffine object already in layer"):
            build()
    coupling = AffineCoupling(2, [1, 0], hidden=(3,), rng=0)
    other = AffineCoupling(2, [0, 1], hidden=(3,), rng=1)
    other.net = other._children["net"] = coupling.net       # a shared network inside two layers
    with pytest.raises(ValueError, match="reuses the MLP object"):
        Compose([coupling, other])
    assert len(Compose([layer, ElementwiseAffine(2)]).params) == 4      # separate layers: fine
