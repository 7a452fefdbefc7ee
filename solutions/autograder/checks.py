"""The grader's tests for Homework 4 (hidden: never copied into exercises/ or the student release).

Each :class:`~scratchflow.grading.spec.Check` says how to make inputs (in the grader, from a seeded
rng), how to run the student's module on them (in a sandboxed child process), and how to judge the
outputs (in the grader: against the reference solution run on the same inputs, or by ``evaluate``).
Public checks (``public=True``) use the homework's public seed and mirror the public tests in
``tests/``; hidden checks use the submission's seed.

Helpers here are the grader's own copies: a student's file never supplies the conditioner, the
networks or the model a check runs on.
"""
import numpy as np

from scratchflow.grading.spec import Check
from scratchflow.nn import MLP


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


def conditioner_inputs(rng, dim, hidden=6):
    """Random weights of an autoregressive conditioner (output d reads x_1..x_{d-1} only)."""
    unit_degree = np.arange(hidden * dim) % dim + 1
    mask_in = unit_degree[None, :] >= np.arange(1, dim + 1)[:, None] + 1
    mask_out = np.arange(1, dim + 1)[None, :] >= unit_degree[:, None]
    return {"cond_weight_in": rng.normal(size=(dim, hidden * dim)) * mask_in,
            "cond_bias_in": rng.normal(size=hidden * dim) * 0.5,
            "cond_weight_mu": rng.normal(size=(hidden * dim, dim)) * mask_out / np.sqrt(hidden),
            "cond_bias_mu": rng.normal(size=dim),
            "cond_weight_s": rng.normal(size=(hidden * dim, dim)) * mask_out / np.sqrt(hidden),
            "cond_bias_s": rng.normal(size=dim) * 0.5}


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


def coupling_inputs(dim, d, n=7):
    def make(rng):
        return {"dim": np.array(dim), "d": np.array(d), "net_seed": np.array(rng.integers(2 ** 31)),
                "x": rng.normal(size=(n, dim)), "z": rng.normal(size=(n, dim)),
                "grad_z": rng.normal(size=(n, dim)), "grad_log_det": rng.normal(size=n)}
    return make


def build_coupling(module, inputs):
    scale_net, shift_net = nets_from(inputs)
    return module.CouplingLayer(int(inputs["dim"]), int(inputs["d"]), scale_net, shift_net)


def run_coupling_forward(module, inputs):
    layer = build_coupling(module, inputs)
    z, log_det = layer.forward(inputs["x"])
    return {"z": z, "log_det": log_det}


def run_coupling_inverse(module, inputs):
    layer = build_coupling(module, inputs)
    x, log_det = layer.inverse(inputs["z"])
    return {"x": x, "log_det": log_det}


def run_coupling_backward(module, inputs, with_log_det=True):
    layer = build_coupling(module, inputs)
    layer.zero_grad()
    layer.forward(inputs["x"])
    grad_log_det = inputs["grad_log_det"] if with_log_det else np.zeros(len(inputs["x"]))
    grad_x = layer.backward(inputs["grad_z"], grad_log_det)
    out = {"grad_x": grad_x}
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


# ---------------------------------------------------------------------------- task 1
def grid_inputs(rng):
    return {"x": np.linspace(-3.0, 13.0, 33)}


def example2_inputs(n):
    def make(rng):
        return {"x": np.column_stack([rng.uniform(0.05, 6.0, n), rng.normal(0.0, 3.0, n)])}
    return make


def smooth_map_inputs(dim, n):
    def make(rng):
        return {"x": rng.normal(size=(n, dim)), "A": np.eye(dim) + 0.3 * rng.normal(size=(dim, dim)),
                "B": 0.5 * rng.normal(size=(dim, dim))}
    return make


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
def mlp_inputs(n, d_in, hidden, d_out):
    def make(rng):
        return {"x": rng.normal(size=(n, d_in)), "W0": rng.normal(size=(d_in, hidden)),
                "b0": rng.normal(size=hidden), "W1": rng.normal(size=(hidden, d_out)),
                "b1": rng.normal(size=d_out), "grad_out": rng.normal(size=(n, d_out)),
                "grad_hidden": rng.normal(size=(n, hidden))}
    return make


def run_linear_backward(module, inputs):
    grad_x, grad_weight, grad_bias = module.linear_backward(inputs["x"], inputs["W0"], inputs["grad_hidden"])
    return {"grad_x": grad_x, "grad_weight": grad_weight, "grad_bias": grad_bias}


def run_tanh_backward(module, inputs):
    y = np.tanh(inputs["x"] @ inputs["W0"] + inputs["b0"])
    return {"grad_x": module.tanh_backward(y, inputs["grad_hidden"])}


