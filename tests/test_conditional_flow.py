"""Conditional flows (beyond the lecture): the flow's context gradient, sampling with a context,
save and load, training with contexts, the command line. The layers' contract with a context is in
tests/test_contract_conditional.py."""
import numpy as np
import pytest

from scratchflow.bijectors import ElementwiseAffine
from scratchflow.checks import relative_error
from scratchflow.cli import main
from scratchflow.cli.conditional import one_hot
from scratchflow.data import make_moons
from scratchflow.flow import Flow
from scratchflow.io import load_model, save_model
from scratchflow.models import build_model
from scratchflow.train import fit

FAMILIES = ["realnvp", "maf", "iaf", "nice", "nsf", "nsf-ar"]


def _flow(model, seed=0, context_dim=2, dim=3):
    """A small conditional flow of ``model`` with every parameter drawn (not the identity)."""
    flow = build_model({"model": model, "dim": dim, "n_layers": 2, "hidden": [5], "seed": seed,
                        "context_dim": context_dim})
    rng = np.random.default_rng(seed + 100)
    for array in flow.params.values():
        array += 0.3 * rng.standard_normal(array.shape)
    return flow


@pytest.mark.parametrize("model", FAMILIES)
def test_the_loss_gradient_with_respect_to_the_context_matches_finite_differences(model):
    flow = _flow(model)
    rng = np.random.default_rng(1)
    x, context = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    flow.loss_and_grad(x, context)
    analytic = flow.context_gradient()                                    # (6, 2)
    numeric, step = np.zeros_like(context), 1e-5
    for index in np.ndindex(context.shape):
        up, down = context.copy(), context.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (flow.loss(x, up) - flow.loss(x, down)) / (2 * step)
    assert relative_error(analytic, numeric, eps=1e-6) < 1e-6
    assert np.max(np.abs(analytic)) > 1e-4                                # not trivially zero


def test_without_a_context_nothing_changes_and_there_is_no_context_gradient():
    plain = build_model({"model": "realnvp", "dim": 2, "n_layers": 2, "hidden": [4], "seed": 3})
    assert plain.context_dim == 0 and "context_dim" not in plain.config
    x = np.random.default_rng(0).normal(size=(4, 2))
    plain.loss_and_grad(x)
    with pytest.raises(ValueError, match=r"not conditional \(context_dim=0\)"):
        plain.context_gradient()
    with pytest.raises(ValueError, match=r"is not conditional"):
        plain.log_prob(x, np.zeros((4, 2)))
    conditional = _flow("maf")
    with pytest.raises(RuntimeError, match=r"context_gradient\(\) called before"):
        conditional.context_gradient()
    with pytest.raises(ValueError, match=r"is conditional \(context_dim=2\)"):
        conditional.loss(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"is conditional"):               # reverse KL: no context
        conditional.reverse_kl_loss_and_grad(_Gaussian(), 8, rng=0)


class _Gaussian:
    dim = 3

    def log_prob(self, x):
        return -0.5 * np.sum(x * x, axis=1)

    def grad_log_prob(self, x):
        return -x


@pytest.mark.parametrize("model", ["realnvp", "maf"])
def test_sample_takes_one_context_per_sample_or_one_stated_context(model):
    flow = _flow(model)
    context = np.array([1.0, -0.5])
    one = flow.sample(4, rng=7, context=context)                          # (C,): for all four
    rows = flow.sample(4, rng=7, context=np.tile(context, (4, 1)))        # (4, C)
    np.testing.assert_array_equal(one, rows)
    other = flow.sample(4, rng=7, context=np.array([-1.0, 2.0]))
    assert np.max(np.abs(one - other)) > 1e-3                             # the context matters
    for bad, message in [(np.zeros((1, 2)), r"context has 1 rows but n=4"),
                         (np.zeros(3), r"a single context must have shape \(2,\)"),
                         (None, r"is conditional")]:
        with pytest.raises(ValueError, match=message):
            flow.sample(4, rng=0, context=bad)
    with pytest.raises(ValueError, match=r"is not conditional"):
        Flow([ElementwiseAffine(3)]).sample(2, rng=0, context=np.zeros((2, 1)))


@pytest.mark.parametrize("model", FAMILIES)
def test_a_saved_conditional_model_loads_with_its_context_dimension(model, tmp_path):
    flow = _flow(model, context_dim=3)
    path = save_model(flow, str(tmp_path / "model.npz"))
    loaded = load_model(path)
    assert loaded.context_dim == 3 and loaded.config["context_dim"] == 3
    rng = np.random.default_rng(2)
    x, context = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    np.testing.assert_array_equal(loaded.log_prob(x, context), flow.log_prob(x, context))


