"""The rational-quadratic spline beyond the contract suite: tails, edges, extreme parameters, no NaN.

The layers' gradients are checked by tests/test_contract.py; here the spline functions themselves
meet finite differences, the knots and ±B, inputs of 1e6, all-tail batches and unnormalised
parameters far outside any trained range, in both directions.
"""
import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scratchflow.bijectors import SplineAutoregressive, SplineCoupling
from scratchflow.bijectors.spline import (rq_backward, rq_forward, rq_inverse,
                                          rq_inverse_backward)
from scratchflow.bijectors.spline_knots import make_knots
from scratchflow.checks import check_bijector, numerical_jacobian
from scratchflow.cli import main
from scratchflow.data import load_dataset
from scratchflow.io import load_model, save_model
from scratchflow.models import build_model, build_realnvp
from scratchflow.nn.made_outputs import MADEOutputs
from scratchflow.optim import Adam
from scratchflow.plotting import learned_spline, plot_learned_spline

BOUND = 2.0


def _all_passes(x, unnormalised, bound=BOUND):
    """Forward, inverse of its output, and both gradient passes with random upstream gradients."""
    knots = make_knots(unnormalised, bound)
    y, log_det, cache = rq_forward(x, knots)
    x_back, log_det_back, inverse_cache = rq_inverse(y, knots)
    rng = np.random.default_rng(0)
    grad_y, grad_log_det = rng.normal(size=x.shape), rng.normal(size=x.shape)
    grad_x, grad_params = rq_backward(cache, grad_y, grad_log_det)
    grad_y_inv, grad_params_inv = rq_inverse_backward(inverse_cache, grad_y, grad_log_det)
    return dict(y=y, log_det=log_det, x_back=x_back, log_det_back=log_det_back, grad_x=grad_x,
                grad_params=grad_params, grad_y_inv=grad_y_inv, grad_params_inv=grad_params_inv)


def _assert_finite(out):
    for name, value in out.items():
        assert np.isfinite(value).all(), f"{name} has NaN or inf"


def _assert_tails_identity(x, out, bound=BOUND):
    tail = np.abs(x) >= bound
    assert np.array_equal(out["y"][tail], x[tail]) and np.array_equal(out["x_back"][tail], x[tail])
    assert not out["log_det"][tail].any() and not out["log_det_back"][tail].any()
    assert not out["grad_params"][tail].any() and not out["grad_params_inv"][tail].any()


interval_and_tails = st.one_of(
    st.floats(-1.5 * BOUND, 1.5 * BOUND),
    st.sampled_from([-BOUND, BOUND, -1e6, 1e6, 0.0, np.nextafter(BOUND, 0), -np.nextafter(BOUND, 0)]),
    st.floats(-1e8, 1e8))


@given(x=arrays(np.float64, 6, elements=interval_and_tails),
       params=arrays(np.float64, (6, 11), elements=st.floats(-60, 60)))
def test_never_nan_and_tails_are_the_identity(x, params):
    """K = 4: every input anywhere, every unnormalised parameter in [−60, 60] (softmax ratios of
    e^120, slopes from 1e-3 to 60): finite everywhere, identity tails with zero parameter
    gradients, and y -> x -> y back (x -> y -> x too, where dy/dx is not below 1e-3)."""
    out = _all_passes(x, params)
    _assert_finite(out)
    _assert_tails_identity(x, out)
    y_again = rq_forward(out["x_back"], make_knots(params, BOUND))[0]   # y -> x -> y: well posed
    assert np.all(np.abs(y_again - out["y"]) <= 1e-12 * np.maximum(1.0, np.abs(out["y"])))
    # x -> y -> x loses ~1e-16 / (dy/dx) to round-off: compare where the map is not nearly flat
    steep = out["log_det"] > np.log(1e-3)
    assert np.all(np.abs(out["x_back"] - x)[steep] <= 1e-9 * np.maximum(1.0, np.abs(x[steep])))
    assert np.all(np.abs(out["log_det"] + out["log_det_back"])[steep] <= 1e-8)


