"""Flow: density by change of variables, the lecture's loss and its gradient, seeded sampling."""
import numpy as np
import pytest
from scipy import stats

from scratchflow import (AffineCoupling, Compose, ElementwiseAffine, Example2Map, Flow, Permutation,
                         StandardNormal)
from scratchflow.checks import numerical_gradient, relative_error
from scratchflow_course.homework.standins import put_layers
from tests.strategies import GaussianTarget, MisshapenTarget


def small_flow(seed=0, dim=2):
    rng = np.random.default_rng(seed)
    return Flow([ElementwiseAffine(dim, rng.uniform(-1, 1, dim), rng.uniform(-1, 1, dim)),
                 ElementwiseAffine(dim, rng.uniform(-1, 1, dim), rng.uniform(-1, 1, dim))])


def test_log_prob_is_change_of_variables():
    # z = a x + b per dimension: p_x is a product of normals N(-b/a, 1/a^2)
    a, b = np.array([0.5, 2.0]), np.array([-2.5, 1.0])
    flow = Flow(ElementwiseAffine(2, np.log(a), b))
    x = np.random.default_rng(0).normal(size=(7, 2)) * 3
    expected = stats.norm.logpdf(x, loc=-b / a, scale=1 / a).sum(axis=1)
    assert np.allclose(flow.log_prob(x), expected, rtol=0, atol=1e-12)


def test_stack_log_dets_add():
    flow = small_flow()
    x = np.random.default_rng(1).normal(size=(5, 2))
    first, second = flow.layers
    y, log_det_1 = first.forward(x)
    z, log_det_2 = second.forward(y)
    z_all, log_det_all = flow.layers.forward(x)
    assert np.allclose(z_all, z) and np.allclose(log_det_all, log_det_1 + log_det_2)
    assert np.allclose(flow.log_prob(x), StandardNormal(2).log_prob(z) + log_det_1 + log_det_2)


def test_loss_is_mean_negative_log_likelihood_and_gradient_matches_fd():
    flow = small_flow(3)
    x = np.random.default_rng(2).normal(size=(16, 2))
    loss = flow.loss_and_grad(x)
    assert np.isclose(loss, -flow.log_prob(x).mean())
    for name, param in flow.params.items():
        numeric = numerical_gradient(lambda: flow.loss(x), param)
        assert relative_error(flow.grads[name], numeric) < 1e-7, name


def test_params_are_dotted_and_live():
    flow = small_flow()
    assert sorted(flow.params) == ["layers.0.log_scale", "layers.0.shift",
                                   "layers.1.log_scale", "layers.1.shift"]
    assert flow.params["layers.1.shift"] is flow.layers[1].params["shift"]


def test_sampling_is_seeded_and_follows_the_model():
    flow = small_flow(4)
    assert np.array_equal(flow.sample(10, rng=5), flow.sample(10, rng=5))
    assert not np.array_equal(flow.sample(10, rng=5), flow.sample(10, rng=6))
    x = flow.sample(20000, rng=0)
    z, _ = flow.layers.forward(x)                       # pushed back, samples are N(0, I)
    for column in z.T:
        assert stats.kstest(column, "norm").pvalue > 1e-3


def test_training_lowers_the_loss():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(512, 2)) * [3.0, 0.5] + [1.0, -2.0]
    flow = Flow(ElementwiseAffine(2))
    losses = []
    for _ in range(300):
        losses.append(flow.loss_and_grad(data))
        for name, param in flow.params.items():
            param -= 0.1 * flow.grads[name]             # θ ← θ − lr ∇L, in place
    exact = -stats.norm.logpdf(data, [1.0, -2.0], [3.0, 0.5]).sum(axis=1).mean()
    assert losses[-1] < losses[0] - 1.0
    assert losses[-1] < exact + 0.01                    # reached the MLE's NLL


