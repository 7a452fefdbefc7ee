"""Batch normalisation as a bijector, as placed between MADE layers in MAF (arXiv 1705.07057, §3.4).

Slide "Больше слоев!" / "More layers!": a stack of flow layers trains better with a normalising
layer between them, and since a stack's log-dets add up, that layer needs an exact log-det too.

    z = (x − m) / sqrt(v + ε) ⊙ exp(log_gamma) + beta

``m`` and ``v`` (D,) are a mean and a variance per dimension:

* training mode (``layer.train()``, the default): the statistics of the current batch,
  ``m = (1/N) Σ_n x_n`` and ``v = (1/N) Σ_n (x_n − m)²`` (the biased variance); every training-mode
  forward also moves the running averages (buffers ``running_mean``, ``running_var``) towards them,
  ``running ← (1 − momentum) · running + momentum · batch``;
* evaluation mode (``layer.eval()``): the running averages, so each row is mapped on its own.

log-det (the MAF paper's formula, the same for every row; in training mode m and v count as
constants of the batch, exactly as in the paper)::

    log|det ∂z/∂x| = Σ_j [ log_gamma_j − ½ log(v_j + ε) ]

Why, and how it is checked: hold m and v fixed at the batch's values. Then z_n depends on x_n
alone, z_nj = (x_nj − m_j) γ_j / sqrt(v_j + ε) + beta_j, so the per-sample Jacobian ∂z_n/∂x_n is
diagonal with entries γ_j / sqrt(v_j + ε), and its log|det| is the sum above. That map is the
layer in evaluation mode with running averages (m, v): :meth:`BatchNorm.with_statistics_fixed`
returns it, and :func:`scratchflow.checks.check_bijector` compares the training-mode log-det with
the numerical Jacobian of that map (a wrong training log-det fails there).

Inverse: ``x = (z − beta) ⊙ exp(−log_gamma) ⊙ sqrt(v + ε) + m`` with log-det ``−Σ_j [...]``. Which m
and v? Evaluation mode: the running averages (what the paper uses to sample and to evaluate).
Training mode: the statistics of the latest training-mode forward batch (or the running averages
before the first one), so that ``inverse(forward(x)) == x`` holds for the batch just seen and the
forward and inverse log-dets cancel. The inverse never computes statistics of z.

Gradient pass of forward, training mode (g = dL/dz, h = dL/dlog_det, H = Σ_n h_n, γ = exp(log_gamma),
s = sqrt(v + ε), x̂ = (x − m)/s, ĝ = g ⊙ γ, means over the batch n). z_n depends on every x_k through
m and v (∂m/∂x_k = 1/N, ∂v/∂x_k = 2(x_k − m)/N), and so does the log-det through v::

    dL/dx_n       = (1/s) ⊙ [ ĝ_n − mean(ĝ) − x̂_n ⊙ (mean(ĝ ⊙ x̂) + H/N) ]
    dL/dlog_gamma = Σ_n g_n ⊙ x̂_n ⊙ γ + H
    dL/dbeta      = Σ_n g_n

(the first two terms are the classic batch-norm backward; −x̂_n H/(N s) is the log-det's
−½ H ∂log(v+ε)/∂x_n = −H (x_n − m)/(N (v + ε)).) In evaluation mode m and v are constants:
``dL/dx_n = ĝ_n / s``, the parameter gradients are the same.

Gradient pass of inverse (g = dL/dx, h = dL/dlog_det; m, v constants of the latest forward or the
running averages): ∂x/∂z = s/γ, ∂x/∂log_gamma = −(x − m), ∂x/∂beta = −s/γ, ∂log_det/∂log_gamma = −1::

    dL/dz = g ⊙ s/γ,    dL/dlog_gamma = −Σ_n g_n ⊙ (x_n − m) − H,    dL/dbeta = −Σ_n g_n ⊙ s/γ

A batch of one row has v = 0: z = beta whatever x is, and the log-det is Σ_j [log_gamma_j − ½ log ε].
ε keeps that finite; train with batches of many rows, and switch to ``eval()`` for single points.
"""
import copy

import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int, check_number


