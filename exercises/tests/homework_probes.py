"""The public probes of the homework: each builds its inputs from the seed it is given (the
public seed, stored in ``expected/<task>.json``), runs your code and returns its outputs. Generated
by the course's release builder from the grader's own probes; do not edit.
"""
from scratchflow.bijectors.autoregressive import IAF, MAF
from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.compose import Compose
from scratchflow.bijectors.coupling import AffineCoupling
from scratchflow.bijectors.examples import Example2Map, example2_density
from scratchflow.bijectors.triangular import LowerTriangular
from scratchflow.flow import Flow
from scratchflow.histogram import experiment_vs_theory, histogram_density
from scratchflow.nn.activations import Tanh
from scratchflow.nn.linear import Linear, MaskedLinear
from scratchflow.nn.made import made_degrees, made_masks
from scratchflow.nn.module import Cache
from scratchflow.nn.module import Cache, Module
from scratchflow.objectives import MaximumLikelihood, minibatch_indices
from scratchflow.optim import SGD, Adam
import numpy as np


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
        return (grad_out @ self.project_back) * (1.0 + 0.3 * trace.x)


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


def _rng(seed, salt):
    return np.random.default_rng([int(seed), salt])


def example2_passes(seed):
    rng = _rng(seed, 1)
    x = np.column_stack([rng.uniform(0.2, 3.0, 6), rng.uniform(-2, 2, 6)])     # (6, 2), x1 > 0
    layer = Example2Map()
    z, log_det = layer.forward(x)
    grad_x, changed = gradient_pass(layer.backward, rng.standard_normal((6, 2)), rng.standard_normal(6))
    back, log_det_inv = layer.inverse(rng.uniform(-1.5, 1.5, (6, 2)))
    grad_z, changed_inverse = gradient_pass(layer.inverse_backward, rng.standard_normal((6, 2)),
                                            rng.standard_normal(6))
    return {"z": z, "log_det": log_det, "grad_x": grad_x, "x": back, "log_det_inverse": log_det_inv,
            "grad_z": grad_z, "inputs_changed": np.concatenate([changed, changed_inverse])}


def gradient_pass(method, grad, grad_log_det):
    """``method(grad, grad_log_det)`` and whether it changed what it was handed ((2,) bool: the
    caller still owns both arrays)."""
    given = grad.copy(), grad_log_det.copy()
    result = method(grad, grad_log_det)
    return result, np.array([not np.array_equal(grad, given[0]), not np.array_equal(grad_log_det, given[1])])


def example2_theory(seed):
    rng = _rng(seed, 2)
    x1 = np.concatenate([rng.uniform(0.05, 4.0, 8), [0.0, -0.5, -2.0]])         # (11,) 3 outside
    x2 = rng.uniform(-3, 5, 11)
    return {"density": example2_density(x1, x2)}


def _triangular(seed, salt):
    rng = _rng(seed, salt)
    dim = 4
    matrix = np.tril(rng.uniform(-1, 1, (dim, dim)))
    signs = rng.permutation([-1.0, -1.0, 1.0, 1.0])
    signs[0] *= -1                                          # one or three negative pivots: det < 0
    matrix[np.diag_indices(dim)] = rng.uniform(0.3, 2.5, dim) * signs
    return LowerTriangular(matrix), rng


def triangular_forward(seed):
    layer, rng = _triangular(seed, 3)
    z, log_det = layer.forward(rng.standard_normal((5, 4)))
    return {"z": z, "log_det": log_det}


def triangular_inverse(seed):
    layer, rng = _triangular(seed, 4)
    x, log_det = layer.inverse(rng.standard_normal((5, 4)))
    return {"x": x, "log_det": log_det}


def _stack(seed, salt):
    rng = _rng(seed, salt)
    log = []
    layers = [StandInLayer(3, rng, f"layer{k}", log) for k in range(3)]
    return Compose(layers), log, rng


def composition_passes(seed):
    stack, log, rng = _stack(seed, 5)
    z, log_det = stack.forward(rng.standard_normal((4, 3)))
    x, log_det_inv = stack.inverse(rng.standard_normal((4, 3)))
    order, received = call_trace(log)
    return {"z": z, "log_det": log_det, "x": x, "log_det_inverse": log_det_inv, "calls": order,
            "received": received}


