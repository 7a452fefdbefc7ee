"""SGD and Adam: they minimise a quadratic, clipping caps the step, one Adam step matches the paper."""
import numpy as np
import pytest

from scratchflow.nn import Linear
from scratchflow.optim import SGD, Adam


def _quadratic(seed=0, dim=5):
    """L(θ) = ½ Σ_j a_j (θ_j − c_j)², with its live params/grads dicts and a gradient filler."""
    rng = np.random.default_rng(seed)
    curvature, centre = rng.uniform(0.5, 2.0, dim), rng.normal(size=dim)
    params = {"theta": rng.normal(size=dim) * 3, "matrix": rng.normal(size=(2, 2))}
    grads = {name: np.zeros_like(value) for name, value in params.items()}

    def fill_grads():
        grads["theta"][...] = curvature * (params["theta"] - centre)
        grads["matrix"][...] = params["matrix"]             # ½‖M‖²: minimum at M = 0
    return params, grads, fill_grads, centre


@pytest.mark.parametrize("make", [
    lambda p, g: SGD(p, g, lr=0.1),
    lambda p, g: SGD(p, g, lr=0.05, momentum=0.9),
    lambda p, g: Adam(p, g, lr=0.05),
    lambda p, g: Adam(p, g, lr=0.05, clip_norm=1.0),
])
def test_minimises_a_quadratic(make):
    params, grads, fill_grads, centre = _quadratic()
    theta, matrix = params["theta"], params["matrix"]
    optimizer = make(params, grads)
    for _ in range(600):
        fill_grads()
        optimizer.step()
    assert params["theta"] is theta and params["matrix"] is matrix      # updated in place
    np.testing.assert_allclose(theta, centre, atol=1e-3)
    np.testing.assert_allclose(matrix, 0.0, atol=1e-3)


def test_step_returns_norm_and_clipping_caps_the_step():
    params, grads, fill_grads, _ = _quadratic()
    before = {name: value.copy() for name, value in params.items()}
    fill_grads()
    grad_copy = {name: value.copy() for name, value in grads.items()}
    norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    assert norm > 2.0
    optimizer = SGD(params, grads, lr=1.0, clip_norm=0.5)
    assert optimizer.step() == pytest.approx(norm)                     # the norm BEFORE clipping
    step = np.concatenate([(before[name] - params[name]).ravel() for name in params])
    assert np.linalg.norm(step) == pytest.approx(0.5)                  # lr 1: the step is the clipped g
    expected = np.concatenate([grad_copy[name].ravel() for name in params]) * 0.5 / norm
    np.testing.assert_allclose(step, expected, rtol=1e-12)
    for name in grads:                                                 # grads themselves untouched
        np.testing.assert_array_equal(grads[name], grad_copy[name])


def test_one_adam_step_by_hand():
    """Two steps of Adam against the formulas of Kingma & Ba written out directly."""
    lr, beta1, beta2, eps, decay = 0.01, 0.8, 0.9, 1e-3, 0.1
    theta = np.array([1.0, -2.0, 0.5])
    params = {"theta": theta}
    grads = {"theta": np.zeros(3)}
    optimizer = Adam(params, grads, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=decay)
    expected, m, v = theta.copy(), np.zeros(3), np.zeros(3)
    for t, gradient in enumerate([np.array([0.3, -1.0, 2.0]), np.array([-0.1, 0.4, 1.0])], start=1):
        grads["theta"][...] = gradient
        optimizer.step()
        m = beta1 * m + (1 - beta1) * gradient
        v = beta2 * v + (1 - beta2) * gradient ** 2
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        expected = expected * (1 - lr * decay) - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(theta, expected, rtol=1e-13, atol=1e-15)
    # the first plain Adam step moves each coordinate by ≈ lr · sign(g) (m̂/√v̂ = g/|g|)
    params = {"theta": np.zeros(2)}
    grads = {"theta": np.array([3.0, -0.2])}
    Adam(params, grads, lr=0.01, eps=1e-12).step()
    np.testing.assert_allclose(params["theta"], [-0.01, 0.01], rtol=1e-9)


