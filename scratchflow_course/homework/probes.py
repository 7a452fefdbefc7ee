"""Probes: what a task's checks run, the same for the public tests (public seed, compared with the
values stored in the release) and for the grader (hidden seed, compared with the reference run).

``PROBES[task]`` lists ``(name, function, what)``: ``function(seed)`` builds its inputs from the
seed, runs the task's code on them and returns a dict of arrays; ``what`` says what it checks (the
test message starts with it). Where another task's code would be needed, a probe uses the
stand-ins of :mod:`scratchflow_course.homework.standins` instead. The layer probes in this file, the
network and training probes in :mod:`scratchflow_course.homework.probes_training`.
"""
import numpy as np

from scratchflow.bijectors.autoregressive import IAF, MAF
from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.compose import Compose
from scratchflow.bijectors.coupling import AffineCoupling
from scratchflow.bijectors.examples import Example2Map, example2_density
from scratchflow.bijectors.triangular import LowerTriangular
from scratchflow_course.homework.standins import (StandInLayer, StandInMade, StandInMadeWithParams,
                                                  StandInNet, call_trace)
from scratchflow.nn.module import Cache


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
}
