"""Stand-ins: the pieces a probe puts in place of another task's code, so that a task's checks run
only that task's regions plus code no task asks for (a wrong task j never costs points in task k).

Each stand-in is a fixed, smooth, non-trivial function drawn from a seed, and records what the code
under test hands it (the gradient a conditioner receives, the batch a flow is trained on, the order
in which layers are called). None of them is the answer to a task: their "backward" passes return
fixed projections of what they receive, not derivatives, which is all a probe needs.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.module import Cache, Module


class StandInNet(Module):
    """In place of the coupling's MLP: ``out = 0.5 sin(x @ A) + c`` (N, out); no parameters.

    ``_backward(trace, grad_out)`` records ``grad_out`` (N, out) in :attr:`received` and returns the
    fixed projection ``(grad_out @ B) ⊙ (1 + 0.3 x)`` (N, in), x the input of the pass that kept
    ``trace`` (so a gradient pass that hands the network another pass's trace shows).
    """

    def __init__(self, n_in, n_out, rng):
        super().__init__()
        self.project_in = rng.uniform(-1, 1, (n_in, n_out))        # (in, out) A
        self.offset = rng.uniform(-0.5, 0.5, n_out)                # (out,) c
        self.project_back = rng.uniform(-1, 1, (n_out, n_in))      # (out, in) B
        self.received = []

    def _forward(self, x, context=None):
        out = 0.5 * np.sin(x @ self.project_in) + self.offset       # (N, out)
        return out, Cache(x=x)

    def _backward(self, trace, grad_out, need_input_grad=True):
        self.received.append(np.array(grad_out))
        return (grad_out @ self.project_back) * (1.0 + 0.3 * trace.x)   # (N, in): reads its pass's trace


class StandInMade(Module):
    """In place of MADE for MAF and IAF: (μ, s) side by side (N, 2D), output d reading only the
    dimensions before d in ``order`` (a strictly triangular mixing, then sin and tanh)."""

    def __init__(self, order, rng):
        super().__init__()
        dim = len(order)
        position = np.empty(dim, dtype=int)
        position[order] = np.arange(dim)                               # (D,) place in the ordering
        before = position[:, None] < position[None, :]                 # (D, D) input i feeds output j
        self.mix_shift = rng.uniform(-1, 1, (dim, dim)) * before       # (D, D)
        self.mix_scale = rng.uniform(-1, 1, (dim, dim)) * before
        self.offset = rng.uniform(-0.5, 0.5, 2 * dim)                  # (2D,)
        self.dim = dim

    def _forward(self, point):
        shift = np.sin(point @ self.mix_shift)                         # (N, D)
        log_scale = 0.8 * np.tanh(point @ self.mix_scale)              # (N, D)
        return np.concatenate([shift, log_scale], axis=1) + self.offset, Cache(point=point.copy())

    def _backward(self, cache, grad_out, need_input_grad=True):
        return grad_out[:, :self.dim] @ self.mix_shift.T               # (N, D), a fixed projection

    def _input_gradient(self, cache, grad_out):
        return self._backward(cache, grad_out)


class StandInMadeWithParams(Module):
    """In place of MADE for MAF's and IAF's gradient passes: (μ, s) side by side (N, 2D),
    ``μ = 0.5 sin(x A) + a``, ``s = 0.6 sin(x B) + b``, with A, B strictly triangular in ``order``
    (output d reads the dimensions before d only). Unlike the other stand-ins its ``_backward``
    (adds dL/dA, dL/dB, dL/d(a, b) into ``grads``) and ``_input_gradient`` are the map's exact
    vector-Jacobian products, so every exact gradient pass of the layer, however written, gives the
    same numbers on it. Parameters in ``dtype``."""

    def __init__(self, order, rng, dtype=np.float64):
        super().__init__()
        dim = len(order)
        position = np.empty(dim, dtype=int)
        position[order] = np.arange(dim)                               # (D,) place in the ordering
        self.mask = (position[:, None] < position[None, :]).astype(dtype)   # (D, D) input i feeds j
        self.mix_shift = self.add_param("mix_shift", rng.uniform(-1, 1, (dim, dim)) * self.mask, dtype)
        self.mix_scale = self.add_param("mix_scale", rng.uniform(-1, 1, (dim, dim)) * self.mask, dtype)
        self.offset = self.add_param("offset", rng.uniform(-0.5, 0.5, 2 * dim), dtype)   # (2D,)
        self.dim = dim

    def _forward(self, point):
        pre_shift = point @ (self.mix_shift * self.mask)               # (N, D)
        pre_scale = point @ (self.mix_scale * self.mask)               # (N, D)
        out = np.concatenate([0.5 * np.sin(pre_shift), 0.6 * np.sin(pre_scale)], axis=1) + self.offset
        return out, Cache(point=point.copy(), pre_shift=pre_shift, pre_scale=pre_scale)

    def _pre_grads(self, cache, grad_out):
        return (grad_out[:, :self.dim] * 0.5 * np.cos(cache.pre_shift),        # (N, D) each
                grad_out[:, self.dim:] * 0.6 * np.cos(cache.pre_scale))

    def _input_gradient(self, cache, grad_out):
        return self._input_from_pre(*self._pre_grads(cache, grad_out))

    def _input_from_pre(self, grad_shift, grad_scale):
        return grad_shift @ (self.mix_shift * self.mask).T + grad_scale @ (self.mix_scale * self.mask).T

    def _backward(self, cache, grad_out, need_input_grad=True):
        grad_shift, grad_scale = self._pre_grads(cache, grad_out)
        self._own_grads["mix_shift"] += (cache.point.T @ grad_shift) * self.mask
        self._own_grads["mix_scale"] += (cache.point.T @ grad_scale) * self.mask
        self._own_grads["offset"] += grad_out.sum(axis=0)
        return self._input_from_pre(grad_shift, grad_scale) if need_input_grad else None


class StandInLayer(Bijector):
    """A layer for Compose, Flow.loss and Flow.sample: ``z = x[:, perm] * a + b``, log_det =
    Σ log|a| + ``bonus`` (a constant, so a lost or doubled log-det shows). Its gradient passes
    record (name, grad, grad_log_det) in the shared ``log`` and return fixed projections."""

    def __init__(self, dim, rng, name, log, dtype=np.float64):
        super().__init__()
        self.dim, self.name, self.log, self.dtype = dim, name, log, np.dtype(dtype)
        self.perm = rng.permutation(dim)                               # (D,)
        self.unperm = np.argsort(self.perm)
        scale = rng.uniform(0.5, 1.5, dim) * rng.choice([-1.0, 1.0], dim)
        self.scale = scale.astype(self.dtype)                          # (D,) a
        self.shift = rng.uniform(-1, 1, dim).astype(self.dtype)        # (D,) b
        self.bonus = self.dtype.type(rng.uniform(-1, 1))
        self.project = rng.uniform(-1, 1, (dim, dim)).astype(self.dtype)   # (D, D)

    def _log_det(self, n):
        return np.full(n, np.sum(np.log(np.abs(self.scale))) + self.bonus, dtype=self.dtype)   # (N,)

    def _forward(self, x, context=None):
        self.log.append((self.name + ".forward", np.array(x)))
        return x[:, self.perm] * self.scale + self.shift, self._log_det(len(x))

    def _inverse(self, z, context=None):
        self.log.append((self.name + ".inverse", np.array(z)))
        return ((z - self.shift) / self.scale)[:, self.unperm], -self._log_det(len(z))

    def _backward(self, grad_z, grad_log_det):
        self.log.append((self.name + ".backward", np.column_stack([grad_z, grad_log_det])))
        return grad_z @ self.project                                   # (N, D)

    def _inverse_backward(self, grad_x, grad_log_det):
        self.log.append((self.name + ".inverse_backward", np.column_stack([grad_x, grad_log_det])))
        return grad_x @ self.project.T


class StandInBase:
    """A base density other than N(0, I), as ``Flow(base=...)`` allows: N(mean, diag(std²)).

    ``log_prob``, ``grad_log_prob`` and ``sample(n, rng, dtype)`` keep the dtype of their input
    (or the one asked for), like the library's standard normal."""

    def __init__(self, dim, rng):
        self.dim = dim
        self.mean = rng.uniform(-1, 1, dim)                            # (D,)
        self.std = rng.uniform(0.5, 2.0, dim)                          # (D,)

    def log_prob(self, z):
        u = (z - self.mean.astype(z.dtype)) / self.std.astype(z.dtype)     # (N, D)
        constant = np.sum(np.log(self.std)) + 0.5 * self.dim * np.log(2 * np.pi)
        return (-0.5 * np.sum(u * u, axis=1) - constant).astype(z.dtype)   # (N,)

    def grad_log_prob(self, z):
        return (-(z - self.mean) / self.std ** 2).astype(z.dtype)          # (N, D)

    def sample(self, n, rng=None, dtype=np.float64):
        draws = np.random.default_rng(rng).standard_normal((n, self.dim))  # (n, D)
        return (self.mean + self.std * draws).astype(dtype)


def call_trace(log):
    """The calls a stack of :class:`StandInLayer` received, as arrays: for each call, its index
    in a fixed table of (layer, method) names and the array it received (stacked)."""
    names = sorted({name for name, _ in log})
    return np.array([names.index(name) for name, _ in log]), np.concatenate([a for _, a in log])


def put_layers(flow, layers):
    """Put a stand-in bijector in place of ``flow.layers`` (the Compose the Flow built)."""
    flow.layers = flow.add_child("layers", layers)      # re-packs the flow's one parameter buffer
    return flow


class RecordingFlow:
    """In place of a Flow for the training loop: ``loss_and_grad(batch)`` records the batch and
    returns a number that depends on it."""

    def __init__(self):
        self.batches = []

    def loss_and_grad(self, batch):
        self.batches.append(np.array(batch))
        return float(np.sum(batch))