def test_sgd_weight_decay_and_momentum_by_hand():
    params = {"w": np.array([2.0])}
    grads = {"w": np.array([1.0])}
    optimizer = SGD(params, grads, lr=0.1, momentum=0.5, weight_decay=0.2)
    optimizer.step()            # g = 1 + 0.2·2 = 1.4, v = 1.4, w = 2 − 0.14
    assert params["w"][0] == pytest.approx(1.86)
    optimizer.step()            # g = 1 + 0.2·1.86 = 1.372, v = 0.7 + 1.372 = 2.072
    assert params["w"][0] == pytest.approx(1.86 - 0.2072)


def test_bad_arguments_and_divergence_are_reported():
    params, grads, _, _ = _quadratic()
    with pytest.raises(ValueError, match="lr"):
        Adam(params, grads, lr=0.0)
    with pytest.raises(ValueError, match="same keys"):
        SGD(params, {"theta": grads["theta"]}, lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD(params, grads, lr=0.1, momentum=1.0)
    grads["theta"][0] = np.nan
    with pytest.raises(FloatingPointError, match="diverged"):
        Adam(params, grads).step()


@pytest.mark.parametrize("make", [SGD, Adam])
def test_parameters_and_gradients_must_both_be_live_arrays(make):
    """The optimizer updates arrays in place: a list on either side is refused, naming it."""
    for params, grads in (({"w": np.zeros(2)}, {"w": [0.0, 0.0]}),
                          ({"w": [0.0, 0.0]}, {"w": np.zeros(2)})):
        with pytest.raises(TypeError, match="w: parameters and gradients must be the module's live"):
            make(params, grads, lr=0.1)


def _params_grads():
    module = Linear(2, 2, rng=0)
    return module.params, module.grads


@pytest.mark.parametrize("make, error, message", [
    (lambda p, g: Adam(p, g, lr=-1), ValueError, r"lr must be > 0, got -1"),
    (lambda p, g: SGD(p, g, lr=0), ValueError, r"lr must be > 0"),
    (lambda p, g: Adam(p, g, lr=np.inf), ValueError, r"lr must be a finite number, got inf"),
    (lambda p, g: Adam(p, g, lr="0.1"), TypeError, r"lr must be a number"),
    (lambda p, g: Adam(p, g, weight_decay=np.nan), ValueError, r"weight_decay must be a finite"),
    (lambda p, g: Adam(p, g, betas=(0.9, 0.9, 0.9)), ValueError, r"betas must be a pair"),
    (lambda p, g: Adam(p, g, betas=(1.0, 0.9)), ValueError, r"betas must be in \[0.0, 1.0\)"),
    (lambda p, g: SGD(p, g, lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0.0, 1.0\)"),
    (lambda p, g: Adam(p, {"weight": g["weight"]}), ValueError, r"same keys"),
    (lambda p, g: Adam(list(p.values()), list(g.values())), TypeError, r"must be dicts"),
    (lambda p, g: Adam(p, list(g.values())), TypeError, r"must be dicts"),          # one of the two
    (lambda p, g: Adam({"w": np.zeros((2, 3))}, {"w": np.zeros((3, 2)).T}), ValueError,
     r"w: parameter and gradient arrays must be C-contiguous"),                      # one of the two
    (lambda p, g: Adam({"w": [0.0, 1.0]}, {"w": [0.0, 0.0]}), TypeError, r"live ndarrays"),
    (lambda p, g: Adam({"w": np.zeros(2)}, {"w": np.zeros(2, np.float32)}), TypeError,
     r"w: parameter dtype float64 and gradient dtype float32"),
    (lambda p, g: Adam({"w": np.zeros(2)}, {"w": np.zeros(3)}), ValueError,
     r"w: parameter shape \(2,\) != gradient shape \(3,\)"),
])
def test_optimizers_refuse_bad_settings_and_mismatched_params(make, error, message):
    params, grads = _params_grads()
    with pytest.raises(error, match=message):
        make(params, grads)