def test_reverse_kl_gradient_matches_fd_and_fit_recovers_target():
    flow = small_flow(5)
    target = GaussianTarget([2.0, -1.0])
    flow.reverse_kl_loss_and_grad(target, 64, rng=3)
    analytic = {k: g.copy() for k, g in flow.grads.items()}
    for name, param in flow.params.items():
        numeric = numerical_gradient(lambda: flow.reverse_kl_loss_and_grad(target, 64, rng=3), param)
        assert relative_error(analytic[name], numeric) < 1e-7, name
    for step in range(400):
        flow.reverse_kl_loss_and_grad(target, 128, rng=step)
        for name, param in flow.params.items():
            param -= 0.05 * flow.grads[name]
    assert np.allclose(flow.sample(4000, rng=0).mean(axis=0), [2.0, -1.0], atol=0.1)


def test_a_flow_whose_layers_is_one_plain_bijector_runs_every_pass():
    """``flow.layers`` may be any bijector, not only a Compose (the homework's stand-ins are put
    there by ``put_layers``): a plain layer's passes take no context, so an unconditional flow hands
    it none; log-prob, samples and the reverse KL equal those of the same layer inside a Compose."""
    def layer():
        return ElementwiseAffine(2, log_scale=[0.3, -0.2], shift=[1.0, -0.5])
    wrapped, plain = Flow([layer()]), put_layers(Flow([layer()]), layer())
    x, z = np.random.default_rng(0).normal(size=(2, 5, 2))
    target = GaussianTarget([2.0, -1.0])
    np.testing.assert_allclose(plain.log_prob(x), wrapped.log_prob(x), rtol=1e-14)
    np.testing.assert_allclose(plain.sample(5, rng=1), wrapped.sample(5, rng=1), rtol=1e-14)
    np.testing.assert_allclose(plain.reverse_kl(target, z)[0], wrapped.reverse_kl(target, z)[0],
                               rtol=1e-14)


def test_flow_rejects_mismatched_parts():
    with pytest.raises(ValueError, match="dimension"):
        Flow(ElementwiseAffine(2), base=StandardNormal(3))
    with pytest.raises(ValueError, match="dimension"):
        Compose([ElementwiseAffine(2), ElementwiseAffine(3)])
    with pytest.raises(RuntimeError, match="before"):
        small_flow().backward()
    with pytest.raises(ValueError, match="x1 > 0"):
        Flow(Example2Map()).log_prob(np.array([[0.0, 1.0]]))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_np_matrix_input_is_a_plain_batch():
    flow = Flow([ElementwiseAffine(2, log_scale=[0.5, -0.5])])
    rows = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
    np.testing.assert_array_equal(flow.log_prob(np.matrix(rows)), flow.log_prob(np.array(rows)))
    assert flow.log_prob(np.matrix(rows)).shape == (3,)


def test_the_one_dimensional_hint_fits_the_dimension():
    flow = Flow([ElementwiseAffine(2)])
    with pytest.raises(ValueError, match=r"x.reshape\(1, -1\) for one sample of D=2 values"):
        flow.log_prob(np.zeros(2))
    with pytest.raises(ValueError, match=r"x.reshape\(-1, 1\) for one-dimensional data"):
        Flow([ElementwiseAffine(1)]).log_prob(np.zeros(5))


def _coupling_flow():
    return Flow([AffineCoupling(2, [1, 0], hidden=(4,), rng=0), Permutation([1, 0])])


@pytest.mark.parametrize("n, error, message", [
    (-1, ValueError, r"n \(the number of samples\) must be >= 0, got -1"),
    (2.5, TypeError, r"n \(the number of samples\) must be an integer, got 2.5"),    # not rounded
    ("3", TypeError, r"must be an integer, got '3'"),
    (True, TypeError, r"must be an integer, got True"),
    (None, TypeError, r"must be an integer, got None"),
])
def test_sample_counts_are_non_negative_integers(n, error, message):
    with pytest.raises(error, match=message):
        _coupling_flow().sample(n, rng=0)


