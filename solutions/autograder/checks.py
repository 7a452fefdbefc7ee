"""The grader's tests for Homework 4 (hidden: never copied into exercises/, the student release, or
any process that runs student code).

Each :class:`~scratchflow.grading.spec.Check` says how to make inputs (in the grader, from a seeded
rng), which runner of ``runners.py`` calls the student's module on them (in the child process, the
only part that goes there), and how to judge the outputs (in the grader: against the same runner on
the reference solution, or by ``evaluate``). Public checks (``public=True``) use the homework's
public seed and mirror the public tests in ``tests/``; hidden checks use the submission's seed.

The grader loads ``runners.py`` as ``_grader_runners`` before this file.
"""
import numpy as np

import _grader_runners as runners
from scratchflow.grading.spec import Check
from scratchflow.data import load_dataset

TARGET_NLL = 1.6


# ---------------------------------------------------------------------------- inputs
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


def coupling_inputs(dim, d, n=7):
    def make(rng):
        return {"dim": np.array(dim), "d": np.array(d), "net_seed": np.array(rng.integers(2 ** 31)),
                "x": rng.normal(size=(n, dim)), "z": rng.normal(size=(n, dim)),
                "grad_z": rng.normal(size=(n, dim)), "grad_log_det": rng.normal(size=n)}
    return make


def grid_inputs(rng):
    return {"x": np.linspace(-3.0, 13.0, 33)}


def example2_inputs(n):
    def make(rng):
        return {"x": np.column_stack([rng.uniform(0.05, 6.0, n), rng.normal(0.0, 3.0, n)])}
    return make


def both_densities_inputs(rng):
    return {"x1": rng.normal(5.0, 4.0, 50), "x2": example2_inputs(40)(rng)["x"]}


def smooth_map_inputs(dim, n):
    def make(rng):
        return {"x": rng.normal(size=(n, dim)), "A": np.eye(dim) + 0.3 * rng.normal(size=(dim, dim)),
                "B": 0.5 * rng.normal(size=(dim, dim))}
    return make


def mlp_inputs(n, d_in, hidden, d_out):
    def make(rng):
        return {"x": rng.normal(size=(n, d_in)), "W0": rng.normal(size=(d_in, hidden)),
                "b0": rng.normal(size=hidden), "W1": rng.normal(size=(hidden, d_out)),
                "b1": rng.normal(size=d_out), "grad_out": rng.normal(size=(n, d_out)),
                "grad_hidden": rng.normal(size=(n, hidden))}
    return make


def degrees_inputs(rng):
    return {"degrees_in": np.array([1, 2, 3, 1, 2]), "degrees_out": np.array([3, 1, 2, 2])}


def random_degrees_inputs(rng):
    return {"degrees_in": rng.integers(1, 6, size=9), "degrees_out": rng.integers(1, 6, size=7)}


def made_inputs(dim, hidden_sizes, shuffle):
    def make(rng):
        ordering = rng.permutation(dim) + 1 if shuffle else np.arange(1, dim + 1)
        return {"dim": np.array(dim), "hidden_sizes": np.array(hidden_sizes), "ordering": ordering}
    return make


def flow_inputs(dim, n):
    def make(rng):
        out = conditioner_inputs(rng, dim)
        out.update({"x": rng.normal(size=(n, dim)) * 1.5, "z": rng.normal(size=(n, dim))})
        return out
    return make


def loss_inputs(rng):
    return {"z": rng.normal(size=(6, 3)), "log_det": rng.normal(size=6)}


def adam_inputs(rng):
    return {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2),
            "grads_w": rng.normal(size=(3, 3, 2)), "grads_b": rng.normal(size=(3, 2))}


def moons_inputs(rng):
    return {"train": load_dataset("moons", 2048, rng.integers(2 ** 31)),
            "_valid": load_dataset("moons", 2048, rng.integers(2 ** 31)),      # never sent to the child
            "model_seed": np.array(rng.integers(2 ** 31)), "train_seed": np.array(rng.integers(2 ** 31))}


# ---------------------------------------------------------------------------- verdicts
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


def evaluate_train(outputs, inputs, reference):
    """Load the trained parameters into the grader's own flow and compute the validation NLL."""
    flow = runners.build_moons_flow(int(inputs["model_seed"]))
    params = flow.params
    if set(outputs) != {"param." + name for name in params}:
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
R = runners
EXACT = {"rtol": 1e-8, "atol": 1e-12}

