"""Task 1 — Change of variables (slides "Теорема о замене переменных", "Пример 1", "Пример 2" /
"Change-of-variables theorem", "Example 1", "Example 2").

The slide's formula: with ``p_z`` known and ``z = f(x)`` invertible and differentiable,

    p_x(x) = p_z(f(x)) |det ∂f(x)/∂x|,        (∂f/∂x)_{jk} = ∂f_j / ∂x_k.

You write three functions:

* ``example1_density(x)``: Example 1, ``z = f(x) = 0.5 x − 2.5``, ``p_z = N(0, 1)``.
  Shapes: ``x`` (N,) -> density (N,).
* ``example2_density(x)``: Example 2, ``z1 = ln x1``, ``z2 = x2 − 2 ln x1``,
  ``p_z(z) = (2π)^{-1} exp(−(z1² + z2²)/2)``, defined for x1 > 0.
  Shapes: ``x`` (N, 2) -> density (N,).
* ``numerical_log_abs_det(f, x, step)``: log|det ∂f(x_n)/∂x_n| of a map you only can evaluate, by
  central differences ``∂f/∂x_k ≈ (f(x + h e_k) − f(x − h e_k)) / (2h)`` and
  ``numpy.linalg.slogdet``. ``f`` maps (N, D) -> (N, D) row by row. Shapes: ``x`` (N, D) -> (N,).
  Do not loop over samples: perturb column k of every row at once.

What the public tests check (``python -m pytest tests/test_task1_change_of_variables.py``):
Example 1 equals the density of N(5, 2²); Example 2 integrates to about 1 on a grid and is
positive; the numerical log|det| of Example 2's map equals the slide's −ln x1.
Compare with the package's checker in your own scratch code (not in this file)::

    from scratchflow.checks import numerical_log_abs_det as reference_log_abs_det
    print(numerical_log_abs_det(f, x) - reference_log_abs_det(f, x))     # about 1e-9

The grader also runs hidden tests on other points and on another map.
Not allowed here: ``scratchflow.checks`` and ``scratchflow.bijectors.examples`` (they contain the
answers); you may use NumPy.
"""
import numpy as np

LOG_2PI = float(np.log(2.0 * np.pi))


def example1_density(x):
    """Density of Example 1 at ``x`` (N,): ``p_x(x) = p_z(0.5 x − 2.5) · 0.5`` -> (N,)."""
    x = np.asarray(x, dtype=np.float64)                         # (N,)
    # TODO slide "Пример 1" / "Example 1": p_x(x) = N(0, 1)(0.5 x - 2.5) * |det| with |det| = 0.5
    raise NotImplementedError('Task 1. Change of variables: Example 1, Example 2, numerical log|det|: example1_density is not written yet (see the TODO above)')


def example2_density(x):
    """Density of Example 2 at ``x`` (N, 2) with x1 > 0 -> (N,)."""
    x = np.asarray(x, dtype=np.float64)                         # (N, 2)
    # TODO slide "Пример 2" / "Example 2": z1 = ln x1, z2 = x2 - 2 ln x1
    # TODO p_x = p_z(z) * |det| with |det| = 1/x1
    raise NotImplementedError('Task 1. Change of variables: Example 1, Example 2, numerical log|det|: example2_density is not written yet (see the TODO above)')


def numerical_log_abs_det(f, x, step=1e-5):
    """log|det ∂f(x_n)/∂x_n| for every row of ``x`` (N, D), by central differences -> (N,)."""
    x = np.asarray(x, dtype=np.float64)                         # (N, D)
    # TODO slide "Теорема о замене переменных" / "Change of variables": the Jacobian's column k
    # TODO is (f(x + h e_k) - f(x - h e_k)) / (2h) for all rows at once; then np.linalg.slogdet
    raise NotImplementedError('Task 1. Change of variables: Example 1, Example 2, numerical log|det|: numerical_log_abs_det is not written yet (see the TODO above)')
