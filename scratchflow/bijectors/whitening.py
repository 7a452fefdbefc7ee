"""Whitening: the affine map under which the training rows have mean 0 and covariance I.

Beyond the lecture; why a flow for small tabular data starts with it. The full-covariance Gaussian
N(μ, Σ) is a flow of one affine layer, z = W (x − μ) with Wᵀ W = Σ⁻¹, on a standard normal
base, and its maximum-likelihood fit is closed-form: μ the mean and Σ the covariance of the rows. Put that layer first and start every later layer at the identity (zeroed
last layers), and the untrained flow IS that Gaussian; training moves from there, and with early
stopping on validation (the start counted as a candidate) it can only end at a validation NLL no
worse than the Gaussian's.

The map. With Σ = C Cᵀ (Cholesky, C lower-triangular with positive diagonal), W = C⁻¹ is
lower-triangular too, and

    z = W (x − loc),    loc = μ,    W = lower (strictly lower part) + diag(exp(log_scale)),
    log|det ∂z/∂x| = log|det W| = Σ_j log_scale_j,                (triangular: product of diagonal)
    inverse x = W⁻¹ z + loc (a triangular solve),   log|det ∂x/∂z| = −Σ_j log_scale_j.

Then cov(z) = W Σ Wᵀ = C⁻¹ C Cᵀ C⁻ᵀ = I on the rows W was fitted on. ``fit(x)`` sets loc, lower
and log_scale from rows x (a ridge of 1e-6 · mean variance keeps Σ invertible) and the
``initialized`` buffer saves that it ran. It is the layer's data-dependent initialisation, a step of
its own like ActNorm's: :meth:`Flow.initialize <scratchflow.flow.Flow.initialize>` runs it on a
layer not yet fitted; the passes never do, and an unfitted layer is the identity (W = I, loc = 0).

Gradient pass of forward (rows; G = dL/dZ (N, D), h = dL/dlog_det (N,), U = X − loc):

    dL/dX = G W,    dL/dloc = −Σ_n (G W)_n,    dL/dW = Gᵀ U,
    dL/dlower = dL/dW below the diagonal,  dL/dlog_scale = diag(dL/dW) ⊙ exp(log_scale) + Σ_n h_n.

Gradient pass of inverse (x = W⁻¹ z + loc, G = dL/dX, U = X − loc = W⁻¹ z): with
d(W⁻¹) = −W⁻¹ dW W⁻¹,

    dL/dZ = G W⁻ᵀ (solve Wᵀ yᵀ = Gᵀ),   dL/dloc = Σ_n G_n,   dL/dW = −(dL/dZ)ᵀ U,
    dL/dlog_scale = diag(dL/dW) ⊙ exp(log_scale) − Σ_n h_n.

Legend: μ -> loc; W -> ``weight()``; its strictly lower part -> lower, log of its diagonal ->
log_scale.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scipy.linalg import solve_triangular
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_array, check_dtype, check_int

RIDGE = 1e-6                    # relative to the mean variance: Σ + ridge·I stays invertible


class Whitening(Bijector):
    """z = W (x − loc), W lower-triangular with diagonal exp(log_scale); log-det Σ log_scale.

    Built with ``dim`` = D and ``dtype`` (float64 default, or float32) as the identity map:
    parameters loc (D,), lower (D, D), log_scale (D,); the buffer ``initialized`` becomes 1.0
    once :meth:`fit` ran (or a fitted model was loaded).
    """

    def __init__(self, dim, dtype=np.float64):
        super().__init__()
        self.dim = check_int(dim, "dim", 1)
        self.dtype = check_dtype(dtype)
        self.lower_mask = np.tril(np.ones((self.dim, self.dim), self.dtype), -1)     # (D, D)
        self.loc = self.add_param("loc", np.zeros(self.dim), self.dtype)             # (D,)
        self.lower = self.add_param("lower", np.zeros((self.dim, self.dim)), self.dtype)
        self.log_scale = self.add_param("log_scale", np.zeros(self.dim), self.dtype)  # (D,)
        self.initialized = self.add_buffer("initialized", 0.0)
        self._forward_cache = None
        self._inverse_cache = None

    def fit(self, x):
        """Set loc = mean and W = C⁻¹ (Σ = C Cᵀ, the rows' covariance) from rows x (N, D), N >= 2."""
        x = check_array(x, "x", dim=self.dim)                                 # (N, D)
        if len(x) < 2:
            raise ValueError(f"Whitening.fit needs at least 2 rows to estimate a covariance, got "
                             f"{len(x)}")
        centered = x - x.mean(axis=0)                                         # (N, D)
        covariance = centered.T @ centered / len(x)                           # (D, D)
        covariance += RIDGE * max(np.trace(covariance) / self.dim, 1e-12) * np.eye(self.dim)
        cholesky = np.linalg.cholesky(covariance)                             # (D, D) Σ = C Cᵀ
        weight = solve_triangular(cholesky, np.eye(self.dim), lower=True)     # (D, D) W = C⁻¹
        self.loc[...] = x.mean(axis=0)
        self.lower[...] = weight * self.lower_mask
        self.log_scale[...] = np.log(np.diag(weight))
        self.initialized[...] = 1.0

    def _initialize(self, x, context=None):
        if not self.initialized:
            self.fit(x)

    def weight(self):
        """W (D, D), lower-triangular."""
        return self.lower * self.lower_mask + np.diag(np.exp(self.log_scale))

    def _add_grads(self, grad_weight, grad_loc, grad_log_det_total):
        self._own_grads["loc"] += grad_loc
        self._own_grads["lower"] += grad_weight * self.lower_mask
        self._own_grads["log_scale"] += np.diag(grad_weight) * np.exp(self.log_scale) + grad_log_det_total

    def _forward(self, x, context=None):
        weight = self.weight()                                                # (D, D)
        centered = x - self.loc                                               # (N, D)
        self._forward_cache = Cache(centered=centered, weight=weight)
        return centered @ weight.T, np.full(len(x), self.log_scale.sum(), dtype=x.dtype)

    def _backward(self, grad_z, grad_log_det):
        # >>> task omitted
        cache = self._read_cache("forward")
        grad_x = grad_z @ cache.weight                                        # (N, D)
        self._add_grads(grad_z.T @ cache.centered, -grad_x.sum(axis=0), grad_log_det.sum())
        return grad_x
        # <<< task omitted

    def _inverse(self, z, context=None):
        weight = self.weight()
        centered = solve_triangular(weight, z.T, lower=True).T                # (N, D) W⁻¹ z
        self._inverse_cache = Cache(centered=centered, weight=weight)
        return centered + self.loc, np.full(len(z), -self.log_scale.sum(), dtype=z.dtype)

    def _inverse_backward(self, grad_x, grad_log_det):
        # >>> task omitted
        cache = self._read_cache("inverse")
        grad_z = solve_triangular(cache.weight, grad_x.T, trans="T", lower=True).T   # (N, D)
        self._add_grads(-grad_z.T @ cache.centered, grad_x.sum(axis=0), -grad_log_det.sum())
        return grad_z
        # <<< task omitted

    def __repr__(self):
        return f"Whitening(dim={self.dim}, initialized={bool(self.initialized)})"
