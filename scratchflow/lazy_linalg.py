"""SciPy's triangular solve and LU factorisation, imported on first use.

``scipy.linalg`` takes about 0.2 s of CPU to import, as much as NumPy itself. The library needs it
only to invert a triangular map (:class:`~scratchflow.bijectors.triangular.LowerTriangular`,
:class:`~scratchflow.bijectors.lu_linear.LULinear`), yet every process that imports ``scratchflow``
would pay for it: the autograder starts a fresh process for each task of each submission, and most
tasks never solve a triangular system. These wrappers take the same arguments as SciPy's functions.
"""


def solve_triangular(matrix, rhs, **options):
    """``scipy.linalg.solve_triangular(matrix, rhs, **options)``: x with ``matrix @ x = rhs``."""
    from scipy.linalg import solve_triangular as solve   # local import: see the module docstring
    return solve(matrix, rhs, **options)


def lu(matrix):
    """``scipy.linalg.lu(matrix)``: ``(P, L, U)`` with ``matrix = P @ L @ U``."""
    from scipy.linalg import lu as factorise             # local import: see the module docstring
    return factorise(matrix)
