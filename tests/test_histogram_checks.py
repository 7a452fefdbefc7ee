"""``histogram_density`` refuses edges that are not an increasing 1-D array of at least two numbers,
and an empty sample, but takes a single sample."""
import numpy as np
import pytest

from scratchflow.histogram import histogram_density


@pytest.mark.parametrize("edges", [[0.0], [[0.0, 1.0], [2.0, 3.0]], [0.0, 2.0, 1.0],
                                   [0.0, 1.0, 1.0, 2.0]])                 # a bin of width 0
def test_bad_edges_are_refused(edges):
    with pytest.raises(ValueError, match="increasing 1-D array of at least two numbers"):
        histogram_density([0.5], edges)


def test_an_empty_sample_is_refused_and_one_sample_is_a_density():
    with pytest.raises(ValueError, match="at least one sample"):
        histogram_density([], [0.0, 1.0])
    heights = histogram_density([0.25], [0.0, 0.5, 1.0])           # (2,) bins of width 0.5
    np.testing.assert_allclose(heights, [2.0, 0.0])                 # integrates to 1
