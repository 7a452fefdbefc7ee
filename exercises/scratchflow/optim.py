"""Optimizers written by hand: SGD with momentum and Adam (slide "Алгоритм обучения" /
"Training algorithm": θ_f ← θ_f − ∇_{θ_f} L, here with a better step than the plain gradient).

Both take the live ``params`` and ``grads`` dicts of a module (``flow.params``, ``flow.grads``) and
update the parameter arrays in place, so the next forward pass sees the new values.

How a step runs. The update is element-wise, so it is written once, for one parameter vector
θ (n,) with its gradient g (n,), in whole-array NumPy, and the step runs it on every (θ, g) pair
of :func:`~scratchflow.nn.flat_buffer.flat_pairs`: for a flow (whose parameters sit in one flat
array) consecutive blocks of that array, one pair per array for a dict built by hand. The gradient
arrays are read, never modified (clipping and weight decay make new vectors).

Gradient clipping (``clip_norm = c``): with ‖g‖ the global L2 norm over all gradients, the step
uses ``g · min(1, c / ‖g‖)``. ``step()`` returns ‖g‖ before clipping (worth logging).

Weight decay: SGD adds ``weight_decay · θ`` to the gradient (classic L2; for SGD without momentum
it is the same as decoupled decay). Adam uses DECOUPLED weight decay (AdamW, arXiv 1711.05101):
``θ ← θ (1 − lr · weight_decay)`` besides the Adam step, so the decay is not rescaled by Adam's
per-parameter step size.
"""
import numpy as np

from scratchflow.blas import limited_blas
from scratchflow.input_checks import FLOAT_DTYPES, check_number
from scratchflow.nn.flat_buffer import flat_pairs


class _Optimizer:
    """What SGD and Adam share: the checked arrays, the global gradient norm and its clipping."""

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
        for name, param in params.items():
            _check_pair(name, param, grads[name])
        dtypes = {param.dtype for param in params.values()}
        if len(dtypes) > 1:
            raise ValueError(f"parameters mix dtypes {sorted(map(str, dtypes))}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.step_count = 0
        self.pairs = flat_pairs(params, {name: grads[name] for name in params})   # [(θ, g)] 1-D

    def _gradients(self):
        """The gradient vectors the step uses (scaled copies when clipped), and ‖g‖ before clipping."""
        grads = [grad for _, grad in self.pairs]
        norm = float(np.sqrt(sum(np.dot(grad, grad) for grad in grads)))
        if not np.isfinite(norm):
            raise FloatingPointError(f"gradient norm is {norm}: the loss diverged (try a smaller lr "
                                     "or a scale bound)")
        if self.clip_norm is not None and norm > self.clip_norm:
            grads = [grad * (self.clip_norm / norm) for grad in grads]
        return grads, norm

    def zero_grad(self):
        """Set every gradient array to zero in place."""
        for _, grad in self.pairs:
            grad.fill(0.0)


def _check_pair(name, param, grad):
    """A parameter and its gradient: live ndarrays of one float dtype and shape, C-contiguous."""
    if not (isinstance(param, np.ndarray) and isinstance(grad, np.ndarray)):
        raise TypeError(f"{name}: parameters and gradients must be the module's live ndarrays "
                        f"(updated in place), got {type(param).__name__} and {type(grad).__name__}")
    if param.dtype not in FLOAT_DTYPES or grad.dtype != param.dtype:
        raise TypeError(f"{name}: parameter dtype {param.dtype} and gradient dtype {grad.dtype} "
                        f"must be the same float dtype (float64 or float32)")
    if param.shape != grad.shape:
        raise ValueError(f"{name}: parameter shape {param.shape} != gradient shape {grad.shape}")
    if not (param.flags.c_contiguous and grad.flags.c_contiguous):
        raise ValueError(f"{name}: parameter and gradient arrays must be C-contiguous")


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
        self.velocity = [np.zeros_like(grad) for _, grad in self.pairs]      # v, one per pair

    @limited_blas
    def step(self):
        """Update the parameters in place; return the gradient norm before clipping."""
        grads, norm = self._gradients()
        for (theta, _), grad, velocity in zip(self.pairs, grads, self.velocity):
            if self.weight_decay:
                grad = grad + self.weight_decay * theta                  # g + wd · θ
            self._update(theta, grad, velocity)
        self.step_count += 1
        return norm

    def _update(self, theta, grad, velocity):
        """One step on a parameter vector ``theta`` with its gradient ``grad`` and its momentum
        ``velocity`` (all (n,)); ``theta`` and ``velocity`` change in place.

        Task sgd: ``grad`` is the gradient of the parameter vector ``theta``; update ``theta`` IN PLACE
        (θ ← θ − lr · v) with the momentum rule of the class docstring (``velocity``, changed in place,
        keeps v between steps).
        """
        # >>> task sgd
        raise NotImplementedError('task sgd (slide «Алгоритм обучения: θ ← θ − lr·∇L / Training algorithm: the update step»): SGD._update is yours to write; the docstring above gives the formula and the contract')
        # <<< task sgd


class Adam(_Optimizer):
    """Adam (Kingma & Ba, arXiv 1412.6980) with optional decoupled weight decay (AdamW).

    With g the (clipped) gradient and t the step number::

        m ← β1 m + (1 − β1) g,     v ← β2 v + (1 − β2) g²
        m̂ = m / (1 − β1^t),       v̂ = v / (1 − β2^t)
        θ ← θ (1 − lr · weight_decay) − lr · m̂ / (√v̂ + ε)

    # >>> task adam
    # --- student
    Task adam: the last line may be computed as written (m̂ and v̂ first), or with both bias
    corrections folded into one scalar step size and a rescaled ε, which saves vector operations on
    every step — derive that form yourself if you want it. Either agrees with the reference to
    rounding. The weight-decay factor is applied for you (in ``step``).
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
        self.first_moment = [np.zeros_like(grad) for _, grad in self.pairs]    # m, one per pair
        self.second_moment = [np.zeros_like(grad) for _, grad in self.pairs]   # v

    @limited_blas
    def step(self):
        """Update the parameters in place; return the gradient norm before clipping."""
        grads, norm = self._gradients()
        self.step_count += 1
        for (theta, _), grad, m, v in zip(self.pairs, grads, self.first_moment, self.second_moment):
            if self.weight_decay:
                theta *= 1.0 - self.lr * self.weight_decay               # decoupled decay
            self._update(theta, grad, m, v)
        return norm

    def _update(self, theta, grad, m, v):
        """One Adam step on a parameter vector ``theta`` with its gradient ``grad`` and moments
        ``m``, ``v`` (all (n,)); ``theta``, ``m`` and ``v`` change in place, t = ``step_count``.

        Task adam: with the gradient ``grad`` and t = ``self.step_count`` (already counted),
        update the moments ``m`` and ``v`` IN PLACE (they are entries of ``self.first_moment`` and
        ``self.second_moment``, which persist between steps) and the parameters ``theta`` IN PLACE.
        """
        t = self.step_count
        # >>> task adam
        raise NotImplementedError('task adam (slide «Алгоритм обучения: θ ← θ − lr·∇L / Training algorithm: the update step (Adam)»): Adam._update is yours to write; the docstring above gives the formula and the contract')
        # <<< task adam
