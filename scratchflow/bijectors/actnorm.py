"""ActNorm: a per-dimension affine layer with data-dependent initialisation (Glow, arXiv 1807.03039).

Not a slide of the lecture; it is the "Больше слоев!" / "More layers!" idea with one more cheap,
exactly invertible layer, which keeps the inputs of the next coupling layer near mean 0, std 1.

    z = (x − loc) ⊙ exp(−log_scale)          loc, log_scale: (D,)

loc and exp(log_scale) play the part of a learnt mean and standard deviation. The Jacobian is
``diag(exp(−log_scale))``, the same for every sample, so

    log|det ∂z/∂x| = −Σ_j log_scale_j,
    inverse: x = z ⊙ exp(log_scale) + loc,     log|det ∂x/∂z| = +Σ_j log_scale_j.

Data-dependent initialisation (Glow §3.1) is a step of its own, run once before training:
:meth:`ActNorm.initialize` (or :meth:`Flow.initialize <scratchflow.flow.Flow.initialize>`, which
``fit`` calls on its training rows) sets ``loc = mean(x)`` and ``log_scale = log(std(x) + 1e-6)``
over the batch, so that batch leaves with per-dimension mean 0 and standard deviation ≈ 1, and marks
the layer initialised. The flag is a buffer (saved with the model), so a loaded model is not
re-initialised. After that ActNorm is an ordinary affine layer with trainable loc and log_scale.

``forward`` and ``inverse`` only read the parameters, as every layer's passes do: they are the map
f_θ of the current θ. A layer not yet initialised is the map of its construction values, loc = 0
and log_scale = 0, the identity: a valid bijector, like a coupling with its zeroed last layer, so
``log_prob``, ``sample`` and the gradient checker work on a freshly built flow, and the data-dependent
start is what ``initialize`` adds, explicitly, not something a call to ``log_prob`` on other data
could do behind the caller's back.

Gradient pass of forward (g = dL/dz, h = dL/dlog_det; u = exp(−log_scale)):

    dL/dx         = g ⊙ u
    dL/dloc       = −Σ_n g_n ⊙ u
    dL/dlog_scale = −Σ_n g_n ⊙ z_n − Σ_n h_n        (∂z/∂log_scale = −z)

Gradient pass of inverse (g = dL/dx; x = z ⊙ exp(log_scale) + loc, ∂x/∂log_scale = x − loc):

    dL/dz = g ⊙ exp(log_scale),  dL/dloc = Σ_n g_n,  dL/dlog_scale = Σ_n g_n ⊙ (x_n − loc) + Σ_n h_n.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_array, check_dtype, check_int


class ActNorm(Bijector):
    """z = (x − loc) ⊙ exp(−log_scale); :meth:`initialize` sets loc, log_scale from a batch.

    Parameters
    ----------
    dim : int
    dtype : float64 (default) or float32

    Attributes
    ----------
    loc, log_scale : ndarray (D,)
        Parameters.
    initialized : ndarray, shape ()
        Buffer: 1.0 once the data-dependent initialisation ran (or was loaded), else 0.0.

    References
    ----------
    D. P. Kingma, P. Dhariwal. Glow: Generative flow with invertible 1x1 convolutions.
    arXiv:1807.03039.
    """

    def __init__(self, dim, dtype=np.float64):
        super().__init__()
        self.dim = check_int(dim, "dim", 1)
        self.dtype = check_dtype(dtype)
        self.loc = self.add_param("loc", np.zeros(self.dim), self.dtype)              # (D,)
        self.log_scale = self.add_param("log_scale", np.zeros(self.dim), self.dtype)  # (D,)
        self.initialized = self.add_buffer("initialized", 0.0)                      # ()
        self._forward_cache = None                    # Cache(z, inv_scale), kept by forward
        self._inverse_cache = None                    # Cache(centered, scale), kept by inverse

    def initialize(self, x):
        """Set loc, log_scale from the batch x (N, D) so it maps to mean 0, std 1; mark initialised.

        Runs whether or not the layer was initialised before (a flow's :meth:`Flow.initialize
        <scratchflow.flow.Flow.initialize>` skips initialised layers)."""
        x = check_array(x, "x", dim=self.dim, dtype=self.dtype)            # (N, D), finite
        if x.shape[0] < 2:
            raise ValueError(f"ActNorm's data-dependent initialisation needs a batch of at least 2 "
                             f"rows to estimate a mean and a standard deviation per dimension; got "
                             f"shape {x.shape}. Initialise on a real minibatch")
        self.loc[...] = x.mean(axis=0)                                       # (D,)
        self.log_scale[...] = np.log(x.std(axis=0) + 1e-6)                   # (D,)
        self.initialized[...] = 1.0

    def _initialize(self, x, context=None):
        if not self.initialized:
            self.initialize(x)

    def _forward(self, x, context=None):
        inv_scale = np.exp(-self.log_scale)                                  # (D,)
        z = (x - self.loc) * inv_scale                                       # (N, D)
        log_det = np.full(x.shape[0], -self.log_scale.sum(), dtype=x.dtype)  # (N,)
        self._forward_cache = Cache(z=z, inv_scale=inv_scale)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        grad_x = grad_z * cache.inv_scale                                    # (N, D)
        self._own_grads["loc"] -= grad_x.sum(axis=0)
        self._own_grads["log_scale"] -= (grad_z * cache.z).sum(axis=0) + grad_log_det.sum()
        return grad_x

    def _inverse(self, z, context=None):
        scale = np.exp(self.log_scale)                                       # (D,)
        centered = z * scale                                                 # (N, D) = x − loc
        x = centered + self.loc                                              # (N, D)
        log_det = np.full(z.shape[0], self.log_scale.sum(), dtype=z.dtype)   # (N,)
        self._inverse_cache = Cache(centered=centered, scale=scale)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        cache = self._read_cache("inverse")
        self._own_grads["loc"] += grad_x.sum(axis=0)
        self._own_grads["log_scale"] += (grad_x * cache.centered).sum(axis=0) + grad_log_det.sum()
        return grad_x * cache.scale                                           # (N, D)

    def __repr__(self):
        return f"ActNorm(dim={self.dim}, initialized={bool(self.initialized)})"
