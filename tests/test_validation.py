"""Bad input at the public boundary gets an error that names the problem; nothing is broadcast."""
import numpy as np
import pytest

from scratchflow import Compose, ElementwiseAffine, Flow, StandardNormal


@pytest.fixture
def layer():
    return ElementwiseAffine(3, log_scale=[0.1, 0.2, 0.3])


@pytest.mark.parametrize("method", ["forward", "inverse"])
@pytest.mark.parametrize("bad, error, message", [
    (np.ones(3), ValueError, "2-D with shape"),                        # a single row, 1-D
    (np.ones((2, 3, 1)), ValueError, "ndim=3"),
    (np.ones((4, 2)), ValueError, "D=2 columns but this layer has dimension 3"),
    (np.ones((4, 1)), ValueError, "D=1 columns"),                      # would broadcast
    (np.array([[1.0, np.nan, 0.0]]), ValueError, "NaN or inf .*row 0, column 1"),
    (np.array([[1.0, 0.0, np.inf]]), ValueError, "NaN or inf"),
    (np.ones((2, 3), dtype=np.int64), TypeError, "float array .*int64"),
    (np.ones((2, 3), dtype=object), TypeError, "dtype object"),
    (np.ones((2, 3), dtype=bool), TypeError, "dtype bool"),
    (np.ones((2, 3), dtype=np.float32), TypeError, "float32 but this model computes in float64"),
])
def test_bad_batches(layer, method, bad, error, message):
    with pytest.raises(error, match=message):
        getattr(layer, method)(bad)


def test_a_list_of_numbers_is_accepted():
    z, _ = ElementwiseAffine(2).forward([[1, 2], [3, 4]])
    assert z.dtype == np.float64 and np.array_equal(z, [[1, 2], [3, 4]])


def test_gradient_pass_before_its_pass(layer):
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward"):
        layer.backward(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="inverse_backward\\(\\) called before inverse"):
        layer.inverse_backward(np.ones((2, 3)))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="inverse_backward"):        # forward does not count
        layer.inverse_backward(np.ones((2, 3)))


@pytest.mark.parametrize("grad_z, grad_log_det, message", [
    (np.ones((3, 3)), None, "N=3 rows but the latest pass had N=2"),
    (np.ones((2, 2)), None, "D=2 columns"),
    (np.ones((2, 3)), np.ones(3), "grad_log_det must have shape \\(2,\\)"),
    (np.ones((2, 3)), np.ones((2, 1)), "grad_log_det must have shape"),
    (np.ones((2, 3)), np.array([np.nan, 0.0]), "grad_log_det contains NaN"),
    (np.full((2, 3), np.inf), None, "grad_z contains NaN or inf"),
])
def test_gradients_of_the_wrong_shape(layer, grad_z, grad_log_det, message):
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=message):
        layer.backward(grad_z, grad_log_det)


def test_float32_model_runs_in_float32():
    layer = ElementwiseAffine(2, log_scale=[0.1, 0.2], dtype=np.float32)
    z, log_det = layer.forward(np.ones((3, 2), dtype=np.float32))
    assert z.dtype == np.float32 and log_det.dtype == np.float32
    assert layer.backward(np.ones((3, 2))).dtype == np.float32
    with pytest.raises(TypeError, match="dtype"):
        ElementwiseAffine(2, dtype=np.int32)
    flow = Flow(layer)
    assert flow.sample(4, rng=0).dtype == np.float32


def test_constructor_errors():
    with pytest.raises(ValueError, match="log_scale must have shape \\(3,\\)"):
        ElementwiseAffine(3, log_scale=[0.0, 1.0])
    with pytest.raises(TypeError, match="not a Bijector"):
        Compose([ElementwiseAffine(2), "layer"])
    with pytest.raises(ValueError, match="at least one layer"):
        Compose([])
    with pytest.raises(ValueError, match="dimension must be >= 1"):
        StandardNormal(0)
