"""LowerTriangular beyond the registry's contract: what matrix it takes."""
import numpy as np
import pytest

from scratchflow.bijectors.triangular import LowerTriangular


def test_lower_triangular_needs_a_square_finite_invertible_matrix():
    """A non-square matrix, or a batch of matrices (np.tril would keep it), is refused."""
    for matrix in (np.ones((2, 3)), np.ones((3, 2)), np.ones((2, 2, 2))):
        with pytest.raises(ValueError, match="must be square"):
            LowerTriangular(matrix)
    for matrix in ([[1.0, 0.0], [2.0, 0.0]], [[1.0, 0.0], [np.nan, 1.0]], [[np.inf, 0.0], [0.0, 1.0]]):
        with pytest.raises(ValueError, match="finite with no zero on its diagonal"):
            LowerTriangular(matrix)                    # a zero pivot, or a non-finite entry alone
    assert LowerTriangular(np.eye(2)).dim == 2
