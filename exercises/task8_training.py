"""Task 8 — The training loop: loss, gradient step, and a flow fit to two moons (slides
"Постановка задачи", "Функция потерь", "Алгоритм обучения" / "Problem statement", "Loss function",
"Training algorithm").

The slide's loss on a minibatch of m objects, with ``z_i = f(x_i)`` and ``p_z = N(0, I)``::

    L = −(1/m) Σ_i [ log p_z(z_i) + log|det ∂f(x_i)/∂x_i| ],   log p_z(z) = −(D/2) log 2π − ½‖z‖²

and its gradient with respect to what the flow returned::

    dL/dz_i = z_i / m,        dL/dlog_det_i = −1/m.

The flow's ``backward(grad_z, grad_log_det)`` turns these into dL/dθ (its ``grads``). The slide's
update is ``θ ← θ − lr ∇_θ L``; we use its better-behaved cousin Adam (Kingma & Ba, arXiv
1412.6980): with t the step count, for every parameter,

    m ← β1 m + (1 − β1) g,    v ← β2 v + (1 − β2) g²,
    θ ← θ − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε).

You write ``nll_loss(z, log_det) -> (loss, grad_z, grad_log_det)``, ``adam_step(params, grads,
state, lr)`` (update the arrays of ``params`` **in place**; keep m, v and t in the dict ``state``,
which starts empty) and ``train(flow, data, n_steps, batch_size, lr, rng) -> list of losses``.
In ``train``, for every step draw a minibatch with ``rng``, run ``flow.forward``, ``nll_loss``,
``flow.zero_grad()``, ``flow.backward(...)``, ``adam_step``. Shapes: z (m, D), log_det (m,),
data (n, D); params and grads are dicts of same-shaped arrays.

The goal the grader checks: :func:`make_moons_flow` trained with your ``train`` (300 steps,
batch 256, lr 0.01) on 2048 points of two moons reaches a validation NLL below 1.6 nats
(the best Gaussian fit gets about 1.9). The grader trains its own copy of the flow with your loop.

What the public tests check (``python -m pytest tests/test_task8_training.py``): the loss against
the formula; its gradient by finite differences (:func:`scratchflow.checks.numerical_gradient`,
the checker you can run on your own code); one Adam step by hand; and (if your Task 3 and Task 4
layer works) a short training run that lowers the loss.

Not allowed in this file: ``scratchflow.flow`` (Flow.loss), ``scratchflow.optim`` and
``scratchflow.train``.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn import MLP

LOG_2PI = float(np.log(2.0 * np.pi))


class Swap(Bijector):
    """Reverse the order of the coordinates (given): z = x[:, ::-1], log_det = 0, its own inverse."""

    def __init__(self, dim):
        super().__init__()
        self.dim = int(dim)

    def _forward(self, x):
        return x[:, ::-1].copy(), np.zeros(x.shape[0])

    def _inverse(self, z):
        return z[:, ::-1].copy(), np.zeros(z.shape[0])

    def _backward(self, grad_z, grad_log_det):
        return grad_z[:, ::-1].copy()

    def _inverse_backward(self, grad_x, grad_log_det):
        return grad_x[:, ::-1].copy()


def make_moons_flow(rng=0, n_layers=4, hidden=32):
    """Real-NVP for 2-D data (given): coupling layers (your Task 3 class) separated by swaps."""
    from scratchflow.bijectors.compose import Compose
    from task3_coupling import CouplingLayer
    rng = np.random.default_rng(rng)
    layers = []
    for _ in range(n_layers):
        layers.append(CouplingLayer(2, 1, MLP([1, hidden, hidden, 1], rng=rng, zero_last=True),
                                    MLP([1, hidden, hidden, 1], rng=rng, zero_last=True)))
        layers.append(Swap(2))
    return Compose(layers)


def nll_loss(z, log_det):
    """The slide's loss and its gradient: ``z`` (m, D), ``log_det`` (m,) -> (L, dL/dz (m, D), dL/dlog_det (m,))."""
    # TODO slide "Функция потерь" / "Loss function": L = -mean(log N(z) + log_det); dL/dz = z / m
    # TODO dL/dlog_det = -1/m
    raise NotImplementedError('Task 8. Training loop: loss, Adam step, two moons: nll_loss is not written yet (see the TODO above)')


def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update of every array in ``params`` (in place), using ``grads`` and ``state``."""
    # TODO module docstring: t += 1; m, v moving averages of g and g^2
    # TODO theta -= lr * m_hat / (sqrt(v_hat) + eps)
    raise NotImplementedError('Task 8. Training loop: loss, Adam step, two moons: adam_step is not written yet (see the TODO above)')


def train(flow, data, n_steps, batch_size, lr, rng=None):
    """Slide "Алгоритм обучения" / "Training algorithm": minibatch, loss, gradient, step -> list of losses."""
    rng = np.random.default_rng(rng)
    data = np.asarray(data, dtype=np.float64)                   # (n, D)
    # TODO slide "Алгоритм обучения" / "Training algorithm", n_steps times: a minibatch of
    # TODO batch_size rows drawn with rng, L and its gradient (nll_loss), flow.zero_grad(),
    # TODO flow.backward, adam_step; return the list of losses
    raise NotImplementedError('Task 8. Training loop: loss, Adam step, two moons: train is not written yet (see the TODO above)')
