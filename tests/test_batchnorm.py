"""BatchNorm: what the contract suite does not cover (the paper's log-det, modes, running averages)."""
import numpy as np
import pytest

from scratchflow import Flow
from scratchflow.bijectors import BatchNorm, Compose, ElementwiseAffine, set_training
from scratchflow.checks import check_bijector, numerical_gradient, numerical_log_abs_det
from scratchflow.train import fit


def _layer(dim=3, seed=0, **options):
    rng = np.random.default_rng(seed)
    return BatchNorm(dim, log_gamma=rng.uniform(-1, 1, dim), beta=rng.uniform(-2, 2, dim), **options)


def _batch(n=16, dim=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)) * np.array([0.5, 2.0, 1.0])[:dim] + np.array([1.0, -3.0, 0.0])[:dim]


def test_training_log_det_is_the_maf_formula():
    layer, x = _layer(eps=1e-3), _batch()
    _, log_det = layer.forward(x)
    expected = np.sum(layer.log_gamma - 0.5 * np.log(np.var(x, axis=0) + 1e-3))
    np.testing.assert_allclose(log_det, np.full(len(x), expected), rtol=0, atol=1e-12)


def test_training_output_has_the_batch_mean_beta_and_scale_gamma():
    layer, x = _layer(), _batch()
    z, _ = layer.forward(x)
    np.testing.assert_allclose(z.mean(axis=0), layer.beta, atol=1e-12)
    var = np.var(x, axis=0)
    np.testing.assert_allclose(z.std(axis=0), np.exp(layer.log_gamma) * np.sqrt(var / (var + 1e-5)),
                               rtol=1e-12)


def test_eval_log_det_matches_numerical_jacobian():
    layer = _layer().eval()
    layer.running_mean[:] = [0.5, -1.0, 2.0]
    layer.running_var[:] = [0.3, 4.0, 1.5]
    x = _batch(n=5)
    _, log_det = layer.forward(x)
    numeric = numerical_log_abs_det(lambda x_: layer.forward(x_)[0], x)
    np.testing.assert_allclose(log_det, numeric, rtol=0, atol=1e-9)
    assert layer.samples_independent and not _layer().samples_independent


def test_running_averages_move_with_momentum_in_training_only():
    layer, x = _layer(momentum=0.1), _batch()
    layer.forward(x)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * x.var(axis=0), rtol=1e-12)
    before = {name: layer.buffers[name].copy() for name in ("running_mean", "running_var")}
    layer.eval().forward(x)
    layer.inverse(x)
    for name, array in before.items():
        np.testing.assert_array_equal(layer.buffers[name], array)
    assert set(layer.buffers) == {"running_mean", "running_var", "training"}
    assert layer.buffers["training"] == 0.0


