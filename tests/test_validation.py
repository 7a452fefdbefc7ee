"""Bad input at the public boundary gets an error that names the problem; nothing is broadcast.

The per-layer cases (bad batches, gradient passes, float32) run over every registered layer in
``tests/test_public_boundary.py`` and ``tests/test_contract.py``; this file keeps the rest."""
import numpy as np
import pytest

from scratchflow import Compose, ElementwiseAffine, Flow, StandardNormal


def test_a_list_of_numbers_is_accepted():
    z, _ = ElementwiseAffine(2).forward([[1, 2], [3, 4]])
    assert z.dtype == np.float64 and np.array_equal(z, [[1, 2], [3, 4]])


def test_a_float32_flow_samples_in_float32():
    flow = Flow(ElementwiseAffine(2, log_scale=[0.1, 0.2], dtype=np.float32))
    assert flow.sample(4, rng=0).dtype == np.float32


def test_constructor_errors():
    with pytest.raises(ValueError, match="log_scale must have shape \\(3,\\)"):
        ElementwiseAffine(3, log_scale=[0.0, 1.0])
    with pytest.raises(TypeError, match="not a Bijector"):
        Compose([ElementwiseAffine(2), "layer"])
    with pytest.raises(ValueError, match="at least one layer"):
        Compose([])
    with pytest.raises(ValueError, match="dimension must be >= 1"):
        StandardNormal(0)
