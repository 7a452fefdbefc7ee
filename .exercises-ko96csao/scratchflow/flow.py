"""Flow = a stack of bijectors + a base density (slides "Функция потерь", "Алгоритм обучения",
"Алгоритм генерации" / "Loss function", "Training algorithm", "Generation algorithm").

Density (change of variables, the stack's log-dets add up)::

    log p_x(x) = log p_z(f(x)) + log|det ∂f(x)/∂x|

Loss on a minibatch of m objects (mean negative log-likelihood)::

    L = −(1/m) Σ_i [ log p_z(f(x_i)) + log|det ∂f(x_i)/∂x_i| ]

# >>> task loss
# --- student
Its gradient (task loss): L depends on θ only through z_i = f(x_i) and log_det_i. Derive
dL/dz_i (m, D) — ``self.base.grad_log_prob(z)`` gives ∇_z log p_z — and dL/dlog_det_i (m,), then
let the stack's ``_backward`` turn them into dL/dθ for every parameter θ.
# <<< task loss

Generation: draw z_i ~ p_z and return x_i = f^{-1}(z_i).

Reverse KL (fitting a target density p* known up to a constant, the job IAF was made for)::

    KL(q || p*) = E_{z ~ p_z} [ log q(x) − log p*(x) ],   x = f^{-1}(z),
    log q(x) = log p_z(z) − log|det ∂f^{-1}(z)/∂z|

With z fixed (the reparametrisation), dL/dx_i = −(1/m) ∇ log p*(x_i) and
dL/dlog_det_inv_i = −1/m; the stack's ``inverse_backward`` turns these into dL/dθ.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.compose import Compose
from scratchflow.distributions import StandardNormal
from scratchflow.divergence import check_finite_output
from scratchflow.nn.module import Cache, Module
from scratchflow.input_checks import check_array, check_int


class Flow(Module):
    """A normalizing flow: ``log_prob``, ``sample``, the lecture's loss and its gradient.

    Parameters
    ----------
    layers : Bijector or sequence of Bijector
        The map f from data to latent, applied in list order. Stored as a :class:`Compose` under
        the name ``layers``, so parameters read ``"layers.0.log_scale"``.
    base : distribution, optional
        ``p_z`` with ``log_prob``, ``grad_log_prob`` and ``sample``; default ``StandardNormal(D)``.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchflow import Flow, ElementwiseAffine
    >>> flow = Flow([ElementwiseAffine(2)])
    >>> x = np.random.default_rng(0).normal(size=(128, 2))
    >>> loss = flow.loss_and_grad(x)          # fills flow.grads
    >>> samples = flow.sample(5, rng=0)        # (5, 2)
    """

    def __init__(self, layers, base=None):
        super().__init__()
        if isinstance(layers, Bijector):
            layers = [layers]
        self.layers = self.add_child("layers", Compose(layers))
        self.dim = self.layers.dim
        self.dtype = self.layers.dtype
        self.base = StandardNormal(self.dim) if base is None else base
        missing = [name for name in ("dim", "log_prob", "grad_log_prob", "sample")
                   if not hasattr(self.base, name)]
        if missing:
            raise TypeError(f"base must be a distribution with dim, log_prob, grad_log_prob and "
                            f"sample; {type(self.base).__name__} has no {', '.join(missing)}")
        if self.base.dim != self.dim:
            raise ValueError(f"base distribution has dimension {self.base.dim}, layers have {self.dim}")
        self._forward_cache = None     # Cache(z) of the latest loss, for backward

    def log_prob(self, x):
        """log p_x(x) for x (N, D) -> (N,). An empty batch (N = 0) gives an empty array."""
        self._forward_cache = None     # the layers' forward caches now hold this x, not the loss's
        z, log_det = self._layers_forward(self._checked_input(x, "x"))   # (N, D), (N,)
        log_px = self._base_log_prob(z) + log_det                 # (N,)
        check_finite_output("Flow.log_prob (the base density at the flow's z)", log_prob=log_px)
        return log_px

    def sample(self, n, rng=None):
        """Generation algorithm (slide «Алгоритм генерации»); returns x (n, D); task generation.

        ``rng`` is a seed or Generator: pass it to ``self.base.sample(n, rng, dtype=self.dtype)``,
        once, so that a seed gives the same samples as the reference; ``self.layers`` is the map
        f from data to latent.

        ``n`` is an integer >= 0 (n = 0 gives an empty (0, D) array).
        """
        n = check_int(n, "n (the number of samples)", 0)
        # >>> task generation
        raise NotImplementedError('task generation (slide «Алгоритм генерации; Эксперимент / Теория / Generation algorithm; Experiment / theory»): Flow.sample is yours to write; the docstring above gives the formula and the contract')
        # <<< task generation
        return x

    def loss(self, x):
        """L = −(1/m) Σ_i [log p_z(f(x_i)) + log|det ∂f/∂x_i|] on the minibatch x (m, D), m >= 1.

        Keeps z for :meth:`backward`. An empty minibatch is an error: its mean is undefined.
        Task loss: define ``log_px`` (m,), log p_x(x_i), and ``loss``, the number L.
        """
        self._forward_cache = None     # a loss that fails part-way leaves nothing to backward
        z, log_det = self._layers_forward(self._checked_input(x, "x").copy())   # the caches own x
        if z.shape[0] == 0:
            raise ValueError("the loss is a mean over the minibatch and needs at least one row; "
                             f"got an empty batch x of shape {z.shape}")
        # >>> task loss
        raise NotImplementedError('task loss (slide «Постановка задачи, Функция потерь / Problem statement, Loss function»): Flow.loss is yours to write; the docstring above gives the formula and the contract')
        # <<< task loss
        check_finite_output("Flow.loss (the base density at the flow's z)", log_prob=log_px)
        self._forward_cache = Cache(z=z)
        return float(loss)

    def _checked_input(self, x, name):
        """``x`` checked once, here at the flow's boundary: an (N, D) float array of the flow's
        dtype without NaN or inf (the layers' unchecked passes then run on it)."""
        return check_array(x, name, dim=self.dim, dtype=self.dtype)

    def _layers_forward(self, x):
        """The stack's forward on a checked x: layer 0's domain, then the layers' unchecked passes
        (:class:`Compose` checks each layer's domain and finite output). Nothing is copied: the
        outputs stay inside the flow."""
        self.layers._check_domain(x)
        return self.layers._forward(x)                            # (N, D), (N,)

    def _layers_inverse(self, z):
        """The stack's inverse on a checked z: the last layer's codomain, then the unchecked passes."""
        self.layers._check_codomain(z)
        return self.layers._inverse(z)                            # (N, D), (N,)

    def _base_log_prob(self, z):
        """log p_z(z) (N,), with a check that a custom base returns one value per row."""
        log_pz = self.base.log_prob(z)                            # (N,)
        if np.shape(log_pz) != (z.shape[0],):
            raise ValueError(f"base.log_prob(z) must return shape ({z.shape[0]},), one value per "
                             f"row; {type(self.base).__name__} returned {np.shape(log_pz)}")
        return log_pz

    def backward(self):
        """Add dL/dθ of the latest :meth:`loss` into ``grads``; return dL/dx (m, D).

        Task loss: define ``grad_z`` = dL/dz (m, D) and ``grad_log_det`` = dL/dlog_det (m,).
        """
        if self._forward_cache is None:
            raise RuntimeError("Flow.backward() called before Flow.loss(x), or after a log_prob "
                               "that replaced the layers' forward caches: call loss(x) again")
        z = self._forward_cache.z                                 # (m, D)
        m = z.shape[0]
        # >>> task loss
        raise NotImplementedError('task loss (slide «Постановка задачи, Функция потерь / Problem statement, Loss function»): Flow.backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task loss
        return self.layers._backward(grad_z, grad_log_det)

    def loss_and_grad(self, x):
        """Zero the gradients, compute L on x, fill ``grads`` with dL/dθ; return L (a float)."""
        self.zero_grad()
        loss = self.loss(x)
        self.backward()
        return loss

    def reverse_kl(self, target, z):
        """KL(q || p*) + const estimated on given base draws z (n, D); returns ``(loss, x)``.

        ``loss = mean_i [log q(x_i) − log p*(x_i)]`` with ``x = f^{-1}(z)`` and
        ``log q(x) = log p_z(z) − log|det ∂f^{-1}/∂z|``. The inverse pass is kept, so
        :meth:`reverse_kl_loss_and_grad` can run the gradient pass through it.
        """
        _check_target(target, self.dim)
        z = self._checked_input(z, "z").copy()                        # the caches own z
        return self._reverse_kl(target, z)

    def _reverse_kl(self, target, z):
        """:meth:`reverse_kl` on a z (n, D) the flow owns (checked, or drawn by the base)."""
        x, log_det_inv = self._layers_inverse(z)                      # (n, D), (n,)
        x = x.copy()                     # the target's and the caller's: a layer's cache may hold x
        log_q = self._base_log_prob(z) - log_det_inv                  # (n,)
        log_target = target.log_prob(x)                               # (n,)
        if np.shape(log_target) != (x.shape[0],):
            raise ValueError(f"target.log_prob(x) must return shape ({x.shape[0]},), one value per "
                             f"sample; got {np.shape(log_target)}")
        return float(np.mean(log_q - log_target)), x

    def reverse_kl_loss_and_grad(self, target, n, rng=None):
        """Zero the gradients, estimate KL(q || p*) + const on n samples, fill ``grads``; return it.

        Parameters
        ----------
        target : object with ``log_prob(x) -> (n,)`` and ``grad_log_prob(x) -> (n, D)``
            The (unnormalised) target log-density log p*.
        n : int
            Number of samples z ~ p_z in the Monte-Carlo estimate.
        rng : seed or numpy Generator

        Raises
        ------
        ValueError, TypeError
            n not an integer >= 1, a target without ``log_prob`` / ``grad_log_prob``, whose ``dim``
            is not the flow's, or whose methods return other shapes than (n,) / (n, D) (nothing
            is broadcast).
            NaN or inf values are not errors here: they come back as a non-finite loss, which
            :func:`scratchflow.train.fit` turns into a clean stop.
        """
        n = check_int(n, "n (the number of samples)", 1)
        self.zero_grad()
        z = self.base.sample(n, rng, dtype=self.dtype)                # (n, D)
        _check_target(target, self.dim)
        loss, x = self._reverse_kl(target, z)                         # keeps the inverse pass
        grad_target = check_array(target.grad_log_prob(x), "target.grad_log_prob(x)", dim=self.dim,
                                  n=n, finite=False)                  # (n, D)
        grad_x = -grad_target / n                                     # (n, D)
        grad_log_det = np.full(n, -1.0 / n, dtype=x.dtype)            # (n,)
        self.layers._inverse_backward(grad_x.astype(x.dtype, copy=False), grad_log_det)
        return loss

    def __repr__(self):
        return f"Flow(base={self.base!r}, layers={self.layers!r})"


def _check_target(target, dim):
    """A reverse-KL target needs log_prob and grad_log_prob, and (if it says) the flow's dimension."""
    missing = [name for name in ("log_prob", "grad_log_prob") if not hasattr(target, name)]
    if missing:
        raise TypeError(f"target must have log_prob(x) and grad_log_prob(x); "
                        f"{type(target).__name__} has no {', '.join(missing)}")
    if getattr(target, "dim", dim) != dim:
        raise ValueError(f"target has dimension {target.dim} but the flow has {dim}")
