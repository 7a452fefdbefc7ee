"""Probes of the network, MADE, loss, optimizer, training-loop and generation tasks (see
:mod:`scratchflow_course.homework.probes` for what a probe is)."""
import numpy as np

from scratchflow.flow import Flow
from scratchflow.histogram import experiment_vs_theory, histogram_density
from scratchflow_course.homework.standins import RecordingFlow, StandInLayer, call_trace, put_layers
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
    rng = _rng(seed, 22)
    layer = Tanh()
    layer.forward(rng.uniform(-3, 3, (4, 5)))
    return {"grad_x": layer.backward(rng.standard_normal((4, 5)))}


def made_input_degrees(seed):
    rng = _rng(seed, 23)
    cycle = rng.permutation(6)
    order = np.empty(6, dtype=int)                 # one random 6-cycle: never its own inverse, so
    order[cycle] = np.roll(cycle, -1)              # "position" vs "order[d]" differ at every seed
    degrees = made_degrees(order, (7, 5), rng)
    return {"order": order, "input_degrees": degrees[0]}


def made_mask_values(seed):
    rng = _rng(seed, 24)
    dim = 5
    degrees = [rng.permutation(np.arange(1, dim + 1)), rng.integers(1, dim, 8), rng.integers(1, dim, 6)]
    return {f"mask{k}": mask for k, mask in enumerate(made_masks(degrees))}


def _flow(seed, salt):
    rng = _rng(seed, salt)
    log = []
    return put_layers(Flow([StandInLayer(3, rng, "layers", log)]), StandInLayer(3, rng, "layers", log)), log, rng


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
        ("tanh", tanh_backward, "Tanh: dL/dx"),
    ],
    "made_masks": [
        ("degrees", made_input_degrees, "made_degrees: the input degrees for a random ordering"),
        ("masks", made_mask_values, "made_masks: the hidden masks and the output mask from given "
         "degrees"),
    ],
    "loss": [
        ("value", loss_value, "Flow.loss with a stand-in layer: the mean NLL on batches of 7, 2, 1 rows"),
        ("gradient", loss_gradient, "Flow.backward: the (dL/dz, dL/dlog_det) handed to the layers"),
    ],
    "sgd": [
        ("plain", sgd_plain, "SGD(lr=0.1): the parameters after each of 5 steps"),
        ("momentum", sgd_momentum, "SGD(lr=0.05, momentum=0.9): the parameters after each of 5 steps"),
    ],
    "adam": [
        ("steps", adam_steps, "Adam(lr=0.01, betas=(0.8, 0.95)): the parameters after each of 5 steps"),
    ],
    "training": [
        ("batches", minibatches, "minibatch_indices(7, 3): epochs and indices of the first 8 batches"),
        ("steps", training_batches, "MaximumLikelihood.step on a recording flow: the rows trained on in "
         "7 steps, the losses, the epochs"),
    ],
    "generation": [
        ("samples", generation_samples, "Flow.sample with a stand-in layer: 6 samples for a seed, and 0"),
        ("histogram", generation_histogram, "histogram_density / experiment_vs_theory on unequal bins"),
    ],
}
