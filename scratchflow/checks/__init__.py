"""Numerical checkers: point them at your own layer (the cs231n ``gradient_check`` idea, for flows).

Everything here is computed by finite differences, independently of the code under test:

* :func:`numerical_jacobian` — ∂f(x_n)/∂x_n for every sample, by central differences;
* :func:`numerical_log_abs_det` — log|det| of it, by ``numpy.linalg.slogdet``;
* :func:`numerical_gradient` — dL/dθ of a scalar function, entry by entry;
* :func:`relative_error` — max over entries of |a − b| / max(ε, |a| + |b|);
* :func:`check_module` — an ``nn`` module's backward against finite differences;
* :func:`check_bijector` — one call that checks a flow layer in both directions and returns a
  :class:`CheckReport` you can print or assert on;
* :func:`check_conditional` — the same for a conditional layer at a given context, plus the
  gradient with respect to the context (beyond the lecture).

Files: ``numerical.py`` (the finite differences), ``report.py`` (the report and its lines),
``network.py`` (:func:`check_module`), ``bijector.py`` (:func:`check_bijector`),
``conditional.py`` (:func:`check_conditional`).

Central differences use the five-point stencil

    f'(t) ≈ [f(t − 2h) − 8 f(t − h) + 8 f(t + h) − f(t + 2h)] / (12 h),

whose truncation error is O(h⁴): with the default h = 1e-4 it is far below float64 round-off in
the function values (≈ 1e-16 · |f| / h ≈ 1e-12 · |f|). Run the checks in float64.

How gradients are checked. A layer's backward is a vector-Jacobian product, so the checker draws
random "upstream" gradients ``g`` (N, D) and ``h`` (N,) and checks the gradient of the scalar

    L = Σ_n g_n · z_n + Σ_n h_n log_det_n

with respect to the input and to every parameter entry. Entries whose gradient is tiny compared
with L's own size cannot be resolved by finite differences, so the relative error of each entry
uses ``ε = 1e-4 · S`` with ``S = 1 + Σ_n (|g_n| · |z_n| + |h_n| |log_det_n|)`` (the scale of L, at
least 1): an error that large relative to L would still fail.

A check that is not made is reported as "skipped" with its reason, never as passed.

Example
-------
>>> import numpy as np
>>> from scratchflow import ElementwiseAffine
>>> from scratchflow.checks import check_bijector
>>> layer = ElementwiseAffine(3, log_scale=[0.1, -0.2, 0.3], shift=[1.0, 0.0, -1.0])
>>> report = check_bijector(layer, np.random.default_rng(0).normal(size=(4, 3)))
>>> report.passed
True
>>> print(report)                               # doctest: +SKIP
"""
from scratchflow.checks.bijector import check_bijector
from scratchflow.checks.conditional import check_conditional
from scratchflow.checks.network import check_module
from scratchflow.checks.numerical import (DEFAULT_STEP, GRADIENT_TOL, LOG_DET_TOL,
                                          RECONSTRUCTION_TOL, numerical_gradient,
                                          numerical_jacobian, numerical_log_abs_det,
                                          relative_error)
from scratchflow.checks.report import CheckReport, CheckResult

__all__ = ["check_bijector", "check_conditional", "check_module", "numerical_gradient", "numerical_jacobian",
           "numerical_log_abs_det", "relative_error", "CheckReport", "CheckResult", "DEFAULT_STEP",
           "GRADIENT_TOL", "LOG_DET_TOL", "RECONSTRUCTION_TOL"]