def run_mlp_backward(module, inputs):
    params = {name: inputs[name] for name in ("W0", "b0", "W1", "b1")}
    x = inputs["x"]
    hidden = np.tanh(x @ params["W0"] + params["b0"])  # the grader's own forward, not the student's
    grads = module.mlp_backward({"x": x, "hidden": hidden}, params, inputs["grad_out"])
    return {name: np.asarray(grads[name]) for name in ("x", "W0", "b0", "W1", "b1")}


# ---------------------------------------------------------------------------- task 5
def degrees_inputs(rng):
    return {"degrees_in": np.array([1, 2, 3, 1, 2]), "degrees_out": np.array([3, 1, 2, 2])}


def random_degrees_inputs(rng):
    return {"degrees_in": rng.integers(1, 6, size=9), "degrees_out": rng.integers(1, 6, size=7)}


def run_hidden_degrees(module, inputs):
    return {"d4_h7": np.asarray(module.hidden_degrees(7, 4)), "d2_h5": np.asarray(module.hidden_degrees(5, 2)),
            "d1_h3": np.asarray(module.hidden_degrees(3, 1))}


def run_hidden_mask(module, inputs):
    return {"mask": np.asarray(module.hidden_mask(inputs["degrees_in"], inputs["degrees_out"]), dtype=float)}


def run_output_mask(module, inputs):
    return {"mask": np.asarray(module.output_mask(inputs["degrees_in"], inputs["degrees_out"]), dtype=float)}


def made_inputs(dim, hidden_sizes, shuffle):
    def make(rng):
        ordering = rng.permutation(dim) + 1 if shuffle else np.arange(1, dim + 1)
        return {"dim": np.array(dim), "hidden_sizes": np.array(hidden_sizes), "ordering": ordering}
    return make


def run_made_masks(module, inputs):
    masks = module.made_masks(int(inputs["dim"]), [int(h) for h in inputs["hidden_sizes"]],
                              ordering=inputs["ordering"], n_params=2)
    return {f"mask{k}": np.asarray(mask, dtype=float) for k, mask in enumerate(masks)}


def evaluate_autoregressive(outputs, inputs, reference):
    """The masks must match the reference and make output j blind to inputs of degree >= its own."""
    keys = sorted(reference, key=lambda k: int(k[4:]))
    if sorted(outputs) != sorted(reference):
        return False, f"expected {len(keys)} masks, got {len(outputs)}"
    connection = np.eye(int(inputs["dim"]))
    for key in keys:
        if outputs[key].shape != reference[key].shape:
            return False, f"{key}: shape {outputs[key].shape}, expected {reference[key].shape}"
        connection = connection @ (outputs[key] != 0)
    ordering = inputs["ordering"]
    out_degrees = np.tile(ordering, 2)
    leaks = (connection > 0) & (out_degrees[None, :] <= ordering[:, None])
    if leaks.any():
        i, j = np.argwhere(leaks)[0]
        return False, (f"not autoregressive: output {j} (degree {out_degrees[j]}) is connected to input "
                       f"{i} (degree {ordering[i]}); the output layer needs a strict '>'")
    for key in keys:
        if not np.array_equal(outputs[key], reference[key]):
            wrong = int(np.sum(outputs[key] != reference[key]))
            return False, f"{key}: {wrong} entries differ from the masks the degrees define"
    return True, "masks match the degrees and are autoregressive"


# ---------------------------------------------------------------------------- tasks 6 and 7
def flow_inputs(dim, n):
    def make(rng):
        out = conditioner_inputs(rng, dim)
        out.update({"x": rng.normal(size=(n, dim)) * 1.5, "z": rng.normal(size=(n, dim))})
        return out
    return make


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


def run_iaf_log_prob(module, inputs):
    return {"log_prob": module.iaf_log_prob(inputs["x"].copy(), conditioner_from(inputs))}


# ---------------------------------------------------------------------------- task 8
TRAIN_STEPS, TRAIN_BATCH, TRAIN_LR, TARGET_NLL = 300, 256, 1e-2, 1.6


def loss_inputs(rng):
    return {"z": rng.normal(size=(6, 3)), "log_det": rng.normal(size=6)}


def run_nll_loss(module, inputs):
    loss, grad_z, grad_log_det = module.nll_loss(inputs["z"], inputs["log_det"])
    return {"loss": np.asarray(float(loss)), "grad_z": np.asarray(grad_z),
            "grad_log_det": np.asarray(grad_log_det)}


def adam_inputs(rng):
    return {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2),
            "grads_w": rng.normal(size=(3, 3, 2)), "grads_b": rng.normal(size=(3, 2))}