def composition_gradients(seed):
    stack, log, rng = _stack(seed, 6)
    stack.forward(rng.standard_normal((4, 3)))
    stack.inverse(rng.standard_normal((4, 3)))
    del log[:]
    grad_x = stack.backward(rng.standard_normal((4, 3)), rng.standard_normal(4))
    grad_z = stack.inverse_backward(rng.standard_normal((4, 3)), rng.standard_normal(4))
    order, received = call_trace(log)
    return {"grad_x": grad_x, "grad_z": grad_z, "calls": order, "received": received}


def _coupling(seed, salt, mask=(1, 0, 1, 0, 0)):
    """A coupling whose s, t come from the stand-in. The default mask is non-contiguous (its
    columns are copies when selected); ``CONTIGUOUS`` selects views of the input."""
    rng = _rng(seed, salt)
    layer = AffineCoupling(5, list(mask), hidden=(3,), rng=0)
    layer.net = layer.add_child("net", StandInNet(2, 6, rng))          # s, t from the stand-in
    return layer, rng


def coupling_forward(seed):
    layer, rng = _coupling(seed, 7)
    z, log_det = layer.forward(rng.uniform(-2, 2, (6, 5)))
    return {"z": z, "log_det": log_det}


def coupling_inverse(seed):
    layer, rng = _coupling(seed, 8)
    x, log_det = layer.inverse(rng.uniform(-2, 2, (6, 5)))
    return {"x": x, "log_det": log_det}


CONTIGUOUS = (1, 1, 0, 0, 0)


def coupling_contiguous(seed):
    """Both passes with a contiguous mask, and what each keeps for its gradient pass (the
    ``exp_scale``/``exp_neg_scale``, ``log_scale`` and ``x_moved`` the region defines): a z that
    shares memory with x overwrites x_moved."""
    layer, rng = _coupling(seed, 14, CONTIGUOUS)
    z, log_det = layer.forward(rng.uniform(-2, 2, (6, 5)))
    x, log_det_inv = layer.inverse(rng.uniform(-2, 2, (6, 5)))
    forward, inverse = layer._forward_cache, layer._inverse_cache
    return {"z": z, "log_det": log_det, "x": x, "log_det_inverse": log_det_inv,
            "forward_x_moved": forward.x_moved, "forward_exp_scale": forward.exp_scale,
            "forward_log_scale": forward.log_scale, "inverse_x_moved": inverse.x_moved,
            "inverse_exp_neg_scale": inverse.exp_neg_scale, "inverse_log_scale": inverse.log_scale}


def coupling_stacked(seed):
    """Both passes as a stack calls them: the underscored ``_forward`` and ``_inverse`` on the
    array the layer before made (not a copy), with the contiguous and the spread mask. That array
    must come out as it went in: the layer before may keep it for its own gradient pass."""
    outputs = {}
    for name, mask, salt in (("contiguous", CONTIGUOUS, 16), ("spread", (1, 0, 1, 0, 0), 17)):
        layer, rng = _coupling(seed, salt, mask)
        x, z = rng.uniform(-2, 2, (6, 5)), rng.uniform(-2, 2, (6, 5))
        outputs[f"{name}_z"] = np.array(layer._forward(x)[0])
        outputs[f"{name}_x"] = np.array(layer._inverse(z)[0])
        outputs[f"{name}_forward_input"], outputs[f"{name}_inverse_input"] = x, z
    return outputs


def _kept_pass(layer, point, rng, direction):
    """A Cache as a pass of the layer keeps it, with s and the network trace from the stand-in at
    ``point`` and the moved part drawn at random (the gradient formulas do not need more)."""
    out, trace = layer.net._forward(point[:, layer.kept_index])        # (N, 2k)
    log_scale = out[:, :3]                                             # (N, k) s
    moved = rng.uniform(-2, 2, log_scale.shape)                        # (N, k)
    if direction == "forward":
        return Cache(net=trace, log_scale=log_scale, exp_scale=np.exp(log_scale), x_moved=moved)
    return Cache(net=trace, log_scale=log_scale, exp_neg_scale=np.exp(-log_scale), x_moved=moved)