def test_eval_with_full_momentum_reproduces_the_training_batch():
    layer, x = _layer(momentum=1.0), _batch()
    z_train, log_det_train = layer.forward(x)
    z_eval, log_det_eval = layer.eval().forward(x)
    np.testing.assert_allclose(z_eval, z_train, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(log_det_eval, log_det_train, rtol=1e-12)


def test_running_averages_converge_to_the_data_statistics():
    layer = _layer(momentum=0.2)
    rng = np.random.default_rng(2)
    for _ in range(200):
        layer.forward(rng.normal(size=(256, 3)) * 2.0 + 1.0)
    np.testing.assert_allclose(layer.running_mean, 1.0, atol=0.1)
    np.testing.assert_allclose(layer.running_var, 4.0, atol=0.4)


def test_inverse_uses_latest_batch_in_training_and_running_averages_in_eval():
    layer, x = _layer(), _batch()
    z, _ = layer.forward(x)
    x_back, _ = layer.inverse(z)
    np.testing.assert_allclose(x_back, x, atol=1e-12)           # the batch statistics of x
    layer.eval()
    x_eval, log_det = layer.inverse(z)
    std = np.sqrt(layer.running_var + layer.eps)
    np.testing.assert_allclose(x_eval, (z - layer.beta) * np.exp(-layer.log_gamma) * std
                               + layer.running_mean, rtol=1e-12)
    np.testing.assert_allclose(log_det, -np.sum(layer.log_gamma - np.log(std)), rtol=1e-12)
    layer.train()                                                # no training batch yet: running ones
    np.testing.assert_allclose(layer.inverse(z)[0], x_eval, rtol=1e-12)


def test_single_row_batch_is_finite_and_maps_to_beta():
    layer = _layer()
    z, log_det = layer.forward(np.array([[3.0, -1.0, 7.0]]))
    np.testing.assert_allclose(z, layer.beta[None, :], atol=1e-12)
    np.testing.assert_allclose(log_det, np.sum(layer.log_gamma - 0.5 * np.log(1e-5)))


def test_flow_gradient_goes_through_the_batch_statistics():
    """Flow.backward's dL/dx against finite differences of the whole-batch loss."""
    flow = Flow([ElementwiseAffine(3, log_scale=[0.2, -0.1, 0.3]), _layer(momentum=1.0)])
    x = _batch(n=6)
    flow.loss_and_grad(x)
    grad_x = flow.backward()
    x_live = x.copy()
    numeric = numerical_gradient(lambda: flow.loss(x_live), x_live)
    np.testing.assert_allclose(grad_x, numeric, rtol=1e-6, atol=1e-9)
    # treating m and v as constants (the eval-mode gradient at the same statistics) is wrong here
    flow.loss(x)                                      # running averages := statistics of x
    set_training(flow, False)
    flow.loss(x)
    assert np.abs(flow.backward() - grad_x).max() > 1e-3


def test_set_training_switches_nested_layers_and_refreshes_compose():
    stack = Compose([ElementwiseAffine(3), _layer(), ElementwiseAffine(3), _layer(seed=1)])
    flow = Flow(stack)
    assert not flow.layers.samples_independent
    assert set_training(flow, False) == 2
    assert all(not layer.training for layer in stack.layers[1::2])
    assert flow.layers.samples_independent
    set_training(flow, True)
    assert not flow.layers.samples_independent and stack.layers[1].training


def test_float32_and_bad_arguments():
    layer = BatchNorm(2, dtype=np.float32)
    z, log_det = layer.forward(np.arange(8, dtype=np.float32).reshape(4, 2))
    assert z.dtype == np.float32 and log_det.dtype == np.float32
    assert layer.running_mean.dtype == np.float32
    with pytest.raises(ValueError, match="eps"):
        BatchNorm(2, eps=0.0)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(2, momentum=1.5)
    with pytest.raises(ValueError, match="log_gamma"):
        BatchNorm(2, log_gamma=[0.0])
    with pytest.raises(RuntimeError, match="before forward"):
        BatchNorm(2).backward(np.zeros((1, 2)))


def test_training_log_det_is_checked_with_batch_statistics_fixed_inside_a_stack():
    """Compose holds each BatchNorm's statistics fixed; a correct stack passes with no line skipped,
    and the fixed map is the eval-mode layer with the batch's mean and variance."""
    layer = _layer()
    stack = Compose([ElementwiseAffine(3, log_scale=[0.1, -0.2, 0.3]), layer])
    report = check_bijector(stack, _batch(n=6))
    assert report.passed and report.skipped() == report.vacuous(), str(report)   # vacuous: nothing to compare
    assert report["forward: log-det vs numerical Jacobian"].note == "batch statistics held fixed"
    x = _batch(n=6)
    z, _ = layer.forward(x)
    fixed = layer.with_statistics_fixed()
    assert not fixed.training and fixed is not layer and layer.training
    np.testing.assert_allclose(fixed.running_mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(fixed.forward(x)[0], z, rtol=1e-12)
    assert layer.eval().with_statistics_fixed() is layer


def test_default_momentum_moves_the_running_averages_a_tenth_of_the_way_each_batch():
    """momentum = 0.1 by default: running ← 0.9 running + 0.1 batch, from (0, 1), batch after batch."""
    layer, first, second = BatchNorm(3), _batch(seed=1), _batch(seed=2)
    layer.forward(first)
    layer.forward(second)
    np.testing.assert_allclose(layer.running_mean,
                               0.9 * 0.1 * first.mean(axis=0) + 0.1 * second.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.81 + 0.9 * 0.1 * first.var(axis=0)
                               + 0.1 * second.var(axis=0), rtol=1e-12)


def test_empty_batch_zero_momentum_and_no_dimension_are_refused_and_train_restores_training():
    with pytest.raises(ValueError, match="at least one row"):
        BatchNorm(2).forward(np.zeros((0, 2)))
    BatchNorm(2).eval().forward(np.zeros((0, 2)))            # running averages: no batch needed
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(2, momentum=0.0)
    with pytest.raises(ValueError, match="dim"):
        BatchNorm(0)
    layer = BatchNorm(2).eval()
    assert layer.train() is layer and layer.training and not layer.samples_independent


def test_set_training_counts_every_batch_norm_wherever_it_sits():
    stack = Compose([_layer(), ElementwiseAffine(3), _layer(seed=1), ElementwiseAffine(3)])
    assert set_training(stack, False) == 2


def test_default_layer_in_eval_mode_is_nearly_the_identity():
    """Defaults: log_gamma = beta = 0, running averages (0, 1), eps = 1e-5, so z = x / sqrt(1 + ε)."""
    x = _batch()
    z, log_det = BatchNorm(3).eval().forward(x)
    np.testing.assert_allclose(z, x / np.sqrt(1.0 + 1e-5), rtol=1e-14)
    np.testing.assert_allclose(log_det, -1.5 * np.log(1.0 + 1e-5), rtol=1e-9)


def test_fit_leaves_a_batchnorm_in_the_mode_the_user_chose():
    layer = BatchNorm(2, training=False)
    flow = Flow([ElementwiseAffine(2), layer])
    data = np.random.default_rng(0).normal(size=(64, 2))
    fit(flow, data, data, steps=3, batch_size=32, progress=False)
    assert not layer.training
    layer.train(True)
    fit(flow, data, data, steps=3, batch_size=32, progress=False)
    assert layer.training


def test_set_training_defaults_to_training_mode():
    layer = BatchNorm(2, training=False)
    assert set_training(Compose([ElementwiseAffine(2), layer])) == 1
    assert layer.training