def run_adam_steps(module, inputs):
    params = {"w": inputs["w"].copy(), "b": inputs["b"].copy()}
    state = {}
    out = {}
    for step in range(3):                              # three steps: the bias correction changes
        grads = {"w": inputs["grads_w"][step], "b": inputs["grads_b"][step]}
        module.adam_step(params, grads, state, lr=0.1)
        out[f"w{step}"], out[f"b{step}"] = params["w"].copy(), params["b"].copy()
    return out


def build_moons_flow(seed):
    """The grader's Real-NVP for two moons: four of the package's own coupling layers, alternating
    masks. Never the student's coupling, and never the homework's solution either: this file and
    everything the child imports can be read by student code, and the package is public anyway."""
    from scratchflow.bijectors.compose import Compose
    from scratchflow.bijectors.coupling import AffineCoupling

    rng = np.random.default_rng(seed)
    return Compose([AffineCoupling(2, [1, 0] if k % 2 == 0 else [0, 1], hidden=(32, 32), rng=rng)
                    for k in range(4)])


def moons_inputs(rng):
    from scratchflow.data import load_dataset
    return {"train": load_dataset("moons", 2048, rng.integers(2 ** 31)),
            "_valid": load_dataset("moons", 2048, rng.integers(2 ** 31)),      # never sent to the child
            "model_seed": np.array(rng.integers(2 ** 31)), "train_seed": np.array(rng.integers(2 ** 31))}


def run_train(module, inputs):
    flow = build_moons_flow(int(inputs["model_seed"]))
    module.train(flow, inputs["train"].copy(), TRAIN_STEPS, TRAIN_BATCH, TRAIN_LR,
                 rng=np.random.default_rng(int(inputs["train_seed"])))
    return {"param." + name: np.array(value) for name, value in flow.params.items()}


def evaluate_train(outputs, inputs, reference):
    """Load the trained parameters into the grader's own flow and compute the validation NLL."""
    flow = build_moons_flow(int(inputs["model_seed"]))
    params = flow.params
    expected = {"param." + name for name in params}
    if set(outputs) != expected:
        return False, "the trained model's parameters are missing or renamed"
    for name, array in params.items():
        value = outputs["param." + name]
        if value.shape != array.shape or not np.all(np.isfinite(value)):
            return False, f"parameter {name}: shape {value.shape} or non-finite values after training"
        array[...] = value
    z, log_det = flow.forward(inputs["_valid"])
    nll = float(-np.mean(-0.5 * (2 * np.log(2 * np.pi) + np.sum(z * z, axis=1)) + log_det))
    if not np.isfinite(nll):
        return False, "validation NLL is not finite"
    verdict = "reached" if nll < TARGET_NLL else "did not reach"
    return nll < TARGET_NLL, f"validation NLL {nll:.3f} nats: {verdict} the target {TARGET_NLL}"


# ---------------------------------------------------------------------------- the list
T1, T2, T3, T4, T5, T6, T7, T8 = ("change_of_variables", "mlp_backward", "coupling", "coupling_backward",
                                  "made_masks", "maf", "iaf", "training")

