"""Optimizers written by hand: SGD with momentum and Adam (slide "Алгоритм обучения" /
"Training algorithm": θ_f ← θ_f − ∇_{θ_f} L, here with a better step than the plain gradient).

Both take the live ``params`` and ``grads`` dicts of a module (``flow.params``, ``flow.grads``) and
update the parameter arrays in place, so the next forward pass sees the new values.

How a step runs. A model's parameters are views into one flat buffer and its gradients into
another (:mod:`scratchflow.nn.module`), in the order of ``params``. The optimizer finds that
block (``_flat_block``) and computes the update with a handful of vector operations on the flat
arrays: the gradient is read where the backward left it, and ``θ ← θ − update`` is one
subtraction over every parameter at once. No array is allocated per step and the gradient arrays
are never modified (clipping and weight decay write into a scratch vector). Dicts whose arrays do
not form one block (built by hand, or a model that shares a layer with another) take the same
steps after a gather (one ``np.concatenate``) and a scatter (one subtraction per array).

Gradient clipping (``clip_norm = c``): with ‖g‖ the global L2 norm over all gradients, the step
uses ``g · min(1, c / ‖g‖)``. ``step()`` returns ‖g‖ before clipping (worth logging).

Weight decay: SGD adds ``weight_decay · θ`` to the gradient (classic L2; for SGD without momentum
it is the same as decoupled decay). Adam uses DECOUPLED weight decay (AdamW, arXiv 1711.05101):
``θ ← θ (1 − lr · weight_decay)`` besides the Adam step, so the decay is not rescaled by Adam's
per-parameter step size.

Length: past the ~250-line guide by the flat-block step both optimizers share (one update over
the model's parameter buffer); in its own file it would be read without the update it serves.
"""
import numpy as np

from scratchflow.blas import limited_blas
from scratchflow.input_checks import FLOAT_DTYPES, check_number


class _Optimizer:
    """Shared plumbing: flat gradient buffer, global norm, clipping, scatter of the update."""

    def __init__(self, params, grads, lr, weight_decay, clip_norm):
        if not (isinstance(params, dict) and isinstance(grads, dict)):
            raise TypeError(f"params and grads must be dicts of name -> array (module.params and "
                            f"module.grads), got {type(params).__name__} and {type(grads).__name__}")
        if set(params) != set(grads):
            raise ValueError("params and grads must have the same keys (pass module.params and "
                             "module.grads of the same module)")
        lr = check_number(lr, "lr", 0, low_open=True)
        weight_decay = check_number(weight_decay, "weight_decay", 0)
        if clip_norm is not None and not clip_norm > 0:      # inf is allowed: never clip
            raise ValueError(f"clip_norm must be positive or None, got {clip_norm}")
        self.names = list(params)
        self.params = [params[name] for name in self.names]          # live arrays
        self.grads = [grads[name] for name in self.names]
        for name, param, grad in zip(self.names, self.params, self.grads):
            if not (isinstance(param, np.ndarray) and isinstance(grad, np.ndarray)):
                raise TypeError(f"{name}: parameters and gradients must be the module's live "
                                f"ndarrays (updated in place), got {type(param).__name__} and "
                                f"{type(grad).__name__}")
            if param.dtype not in FLOAT_DTYPES or grad.dtype != param.dtype:
                raise TypeError(f"{name}: parameter dtype {param.dtype} and gradient dtype "
                                f"{grad.dtype} must be the same float dtype (float64 or float32)")
            if param.shape != grad.shape:
                raise ValueError(f"{name}: parameter shape {param.shape} != gradient shape {grad.shape}")
            if not (param.flags.c_contiguous and grad.flags.c_contiguous):
                raise ValueError(f"{name}: parameter and gradient arrays must be C-contiguous")
        dtypes = {param.dtype for param in self.params}
        if len(dtypes) > 1:
            raise ValueError(f"parameters mix dtypes {sorted(map(str, dtypes))}")
        self.dtype = dtypes.pop() if dtypes else np.dtype(np.float64)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.step_count = 0
        self._flat_param = _flat_block(self.params)                 # (P,) live, or None: by array
        self._live_flat_grad = _flat_block(self.grads)               # (P,) live, or None: gathered
        total = int(sum(param.size for param in self.params))
        self._flat_grad = np.zeros(total, dtype=self.dtype)         # (P,) gathered / scaled grads
        self._work = np.zeros(total, dtype=self.dtype)              # (P,) scratch
        self._update = np.zeros(total, dtype=self.dtype)            # (P,) what is subtracted
        bounds = np.cumsum([0] + [param.size for param in self.params])
        self._update_views = [self._update[a:b].reshape(param.shape)       # views, made once
                              for a, b, param in zip(bounds[:-1], bounds[1:], self.params)]
        self._grad_views = [grad.reshape(-1) for grad in self.grads]
        self._param_views = [param.reshape(-1) for param in self.params]

    def _check_live(self):
        """A re-packed model leaves the arrays this optimizer holds read-only (stale copies)."""
        arrays = self.params[:1] if self._flat_param is not None else self.params
        if not all(param.flags.writeable for param in arrays):
            raise RuntimeError("the model's parameters moved to a new buffer after this optimizer "
                               "was made (a module was put into another one); make the optimizer "
                               "from the finished model's params and grads")

    def _gather(self):
        """Flat gradient vector, its norm before clipping, and the clip factor applied to it."""
        self._check_live()
        if self._live_flat_grad is not None:
            grad = self._live_flat_grad                              # (P,) the gradients themselves
        else:
            if self.params:
                np.concatenate(self._grad_views, out=self._flat_grad)
            grad = self._flat_grad                                   # (P,)
        norm = float(np.sqrt(np.dot(grad, grad)))
        if not np.isfinite(norm):
            raise FloatingPointError(f"gradient norm is {norm}: the loss diverged (try a smaller lr "
                                     "or a scale bound)")
        if self.clip_norm is not None and norm > self.clip_norm:
            grad = np.multiply(grad, self.clip_norm / norm, out=self._flat_grad)   # a scaled copy
        return grad, norm

    def _gather_params(self):
        if self._flat_param is not None:
            return self._flat_param                                  # (P,) live
        if self.params:
            np.concatenate(self._param_views, out=self._work)
        return self._work

    def _apply(self, shrink=1.0):
        """θ ← θ · shrink − update, in place: once over the flat block, or array by array."""
        blocks = ([(self._flat_param, self._update)] if self._flat_param is not None
                  else zip(self.params, self._update_views))
        for param, update in blocks:
            if shrink != 1.0:
                param *= shrink
            param -= update

    def zero_grad(self):
        """Set every gradient array to zero in place."""
        for grad in ([self._live_flat_grad] if self._live_flat_grad is not None else self.grads):
            grad.fill(0.0)