@pytest.mark.parametrize("scale", [1e3, 1e6, 1e12])
def test_extreme_parameters_stay_finite(scale):
    """Unnormalised parameters at ±scale, one pattern per spline: finite, still increasing."""
    x = np.linspace(-1.2 * BOUND, 1.2 * BOUND, 201)                  # (201,), knots among them
    for seed in range(5):
        pattern = scale * np.random.default_rng(seed).choice([-1.0, 1.0], size=(1, 11))
        out = _all_passes(x, np.repeat(pattern, x.size, axis=0))     # (201, 11): one spline
        _assert_finite(out)
        _assert_tails_identity(x, out)
        assert np.all(np.diff(out["y"]) >= 0)


def test_knots_and_ends_map_exactly():
    rng = np.random.default_rng(2)
    params = rng.normal(size=(1, 17))                                # K = 6
    knots = make_knots(params, BOUND)
    x = knots.x_knots[0]                                             # (7,) −B, interior knots, B
    y, log_det, _ = rq_forward(x, make_knots(np.repeat(params, 7, axis=0), BOUND))
    np.testing.assert_allclose(y, knots.y_knots[0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(log_det, np.log(knots.slopes[0]), rtol=0, atol=1e-12)
    out = _all_passes(x, np.repeat(params, 7, axis=0))
    _assert_finite(out)
    _assert_tails_identity(x, out)                                   # ±B are tail points


def test_the_spline_passes_through_its_interior_knots_exactly_both_ways():
    """A point on knot k is in the bin that starts there (ξ = 0): y = y_k exactly, and the inverse
    of y_k is x_k exactly (in the bin that ends there, ξ = 1 would give y_{k−1} + h, off by an ulp)."""
    params = np.random.default_rng(2).normal(size=(200, 17))         # K = 6, 200 coordinates
    knots = make_knots(params, BOUND)
    repeated = make_knots(np.repeat(params, 5, axis=0), BOUND)       # one row per interior knot
    x_knots, y_knots = knots.x_knots[:, 1:-1].ravel(), knots.y_knots[:, 1:-1].ravel()   # (1000,)
    np.testing.assert_array_equal(rq_forward(x_knots, repeated)[0], y_knots)
    np.testing.assert_array_equal(rq_inverse(y_knots, repeated)[0], x_knots)


def test_default_minimums_keep_every_bin_and_slope_at_least_a_thousandth():
    """m_w = m_h = m_δ = 1e-3 by default (spline_knots' doc): a bin whose logit is far below the
    others keeps width (height) 2B·1e-3, a slope whose input is far negative keeps 1e-3."""
    n_bins = 4
    params = np.zeros((1, 3 * n_bins - 1))
    params[0, 0] = params[0, n_bins] = -60.0                         # first bin: width, height
    params[0, 2 * n_bins] = -800.0                                   # first interior slope
    knots = make_knots(params, BOUND)
    np.testing.assert_allclose(np.diff(knots.x_knots[0])[0], 2 * BOUND * 1e-3, rtol=1e-9)
    np.testing.assert_allclose(np.diff(knots.y_knots[0])[0], 2 * BOUND * 1e-3, rtol=1e-9)
    np.testing.assert_allclose(knots.slopes[0, 1], 1e-3, rtol=1e-9)
    for layer in (SplineCoupling(2, [1, 0]), SplineAutoregressive(2)):
        assert (layer.min_width, layer.min_height, layer.min_slope) == (1e-3, 1e-3, 1e-3)


def test_all_tail_batch():
    params = np.random.default_rng(3).normal(size=(5, 11))
    x = np.array([-1e6, -BOUND, BOUND, 3.0, 1e6])
    out = _all_passes(x, params)
    _assert_tails_identity(x, out)
    np.testing.assert_array_equal(out["grad_x"], np.random.default_rng(0).normal(size=5))


def test_zero_parameters_give_the_identity():
    x = np.linspace(-3, 3, 13)
    y, log_det, _ = rq_forward(x, make_knots(np.zeros((13, 11)), BOUND))
    np.testing.assert_allclose(y, x, atol=1e-14)
    np.testing.assert_allclose(log_det, 0, atol=1e-14)


def _central(fn, array, step=1e-6):
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        plus, minus = array.copy(), array.copy()
        plus[index] += step
        minus[index] -= step
        grad[index] = (fn(plus) - fn(minus)) / (2 * step)
    return grad


@pytest.mark.parametrize("direction", ["forward", "inverse"])
def test_gradients_match_finite_differences(direction):
    """Both passes against central differences, in the unnormalised widths, heights and slopes."""
    rng = np.random.default_rng(4)
    params = rng.normal(size=(12, 14))                               # K = 5
    values = rng.uniform(-2.5, 2.5, 12)                              # some in the tails
    grad_out, grad_log_det = rng.normal(size=12), rng.normal(size=12)
    run, backward = (rq_forward, rq_backward) if direction == "forward" else (rq_inverse,
                                                                             rq_inverse_backward)

    def loss(v, p):
        out, log_det, _ = run(v, make_knots(p, BOUND))
        return grad_out @ out + grad_log_det @ log_det

    grad_values, grad_params = backward(run(values, make_knots(params, BOUND))[2], grad_out,
                                        grad_log_det)
    np.testing.assert_allclose(grad_values, _central(lambda v: loss(v, params), values),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grad_params, _central(lambda p: loss(values, p), params),
                               rtol=1e-6, atol=1e-7)


def test_log_det_is_the_log_derivative():
    rng = np.random.default_rng(5)
    params = rng.normal(size=(50, 11))
    x = rng.uniform(-1.9, 1.9, 50)
    knots = make_knots(params, BOUND)
    y, log_det, _ = rq_forward(x, knots)
    slope = (rq_forward(x + 1e-6, knots)[0] - rq_forward(x - 1e-6, knots)[0]) / 2e-6
    np.testing.assert_allclose(log_det, np.log(slope), atol=1e-7)
    assert np.all(slope > 0)


@pytest.mark.parametrize("cls", [SplineCoupling, SplineAutoregressive])
def test_layers_start_as_identity_and_pass_through_tails(cls):
    layer = (SplineCoupling(3, [1, 0, 0], bins=4, bound=2.0, hidden=(8,), rng=0) if cls is SplineCoupling
             else SplineAutoregressive(3, bins=4, bound=2.0, hidden=(8,), rng=0))
    x = np.random.default_rng(6).uniform(-3, 3, (7, 3))
    z, log_det = layer.forward(x)
    np.testing.assert_allclose(z, x, atol=1e-13)
    np.testing.assert_allclose(log_det, 0, atol=1e-13)
    for name, value in layer.params.items():                         # not the identity any more
        value[:] = np.random.default_rng(7).normal(size=value.shape)
    tails = np.array([[5.0, -1e6, 1e6], [-2.0, 2.0, 3.0]])          # every coordinate at or past ±B
    z, log_det = layer.forward(tails)
    np.testing.assert_array_equal(z, tails)
    np.testing.assert_array_equal(log_det, 0)
    layer.zero_grad()
    grad_x = layer.backward(np.ones_like(tails), np.ones(2))
    assert np.isfinite(grad_x).all()
    assert all(not g.any() for g in layer.grads.values())           # no spline sees these points


def test_autoregressive_layer_at_larger_dimension():
    """D = 5 and K = 5 (the contract suite draws D <= 3, K <= 3): the inverse's triangular solve."""
    rng = np.random.default_rng(8)
    layer = SplineAutoregressive(5, bins=5, bound=2.5, hidden=(4,), order="random", rng=rng,
                                 zero_last=False)
    layer.made.params["2.weight"][:] = rng.uniform(-0.3, 0.3, layer.made.params["2.weight"].shape)
    check_bijector(layer, rng.uniform(-2, 2, (3, 5)), rng=0).assert_ok()


def test_made_outputs_are_autoregressive():
    made = MADEOutputs(4, 5, hidden=(16,), order=[2, 0, 3, 1], rng=0)
    x = np.random.default_rng(9).normal(size=(1, 4))
    for p in range(5):
        jacobian = numerical_jacobian(lambda v: made.forward(v)[:, :, p], x)[0]   # (4, 4)
        position = np.argsort(made.order)                            # where each dim comes
        reads_later = position[None, :] >= position[:, None]         # output d reading x_j, j not before d
        assert np.abs(jacobian[reads_later]).max() < 1e-10           # 0 up to BLAS round-off
        assert np.abs(jacobian[~reads_later]).max() > 1e-3


def test_made_outputs_gradient_passes_match_finite_differences():
    rng = np.random.default_rng(11)
    made = MADEOutputs(3, 4, hidden=(5,), order="random", rng=rng)
    x, upstream = rng.normal(size=(2, 3)), rng.normal(size=(2, 3, 4))   # θ is (N, D, P)
    with pytest.raises(RuntimeError, match=r"backward\(\) called before MADEOutputs.forward"):
        made.backward(upstream)
    made.forward(x)
    grad_x = made.backward(upstream)                                  # (2, 3)
    step, numeric = 1e-6, np.zeros_like(x)
    for i, j in np.ndindex(*x.shape):
        shift = np.zeros_like(x)
        shift[i, j] = step
        difference = made.forward(x + shift) - made.forward(x - shift)   # (2, 3, 4)
        numeric[i, j] = np.sum(upstream * difference) / (2 * step)
    np.testing.assert_allclose(grad_x, numeric, rtol=1e-6, atol=1e-9)
    made.forward(x)
    np.testing.assert_allclose(made.input_gradient(upstream), grad_x, rtol=1e-13)
    with pytest.raises(ValueError, match=r"grad_params must have shape \(2, 3, 4\)"):
        made.backward(upstream[:, :, :3])


@pytest.mark.parametrize("options, message", [
    (dict(bins=1), "bins"), (dict(bound=-1.0), "bound"), (dict(bound=0.0), "bound"),
    (dict(bound=np.inf), "bound"),
    (dict(bins=4, min_width=0.25), "min_width"), (dict(min_slope=0.0), "min_slope")])
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        SplineCoupling(2, [1, 0], **options)
    with pytest.raises(ValueError, match=message):
        SplineAutoregressive(2, **options)


def test_a_spline_interval_narrower_than_one_is_fine():
    assert SplineCoupling(2, [1, 0], bound=0.5).bound == 0.5
    assert SplineAutoregressive(2, bound=0.25).bound == 0.25


@pytest.mark.parametrize("model", ["nsf", "nsf-ar"])
def test_models_train_save_load_and_draw(tmp_path, model):
    data = load_dataset("8gaussians", 512, rng=0)
    flow = build_model({"model": model, "dim": 2, "n_layers": 2, "hidden": [16], "bins": 5,
                        "seed": 0})
    optimizer = Adam(flow.params, flow.grads, lr=1e-2)
    losses = []
    for _ in range(30):
        losses.append(flow.loss_and_grad(data))
        optimizer.step()
    assert losses[-1] < losses[0] - 0.1                               # it learns
    path = save_model(flow, str(tmp_path / "model.npz"))
    np.testing.assert_array_equal(load_model(path).log_prob(data), flow.log_prob(data))
    figure = plot_learned_spline(flow, data, out_dir=str(tmp_path))
    with open(figure, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"


def test_spline_figure_needs_a_spline_layer():
    with pytest.raises(ValueError, match="no spline layer"):
        learned_spline(build_realnvp(2, n_layers=1, hidden=(4,)), np.zeros((3, 2)))


@pytest.mark.parametrize("cls", [SplineCoupling, SplineAutoregressive])
def test_forward_and_inverse_keep_separate_caches(cls):
    """forward, inverse, then both gradient passes: each reads its own pass, as if run alone."""
    def make():
        return (SplineCoupling(3, [0, 1, 0], bins=4, bound=2.0, hidden=(6,), rng=1, zero_init=False)
                if cls is SplineCoupling else
                SplineAutoregressive(3, bins=4, bound=2.0, hidden=(6,), order="random", rng=1,
                                     zero_last=False))
    rng = np.random.default_rng(10)
    x, z = rng.uniform(-1.5, 1.5, (4, 3)), rng.uniform(-1.5, 1.5, (4, 3))
    grad, grad_log_det = rng.normal(size=(4, 3)), rng.normal(size=4)
    alone_forward, alone_inverse = make(), make()
    alone_forward.forward(x)
    alone_inverse.inverse(z)
    expected = alone_forward.backward(grad, grad_log_det), alone_inverse.inverse_backward(grad, grad_log_det)
    both = make()
    both.forward(x)
    both.inverse(z)
    np.testing.assert_allclose(both.inverse_backward(grad, grad_log_det), expected[1], rtol=1e-12)
    np.testing.assert_allclose(both.backward(grad, grad_log_det), expected[0], rtol=1e-12)
    with pytest.raises(RuntimeError, match="forward"):
        make().backward(grad, grad_log_det)


@pytest.mark.parametrize("model", ["nsf", "nsf-ar"])
def test_train_command_takes_the_spline_models(tmp_path, model, capsys):
    main(["train", "--model", model, "--data", "checkerboard", "--steps", "5", "--layers", "2",
          "--hidden", "8", "--n-train", "300", "--n-val", "100", "--out", str(tmp_path),
          "--no-progress", "--no-figures"])
    flow = load_model(str(tmp_path / "model.npz"))
    assert flow.config["model"] == model and flow.config["bins"] == 8
    printed = capsys.readouterr()
    assert f"training {model}" in printed.out + printed.err


def test_plot_draws_the_learned_spline_of_a_spline_model(tmp_path, capsys):
    """The wiring only (cli/figures.py, shared by train and plot; the figure itself is drawn for
    both spline layers above; a flow without a spline layer would make learned_spline raise, so
    test_cli's Real-NVP runs show it is not drawn there)."""
    main(["train", "--model", "nsf", "--data", "moons", "--steps", "3", "--layers", "1",
          "--hidden", "4", "--n-train", "200", "--n-val", "100", "--out", str(tmp_path / "nsf"),
          "--no-progress", "--no-figures"])
    main(["plot", "--model-file", str(tmp_path / "nsf" / "model.npz")])
    assert f"wrote {tmp_path / 'nsf' / 'spline.png'}" in capsys.readouterr().out
    with open(tmp_path / "nsf" / "spline.png", "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("cls", [SplineCoupling, SplineAutoregressive])
def test_spline_knots_checks_its_points(cls):
    """Points of the wrong width are refused by name; rows: one per transformed coordinate."""
    if cls is SplineCoupling:
        layer, transformed = SplineCoupling(3, [1, 0, 0], bins=4, rng=0), 2
    else:
        layer, transformed = SplineAutoregressive(3, bins=4, rng=0), 3
    with pytest.raises(ValueError, match=r"x has D=2 columns"):
        layer.spline_knots(np.zeros((4, 2)))
    assert layer.spline_knots(np.zeros((4, 3))).x_knots.shape == (4 * transformed, 5)   # K + 1


def test_the_autoregressive_spline_takes_the_coupling_splines_defaults():
    """SplineAutoregressive documents bins, bound and the minima "as in SplineCoupling": the same
    defaults, so the two layers are interchangeable in a model."""
    def defaults(cls):
        return {name: parameter.default for name, parameter in inspect.signature(cls).parameters.items()
                if parameter.default is not inspect.Parameter.empty}
    coupling, autoregressive = defaults(SplineCoupling), defaults(SplineAutoregressive)
    shared = ("bins", "bound", "hidden", "activation", "min_width", "min_height", "min_slope", "dtype")
    assert {name: coupling[name] for name in shared} == {name: autoregressive[name] for name in shared}
    layer = SplineAutoregressive(2, rng=0)
    assert (layer.bins, layer.bound) == (coupling["bins"], coupling["bound"])


def test_a_later_spline_layer_sees_the_data_pushed_through_the_layers_before_it():
    flow = build_model({"model": "nsf", "dim": 2, "n_layers": 2, "hidden": [4], "bins": 3,
                        "bound": 2.0, "seed": 1})
    for array in flow.params.values():
        array += np.random.default_rng(2).uniform(-0.5, 0.5, array.shape)   # not the identity
    data = load_dataset("moons", 50, rng=0)
    index, dimension, knots, inputs = learned_spline(flow, data, layer_index=1)
    pushed = flow.layers.layers[0].forward(data)[0]                     # (50, 2) what layer 1 sees
    assert index == 1
    np.testing.assert_array_equal(inputs, pushed[:, dimension])
    seen = flow.layers.layers[1].spline_knots(np.median(pushed, axis=0)[None, :])
    np.testing.assert_array_equal(knots.x_knots, seen.x_knots[:1])   # at the median it sees
    with pytest.raises(ValueError, match=r"layer 2 is not a spline layer; spline layers: \[0, 1\]"):
        learned_spline(flow, data, layer_index=2)


def test_an_autoregressive_spline_figure_shows_the_first_dimension_of_its_order():
    """That dimension reads no input, so its spline is the same whatever the data."""
    flow = build_model({"model": "nsf-ar", "dim": 3, "n_layers": 1, "hidden": [4], "bins": 3,
                        "order": "random", "seed": 2})
    for array in flow.params.values():
        array += np.random.default_rng(2).uniform(-0.5, 0.5, array.shape)   # not the identity
    data = load_dataset("moons", 60, rng=0)
    data = np.column_stack([data, data[:, 0] * data[:, 1]])                 # (60, 3)
    _, dimension, knots, inputs = learned_spline(flow, data)
    assert dimension == flow.layers.layers[0].order[0]
    np.testing.assert_array_equal(inputs, data[:, dimension])
    _, _, moved, _ = learned_spline(flow, data + 1.5)
    np.testing.assert_array_equal(moved.x_knots, knots.x_knots)
    np.testing.assert_array_equal(moved.slopes, knots.slopes)


def test_default_floors_keep_bins_and_slopes_at_least_one_thousandth():
    """The module's defaults m_w = m_h = m_δ = 1e-3: logits far apart squeeze the small bins to
    2B·1e-3 and very negative δ̂ the interior slopes to 1e-3, never below; δ̂ = 0 gives slope 1."""
    logits = np.array([[60.0, -60.0, -60.0, -60.0, -60.0, 60.0, -60.0, -60.0, -60.0, 0.0, 60.0]])
    knots = make_knots(logits, BOUND)
    widths, heights = np.diff(knots.x_knots[0]), np.diff(knots.y_knots[0])      # (4,) each
    np.testing.assert_allclose(widths[1:], 2 * BOUND * 1e-3, rtol=1e-9)
    np.testing.assert_allclose(heights[[0, 2, 3]], 2 * BOUND * 1e-3, rtol=1e-9)
    np.testing.assert_allclose(knots.slopes[0, :3], [1.0, 1e-3, 1.0], rtol=1e-9)   # δ_0 = 1 at −B
    assert knots.slopes[0, 3] > 60 and knots.slopes[0, 4] == 1.0