CHECKS = [
    # Task 1 (10 points)
    Check(T1, "example1_density on a grid equals N(5, 2^2)", 2, True, grid_inputs,
          lambda m, i: {"density": m.example1_density(i["x"])}, rtol=1e-8, atol=1e-12),
    Check(T1, "example2_density at fixed points", 2, True, example2_inputs(12),
          lambda m, i: {"density": m.example2_density(i["x"])}, rtol=1e-8, atol=1e-12),
    Check(T1, "numerical_log_abs_det of Example 2's map", 2, True, example2_inputs(10),
          run_example2_log_abs_det, rtol=1e-5, atol=1e-6),
    Check(T1, "example1_density and example2_density at random points", 2, False,
          lambda rng: {"x1": rng.normal(5.0, 4.0, 50), "x2": example2_inputs(40)(rng)["x"]},
          lambda m, i: {"d1": m.example1_density(i["x1"]), "d2": m.example2_density(i["x2"])},
          rtol=1e-8, atol=1e-12),
    Check(T1, "numerical_log_abs_det of a 3-D nonlinear map", 2, False, smooth_map_inputs(3, 20),
          run_numerical_log_abs_det, rtol=1e-5, atol=1e-6),
    # Task 2 (12 points)
    Check(T2, "linear_backward: grad_x, grad_weight, grad_bias", 3, True, mlp_inputs(5, 3, 4, 2),
          run_linear_backward),
    Check(T2, "tanh_backward", 2, True, mlp_inputs(5, 3, 4, 2), run_tanh_backward),
    Check(T2, "mlp_backward: every gradient", 3, True, mlp_inputs(5, 3, 4, 2), run_mlp_backward),
    Check(T2, "linear_backward and tanh_backward at random sizes", 2, False, mlp_inputs(11, 6, 9, 4),
          lambda m, i: {**run_linear_backward(m, i), **{"tanh": run_tanh_backward(m, i)["grad_x"]}}),
    Check(T2, "mlp_backward at random sizes", 2, False, mlp_inputs(13, 5, 10, 3), run_mlp_backward),
    # Task 3 (15 points)
    Check(T3, "forward: z and log_det (D=2, d=1)", 4, True, coupling_inputs(2, 1), run_coupling_forward),
    Check(T3, "inverse: x and log_det (D=2, d=1)", 4, True, coupling_inputs(2, 1), run_coupling_inverse),
    Check(T3, "forward at random points (D=5, d=2)", 4, False, coupling_inputs(5, 2), run_coupling_forward),
    Check(T3, "inverse at random points (D=5, d=3)", 3, False, coupling_inputs(5, 3), run_coupling_inverse),
    # Task 4 (13 points)
    Check(T4, "backward: grad_x (D=2, d=1)", 4, True, coupling_inputs(2, 1), run_coupling_backward),
    Check(T4, "backward: parameter gradients of s and t (D=3, d=1)", 3, True, coupling_inputs(3, 1),
          run_coupling_backward_params),
    Check(T4, "backward at random points (D=5, d=2)", 3, False, coupling_inputs(5, 2), run_coupling_backward),
    Check(T4, "backward after an inverse call uses forward's data (D=4, d=2)", 3, False,
          coupling_inputs(4, 2), run_coupling_backward_after_inverse),
    # Task 5 (10 points)
    Check(T5, "hidden_degrees, hidden_mask and output_mask on a worked example", 5, True, degrees_inputs,
          lambda m, i: {**run_hidden_degrees(m, i), **run_hidden_mask(m, i), "out": run_output_mask(m, i)["mask"]},
          rtol=0, atol=0),
    Check(T5, "made_masks: autoregressive (D=3, hidden [6, 6])", 2, True, made_inputs(3, [6, 6], False),
          run_made_masks, evaluate=evaluate_autoregressive),
    Check(T5, "masks for random degrees", 1, False, random_degrees_inputs,
          lambda m, i: {**run_hidden_mask(m, i), "out": run_output_mask(m, i)["mask"]}, rtol=0, atol=0),
    Check(T5, "made_masks: autoregressive under a random ordering (D=5, hidden [9, 7])", 2, False,
          made_inputs(5, [9, 7], True), run_made_masks, evaluate=evaluate_autoregressive),
    # Task 6 (15 points)
    Check(T6, "maf_forward: z and log_det (D=2)", 4, True, flow_inputs(2, 8), run_maf_forward),
    Check(T6, "maf_log_prob (D=2)", 3, True, flow_inputs(2, 8), run_maf_log_prob),
    Check(T6, "maf_inverse: sequential sampling from noise (D=3)", 4, True, flow_inputs(3, 8), run_maf_inverse),
    Check(T6, "maf_log_prob at random points (D=4)", 2, False, flow_inputs(4, 15), run_maf_log_prob),
    Check(T6, "maf_inverse at random noise (D=5)", 2, False, flow_inputs(5, 15), run_maf_inverse),
    # Task 7 (10 points)
    Check(T7, "iaf_inverse: sampling from noise in one pass (D=2)", 3, True, flow_inputs(2, 8), run_iaf_inverse),
    Check(T7, "iaf_forward: sequential density direction (D=3)", 3, True, flow_inputs(3, 8), run_iaf_forward),
    Check(T7, "iaf_log_prob at random points (D=4)", 2, False, flow_inputs(4, 15), run_iaf_log_prob),
    Check(T7, "iaf_inverse and iaf_forward at random points (D=5)", 2, False, flow_inputs(5, 15),
          lambda m, i: {**run_iaf_inverse(m, i), **{"fwd_" + k: v for k, v in run_iaf_forward(m, i).items()}}),
    # Task 8 (15 points)
    Check(T8, "nll_loss: value and gradients", 4, True, loss_inputs, run_nll_loss),
    Check(T8, "adam_step: three steps by hand", 4, True, adam_inputs, run_adam_steps),
    Check(T8, "nll_loss at random points", 1, False, loss_inputs, run_nll_loss),
    Check(T8, f"train: two moons reach validation NLL < {TARGET_NLL}", 6, True, moons_inputs, run_train,
          evaluate=evaluate_train, needs_reference=False),
]