def coupling_gradients(seed):
    """Both gradient passes on caches set by the probe; the OTHER direction's cache is set too and
    holds other values, so a gradient pass that reads the wrong one shows."""
    layer, rng = _coupling_with_caches(seed, 9)
    grad_x = layer.backward(rng.standard_normal((6, 5)), rng.standard_normal(6))
    grad_z = layer.inverse_backward(rng.standard_normal((6, 5)), rng.standard_normal(6))
    received = np.concatenate(layer.net.received)                      # (12, 6) dL/d(s, t) given to the net
    return {"grad_x": grad_x, "grad_z": grad_z, "net_received": received}


def _coupling_with_caches(seed, salt, mask=(1, 0, 1, 0, 0)):
    layer, rng = _coupling(seed, salt, mask)
    x, z = rng.uniform(-2, 2, (6, 5)), rng.uniform(-2, 2, (6, 5))
    layer._forward_cache, layer._forward_n = _kept_pass(layer, x, rng, "forward"), 6
    layer._inverse_cache, layer._inverse_n = _kept_pass(layer, z, rng, "inverse"), 6
    return layer, rng


def coupling_gradients_twice(seed):
    """Each gradient pass twice on one cache (contiguous mask), the second time with other
    gradients; the gradients handed in must come back unchanged, and so must the caches."""
    layer, rng = _coupling_with_caches(seed, 15, CONTIGUOUS)
    outputs = {}
    for method, name in ((layer.backward, "grad_x"), (layer.inverse_backward, "grad_z")):
        for call in (1, 2):
            outputs[f"{name}_{call}"], outputs[f"{name}_{call}_input_changed"] = gradient_pass(
                method, rng.standard_normal((6, 5)), rng.standard_normal(6))
    return outputs


def random_cycle(dim, rng):
    """A random ordering that is one dim-cycle: it moves every dimension, so it is never the
    natural ordering (nor its own inverse), at any seed."""
    cycle = rng.permutation(dim)
    order = np.empty(dim, dtype=int)
    order[cycle] = np.roll(cycle, -1)
    return order


def _autoregressive(cls, seed, salt):
    """A MAF or IAF whose conditioner is the stand-in; built without a MADE, whose masks are
    another task's (task made_masks)."""
    rng = _rng(seed, salt)
    layer = cls.__new__(cls)
    Bijector.__init__(layer)
    layer.dim, layer.dtype, layer.order = 4, np.dtype(np.float64), random_cycle(4, rng)
    layer.made = layer.add_child("made", StandInMade(layer.order, rng))
    layer._forward_cache = layer._inverse_cache = None
    return layer, rng


def _both_directions(cls, seed, salt):
    layer, rng = _autoregressive(cls, seed, salt)
    z, log_det = layer.forward(rng.uniform(-2, 2, (5, 4)))
    x, log_det_inv = layer.inverse(rng.uniform(-2, 2, (5, 4)))
    return {"z": z, "log_det": log_det, "x": x, "log_det_inverse": log_det_inv}


def _kept_made(cls, seed, salt):
    """What the two passes keep for the (given) gradient passes: the conditioner's input of the
    pass that is cached, and the kept scale. Of the input, only the columns some output reads:
    the last dimension of the ordering feeds nothing, so a sequential pass may leave anything there
    (a copy of its input, a value from an earlier pass) and be exact."""
    layer, rng = _autoregressive(cls, seed, salt)
    layer.forward(rng.uniform(-2, 2, (5, 4)))
    layer.inverse(rng.uniform(-2, 2, (5, 4)))
    forward, inverse = layer._forward_cache, layer._inverse_cache
    name = "inv_scale" if cls is MAF else "scale"
    read = np.sort(layer.order[:-1])                                   # (D - 1,) columns some output reads
    return {"forward_made_input": forward.made.point[:, read], "forward_scale": getattr(forward, name),
            "inverse_made_input": inverse.made.point[:, read], "inverse_scale": getattr(inverse, name)}