def _flat_block(arrays):
    """The 1-D array that ``arrays`` tile, in order, with no gap (views of one model's buffer), as
    a view of that buffer; ``None`` when they do not."""
    if not arrays:
        return None
    buffer = arrays[0].base                       # None, an ndarray, or another buffer object
    if not isinstance(buffer, np.ndarray) or buffer.ndim != 1 or not buffer.flags.c_contiguous:
        return None
    address = first = arrays[0].__array_interface__["data"][0]
    for array in arrays:                          # each C-contiguous (checked by the optimizer)
        if array.base is not buffer or array.__array_interface__["data"][0] != address:
            return None
        address += array.nbytes
    start = (first - buffer.__array_interface__["data"][0]) // buffer.itemsize
    return buffer[start:start + (address - first) // buffer.itemsize]


def _cache_blocks(flat, block_bytes=2 ** 19):
    """Slices that cut the flat arrays into blocks of ``block_bytes`` (512 KiB) each, the last one
    shorter: Adam's working set for one block (five such arrays) then stays in a core's L2/L3
    cache. A model with fewer parameters is one block."""
    size = block_bytes // flat.itemsize
    return [slice(start, start + size) for start in range(0, len(flat), size)]


class SGD(_Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum.

    ``v ← momentum · v + g``,  ``θ ← θ − lr · v``  (v = g when momentum = 0), with g the clipped
    gradient plus ``weight_decay · θ``.

    Parameters
    ----------
    params, grads : dict of name -> ndarray
        Live arrays (``module.params``, ``module.grads``).
    lr : float
    momentum : float in [0, 1)
    weight_decay : float
        L2 penalty coefficient, added to the gradient.
    clip_norm : float or None
        Clip the global gradient norm to this value.
    """

    def __init__(self, params, grads, lr, momentum=0.0, weight_decay=0.0, clip_norm=None):
        super().__init__(params, grads, lr, weight_decay, clip_norm)
        self.momentum = check_number(momentum, "momentum", 0.0, 1.0, high_open=True)
        self.velocity = np.zeros_like(self._flat_grad)               # (P,)

    @limited_blas
    def step(self):
        """Update the parameters in place; return the gradient norm before clipping.

        Task sgd: ``grad`` (P,) is every gradient, flattened; set ``self._update`` (P,) to the
        amount ``_apply`` subtracts from the flattened parameters (θ ← θ − update), with the
        momentum rule of the class docstring (``self.velocity`` (P,) keeps v between steps).
        """
        grad, norm = self._gather()                                  # (P,)
        if self.weight_decay:                                        # g + wd · θ, into a copy
            np.multiply(self._gather_params(), self.weight_decay, out=self._work)
            grad = np.add(grad, self._work, out=self._flat_grad)
        # >>> task sgd
        if self.momentum:
            self.velocity *= self.momentum
            self.velocity += grad                                    # v = μ v + g
            grad = self.velocity
        self._update[:] = self.lr * grad                             # (P,) lr · v
        # <<< task sgd
        self._apply()
        self.step_count += 1
        return norm


class Adam(_Optimizer):
    """Adam (Kingma & Ba, arXiv 1412.6980) with optional decoupled weight decay (AdamW).

    With g the (clipped) gradient and t the step number::

        m ← β1 m + (1 − β1) g,     v ← β2 v + (1 − β2) g²
        m̂ = m / (1 − β1^t),       v̂ = v / (1 − β2^t)
        θ ← θ (1 − lr · weight_decay) − lr · m̂ / (√v̂ + ε)

    # >>> task adam
    The last line is computed as ``lr_t · m / (√v + ε_t)`` with ``lr_t = lr √(1 − β2^t) / (1 − β1^t)``
    and ``ε_t = ε √(1 − β2^t)``: the same number (multiply numerator and denominator by
    √(1 − β2^t)), two vector operations fewer.
    # --- student
    Task adam: the last line may be computed as written (m̂ and v̂ first), or with both bias
    corrections folded into one scalar step size and a rescaled ε, which saves vector operations on
    every step — derive that form yourself if you want it. Either agrees with the reference to
    rounding. The weight-decay factor is applied for you (``_apply``).
    # <<< task adam

    Parameters
    ----------
    params, grads : dict of name -> ndarray
        Live arrays (``module.params``, ``module.grads``).
    lr : float
    betas : (float, float)
    eps : float
    weight_decay : float
        Decoupled decay coefficient (AdamW); 0 = plain Adam.
    clip_norm : float or None
        Clip the global gradient norm to this value.
    """

    def __init__(self, params, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 clip_norm=None):
        super().__init__(params, grads, lr, weight_decay, clip_norm)
        if np.shape(betas) != (2,):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        beta1, beta2 = (check_number(b, "each of betas", 0.0, 1.0, high_open=True) for b in betas)
        eps = check_number(eps, "eps", 0, low_open=True)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.first_moment = np.zeros_like(self._flat_grad)           # (P,) m
        self.second_moment = np.zeros_like(self._flat_grad)          # (P,) v
        self._blocks = _cache_blocks(self._flat_grad)                 # the same slices every step

    @limited_blas
    def step(self):
        """Update the parameters in place; return the gradient norm before clipping.

        The update is element-wise, so it runs block by block (:func:`_cache_blocks`): the dozen
        passes of one block stay in the CPU's cache, where the same passes over a whole large model
        (digits' 577k parameters, five arrays of 4.6 MB) would go to memory each time.
        """
        grad, norm = self._gather()                                  # (P,)
        self.step_count += 1
        for block in self._blocks:
            self._adam_block(grad[block], self.first_moment[block], self.second_moment[block],
                             self._work[block], self._update[block])
        self._apply(shrink=1.0 - self.lr * self.weight_decay)
        return norm

    def _adam_block(self, grad, m, v, work, update):
        """Adam on one block of parameters; all five arrays are views (B,) of the same block.

        Task adam: with the gradient ``grad`` and t = ``self.step_count`` (already counted),
        update the moments ``m`` and ``v`` IN PLACE (they are views of ``self.first_moment`` and
        ``self.second_moment``, which persist between steps) and write ``update``, the amount
        ``_apply`` subtracts (θ ← θ − update); ``work`` is scratch space.
        """
        t = self.step_count
        # >>> task adam
        m *= self.beta1
        np.multiply(grad, 1.0 - self.beta1, out=work)
        m += work                                                    # m = β1 m + (1 − β1) g
        v *= self.beta2
        np.multiply(grad, grad, out=work)
        work *= 1.0 - self.beta2
        v += work                                                    # v = β2 v + (1 − β2) g²
        correction2 = np.sqrt(1.0 - self.beta2 ** t)
        lr_t = self.lr * correction2 / (1.0 - self.beta1 ** t)
        np.sqrt(v, out=work)
        work += self.eps * correction2                               # √v + ε_t
        np.divide(m, work, out=update)
        update *= lr_t                                               # lr_t m / (√v + ε_t)
        # <<< task adam
