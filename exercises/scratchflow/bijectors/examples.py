"""The lecture's two worked examples (slides "Пример 1" / "Example 1" and "Пример 2" / "Example 2").

Example 1, one dimension, ``p_z = N(0, 1)``::

    z = f(x) = 0.5 x − 2.5,   ∂f/∂x = (0.5),   |det| = 0.5,
    p_x(x) = 0.5 · (2π)^{-1/2} exp(−(0.5x − 2.5)²/2) = N(5, 2²).

It is the :class:`ElementwiseAffine` layer with ``log_scale = ln 0.5`` and ``shift = −2.5``.

Example 2, two dimensions, ``p_z(z) = (2π)^{-1} exp(−(z1² + z2²)/2)``::

    z1 = ln x1,   z2 = x2 − 2 ln x1            (defined for x1 > 0)
# >>> task change_of_variables
# --- student
    ∂f/∂x = ?  (a 2×2 matrix: which entry is 0 makes the determinant easy),   |det| = ?,
    p_x(x) = p_z(f(x)) |det ∂f/∂x|   — write it out (task change_of_variables).
# <<< task change_of_variables

The slides sample both ("Эксперимент" / "experiment") as ``x = f^{-1}(z)`` and compare the
histogram with the density ("Теория" / "theory"); :func:`scratchflow.plotting.plot_example` draws
that figure.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache
from scratchflow.bijectors.elementwise import ElementwiseAffine


def example1_bijector():
    """Example 1's map z = 0.5 x − 2.5 as an :class:`ElementwiseAffine` of dimension 1."""
    return ElementwiseAffine(1, log_scale=[np.log(0.5)], shift=[-2.5])


def example1_density(x):
    """Analytic density of Example 1, N(5, 2²), at points ``x`` of any shape."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-((x - 5.0) ** 2) / 8.0) / (2.0 * np.sqrt(2.0 * np.pi))


def example2_density(x1, x2):
    """Analytic density of Example 2, p_x(x) = p_z(f(x)) |det ∂f/∂x|, at x1 > 0; 0 where x1 <= 0.

    ``x1``, ``x2``: arrays of one shape (broadcast); returns that shape. Slide «Пример 2».
    """
    x1, x2 = np.broadcast_arrays(np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64))
    density = np.zeros(x1.shape)                            # 0 outside the domain x1 > 0
    positive = x1 > 0
    # >>> task change_of_variables
    raise NotImplementedError('task change_of_variables (slide «Теорема о замене переменных; Пример 2 / Change of variables; Example 2»): example2_density is yours to write; the docstring above gives the formula and the contract')
    # <<< task change_of_variables
    return density


class Example2Map(Bijector):
    """Example 2's map: z1 = ln x1, z2 = x2 − 2 ln x1 (no parameters; D = 2; needs x1 > 0).

    Slide «Пример 2» / «Example 2». Contract: ``_forward(x)`` returns ``(z, log_det)`` with
    ``log_det = log|det ∂f/∂x|`` (N,); ``_inverse(z)`` returns ``(x, log_det)`` with
    ``log_det = log|det ∂f^{-1}/∂z|`` (N,). A point with x1 <= 0 is outside the domain: the public
    ``forward`` raises ValueError there (``_check_domain``), and the density is 0 there.

    # >>> task change_of_variables
    # --- student
    forward:  write the Jacobian matrix ∂z/∂x of the slide, its determinant, and log|det| per row.
    inverse:  solve z = f(x) for x1 and x2; log|det ∂f^{-1}/∂z| follows from the inverse function
              theorem (or from the Jacobian of the inverse map) — mind its sign.
    Gradient passes (g = dL/dz or dL/dx, h = dL/dlog_det): L depends on x through z1, z2 AND
    log_det; derive dL/dx1, dL/dx2 (and dL/dz1, dL/dz2 for the inverse) by the chain rule, then
    check them with ``scratchflow.check_bijector(Example2Map(), x)`` on points with x1 > 0.
    # <<< task change_of_variables
    """

    dim = 2

    def __init__(self):
        super().__init__()
        self._forward_cache = None       # Cache(x1), kept by forward
        self._inverse_cache = None       # Cache(x1), kept by inverse

    def _check_domain(self, x):
        if (x[:, 0] <= 0).any():
            row = int(np.argmax(x[:, 0] <= 0))
            raise ValueError(f"Example 2's map needs x1 > 0 (z1 = ln x1); row {row} has x1 = {x[row, 0]}")

    def _forward(self, x, context=None):
        x1 = x[:, 0]                                        # (N,) kept for the gradient pass
        # >>> task change_of_variables
        raise NotImplementedError('task change_of_variables (slide «Теорема о замене переменных; Пример 2 / Change of variables; Example 2»): Example2Map._forward is yours to write; the docstring above gives the formula and the contract')
        # <<< task change_of_variables
        self._forward_cache = Cache(x1=x1)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        x1 = self._read_cache("forward").x1                 # (N,)
        grad_x = np.empty_like(grad_z)                      # (N, 2)
        # >>> task change_of_variables
        raise NotImplementedError('task change_of_variables (slide «Теорема о замене переменных; Пример 2 / Change of variables; Example 2»): Example2Map._backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task change_of_variables
        return grad_x

    def _inverse(self, z, context=None):
        # >>> task change_of_variables
        raise NotImplementedError('task change_of_variables (slide «Теорема о замене переменных; Пример 2 / Change of variables; Example 2»): Example2Map._inverse is yours to write; the docstring above gives the formula and the contract')
        # <<< task change_of_variables
        self._inverse_cache = Cache(x1=x[:, 0])
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        x1 = self._read_cache("inverse").x1                 # (N,)
        grad_z = np.empty_like(grad_x)                      # (N, 2)
        # >>> task change_of_variables
        raise NotImplementedError('task change_of_variables (slide «Теорема о замене переменных; Пример 2 / Change of variables; Example 2»): Example2Map._inverse_backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task change_of_variables
        return grad_z