def test_a_conditional_flow_trains_on_two_moons_and_uses_the_moon():
    points, moon = make_moons(600, rng=0, return_labels=True)
    val, val_moon = make_moons(300, rng=1, return_labels=True)
    flow = build_model({"model": "realnvp", "dim": 2, "n_layers": 4, "hidden": [16], "seed": 0,
                        "context_dim": 2})
    history = fit(flow, points, val, steps=250, batch_size=100, lr=3e-3, seed=0, progress=False,
                  eval_every=50, context=one_hot(moon, 2), val_context=one_hot(val_moon, 2))
    assert history.best_val_loss < history.val_loss[0] - 0.3            # it learned
    right = flow.log_prob(val, one_hot(val_moon, 2))
    wrong = flow.log_prob(val, one_hot(1 - val_moon, 2))
    assert np.mean(right > wrong) > 0.8                                   # the label matters
    upper = flow.sample(500, rng=0, context=np.array([1.0, 0.0]))
    lower = flow.sample(500, rng=0, context=np.array([0.0, 1.0]))
    assert upper[:, 1].mean() > lower[:, 1].mean() + 0.5                  # moon 0 lies above


def test_fit_casts_float64_contexts_for_a_float32_flow_with_or_without_validation():
    """fit hands the flow its contexts in the flow's dtype (the flow itself refuses a float64
    context for float32 maths), for the training and the validation rows; no validation set,
    no validation context."""
    flow = build_model({"model": "realnvp", "dim": 3, "n_layers": 2, "hidden": [5], "seed": 0,
                        "context_dim": 2, "dtype": "float32"})
    rng = np.random.default_rng(0)
    points, val = rng.normal(size=(2, 20, 3)).astype(np.float32)
    context, val_context = rng.normal(size=(2, 20, 2))                    # float64
    with pytest.raises(TypeError, match="context has dtype float64"):
        flow.log_prob(val, val_context)
    history = fit(flow, points, val, steps=3, batch_size=10, seed=0, progress=False, eval_every=1,
                  context=context, val_context=val_context)
    assert history.stopped == "finished" and np.isfinite(history.val_loss).all()
    history = fit(flow, points, None, steps=3, batch_size=10, seed=0, progress=False, context=context)
    assert history.stopped == "finished" and len(history.train_loss) == 3 and not history.val_loss


def test_fit_refuses_missing_or_mismatched_contexts():
    points = np.random.default_rng(0).normal(size=(20, 3))
    conditional, plain = _flow("realnvp"), Flow([ElementwiseAffine(3)])
    for flow, options, message in [
        (conditional, {}, r"needs context exactly when data is given"),
        (conditional, {"context": np.zeros((19, 2))}, r"context has 19 rows but data has 20"),
        (conditional, {"context": np.zeros((20, 3))}, r"context has D=3 columns"),
        (plain, {"context": np.zeros((20, 2))}, r"the flow is not conditional"),
    ]:
        with pytest.raises(ValueError, match=message):
            fit(flow, points, steps=1, progress=False, **options)


def test_the_command_line_trains_a_conditional_flow_and_samples_a_class(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "moons", "--conditional", "--steps", "30", "--layers", "2",
                 "--hidden", "8", "--n-train", "200", "--n-val", "100", "--batch-size", "50",
                 "--no-progress", "--out", str(out)]) == 0
    assert (out / "conditional_samples.png").stat().st_size > 0
    assert load_model(str(out / "model.npz")).context_dim == 2
    samples = tmp_path / "upper.npy"
    assert main(["sample", "--model-file", str(out / "model.npz"), "--context", "0", "--n", "6",
                 "--out", str(samples)]) == 0
    assert np.load(samples).shape == (6, 2)
    capsys.readouterr()
    for argv, message in [
        (["sample", "--model-file", str(out / "model.npz"), "--out", str(samples)],
         "this model is conditional"),
        (["sample", "--model-file", str(out / "model.npz"), "--context", "2", "--out", str(samples)],
         "class 2 is not one of the model's classes 0..1"),
        (["train", "--data", "checkerboard", "--conditional", "--out", str(tmp_path / "x")],
         "needs a data set with classes"),
        (["train", "--model", "planar", "--conditional", "--out", str(tmp_path / "x")],
         "planar has no conditioner"),
    ]:
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2 and message in capsys.readouterr().err


def test_an_encoder_in_front_trains_through_the_context_gradient():
    """c = y W (a linear encoder of some side information y): dL/dW = yᵀ dL/dc, by the chain rule
    through Flow.context_gradient, matches finite differences of the loss in W."""
    flow = _flow("realnvp")
    rng = np.random.default_rng(3)
    x, side, weight = rng.normal(size=(5, 3)), rng.normal(size=(5, 4)), rng.normal(size=(4, 2))
    flow.loss_and_grad(x, side @ weight)
    analytic = side.T @ flow.context_gradient()                          # (4, 2)
    numeric, step = np.zeros_like(weight), 1e-5
    for index in np.ndindex(weight.shape):
        up, down = weight.copy(), weight.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (flow.loss(x, side @ up) - flow.loss(x, side @ down)) / (2 * step)
    assert relative_error(analytic, numeric, eps=1e-6) < 1e-6