def adjoint_layer(cls, seed, salt, dtype=np.float64):
    """A MAF or IAF on the differentiable stand-in conditioner, a random ordering that moves every
    dimension, and both caches set by the probe (the passes themselves are tasks maf and iaf):
    the sequential direction's (MAF's inverse, IAF's forward) as that pass leaves it, the other one
    with other values, so a gradient pass that reads the wrong cache shows."""
    rng = _rng(seed, salt)
    layer = cls.__new__(cls)
    Bijector.__init__(layer)
    layer.dim, layer.dtype, layer.order = 4, np.dtype(dtype), random_cycle(4, rng)
    layer.made = layer.add_child("made", StandInMadeWithParams(layer.order, rng, dtype))
    caches = []
    for _ in range(2):
        point = rng.uniform(-2, 2, (5, 4)).astype(dtype)                # (N, D) what the MADE read
        out, made_cache = layer.made._forward(point)                   # (N, 2D) μ, s
        log_scale = out[:, 4:]                                         # (N, D) s
        if cls is MAF:                                                 # x: what the MADE read
            z = rng.uniform(-2, 2, (5, 4)).astype(dtype)                # (N, D) the sampled z
            caches.append(Cache(made=made_cache, x=point, z=z, inv_scale=np.exp(-log_scale)))
        else:
            caches.append(Cache(made=made_cache, z=point, scale=np.exp(log_scale)))
    sequential, other = ("_inverse", "_forward") if cls is MAF else ("_forward", "_inverse")
    setattr(layer, sequential + "_cache", caches[0])
    setattr(layer, other + "_cache", caches[1])
    layer._forward_n = layer._inverse_n = 5
    return layer, rng


def _sequential_gradient(layer):
    return layer.inverse_backward if isinstance(layer, MAF) else layer.backward


def _frozen(cache):
    return {name: np.array(value) for name, value in vars(cache).items() if isinstance(value, np.ndarray)}


def adjoint_twice(cls, seed, salt):
    """The sequential direction's gradient pass twice on one cache (other gradients the second
    time): both results, the parameter gradients they add up to, whether the gradients handed in
    or the cache changed, and the same pass in a float32 layer (:func:`adjoint_float32`)."""
    layer, rng = adjoint_layer(cls, seed, salt)
    cache = layer._inverse_cache if cls is MAF else layer._forward_cache
    kept = _frozen(cache)
    outputs = {}
    for call in (1, 2):
        outputs[f"grad_{call}"], outputs[f"grad_{call}_input_changed"] = gradient_pass(
            _sequential_gradient(layer), rng.standard_normal((5, 4)), rng.standard_normal(5))
    outputs.update({"grad_" + name.replace(".", "_"): grad for name, grad in layer.grads.items()})
    outputs["cache_changed"] = np.array([not np.array_equal(value, getattr(cache, name))
                                         for name, value in kept.items()])
    return {**outputs, **adjoint_float32(cls, seed, salt)}


def adjoint_float32(cls, seed, salt):
    """The sequential gradient pass of a float32 layer: the dtype of the input and parameter
    gradients (the layer's, compared exactly) and whether they agree with the float64 pass to
    float32 precision (values are compared in float64 only, where rounding decides nothing)."""
    results = []
    for dtype in (np.float32, np.float64):
        layer, rng = adjoint_layer(cls, seed, salt, dtype)
        grad = _sequential_gradient(layer)(rng.standard_normal((5, 4)).astype(dtype),
                                           rng.standard_normal(5).astype(dtype))
        results.append([grad] + [layer.grads[key] for key in sorted(layer.grads)])
    return {"float32_bytes": np.array([np.asarray(value).dtype.itemsize for value in results[0]]),
            "float32_close": np.array([np.allclose(single, double, rtol=1e-3, atol=1e-4)
                                       for single, double in zip(*results)])}


def linear_backward(seed):
    rng = _rng(seed, 20)
    layer = Linear(3, 4, rng=rng)
    layer.params["bias"][:] = rng.standard_normal(4)
    layer.forward(rng.standard_normal((5, 3)))
    grad_x = layer.backward(rng.standard_normal((5, 4)))
    layer.forward(rng.standard_normal((2, 3)))                      # a second pass: gradients add up
    layer.backward(rng.standard_normal((2, 4)))
    return {"grad_x": grad_x, "grad_weight": layer.grads["weight"], "grad_bias": layer.grads["bias"]}


def masked_backward(seed):
    rng = _rng(seed, 21)
    layer = MaskedLinear(4, 3, rng.integers(0, 2, (4, 3)), rng=rng)
    layer.forward(rng.standard_normal((5, 4)))
    grad_x = layer.backward(rng.standard_normal((5, 3)))
    return {"grad_x": grad_x, "grad_weight": layer.grads["weight"], "grad_bias": layer.grads["bias"]}