CHECKS = [
    # Task 1 (10 points)
    Check(T1, "example1_density on a grid equals N(5, 2^2)", 2, True, grid_inputs, R.run_example1_density, **EXACT),
    Check(T1, "example2_density at fixed points", 2, True, example2_inputs(12), R.run_example2_density, **EXACT),
    Check(T1, "numerical_log_abs_det of Example 2's map", 2, True, example2_inputs(10),
          R.run_example2_log_abs_det, rtol=1e-5, atol=1e-6),
    Check(T1, "example1_density and example2_density at random points", 2, False, both_densities_inputs,
          R.run_both_densities, **EXACT),
    Check(T1, "numerical_log_abs_det of a 3-D nonlinear map", 2, False, smooth_map_inputs(3, 20),
          R.run_numerical_log_abs_det, rtol=1e-5, atol=1e-6),
    # Task 2 (12 points)
    Check(T2, "linear_backward: grad_x, grad_weight, grad_bias", 3, True, mlp_inputs(5, 3, 4, 2),
          R.run_linear_backward),
    Check(T2, "tanh_backward", 2, True, mlp_inputs(5, 3, 4, 2), R.run_tanh_backward),
    Check(T2, "mlp_backward: every gradient", 3, True, mlp_inputs(5, 3, 4, 2), R.run_mlp_backward),
    Check(T2, "linear_backward and tanh_backward at random sizes", 2, False, mlp_inputs(11, 6, 9, 4),
          R.run_linear_and_tanh_backward),
    Check(T2, "mlp_backward at random sizes", 2, False, mlp_inputs(13, 5, 10, 3), R.run_mlp_backward),
    # Task 3 (15 points)
    Check(T3, "forward: z and log_det (D=2, d=1)", 4, True, coupling_inputs(2, 1), R.run_coupling_forward),
    Check(T3, "inverse: x and log_det (D=2, d=1)", 4, True, coupling_inputs(2, 1), R.run_coupling_inverse),
    Check(T3, "forward at random points (D=5, d=2)", 4, False, coupling_inputs(5, 2), R.run_coupling_forward),
    Check(T3, "inverse at random points (D=5, d=3)", 3, False, coupling_inputs(5, 3), R.run_coupling_inverse),
    # Task 4 (13 points)
    Check(T4, "backward: grad_x (D=2, d=1)", 4, True, coupling_inputs(2, 1), R.run_coupling_backward),
    Check(T4, "backward: parameter gradients of s and t (D=3, d=1)", 3, True, coupling_inputs(3, 1),
          R.run_coupling_backward_params),
    Check(T4, "backward at random points (D=5, d=2)", 3, False, coupling_inputs(5, 2), R.run_coupling_backward),
    Check(T4, "backward after an inverse call uses forward's data (D=4, d=2)", 3, False,
          coupling_inputs(4, 2), R.run_coupling_backward_after_inverse),
    # Task 5 (10 points)
    Check(T5, "hidden_degrees, hidden_mask and output_mask on a worked example", 5, True, degrees_inputs,
          R.run_degrees_and_masks, rtol=0, atol=0),
    Check(T5, "made_masks: autoregressive (D=3, hidden [6, 6])", 2, True, made_inputs(3, [6, 6], False),
          R.run_made_masks, evaluate=evaluate_autoregressive),
    Check(T5, "masks for random degrees", 1, False, random_degrees_inputs, R.run_masks, rtol=0, atol=0),
    Check(T5, "made_masks: autoregressive under a random ordering (D=5, hidden [9, 7])", 2, False,
          made_inputs(5, [9, 7], True), R.run_made_masks, evaluate=evaluate_autoregressive),
    # Task 6 (15 points)
    Check(T6, "maf_forward: z and log_det (D=2)", 4, True, flow_inputs(2, 8), R.run_maf_forward),
    Check(T6, "maf_log_prob (D=2)", 3, True, flow_inputs(2, 8), R.run_maf_log_prob),
    Check(T6, "maf_inverse: sequential sampling from noise (D=3)", 4, True, flow_inputs(3, 8), R.run_maf_inverse),
    Check(T6, "maf_log_prob at random points (D=4)", 2, False, flow_inputs(4, 15), R.run_maf_log_prob),
    Check(T6, "maf_inverse at random noise (D=5)", 2, False, flow_inputs(5, 15), R.run_maf_inverse),
    # Task 7 (10 points)
    Check(T7, "iaf_inverse: sampling from noise in one pass (D=2)", 3, True, flow_inputs(2, 8), R.run_iaf_inverse),
    Check(T7, "iaf_forward: sequential density direction (D=3)", 3, True, flow_inputs(3, 8), R.run_iaf_forward),
    Check(T7, "iaf_log_prob at random points (D=4)", 2, False, flow_inputs(4, 15), R.run_iaf_log_prob),
    Check(T7, "iaf_inverse and iaf_forward at random points (D=5)", 2, False, flow_inputs(5, 15), R.run_iaf_both),
    # Task 8 (15 points)
    Check(T8, "nll_loss: value and gradients", 4, True, loss_inputs, R.run_nll_loss),
    Check(T8, "adam_step: three steps by hand", 4, True, adam_inputs, R.run_adam_steps),
    Check(T8, "nll_loss at random points", 1, False, loss_inputs, R.run_nll_loss),
    Check(T8, f"train: two moons reach validation NLL < {TARGET_NLL}", 6, True, moons_inputs, R.run_train,
          evaluate=evaluate_train, needs_reference=False),
]
