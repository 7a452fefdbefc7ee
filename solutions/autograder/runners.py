"""How each check calls the student's module (the child's side of the grader's tests).

A runner ``run_x(module, inputs) -> dict of arrays`` is the only grader code that runs next to
student code: the child process imports this file (as ``_grader_runners``) before it drops its
privileges and imports the student's file, looks a check's runner up by name, calls it on the
inputs the grader sent, and sends the arrays back. The grader runs the same function on the
reference module in its own process. Inputs, points, tolerances, hidden seeds and the verdicts live
in ``checks.py`` and never reach the child.

Helpers here are the grader's own: a student's file never supplies the conditioner, the networks or
the model a check runs on.
"""
import numpy as np

from scratchflow.bijectors.compose import Compose
from scratchflow.bijectors.coupling import AffineCoupling
from scratchflow.nn import MLP

TRAIN_STEPS, TRAIN_BATCH, TRAIN_LR = 300, 256, 1e-2


# ---------------------------------------------------------------------------- shared helpers
def conditioner_from(inputs):
    """The grader's autoregressive conditioner, rebuilt from the arrays in ``inputs``."""
    weight_in, bias_in = inputs["cond_weight_in"], inputs["cond_bias_in"]
    weight_mu, bias_mu = inputs["cond_weight_mu"], inputs["cond_bias_mu"]
    weight_s, bias_s = inputs["cond_weight_s"], inputs["cond_bias_s"]

    def conditioner(x):
        h = np.tanh(x @ weight_in + bias_in)                                  # (N, H)
        return h @ weight_mu + bias_mu, 0.5 * np.tanh(h @ weight_s + bias_s)
    return conditioner


def nets_from(inputs):
    """The scale and shift MLPs of a coupling check, rebuilt from a seed in ``inputs``."""
    dim, d, seed = int(inputs["dim"]), int(inputs["d"]), int(inputs["net_seed"])
    rng = np.random.default_rng(seed)
    scale_net = MLP([d, 8, dim - d], activation="tanh", rng=rng)
    shift_net = MLP([d, 8, dim - d], activation="tanh", rng=rng)
    for net in (scale_net, shift_net):                 # small non-zero biases, so b matters too
        for name, array in net.params.items():
            if name.endswith("bias"):
                array[...] = rng.normal(size=array.shape) * 0.3
    return scale_net, shift_net


def build_moons_flow(seed):
    """The grader's Real-NVP for two moons: four of the package's own coupling layers, alternating
    masks. Never the student's coupling, and never the homework's solution either."""
    rng = np.random.default_rng(seed)
    return Compose([AffineCoupling(2, [1, 0] if k % 2 == 0 else [0, 1], hidden=(32, 32), rng=rng)
                    for k in range(4)])


# ---------------------------------------------------------------------------- task 1
def run_example1_density(module, inputs):
    return {"density": module.example1_density(inputs["x"])}


def run_example2_density(module, inputs):
    return {"density": module.example2_density(inputs["x"])}


def run_both_densities(module, inputs):
    return {"d1": module.example1_density(inputs["x1"]), "d2": module.example2_density(inputs["x2"])}


def run_numerical_log_abs_det(module, inputs):
    A, B = inputs["A"], inputs["B"]                    # f(x) = x A + 0.2 tanh(x B): invertible enough

    def f(x):
        return x @ A + 0.2 * np.tanh(x @ B)
    return {"log_abs_det": module.numerical_log_abs_det(f, inputs["x"])}


def run_example2_log_abs_det(module, inputs):
    def f(x):
        log_x1 = np.log(x[:, 0])
        return np.column_stack([log_x1, x[:, 1] - 2.0 * log_x1])
    return {"log_abs_det": module.numerical_log_abs_det(f, inputs["x"])}


# ---------------------------------------------------------------------------- task 2
def run_linear_backward(module, inputs):
    grad_x, grad_weight, grad_bias = module.linear_backward(inputs["x"], inputs["W0"], inputs["grad_hidden"])
    return {"grad_x": grad_x, "grad_weight": grad_weight, "grad_bias": grad_bias}


def run_tanh_backward(module, inputs):
    y = np.tanh(inputs["x"] @ inputs["W0"] + inputs["b0"])
    return {"grad_x": module.tanh_backward(y, inputs["grad_hidden"])}


def run_linear_and_tanh_backward(module, inputs):
    return {**run_linear_backward(module, inputs), "tanh": run_tanh_backward(module, inputs)["grad_x"]}


def run_mlp_backward(module, inputs):
    params = {name: inputs[name] for name in ("W0", "b0", "W1", "b1")}
    x = inputs["x"]
    hidden = np.tanh(x @ params["W0"] + params["b0"])  # the grader's own forward, not the student's
    grads = module.mlp_backward({"x": x, "hidden": hidden}, params, inputs["grad_out"])
    return {name: np.asarray(grads[name]) for name in ("x", "W0", "b0", "W1", "b1")}