def tanh_backward(seed):
    """Two gradient passes on one forward (an MLP's backward runs once per conditioner gradient,
    the sequential directions run it D times): the second must read the same cache."""
    rng = _rng(seed, 22)
    layer = Tanh()
    layer.forward(rng.uniform(-3, 3, (4, 5)))
    first = layer.backward(rng.standard_normal((4, 5)))
    grad_out = rng.standard_normal((4, 5))
    given = grad_out.copy()
    second = layer.backward(grad_out)
    return {"grad_x": first, "grad_x_again": second,
            "grad_out_changed": np.array(not np.array_equal(grad_out, given))}


def made_input_degrees(seed):
    rng = _rng(seed, 23)
    order = random_cycle(6, rng)                   # never its own inverse, so "position" vs
    degrees = made_degrees(order, (7, 5), rng)
    return {"order": order, "input_degrees": degrees[0]}


def made_mask_values(seed):
    rng = _rng(seed, 24)
    dim = 5
    degrees = [rng.permutation(np.arange(1, dim + 1)), rng.integers(1, dim, 8), rng.integers(1, dim, 6)]
    return {f"mask{k}": mask for k, mask in enumerate(made_masks(degrees))}


def _flow(seed, salt, dtype=np.float64, base=False):
    """A flow of one stand-in layer; ``base``: with a :class:`StandInBase` instead of N(0, I)."""
    rng = _rng(seed, salt)
    log = []
    flow = Flow([StandInLayer(3, rng, "layers", log, dtype)], StandInBase(3, rng) if base else None)
    return put_layers(flow, StandInLayer(3, rng, "layers", log, dtype)), log, rng


def loss_other_base(seed):
    """Flow.loss and Flow.backward with a base other than N(0, I): the loss and the gradients
    handed to the layers; and the dtype those gradients have in a float32 flow (the flow's; the
    values are compared in float64 only, where rounding cannot decide a check)."""
    flow, log, rng = _flow(seed, 33, base=True)
    loss = flow.loss(rng.standard_normal((7, 3)))
    del log[:]
    flow.backward()
    _, received = call_trace(log)
    single, log, rng = _flow(seed, 36, np.float32, base=True)
    single.loss(rng.standard_normal((7, 3)).astype(np.float32))
    del log[:]
    single.backward()
    return {"loss": np.array(loss), "received": received,
            "float32_bytes": np.array(call_trace(log)[1].dtype.itemsize)}


def loss_value(seed):
    flow, _, rng = _flow(seed, 25)
    return {"loss": np.array([flow.loss(rng.standard_normal((m, 3))) for m in (7, 2, 1)])}


def loss_gradient(seed):
    flow, log, rng = _flow(seed, 26)
    flow.loss(rng.standard_normal((7, 3)))
    del log[:]
    flow.backward()
    order, received = call_trace(log)
    return {"received": received}


def _optimizer_run(seed, salt, make):
    rng = _rng(seed, salt)
    params = {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal(4)}
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    optimizer = make(params, grads)
    trajectory = []
    for _ in range(5):
        for grad in grads.values():
            grad[...] = rng.standard_normal(grad.shape)
        optimizer.step()
        trajectory.append(np.concatenate([params["a"].ravel(), params["b"]]))
    return {"trajectory": np.array(trajectory)}


def adam_small_gradients(seed):
    """Adam where ε matters: gradients of the order of ε = 1e-8, so that √v̂ and ε are alike and
    moving ε (inside the root, or not rescaled with a folded bias correction) changes every step
    by a factor, at any seed."""
    rng = _rng(seed, 35)
    params = {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal(4)}
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    start = np.concatenate([params["a"].ravel(), params["b"]])
    optimizer = Adam(params, grads, lr=0.01, betas=(0.8, 0.95), eps=1e-8)
    steps = []
    for _ in range(5):
        for grad in grads.values():
            grad[...] = 1e-8 * rng.uniform(0.5, 2.0, grad.shape) * rng.choice([-1.0, 1.0], grad.shape)
        optimizer.step()
        steps.append(np.concatenate([params["a"].ravel(), params["b"]]) - start)
    return {"moved": np.array(steps)}


def sgd_plain(seed):
    return _optimizer_run(seed, 27, lambda p, g: SGD(p, g, lr=0.1))


def sgd_momentum(seed):
    return _optimizer_run(seed, 28, lambda p, g: SGD(p, g, lr=0.05, momentum=0.9))