def test_empty_batches_density_yes_loss_no():
    flow = _coupling_flow()
    assert flow.sample(0, rng=0).shape == (0, 2)
    assert flow.log_prob(np.zeros((0, 2))).shape == (0,)
    for method in (flow.loss, flow.loss_and_grad):          # a mean over no rows
        with pytest.raises(ValueError, match=r"needs at least one row.*empty batch.*\(0, 2\)"):
            method(np.zeros((0, 2)))


@pytest.mark.parametrize("target, n, error, message", [
    (MisshapenTarget(), 0, ValueError, r"n \(the number of samples\) must be >= 1, got 0"),
    (MisshapenTarget(), 2.5, TypeError, r"must be an integer"),
    (MisshapenTarget(dim=3), 4, ValueError, r"target has dimension 3 but the flow has 2"),
    (MisshapenTarget(log_prob_shape=()), 4, ValueError,
     r"target.log_prob\(x\) must return shape \(4,\).*\(\)"),
    (MisshapenTarget(log_prob_shape=(4, 1)), 4, ValueError, r"must return shape \(4,\)"),
    (MisshapenTarget(grad_shape=(4, 1)), 4, ValueError, r"target.grad_log_prob\(x\) has D=1 columns"),
    (MisshapenTarget(grad_shape=(1, 2)), 4, ValueError, r"target.grad_log_prob\(x\) has N=1 rows"),
    (None, 4, TypeError, r"target must have log_prob\(x\) and grad_log_prob\(x\)"),
])
def test_reverse_kl_checks_n_and_the_target(target, n, error, message):
    with pytest.raises(error, match=message):
        _coupling_flow().reverse_kl_loss_and_grad(target, n, rng=0)


def test_flow_backward_reads_only_the_latest_loss():
    """log_prob between loss and backward replaces the layers' caches: an error, not wrong grads."""
    flow, rng = _coupling_flow(), np.random.default_rng(1)
    flow.loss(rng.normal(size=(4, 2)))
    flow.log_prob(rng.normal(size=(4, 2)))                  # same N: the shapes alone would pass
    with pytest.raises(RuntimeError, match=r"after a log_prob .*call loss\(x\) again"):
        flow.backward()
    flow.loss(rng.normal(size=(4, 2)))
    with pytest.raises(ValueError, match="empty batch"):
        flow.loss(np.zeros((0, 2)))                          # fails after the layers ran
    with pytest.raises(RuntimeError, match=r"Flow.backward\(\) called before Flow.loss"):
        flow.backward()


def test_a_custom_base_must_return_one_log_prob_per_row():
    class Base(StandardNormal):
        def log_prob(self, z):
            return np.zeros(1)                                      # would broadcast over N
    flow = Flow([ElementwiseAffine(2)], base=Base(2))
    with pytest.raises(ValueError, match=r"base.log_prob\(z\) must return shape \(3,\).*\(1,\)"):
        flow.log_prob(np.zeros((3, 2)))


@pytest.mark.parametrize("make, error, message", [
    (lambda: Flow([ElementwiseAffine(2)], base=StandardNormal(3)), ValueError,
     r"base distribution has dimension 3, layers have 2"),
    (lambda: Flow([ElementwiseAffine(2)], base=object()), TypeError, r"base must be a distribution"),
])
def test_flow_refuses_a_base_that_does_not_fit(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_float32_flow_trains_in_float32():
    flow = Flow([AffineCoupling(2, [1, 0], hidden=(4,), rng=0, zero_init=False, dtype=np.float32),
                 Permutation([1, 0], dtype=np.float32)])
    x = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    assert flow.log_prob(x).dtype == np.float32 and flow.sample(3, rng=0).dtype == np.float32
    with pytest.raises(TypeError, match="float64 but this model computes in float32"):
        flow.log_prob(x.astype(np.float64))
    flow.loss_and_grad(x)
    assert all(g.dtype == np.float32 for g in flow.grads.values())


def test_a_float32_flow_samples_in_float32():
    flow = Flow(ElementwiseAffine(2, log_scale=[0.1, 0.2], dtype=np.float32))
    assert flow.sample(4, rng=0).dtype == np.float32
