"""The model builders: their documented defaults, the Real-NVP mask cycle and the MAF/IAF orders,
and where optional layers (ActNorm, BatchNorm) go."""
import numpy as np
import pytest

from scratchflow.bijectors import IAF, MAF, ActNorm, AffineCoupling, BatchNorm
from scratchflow.models import (autoregressive_orders, build_autoregressive, build_model, build_planar,
                                build_radial, build_realnvp, realnvp_masks)


def test_realnvp_defaults_and_config():
    flow = build_realnvp(3)
    assert flow.config == {"model": "realnvp", "dim": 3, "n_layers": 8, "hidden": [64, 64],
                           "activation": "tanh", "scale_bound": 5.0, "actnorm": False, "seed": 0,
                           "dtype": "float64"}
    layers = flow.layers.layers
    assert len(layers) == 8 and all(isinstance(layer, AffineCoupling) for layer in layers)
    assert all(layer.scale_bound == 5.0 and layer.hidden == (64, 64) for layer in layers)
    with_actnorm = build_realnvp(3, n_layers=2, hidden=(4,), actnorm=True).layers.layers
    assert [type(layer) for layer in with_actnorm] == [ActNorm, AffineCoupling] * 2


def test_realnvp_masks_cycle_half_complement_checkerboard_complement():
    masks = realnvp_masks(5, 6)
    expected = [[1, 1, 0, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1], [0, 1, 0, 1, 0],
                [1, 1, 0, 0, 0], [0, 0, 1, 1, 1]]
    np.testing.assert_array_equal(masks, expected)
    np.testing.assert_array_equal(realnvp_masks(2, 3), [[1, 0], [0, 1], [1, 0]])


def test_autoregressive_defaults_and_config():
    flow = build_autoregressive("maf", 3)
    assert flow.config == {"model": "maf", "dim": 3, "n_layers": 5, "hidden": [64, 64],
                           "activation": "tanh", "order": "reversed-between-layers", "seed": 0,
                           "dtype": "float64", "batchnorm": False}
    layers = flow.layers.layers
    assert len(layers) == 5 and all(isinstance(layer, MAF) for layer in layers)
    np.testing.assert_array_equal(layers[0].order, [0, 1, 2])
    np.testing.assert_array_equal(layers[1].order, [2, 1, 0])
    iaf = build_autoregressive("iaf", 2, n_layers=3, hidden=(4,), batchnorm=True).layers.layers
    assert [type(layer) for layer in iaf] == [IAF, BatchNorm, IAF, BatchNorm, IAF]


def test_autoregressive_orders():
    reversed_between = autoregressive_orders(4, 3)
    np.testing.assert_array_equal(reversed_between, [[0, 1, 2, 3], [3, 2, 1, 0], [0, 1, 2, 3]])
    np.testing.assert_array_equal(autoregressive_orders(3, 2, "natural"), [[0, 1, 2], [0, 1, 2]])
    first, second = autoregressive_orders(6, 2, "random", rng=3)
    np.testing.assert_array_equal(np.sort(first), np.arange(6))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(autoregressive_orders(6, 2, "random", rng=3)[1], second)


@pytest.mark.parametrize("model", ["realnvp", "maf", "iaf", "nsf", "nsf-ar", "planar", "radial", "nice"])
def test_every_family_defaults_to_seed_zero_and_is_reproducible(model):
    """As the CLI's --seed (default 0): a config without a seed builds the seed-0 model."""
    flow = build_model({"model": model, "dim": 2})
    again = build_model({"model": model, "dim": 2, "seed": 0})
    assert flow.config["seed"] == 0
    for name, array in flow.params.items():
        np.testing.assert_array_equal(array, again.params[name])


@pytest.mark.parametrize("model", ["realnvp", "maf", "iaf", "nsf", "nsf-ar", "planar", "radial", "nice"])
def test_every_family_builds_one_layer_and_refuses_none(model):
    networks = {} if model in ("planar", "radial") else {"hidden": [4]}
    flow = build_model({"model": model, "dim": 2, "n_layers": 1, **networks})
    assert flow.config["n_layers"] == 1 and flow.num_params() > 0
    with pytest.raises(ValueError, match="n_layers must be >= 1, got 0"):
        build_model({"model": model, "dim": 2, "n_layers": 0})


@pytest.mark.parametrize("build, error, message", [
    (lambda: build_realnvp(2.5, n_layers=2, hidden=(4,)), TypeError, r"dim must be an integer, got 2.5"),
    (lambda: build_realnvp(2, n_layers=2.5, hidden=(4,)), TypeError, r"n_layers must be an integer"),
    (lambda: build_realnvp(2, n_layers=2, hidden=(4.5,)), TypeError, r"hidden entry must be an integer"),
    (lambda: build_realnvp(2, n_layers=2, hidden=4), TypeError, r"hidden must be a sequence"),
    (lambda: build_realnvp(1, n_layers=2), ValueError, r"Real-NVP needs dim >= 2"),
    (lambda: build_autoregressive("maf", 3.0, n_layers=1, hidden=(4,)), TypeError, r"dim must be an integer"),
    (lambda: build_autoregressive("maf", 2, n_layers=0, hidden=(4,)), ValueError, r"n_layers must be >= 1"),
    (lambda: build_planar(2, n_layers=0), ValueError, r"n_layers must be >= 1"),   # not via the schema
    (lambda: build_radial(2, n_layers=0), ValueError, r"n_layers must be >= 1"),
    (lambda: build_model({"model": "waveglow", "dim": 2}), ValueError, r"unknown model 'waveglow'"),
])
def test_model_builders_do_not_truncate(build, error, message):
    with pytest.raises(error, match=message):
        build()