def adam_steps(seed):
    return _optimizer_run(seed, 29, lambda p, g: Adam(p, g, lr=0.01, betas=(0.8, 0.95)))


def training_batches(seed):
    rng = _rng(seed, 30)
    data = np.arange(10.0)[:, None] + rng.uniform(0, 0.1, (10, 1))      # (10, 1) rows tell apart
    flow = RecordingFlow()
    objective = MaximumLikelihood(flow, data, None, 4, np.random.default_rng(int(seed)))
    losses, epochs = [], []
    for _ in range(7):
        losses.append(objective.step())
        epochs.append(objective.epoch)
    rows = np.concatenate([batch[:, 0] for batch in flow.batches])
    return {"losses": np.array(losses), "epochs": np.array(epochs), "rows": rows}


def minibatches(seed):
    batches = minibatch_indices(7, 3, np.random.default_rng(int(seed)))
    drawn = [next(batches) for _ in range(8)]
    return {"epochs": np.array([epoch for epoch, _ in drawn]),
            "indices": np.concatenate([indices for _, indices in drawn])}


def generation_samples(seed):
    flow, log, _ = _flow(seed, 31)
    return {"samples": flow.sample(6, rng=int(seed) + 1), "empty": flow.sample(0, rng=1).reshape(-1)}


def generation_other_base(seed):
    """Flow.sample with a base other than N(0, I): the samples; and their dtype in a float32 flow."""
    flow, _, _ = _flow(seed, 34, base=True)
    single, _, _ = _flow(seed, 37, np.float32, base=True)
    return {"samples": flow.sample(6, rng=int(seed) + 2),
            "float32_bytes": np.array(single.sample(6, rng=int(seed) + 3).dtype.itemsize)}


def generation_histogram(seed):
    rng = _rng(seed, 32)
    samples = rng.normal(5.0, 2.0, 400)
    edges = np.sort(np.concatenate([[-3.0, 13.0], rng.uniform(-2, 12, 9)]))     # unequal widths
    experiment, theory = experiment_vs_theory(samples, lambda x: np.exp(-(x - 5) ** 2 / 8) / np.sqrt(8 * np.pi),
                                              edges)
    return {"experiment": experiment, "theory": theory,
            "narrow": histogram_density(samples, np.linspace(4, 6, 5))}


