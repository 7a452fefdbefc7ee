"""The bijector contract (slide "Теорема о замене переменных" / "Change-of-variables theorem").

A bijector is an invertible, differentiable map ``f`` from data ``x`` to latent ``z`` (the lecture's
direction). With it, the change-of-variables theorem gives the density of the data,

    p_x(x) = p_z(f(x)) |det ∂f(x)/∂x|,      log p_x(x) = log p_z(f(x)) + log|det ∂f(x)/∂x|,

and the inverse form ``p_z(z) = p_x(f^{-1}(z)) |det ∂f^{-1}(z)/∂z|``, whence
``log|det ∂f^{-1}/∂z| = -log|det ∂f/∂x|`` at ``z = f(x)``.

The contract, for a batch of N row vectors of dimension D::

    forward(x)                             -> (z, log_det)   x (N, D), z (N, D), log_det (N,)
    inverse(z)                             -> (x, log_det)   log_det = log|det ∂f^{-1}/∂z|
    backward(grad_z, grad_log_det)         -> grad_x         gradient pass of the latest forward
    inverse_backward(grad_x, grad_log_det) -> grad_z         gradient pass of the latest inverse
    params, grads, zero_grad()

``backward`` is the vector-Jacobian product: given ``grad_z = dL/dz`` and ``grad_log_det =
dL/dlog_det`` for any scalar loss L, it returns ``dL/dx`` and adds ``dL/dθ`` into ``grads``.
"inverse" is always the other direction of the map, "backward" always the gradient pass.

Writing a new layer
-------------------
Subclass :class:`Bijector`, set ``self.dim`` and ``self.dtype``, register parameters with
``add_param`` and implement the four underscored methods. The public methods check the input once
(shape, dimension, dtype, NaN/inf), remember the batch size for the gradient pass, and call them.
Composites call their children's underscored methods directly, so a stack checks its input once.
An underscored pass never writes into the arrays it is handed: in a stack, its input is the output
of the layer before it, which that layer may keep for its gradient pass (ActNorm keeps z), and the
gradients it receives are another layer's results.

Failures stop where they happen. The public passes copy their input and their output, so what a
gradient pass reads can never be changed by the caller (``z, _ = layer.forward(x); z *= 2`` leaves
``backward`` exact); an output with NaN or ±inf made from finite input raises
:class:`~scratchflow.divergence.DivergenceError` naming the layer (``Compose`` names the position
in the stack, and checks each layer's domain on what the layer before it produced).
Then point :func:`scratchflow.checks.check_bijector` at the layer.

Conditional layers (beyond the lecture)
---------------------------------------
A layer with a conditioner (coupling, MAF, IAF) can also read a context vector c per sample,
``context`` (N, C): built with ``context_dim = C > 0``, its passes are ``forward(x, context)`` and
``inverse(z, context)``, and every gradient pass leaves dL/dc of that pass in ``grad_context``
(N, C), beside the parameter gradients in ``grads``. c only enters the networks that compute the
map's coefficients, never the transformed variable, so for a fixed c the map x ↦ z is the same
kind of map as without context and its log-det is the same formula (each layer's docstring says why).
A layer without context (``context_dim = 0``, every layer without a conditioner) refuses a context,
and a conditional layer refuses to run without one: nothing is silently ignored or broadcast.
"""
import numpy as np

from scratchflow.divergence import check_finite_output
from scratchflow.nn.module import Module
from scratchflow.input_checks import check_array, check_gradient, check_vector