class BatchNorm(Bijector):
    """Batch normalisation with exact log-det; ``train()`` / ``eval()`` choose the statistics.

    Parameters
    ----------
    dim : int
    eps : float
        ε added to the variance (default 1e-5).
    momentum : float in (0, 1]
        Weight of the current batch in the running averages (default 0.1).
    training : bool
        Start in training mode (default True). The attribute ``training`` holds the mode;
        ``samples_independent`` is ``not training``.
    log_gamma, beta : array_like of shape (dim,), optional
        Initial parameters (default 0: unit scale, no shift).
    dtype : float64 (default) or float32

    Attributes
    ----------
    running_mean, running_var : ndarray (dim,)
        Buffers (saved with the model, not trained); start at 0 and 1.

    References
    ----------
    Papamakarios, Pavlakou, Murray. Masked Autoregressive Flow for Density Estimation, §3.4.
    arXiv:1705.07057. Ioffe, Szegedy. Batch Normalization, arXiv:1502.03167.
    """

    def __init__(self, dim, eps=1e-5, momentum=0.1, training=True, log_gamma=None, beta=None,
                 dtype=np.float64):
        super().__init__()
        self.dim = check_int(dim, "dim", 1)
        self.dtype = check_dtype(dtype)
        self.eps = check_number(eps, "eps", 0, low_open=True)
        self.momentum = check_number(momentum, "momentum", 0, 1, low_open=True)
        self.log_gamma = self.add_vector_param("log_gamma", log_gamma)               # (D,)
        self.beta = self.add_vector_param("beta", beta)                               # (D,)
        self.running_mean = self.add_buffer("running_mean", np.zeros(self.dim), self.dtype)  # (D,)
        self.running_var = self.add_buffer("running_var", np.ones(self.dim), self.dtype)     # (D,)
        self._training_flag = self.add_buffer("training", float(bool(training)), self.dtype)  # () 1/0
        self._batch_mean = self._batch_var = None      # statistics of the latest training forward
        self._forward_cache = None     # Cache(x_hat, std, training), kept by forward
        self._inverse_cache = None     # Cache(centered = x − m, std = sqrt(v + ε)), kept by inverse

    # ------------------------------------------------------------------ mode
    @property
    def training(self):
        """The mode, kept as a buffer so that a saved model loads in the mode it was saved in."""
        return bool(self._training_flag)

    @property
    def samples_independent(self):
        """False in training mode: every z_n depends on the whole batch through m and v."""
        return not self.training

    def train(self, mode=True):
        """Switch to training mode (batch statistics), or to evaluation mode with ``mode=False``."""
        self._training_flag[...] = float(bool(mode))
        self._batch_mean = self._batch_var = None
        return self

    def eval(self):
        """Switch to evaluation mode: forward and inverse use the running averages."""
        return self.train(False)

    def _inverse_statistics(self):
        """(m, v) used by the inverse: latest training batch in training mode, else running ones."""
        if self.training and self._batch_mean is not None:
            return self._batch_mean, self._batch_var
        return self.running_mean, self.running_var

    def with_statistics_fixed(self):
        """This map with m and v held at the values the next inverse would use (the latest training
        batch's): a copy in evaluation mode whose running averages are those statistics, so its
        rows are independent and its per-sample Jacobian is diag(γ / sqrt(v + ε)). The layer itself
        in evaluation mode. Used by :func:`scratchflow.checks.check_bijector`."""
        if not self.training:
            return self
        mean, var = self._inverse_statistics()                        # (D,) each
        fixed = copy.deepcopy(self).eval()
        fixed.running_mean[...] = mean
        fixed.running_var[...] = var
        return fixed

    # ------------------------------------------------------------------ forward
    def _forward(self, x, context=None):
        if self.training:
            if x.shape[0] == 0:
                raise ValueError("BatchNorm in training mode needs at least one row (it normalises "
                                 "with the batch's own mean and variance); got an empty batch. "
                                 "Call .eval() to use the running averages")
            mean = x.mean(axis=0)                                     # (D,)
            var = ((x - mean) ** 2).mean(axis=0)                      # (D,) biased
            self._batch_mean, self._batch_var = mean, var
            self.running_mean *= 1.0 - self.momentum
            self.running_mean += self.momentum * mean
            self.running_var *= 1.0 - self.momentum
            self.running_var += self.momentum * var
        else:
            mean, var = self.running_mean, self.running_var
        std = np.sqrt(var + self.eps)                                 # (D,)
        x_hat = (x - mean) / std                                      # (N, D)
        z = x_hat * np.exp(self.log_gamma) + self.beta                # (N, D)
        log_det = np.full(x.shape[0], np.sum(self.log_gamma - np.log(std)), dtype=x.dtype)  # (N,)
        self._forward_cache = Cache(x_hat=x_hat, std=std, training=self.training)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        cache = self._read_cache("forward")
        x_hat = cache.x_hat                                           # (N, D)
        gamma = np.exp(self.log_gamma)                                # (D,)
        total_h = grad_log_det.sum()                                  # H
        self._own_grads["log_gamma"] += (grad_z * x_hat).sum(axis=0) * gamma + total_h
        self._own_grads["beta"] += grad_z.sum(axis=0)
        grad_x_hat = grad_z * gamma                                   # (N, D) ĝ
        if not cache.training:
            return grad_x_hat / cache.std
        n = x_hat.shape[0]
        mean_grad = grad_x_hat.mean(axis=0)                           # (D,)
        mean_grad_x_hat = (grad_x_hat * x_hat).mean(axis=0) + total_h / n   # (D,)
        return (grad_x_hat - mean_grad - x_hat * mean_grad_x_hat) / cache.std   # (N, D)

    # ------------------------------------------------------------------ inverse
    def _inverse(self, z, context=None):
        mean, var = self._inverse_statistics()
        std = np.sqrt(var + self.eps)                                 # (D,)
        centered = (z - self.beta) * (np.exp(-self.log_gamma) * std)  # (N, D) x − m
        x = centered + mean                                           # (N, D)
        log_det = np.full(z.shape[0], -np.sum(self.log_gamma - np.log(std)), dtype=z.dtype)
        self._inverse_cache = Cache(centered=centered, std=std)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        cache = self._read_cache("inverse")
        grad_z = grad_x * (np.exp(-self.log_gamma) * cache.std)              # (N, D)
        self._own_grads["log_gamma"] -= (grad_x * cache.centered).sum(axis=0) + grad_log_det.sum()
        self._own_grads["beta"] -= grad_z.sum(axis=0)
        return grad_z

    def __repr__(self):
        mode = "train" if self.training else "eval"
        return f"BatchNorm(dim={self.dim}, mode={mode})"


def set_training(module, training=True):
    """Put every BatchNorm inside ``module`` (a Flow, a Compose or a layer) in training or eval mode.

    Returns the number of layers switched.
    """
    layers = [part for part in module.modules() if isinstance(part, BatchNorm)]
    for layer in layers:
        layer.train(training)
    return len(layers)
