"""Flow = a stack of bijectors + a base density (slides "Функция потерь", "Алгоритм обучения",
"Алгоритм генерации" / "Loss function", "Training algorithm", "Generation algorithm").

Density (change of variables, the stack's log-dets add up)::

    log p_x(x) = log p_z(f(x)) + log|det ∂f(x)/∂x|

Loss on a minibatch of m objects (mean negative log-likelihood)::

    L = −(1/m) Σ_i [ log p_z(f(x_i)) + log|det ∂f(x_i)/∂x_i| ]

# >>> task loss
Its gradient, by the chain rule through z_i = f(x_i) and log_det_i::

    dL/dz_i       = −(1/m) ∇_z log p_z(z_i)   (= z_i / m for N(0, I))
    dL/dlog_det_i = −1/m

and the stack's ``backward`` turns these into dL/dθ for every parameter θ.
# <<< task loss

Generation: draw z_i ~ p_z and return x_i = f^{-1}(z_i).

Reverse KL (fitting a target density p* known up to a constant, the job IAF was made for)::

    KL(q || p*) = E_{z ~ p_z} [ log q(x) − log p*(x) ],   x = f^{-1}(z),
    log q(x) = log p_z(z) − log|det ∂f^{-1}(z)/∂z|

# >>> task loss
With z fixed (the reparametrisation), dL/dx_i = −(1/m) ∇ log p*(x_i) and
dL/dlog_det_inv_i = −1/m; the stack's ``inverse_backward`` turns these into dL/dθ.
# <<< task loss

Conditional flows (beyond the lecture): with layers built with ``context_dim = C``, every pass reads
a context c_i (one row (C,) per object), log p_x(x | c) = log p_z(f(x; c)) + log|det ∂f(x; c)/∂x|
with the same base p_z, and generation draws z ~ p_z and returns f^{-1}(z; c). c is never
transformed, so the log-dets are the unconditional formulas evaluated at the given c. The loss's
gradient reaches c through the conditioners only: :meth:`Flow.context_gradient` returns dL/dc
(m, C) of the latest :meth:`Flow.backward`, for an encoder in front of the flow.

BLAS threads: the public passes run with one BLAS thread (:mod:`scratchflow.blas`: a small flow's
matrices are too small for threads to pay), so a loop written out as on the slide runs at ``fit``'s
speed; ``scratchflow.blas.set_blas_threads(None)`` opts out.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.blas import limited_blas
from scratchflow.bijectors.compose import Compose
from scratchflow.distributions import StandardNormal
from scratchflow.divergence import check_finite_output
from scratchflow.nn.flat_buffer import pack_parameters
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
        self.context_dim = self.layers.context_dim   # C > 0: a conditional flow, see the module doc
        self._forward_cache = None     # Cache(z) of the latest loss, for backward
        self._grad_context = None      # dL/dc (m, C) of the latest backward of a conditional flow
        pack_parameters(self)          # one flat array for the optimizer (nn/flat_buffer.py)

    @limited_blas
    def log_prob(self, x, context=None):
        """log p_x(x) for x (N, D) -> (N,). An empty batch (N = 0) gives an empty array.

        A conditional flow needs ``context`` (N, C), one row per x: log p_x(x | c)."""
        x = self._checked_input(x, "x")                           # (N, D)
        return self._log_prob(x, self.layers._checked_context(context, len(x)))

    @limited_blas
    def _log_prob(self, x, context=None):
        """:meth:`log_prob` of rows x (N, D) and context already checked at a public boundary."""
        self._forward_cache = None     # the layers' forward caches now hold this x, not the loss's
        z, log_det = self._layers_forward(x, context)
        log_px = self._base_log_prob(z) + log_det                 # (N,)
        check_finite_output("Flow.log_prob (the base density at the flow's z)", log_prob=log_px)
        return log_px

    @limited_blas
    def initialize(self, x, context=None):
        """Data-dependent initialisation (Glow §3.1, arXiv 1807.03039) of the layers that take
        parameters from data (ActNorm, ChannelActNorm, Whitening) and were not initialised yet.

        The batch goes through the stack in order: layer k is initialised on what the layers before
        it, themselves initialised first, make of x; composites hand it on (a FactorOut's inner
        flow gets its kept half, a per-pixel layer its pixel rows). ``fit`` calls this once, on its
        training rows, when some layer waits for it; call it yourself before a training loop of
        your own. Forward passes never initialise: an uninitialised layer is the map of its
        construction values (the identity for ActNorm and Whitening).

        Parameters
        ----------
        x : ndarray, shape (N, D), N >= 2
            A representative batch of data (a minibatch is enough: Glow uses one).
        context : ndarray, shape (N, C), optional
            A conditional flow's contexts, row i beside row i of x.

        Returns
        -------
        Flow
            ``self``. A layer already initialised (by an earlier call, or loaded from a model file,
            whose ``initialized`` buffer is kept) keeps its parameters; to redo one, call its own
            ``initialize`` (ActNorm) or ``fit`` (Whitening).

        Examples
        --------
        >>> import numpy as np
        >>> from scratchflow.models import build_model
        >>> flow = build_model({"model": "realnvp", "dim": 2, "actnorm": True})
        >>> x = np.random.default_rng(0).normal(size=(256, 2)) * 3 + 1
        >>> flow.initialized, flow.initialize(x).initialized
        (False, True)
        """
        x = self._checked_input(x, "x")                           # (N, D)
        context = self.layers._checked_context(context, len(x))
        self._forward_cache = None     # the layers' forward caches now hold this x, not the loss's
        if not self.initialized:
            self.layers._check_domain(x)
            self.layers._initialize(x, context)
        return self

    @property
    def initialized(self):
        """False while some layer waits for its data-dependent initialisation (:meth:`initialize`)."""
        return all(module._own_buffers.get("initialized", 1.0) for module in self.modules())

    @limited_blas
    def sample(self, n, rng=None, context=None):
        """Generation algorithm (slide «Алгоритм генерации»): z ~ p_z, x = f⁻¹(z); returns x (n, D).

        ``rng`` is a seed or Generator, drawn from once, by the base distribution.

        ``n`` is an integer >= 0 (n = 0 gives an empty (0, D) array). A conditional flow needs
        ``context``: shape (n, C), row i for sample i, or ONE context of shape (C,) (a 1-D
        array, said explicitly) used for all n samples; any other shape is an error.
        """
        n = check_int(n, "n (the number of samples)", 0)
        context = self._sampling_context(context, n)              # (n, C) or None
        # >>> task generation
        z = self.base.sample(n, rng, dtype=self.dtype)            # (n, D)
        x, _ = self.layers.inverse(z, context)
        # <<< task generation
        return x

    @limited_blas
    def loss(self, x, context=None):
        """L = −(1/m) Σ_i [log p_z(f(x_i)) + log|det ∂f/∂x_i|] on the minibatch x (m, D), m >= 1.

        Keeps z for :meth:`backward`. An empty minibatch is an error: its mean is undefined.
        A conditional flow needs ``context`` (m, C).
        """
        self._forward_cache = None     # a loss refused here leaves nothing to backward
        self._grad_context = None
        x = self._checked_input(x, "x").copy()                    # (m, D) the caches own x
        if x.shape[0] == 0:
            raise ValueError("the loss is a mean over the minibatch and needs at least one row; "
                             f"got an empty batch x of shape {x.shape}")
        return self._loss(x, self.layers._checked_context(context, len(x)))

    def _loss(self, x, context=None):
        """:meth:`loss` of rows x (m, D), m >= 1, and context already checked at a public boundary
        (``fit`` checks its data once); the layers' caches may keep x."""
        self._forward_cache = None     # a loss that fails part-way leaves nothing to backward
        self._grad_context = None
        z, log_det = self._layers_forward(x, context)             # (m, D), (m,)
        # >>> task loss
        log_px = self._base_log_prob(z) + log_det                 # (m,) log p_x(x_i)
        loss = -np.mean(log_px)
        # <<< task loss
        check_finite_output("Flow.loss (the base density at the flow's z)", log_prob=log_px)
        self._forward_cache = Cache(z=z)
        return float(loss)

    def _checked_input(self, x, name):
        """``x`` checked once, here at the flow's boundary: an (N, D) float array of the flow's
        dtype without NaN or inf (the layers' unchecked passes then run on it)."""
        return check_array(x, name, dim=self.dim, dtype=self.dtype)

    def _layers_forward(self, x, context=None):
        """The stack's forward on a checked x (and checked context, or None): layer 0's domain,
        then the layers' unchecked passes (:class:`Compose` checks each layer's domain and finite
        output). Nothing is copied: the outputs stay inside the flow."""
        self.layers._check_domain(x)
        return self.layers._forward(x, context)                   # (N, D), (N,)

    def _layers_inverse(self, z, context=None):
        """The stack's inverse on a checked z (and context): the last layer's codomain, then the
        unchecked passes."""
        self.layers._check_codomain(z)
        return self.layers._inverse(z, context)                   # (N, D), (N,)

    def _base_log_prob(self, z):
        """log p_z(z) (N,), with a check that a custom base returns one value per row."""
        log_pz = self.base.log_prob(z)                            # (N,)
        if np.shape(log_pz) != (z.shape[0],):
            raise ValueError(f"base.log_prob(z) must return shape ({z.shape[0]},), one value per "
                             f"row; {type(self.base).__name__} returned {np.shape(log_pz)}")
        return log_pz

    @limited_blas
    def backward(self):
        """Add dL/dθ of the latest :meth:`loss` into ``grads``; return dL/dx (m, D)."""
        if self._forward_cache is None:
            raise RuntimeError("Flow.backward() called before Flow.loss(x), or after a log_prob "
                               "that replaced the layers' forward caches: call loss(x) again")
        z = self._forward_cache.z                                 # (m, D)
        m = z.shape[0]
        # >>> task loss
        grad_z = -self.base.grad_log_prob(z) / m                  # (m, D)
        grad_log_det = np.full(m, -1.0 / m, dtype=z.dtype)        # (m,)
        # <<< task loss
        grad_x = self.layers._backward(grad_z, grad_log_det)      # (m, D)
        self._grad_context = self.layers.grad_context             # (m, C) or None
        return grad_x

    def context_gradient(self):
        """dL/dc (m, C) of the latest :meth:`backward` of a conditional flow (the loss reaches c
        through every conditioner); feed it to an encoder's backward to train it with the flow."""
        if not self.context_dim:
            raise ValueError("this flow is not conditional (context_dim=0): there is no context "
                             "gradient")
        if self._grad_context is None:
            raise RuntimeError("Flow.context_gradient() called before Flow.backward() (or "
                               "loss_and_grad(x, context)) of the latest loss")
        return self._grad_context.copy()

    @limited_blas
    def loss_and_grad(self, x, context=None):
        """Zero the gradients, compute L on x (given ``context`` (m, C) for a conditional flow),
        fill ``grads`` with dL/dθ; return L (a float). dL/dc: :meth:`context_gradient`."""
        self.zero_grad()
        loss = self.loss(x, context)
        self.backward()
        return loss

    @limited_blas
    def _loss_and_grad(self, x, context=None):
        """:meth:`loss_and_grad` of rows x (m, D), m >= 1, and context already checked at a public
        boundary: what ``fit``'s steps run on its checked data (:mod:`scratchflow.objectives`)."""
        self.zero_grad()
        loss = self._loss(x, context)
        self.backward()
        return loss

    def _sampling_context(self, context, n):
        """The context of n samples as (n, C): a 1-D (C,) context is one context for all n."""
        if context is None or not self.context_dim:
            return context              # the layers refuse a missing or an unexpected context
        context = np.asarray(context)
        if context.ndim == 1:
            if context.shape != (self.context_dim,):
                raise ValueError(f"a single context must have shape ({self.context_dim},), got "
                                 f"{context.shape}")
            return np.repeat(context[None, :], n, axis=0)        # (n, C), the stated repeat
        if context.ndim == 2 and context.shape[0] != n:
            raise ValueError(f"context has {context.shape[0]} rows but n={n} samples were asked "
                             f"for: pass one row per sample, or one (C,) context for all")
        return context

    @limited_blas
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
        no_context = self.layers._checked_context(None, len(z))       # a conditional flow: an error
        x, log_det_inv = self._layers_inverse(z, no_context)          # (n, D), (n,)
        x = x.copy()                     # the target's and the caller's: a layer's cache may hold x
        log_q = self._base_log_prob(z) - log_det_inv                  # (n,)
        log_target = target.log_prob(x)                               # (n,)
        if np.shape(log_target) != (x.shape[0],):
            raise ValueError(f"target.log_prob(x) must return shape ({x.shape[0]},), one value per "
                             f"sample; got {np.shape(log_target)}")
        return float(np.mean(log_q - log_target)), x

    @limited_blas
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
        # >>> task generation
        z = self.base.sample(n, rng, dtype=self.dtype)                # (n, D)
        # <<< task generation
        _check_target(target, self.dim)
        loss, x = self._reverse_kl(target, z)                         # keeps the inverse pass
        grad_target = check_array(target.grad_log_prob(x), "target.grad_log_prob(x)", dim=self.dim,
                                  n=n, finite=False)                  # (n, D)
        # >>> task loss
        grad_x = -grad_target / n                                     # (n, D)
        grad_log_det = np.full(n, -1.0 / n, dtype=x.dtype)            # (n,)
        # <<< task loss
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
