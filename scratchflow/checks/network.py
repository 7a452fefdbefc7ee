"""check_module: an ``nn`` module's backward (input and every parameter) against finite differences."""
import numpy as np

from scratchflow.checks.numerical import (DEFAULT_STEP, GRADIENT_TOL, check_perturbed,
                                          checked_points, loss_scale, numerical_gradient,
                                          numerical_input_gradient)
from scratchflow.checks.report import CheckReport


def check_module(module, x, rng=0, step=DEFAULT_STEP, tol=GRADIENT_TOL, perturb="auto"):
    """Check an ``nn`` module's backward (input and every parameter) against finite differences.

    Draws a random upstream gradient g and checks the gradient of L = Σ g ⊙ module.forward(x):
    lines ``gradient wrt input x`` and ``gradient wrt <param>``. ``rng`` seeds g (default 0: a
    report is reproducible). A line whose two sides are both exactly 0 compares nothing;
    ``perturb`` ("auto", True, False) decides what then happens, as in :func:`check_bijector`.
    """
    x = checked_points(x, "x", module, "check_module")                # (N, D)
    return check_perturbed(lambda: _check_module(module, x, np.random.default_rng(rng), step, tol),
                           module, perturb, np.random.default_rng(rng))


def _check_module(module, x, rng, step, tol):
    """:func:`check_module` at the module's current parameters."""
    y = module.forward(x)
    if not (isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[0] == x.shape[0]):
        raise TypeError(f"check_module needs forward(x) to return one ({x.shape[0]}, out) array; "
                        f"{type(module).__name__}.forward returned a {type(y).__name__}"
                        + (" (check each output of a multi-output module through a wrapper)"
                           if isinstance(y, tuple) else ""))
    upstream = rng.standard_normal(y.shape)                           # (N, out)
    scale = loss_scale((upstream, y))

    module.zero_grad()
    module.forward(x)
    grad_x = module.backward(upstream)                                # (N, D)
    analytic = {name: grad.copy() for name, grad in module.grads.items()}

    report = CheckReport(type(module).__name__)
    numeric_x = numerical_input_gradient(lambda x_: np.sum(upstream * module.forward(x_), axis=1),
                                         x, True, step)
    report.add_gradient("gradient wrt input x", grad_x, numeric_x, scale, tol)
    for name, array in module.params.items():
        numeric = numerical_gradient(lambda: np.sum(upstream * module.forward(x)), array, step)
        report.add_gradient(f"gradient wrt {name}", analytic[name], numeric, scale, tol)
    return report
