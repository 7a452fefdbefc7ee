"""The standard normal base (scratchflow.distributions): bad counts, dtypes and batches are named."""
import numpy as np
import pytest

from scratchflow import StandardNormal


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


def test_standard_normal_needs_a_dimension():
    with pytest.raises(ValueError, match=r"dimension must be >= 1"):
        StandardNormal(0)