PROBES = {
    "change_of_variables": [
        ("passes", example2_passes, "Example2Map: forward (z, log_det), backward, inverse (x, log_det), "
         "inverse_backward at points with x1 > 0; the gradients handed in left unchanged"),
        ("theory", example2_theory, "example2_density at points inside (x1 > 0) and outside (x1 <= 0) "
         "the domain"),
    ],
    "triangular": [
        ("forward", triangular_forward, "LowerTriangular.forward: z and log_det, on a matrix whose "
         "diagonal has negative entries"),
        ("inverse", triangular_inverse, "LowerTriangular.inverse: x and log_det, diagonal with negative "
         "entries"),
    ],
    "composition": [
        ("passes", composition_passes, "Compose of 3 stand-in layers: forward and inverse outputs, their "
         "log-dets, which layer is called in which order with which input"),
        ("gradients", composition_gradients, "Compose of 3 stand-in layers: backward and inverse_backward, "
         "the order of the layers' gradient passes and the (grad, grad_log_det) each receives"),
    ],
    "coupling": [
        ("forward", coupling_forward, "AffineCoupling.forward with mask [1,0,1,0,0] and a stand-in "
         "network for s, t: z and log_det"),
        ("inverse", coupling_inverse, "AffineCoupling.inverse with the same stand-in: x and log_det"),
        ("contiguous", coupling_contiguous, "AffineCoupling with the contiguous mask [1,1,0,0,0]: both "
         "passes and what each keeps for its gradient pass (x_r, exp(±s), s)"),
        ("stacked", coupling_stacked, "AffineCoupling._forward and _inverse as Compose calls them, on the "
         "layer before's output (not a copy), masks [1,1,0,0,0] and [1,0,1,0,0]: their outputs, and the "
         "arrays handed in left unchanged"),
    ],
    "coupling_backward": [
        ("gradients", coupling_gradients, "AffineCoupling.backward and inverse_backward on caches set by "
         "the test: dL/dx, dL/dz and the (dL/ds, dL/dt) handed to the network"),
        ("twice", coupling_gradients_twice, "AffineCoupling.backward and inverse_backward, each called "
         "twice on one cache (contiguous mask [1,1,0,0,0]): both results, and the gradients handed in "
         "left unchanged"),
    ],
    "maf": [
        ("passes", lambda seed: _both_directions(MAF, seed, 10), "MAF with a stand-in autoregressive "
         "conditioner, a random ordering that moves every dimension: forward (z, log_det) and inverse (x, log_det)"),
        ("kept", lambda seed: _kept_made(MAF, seed, 11), "MAF: what forward and inverse keep for the "
         "gradient passes (the conditioner's last input, exp(−s))"),
    ],
    "iaf": [
        ("passes", lambda seed: _both_directions(IAF, seed, 12), "IAF with a stand-in autoregressive "
         "conditioner, a random ordering that moves every dimension: forward (z, log_det) and inverse (x, log_det)"),
        ("kept", lambda seed: _kept_made(IAF, seed, 13), "IAF: what forward and inverse keep for the "
         "gradient passes (the conditioner's last input, exp(s))"),
    ],
    "adjoint": [
        ("maf_sampling", lambda seed: adjoint_twice(MAF, seed, 16), "MAF.inverse_backward (the gradient "
         "of sampling) on a differentiable stand-in conditioner, a random ordering that moves every "
         "dimension, called twice on one cache: dL/dz, the conditioner's parameter gradients, the "
         "gradients handed in and the cache left unchanged; and in a float32 layer, float32 gradients"),
        ("iaf_density", lambda seed: adjoint_twice(IAF, seed, 17), "IAF.backward (the gradient of "
         "density) on a differentiable stand-in conditioner, a random ordering that moves every "
         "dimension, called twice on one cache: dL/dx, the conditioner's parameter gradients, the "
         "gradients handed in and the cache left unchanged; and in a float32 layer, float32 gradients"),
    ],
    "mlp_backward": [
        ("linear", linear_backward, "Linear(3, 4): dL/dx, and dL/dW, dL/db after two backward passes "
         "(they add up)"),
        ("masked", masked_backward, "MaskedLinear(4, 3) with a random mask: dL/dx, dL/dW (0 on cut "
         "connections), dL/db"),
        ("tanh", tanh_backward, "Tanh: dL/dx, twice on one forward (the second pass reads the same "
         "cache), the dL/dy handed in left unchanged"),
    ],
    "made_masks": [
        ("degrees", made_input_degrees, "made_degrees: the input degrees for a random ordering"),
        ("masks", made_mask_values, "made_masks: the hidden masks and the output mask from given "
         "degrees"),
    ],
    "loss": [
        ("value", loss_value, "Flow.loss with a stand-in layer: the mean NLL on batches of 7, 2, 1 rows"),
        ("gradient", loss_gradient, "Flow.backward: the (dL/dz, dL/dlog_det) handed to the layers"),
        ("base", loss_other_base, "Flow.loss and Flow.backward with a base other than N(0, I): the "
         "loss, the gradients handed to the layers; their dtype in a float32 flow"),
    ],
    "sgd": [
        ("plain", sgd_plain, "SGD(lr=0.1): the parameters after each of 5 steps"),
        ("momentum", sgd_momentum, "SGD(lr=0.05, momentum=0.9): the parameters after each of 5 steps"),
    ],
    "adam": [
        ("steps", adam_steps, "Adam(lr=0.01, betas=(0.8, 0.95)): the parameters after each of 5 steps"),
        ("epsilon", adam_small_gradients, "Adam with gradients of the order of eps = 1e-8: how far the "
         "parameters move in 5 steps"),
    ],
    "training": [
        ("batches", minibatches, "minibatch_indices(7, 3): epochs and indices of the first 8 batches"),
        ("steps", training_batches, "MaximumLikelihood.step on a recording flow: the rows trained on in "
         "7 steps, the losses, the epochs"),
    ],
    "generation": [
        ("samples", generation_samples, "Flow.sample with a stand-in layer: 6 samples for a seed, and 0"),
        ("base", generation_other_base, "Flow.sample with a base other than N(0, I): the samples; "
         "their dtype in a float32 flow"),
        ("histogram", generation_histogram, "histogram_density / experiment_vs_theory on unequal bins"),
    ],
}