# ---------------------------------------------------------------------------- tasks 3 and 4
def build_coupling(module, inputs):
    scale_net, shift_net = nets_from(inputs)
    return module.CouplingLayer(int(inputs["dim"]), int(inputs["d"]), scale_net, shift_net)


def run_coupling_forward(module, inputs):
    z, log_det = build_coupling(module, inputs).forward(inputs["x"])
    return {"z": z, "log_det": log_det}


def run_coupling_inverse(module, inputs):
    x, log_det = build_coupling(module, inputs).inverse(inputs["z"])
    return {"x": x, "log_det": log_det}


def run_coupling_backward(module, inputs):
    layer = build_coupling(module, inputs)
    layer.zero_grad()
    layer.forward(inputs["x"])
    out = {"grad_x": layer.backward(inputs["grad_z"], inputs["grad_log_det"])}
    for name, grad in layer.grads.items():
        out["grad." + name] = grad.copy()
    return out


def run_coupling_backward_params(module, inputs):
    out = run_coupling_backward(module, inputs)
    del out["grad_x"]
    return out


def run_coupling_backward_after_inverse(module, inputs):
    """forward, then inverse on other points, then backward: the backward must use forward's data."""
    layer = build_coupling(module, inputs)
    layer.zero_grad()
    layer.forward(inputs["x"])
    layer.inverse(inputs["z"])
    return {"grad_x": layer.backward(inputs["grad_z"], inputs["grad_log_det"])}


# ---------------------------------------------------------------------------- task 5
def run_hidden_degrees(module, inputs):
    return {"d4_h7": np.asarray(module.hidden_degrees(7, 4)), "d2_h5": np.asarray(module.hidden_degrees(5, 2)),
            "d1_h3": np.asarray(module.hidden_degrees(3, 1))}


def run_hidden_mask(module, inputs):
    return {"mask": np.asarray(module.hidden_mask(inputs["degrees_in"], inputs["degrees_out"]), dtype=float)}


def run_output_mask(module, inputs):
    return {"mask": np.asarray(module.output_mask(inputs["degrees_in"], inputs["degrees_out"]), dtype=float)}


def run_masks(module, inputs):
    return {**run_hidden_mask(module, inputs), "out": run_output_mask(module, inputs)["mask"]}


def run_degrees_and_masks(module, inputs):
    return {**run_hidden_degrees(module, inputs), **run_masks(module, inputs)}


def run_made_masks(module, inputs):
    masks = module.made_masks(int(inputs["dim"]), [int(h) for h in inputs["hidden_sizes"]],
                              ordering=inputs["ordering"], n_params=2)
    return {f"mask{k}": np.asarray(mask, dtype=float) for k, mask in enumerate(masks)}


# ---------------------------------------------------------------------------- tasks 6 and 7
def run_maf_forward(module, inputs):
    z, log_det = module.maf_forward(inputs["x"], conditioner_from(inputs))
    return {"z": z, "log_det": log_det}


def run_maf_log_prob(module, inputs):
    return {"log_prob": module.maf_log_prob(inputs["x"], conditioner_from(inputs))}


def run_maf_inverse(module, inputs):
    x, log_det = module.maf_inverse(inputs["z"].copy(), conditioner_from(inputs))
    return {"x": x, "log_det": log_det}


def run_iaf_inverse(module, inputs):
    x, log_det = module.iaf_inverse(inputs["z"].copy(), conditioner_from(inputs))
    return {"x": x, "log_det": log_det}


def run_iaf_forward(module, inputs):
    z, log_det = module.iaf_forward(inputs["x"].copy(), conditioner_from(inputs))
    return {"z": z, "log_det": log_det}


def run_iaf_both(module, inputs):
    forward = {"fwd_" + key: value for key, value in run_iaf_forward(module, inputs).items()}
    return {**run_iaf_inverse(module, inputs), **forward}


def run_iaf_log_prob(module, inputs):
    return {"log_prob": module.iaf_log_prob(inputs["x"].copy(), conditioner_from(inputs))}


# ---------------------------------------------------------------------------- task 8
def run_nll_loss(module, inputs):
    loss, grad_z, grad_log_det = module.nll_loss(inputs["z"], inputs["log_det"])
    return {"loss": np.asarray(float(loss)), "grad_z": np.asarray(grad_z),
            "grad_log_det": np.asarray(grad_log_det)}


def run_adam_steps(module, inputs):
    params = {"w": inputs["w"].copy(), "b": inputs["b"].copy()}
    state, out = {}, {}
    for step in range(3):                              # three steps: the bias correction changes
        grads = {"w": inputs["grads_w"][step], "b": inputs["grads_b"][step]}
        module.adam_step(params, grads, state, lr=0.1)
        out[f"w{step}"], out[f"b{step}"] = params["w"].copy(), params["b"].copy()
    return out


def run_train(module, inputs):
    flow = build_moons_flow(int(inputs["model_seed"]))
    module.train(flow, inputs["train"].copy(), TRAIN_STEPS, TRAIN_BATCH, TRAIN_LR,
                 rng=np.random.default_rng(int(inputs["train_seed"])))
    return {"param." + name: np.array(value) for name, value in flow.params.items()}
