"""SGD and Adam against the textbook form of their update, written out plainly here, over several
steps with changing gradients, several arrays, clipping and weight decay; the defaults are the
documented ones (Adam: lr 1e-3, betas (0.9, 0.999), eps 1e-8)."""
import numpy as np
import pytest

from scratchflow.optim import SGD, Adam


def _live(seed=0):
    rng = np.random.default_rng(seed)
    params = {"weight": rng.normal(size=(3, 2)), "bias": rng.normal(size=2)}
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    return params, grads


def _gradients(steps, seed=1):
    rng = np.random.default_rng(seed)
    return [{"weight": rng.normal(size=(3, 2)) * 3.0, "bias": rng.normal(size=2) * 3.0}
            for _ in range(steps)]


def _clip(gradients, clip_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in gradients.values()))
    factor = 1.0 if clip_norm is None else min(1.0, clip_norm / norm)
    return {name: g * factor for name, g in gradients.items()}, norm


def _reference_adam(params, gradient_list, lr, beta1, beta2, eps, weight_decay, clip_norm):
    params = {name: value.copy() for name, value in params.items()}
    m = {name: np.zeros_like(value) for name, value in params.items()}
    v = {name: np.zeros_like(value) for name, value in params.items()}
    norms = []
    for t, raw in enumerate(gradient_list, start=1):
        gradients, norm = _clip(raw, clip_norm)
        norms.append(norm)
        for name, g in gradients.items():
            m[name] = beta1 * m[name] + (1 - beta1) * g
            v[name] = beta2 * v[name] + (1 - beta2) * g ** 2
            m_hat, v_hat = m[name] / (1 - beta1 ** t), v[name] / (1 - beta2 ** t)
            params[name] = params[name] * (1 - lr * weight_decay) - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params, norms


def _reference_sgd(params, gradient_list, lr, momentum, weight_decay, clip_norm):
    params = {name: value.copy() for name, value in params.items()}
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    norms = []
    for raw in gradient_list:
        gradients, norm = _clip(raw, clip_norm)
        norms.append(norm)
        for name, g in gradients.items():
            velocity[name] = momentum * velocity[name] + g + weight_decay * params[name]
            params[name] = params[name] - lr * velocity[name]
    return params, norms


def _run(optimizer, params, grads, gradient_list):
    norms = []
    for gradients in gradient_list:
        for name, g in gradients.items():
            grads[name][...] = g
        norms.append(optimizer.step())
    assert optimizer.step_count == len(gradient_list)
    return norms


@pytest.mark.parametrize("options", [{}, {"lr": 0.05, "betas": (0.5, 0.9), "eps": 0.1},
                                     {"lr": 0.01, "weight_decay": 0.3, "clip_norm": 2.0}])
def test_adam_is_the_textbook_update(options):
    params, grads = _live()
    start = {name: value.copy() for name, value in params.items()}
    gradient_list = _gradients(6)
    norms = _run(Adam(params, grads, **options), params, grads, gradient_list)
    beta1, beta2 = options.get("betas", (0.9, 0.999))
    expected, expected_norms = _reference_adam(
        start, gradient_list, options.get("lr", 1e-3), beta1, beta2, options.get("eps", 1e-8),
        options.get("weight_decay", 0.0), options.get("clip_norm"))
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(norms, expected_norms, rtol=1e-12)


@pytest.mark.parametrize("options", [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.7},
                                     {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.2,
                                      "clip_norm": 1.5}])
def test_sgd_is_the_textbook_update(options):
    params, grads = _live()
    start = {name: value.copy() for name, value in params.items()}
    gradient_list = _gradients(5)
    norms = _run(SGD(params, grads, **options), params, grads, gradient_list)
    expected, expected_norms = _reference_sgd(
        start, gradient_list, options["lr"], options.get("momentum", 0.0),
        options.get("weight_decay", 0.0), options.get("clip_norm"))
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(norms, expected_norms, rtol=1e-12)


def test_gradients_are_left_as_they_were_and_zero_grad_clears_them():
    params, grads = _live()
    optimizer = Adam(params, grads, clip_norm=0.1)
    grads["weight"][...] = 5.0
    optimizer.step()
    np.testing.assert_array_equal(grads["weight"], 5.0)                  # clipping copies
    assert optimizer.step_count == 1
    optimizer.zero_grad()
    assert all(not g.any() for g in grads.values())


def test_argument_edges():
    params, grads = _live()
    for bad in ({"lr": 0.0}, {"weight_decay": -0.1}, {"clip_norm": 0.0}, {"eps": 0.0},
                {"betas": (1.0, 0.9)}, {"betas": (0.9,)}):
        with pytest.raises(ValueError):
            Adam(params, grads, **bad)
    Adam(params, grads, betas=(0.0, 0.0), weight_decay=0.0, clip_norm=float("inf"))
    with pytest.raises(ValueError, match="momentum"):
        SGD(params, grads, lr=0.1, momentum=1.0)
    SGD(params, grads, lr=0.1, momentum=0.0)
    with pytest.raises(ValueError, match="same keys"):
        SGD(params, {"weight": grads["weight"]}, lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        SGD({"weight": params["weight"]}, {"weight": grads["bias"]}, lr=0.1)
    with pytest.raises(TypeError, match="same float dtype"):
        SGD({"weight": params["weight"]}, {"weight": grads["weight"].astype(np.float32)}, lr=0.1)
    with pytest.raises(ValueError, match="C-contiguous"):
        SGD({"weight": params["weight"].T}, {"weight": grads["weight"].T}, lr=0.1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("packed", [True, False])
def test_adam_on_a_model_packed_or_not_is_the_textbook_update(dtype, packed):
    """Adam runs over one flat vector when the model's parameters are packed
    (:func:`~scratchflow.nn.flat_buffer.pack_parameters`), over each array otherwise: both take
    the textbook step in every parameter."""
    from scratchflow.nn.flat_buffer import pack_parameters
    from scratchflow.nn.mlp import MLP
    model = MLP([30, 50, 7], rng=0, dtype=dtype)
    if packed:
        pack_parameters(model)
    start = {name: value.astype(np.float64) for name, value in model.params.items()}
    rng = np.random.default_rng(3)
    gradient_list = [{name: rng.normal(size=value.shape) for name, value in model.params.items()}
                     for _ in range(3)]
    optimizer = Adam(model.params, model.grads, lr=0.01, weight_decay=0.1)
    assert len(optimizer.pairs) == (1 if packed else len(model.params))
    for gradients in gradient_list:
        for name, g in gradients.items():
            model.grads[name][...] = g
        optimizer.step()
    expected, _ = _reference_adam(start, [{k: g.astype(dtype).astype(np.float64)
                                           for k, g in gradients.items()}
                                          for gradients in gradient_list],
                                  0.01, 0.9, 0.999, 1e-8, 0.1, None)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    for name, value in model.params.items():
        np.testing.assert_allclose(value, expected[name], rtol=tolerance, atol=tolerance)