class Bijector(Module):
    """Base class of every flow layer: input checks and bookkeeping around four methods.

    Subclasses implement

    ``_forward(x) -> (z, log_det)``, ``_inverse(z) -> (x, log_det)``,
    ``_backward(grad_z, grad_log_det) -> grad_x``, ``_inverse_backward(grad_x, grad_log_det) -> grad_z``

    and may override ``_check_domain(x)`` / ``_check_codomain(z)`` for maps defined on part of R^D
    (Example 2 needs x1 > 0). The attribute ``samples_independent`` says that row i of the output
    depends on row i of the input only (False for BatchNorm in training mode); the checker uses it.
    """

    dim = None
    dtype = np.dtype(np.float64)
    samples_independent = True
    context_dim = 0                # C > 0: a conditional layer, whose passes read context (N, C)

    def __init__(self):
        super().__init__()
        self._forward_n = None     # batch size of the latest public forward, for backward's checks
        self._inverse_n = None
        self.grad_context = None   # dL/dc (N, C) of the latest gradient pass (conditional layers)

    # ------------------------------------------------------------------ public, checked
    def forward(self, x, context=None):
        """Map data to latent: ``x`` (N, D) -> ``(z (N, D), log_det (N,))``, log|det ∂f/∂x|.

        ``context`` (N, C) is required by a conditional layer (``context_dim = C > 0``) and refused
        by any other."""
        x = check_array(x, "x", dim=self.dim, dtype=self.dtype).copy()   # the caches own it
        context = self._checked_context(context, x.shape[0])
        self._check_domain(x)
        self._forward_n = None         # a forward that fails part-way leaves no pass to backward
        z, log_det = self._forward(x, context)
        check_finite_output(type(self).__name__, z=z, log_det=log_det)
        self._forward_n = x.shape[0]
        return np.array(z), np.array(log_det)     # copies: the caller may change them in place

    def inverse(self, z, context=None):
        """Map latent to data: ``z`` (N, D) -> ``(x (N, D), log_det (N,))``, log|det ∂f⁻¹/∂z|;
        ``context`` as in :meth:`forward`."""
        z = check_array(z, "z", dim=self.dim, dtype=self.dtype).copy()   # the caches own it
        context = self._checked_context(context, z.shape[0])
        self._check_codomain(z)
        self._inverse_n = None
        x, log_det = self._inverse(z, context)
        check_finite_output(type(self).__name__, x=x, log_det=log_det)
        self._inverse_n = z.shape[0]
        return np.array(x), np.array(log_det)     # copies: the caller may change them in place

    def backward(self, grad_z, grad_log_det=None):
        """Gradient pass through the latest ``forward``.

        Parameters
        ----------
        grad_z : ndarray, shape (N, D)
            dL/dz for the z returned by the latest forward.
        grad_log_det : ndarray, shape (N,), optional
            dL/dlog_det; ``None`` means zero.

        Returns
        -------
        grad_x : ndarray, shape (N, D)
            dL/dx. Parameter gradients are added into ``grads``.
        """
        if self._forward_n is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward(): the "
                               "gradient pass reads what forward kept")
        grad_z, grad_log_det = self._check_grads(grad_z, grad_log_det, self._forward_n, "grad_z")
        return self._backward(grad_z, grad_log_det)

    def inverse_backward(self, grad_x, grad_log_det=None):
        """Gradient pass through the latest ``inverse``: dL/dx (N, D), dL/dlog_det (N,) -> dL/dz."""
        if self._inverse_n is None:
            raise RuntimeError(f"{type(self).__name__}.inverse_backward() called before inverse(): "
                               "the gradient pass reads what inverse kept")
        grad_x, grad_log_det = self._check_grads(grad_x, grad_log_det, self._inverse_n, "grad_x")
        return self._inverse_backward(grad_x, grad_log_det)

    def _checked_context(self, context, n):
        """The context (N, C) of a pass over n rows, checked; ``None`` for a layer without one."""
        name = type(self).__name__
        if not self.context_dim:
            if context is not None:
                raise ValueError(f"{name} is not conditional (context_dim=0) but got a context; "
                                 "build it with context_dim=C to make it read one")
            return None
        if context is None:
            raise ValueError(f"{name} is conditional (context_dim={self.context_dim}): pass "
                             f"context, an array of shape (N, {self.context_dim}), one row per sample")
        context = check_array(context, "context", dtype=self.dtype)          # (N, C), finite
        if context.shape[1] != self.context_dim:
            raise ValueError(f"context has C={context.shape[1]} columns but {name} was built with "
                             f"context_dim={self.context_dim}")
        if context.shape[0] != n:
            raise ValueError(f"context has N={context.shape[0]} rows but the batch has N={n}: one "
                             "context row per sample (nothing is broadcast)")
        return context

    def _check_grads(self, grad, grad_log_det, n, name):
        grad = check_gradient(grad, name, n, self.dim, self.dtype)
        if grad_log_det is None:
            grad_log_det = np.zeros(n, dtype=self.dtype)
        else:
            grad_log_det = check_vector(grad_log_det, "grad_log_det", n, dtype=self.dtype)
        return grad, grad_log_det

    # ------------------------------------------------------------------ for subclasses
    def _keep_context_gradient(self, grad_in, n_inputs):
        """A conditioner's input gradient dL/d[u, c] (N, n + C) -> dL/du (N, n); a conditional
        layer keeps dL/dc (N, C) in ``grad_context`` (c is an input of the conditioner only)."""
        if not self.context_dim:
            return grad_in                                            # (N, n): no c columns
        self.grad_context = grad_in[:, n_inputs:]                     # (N, C)
        return grad_in[:, :n_inputs]                                  # (N, n)

    def add_vector_param(self, name, value, fill=0.0):
        """Register a (D,) parameter from ``value`` (``None``: every entry ``fill``), after checking
        its shape (set ``self.dim`` and ``self.dtype`` first); return the live array."""
        value = np.full(self.dim, fill) if value is None else np.asarray(value, dtype=float)
        if value.shape != (self.dim,):
            raise ValueError(f"{name} must have shape ({self.dim},), got {value.shape}")
        return self.add_param(name, value, self.dtype)                  # (D,)

    def _initialize(self, x, context=None):
        """Data-dependent initialisation on a checked batch x (N, D) this layer is about to map.

        A layer that takes parameters from data (ActNorm, Whitening) sets them here once, from x,
        and marks its ``initialized`` buffer; a composite hands each layer inside it the batch that
        layer sees. Nothing by default. Only :meth:`Flow.initialize
        <scratchflow.flow.Flow.initialize>` calls it: a forward pass never writes a parameter."""

    def _check_domain(self, x):
        """Raise ``ValueError`` if some row of x is outside the map's domain (default: all of R^D)."""

    def _check_codomain(self, z):
        """Raise ``ValueError`` if some row of z is outside the map's image (default: all of R^D)."""

    def _forward(self, x, context=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement _forward")

    def _inverse(self, z, context=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement _inverse")

    def _backward(self, grad_z, grad_log_det):
        raise NotImplementedError(f"{type(self).__name__} does not implement _backward")

    def _inverse_backward(self, grad_x, grad_log_det):
        raise NotImplementedError(f"{type(self).__name__} does not implement _inverse_backward")

    def with_statistics_fixed(self):
        """This map with whatever it reads from the whole batch held fixed, as a bijector whose
        rows are independent, or ``None`` when the layer cannot say. The checker takes the per-sample
        Jacobian of it when ``samples_independent`` is False (BatchNorm in training mode)."""
        return self if self.samples_independent else None

    def __repr__(self):
        return f"{type(self).__name__}(dim={self.dim})"

