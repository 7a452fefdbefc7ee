"""Probes of the network, MADE, loss, optimizer, training-loop and generation tasks (see
:mod:`scratchflow_course.homework.probes` for what a probe is)."""
import numpy as np

from scratchflow.flow import Flow
from scratchflow.histogram import experiment_vs_theory, histogram_density
from scratchflow_course.homework.probes import random_cycle
from scratchflow_course.homework.standins import (RecordingFlow, StandInBase, StandInLayer, call_trace,
                                                  put_layers)
from scratchflow.nn.activations import Tanh
from scratchflow.nn.linear import Linear, MaskedLinear
from scratchflow.nn.made import made_degrees, made_masks
from scratchflow.objectives import MaximumLikelihood, minibatch_indices
from scratchflow.optim import SGD, Adam


def _rng(seed, salt):
    return np.random.default_rng([int(seed), salt])


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
            "float32_bytes": np.array(call_trace(log)[1].dtype.itemsize)}   # 4: float32 kept


def loss_value(seed):
    flow, _, rng = _flow(seed, 25)
    return {"loss": np.array([flow.loss(rng.standard_normal((m, 3))) for m in (7, 2, 1)])}


def loss_gradient(seed):
    flow, log, rng = _flow(seed, 26)
    flow.loss(rng.standard_normal((7, 3)))
    del log[:]
    flow.backward()
    order, received = call_trace(log)
    return {"received": received}                    # (7, 4): dL/dz and dL/dlog_det per row


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
    return {"trajectory": np.array(trajectory)}      # (5, 10) the parameters after each step


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
    return {"moved": np.array(steps)}                  # (5, 10) how far each parameter has moved


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
