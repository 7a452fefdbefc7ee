"""Every bijector in tests/registry.py against the contract, in both directions.

For each registry entry Hypothesis draws a dimension, a parameter seed and a batch of inputs
(bounded, finite floats), and :func:`check_bijector` must report, in float64:

* reconstruction error <= 1e-10 (x -> z -> x and z -> x -> z),
* log-det error against the numerical Jacobian <= 1e-7, forward + inverse log-dets sum to 0,
* relative error of every input and parameter gradient, forward and inverse, <= 1e-6.
"""
import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import scratchflow.bijectors as bijectors
from scratchflow.bijectors import Bijector
from scratchflow.checks import check_bijector
from tests.registry import REGISTRY


@st.composite
def layer_and_batch(draw, case):
    dim = draw(st.integers(*case.dims))
    n = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    x = draw(arrays(np.float64, (n, dim), elements=st.floats(-2, 2, allow_nan=False, allow_infinity=False)))
    if case.to_domain is not None:
        x = case.to_domain(x)
    return case.factory(dim, np.random.default_rng(seed)), x, seed


@pytest.mark.parametrize("case", REGISTRY, ids=lambda case: case.name)
def test_contract(case):
    @given(layer_and_batch(case))
    def run(drawn):
        layer, x, seed = drawn
        assert isinstance(layer, case.cls)
        report = check_bijector(layer, x, rng=seed, **case.check_options)
        report.assert_ok()
        # the output shapes of the contract
        z, log_det = layer.forward(x)
        assert z.shape == x.shape and log_det.shape == (x.shape[0],)
        x_back, log_det_inv = layer.inverse(z)
        assert x_back.shape == x.shape and log_det_inv.shape == (x.shape[0],)
    run()


def test_every_exported_bijector_is_registered():
    exported = {obj for obj in vars(bijectors).values()
                if inspect.isclass(obj) and issubclass(obj, Bijector) and obj is not Bijector}
    registered = {case.cls for case in REGISTRY}
    missing = sorted(cls.__name__ for cls in exported - registered)
    assert not missing, f"bijectors without a line in tests/registry.py: {missing}"


def test_registry_factories_build_their_class():
    for case in REGISTRY:
        layer = case.factory(case.dims[0], np.random.default_rng(0))
        assert type(layer) is case.cls, f"{case.name}'s factory built a {type(layer).__name__}"
