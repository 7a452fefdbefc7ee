"""The step floor's product count (bench/step_floor.py): three GEMMs per Linear layer, of the
shapes the layer's forward and gradient passes multiply, counted from the model."""
import pathlib
import sys

import numpy as np
import pytest

from scratchflow.models import build_autoregressive, build_realnvp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
from step_floor import linear_shapes, step_floor, step_gemms  # noqa: E402


def test_realnvp_has_three_linear_layers_per_coupling():
    flow = build_realnvp(2, n_layers=4, hidden=(8, 8), seed=0)
    assert linear_shapes(flow) == [(1, 8), (8, 8), (8, 2)] * 4


def test_made_output_layer_carries_two_numbers_per_dimension():
    flow = build_autoregressive("maf", 3, n_layers=2, hidden=(5,), seed=0)
    assert linear_shapes(flow) == [(3, 5), (5, 6)] * 2


def test_each_linear_layer_adds_its_forward_weight_and_input_gemms():
    gemms = step_gemms([(2, 7), (7, 7), (2, 7)], batch=10)
    assert gemms == {(10, 2, 7, "nn"): 2, (2, 10, 7, "tn"): 2, (10, 7, 2, "nt"): 2,
                     (10, 7, 7, "nn"): 1, (7, 10, 7, "tn"): 1, (10, 7, 7, "nt"): 1}
    flops = sum(2 * m * k * n * count for (m, k, n, _), count in gemms.items())
    assert flops == 3 * 2 * 10 * (2 * 7 * 2 + 7 * 7)                  # 3 products per layer


def test_floor_adds_the_products_and_the_transcendentals():
    flow = build_realnvp(2, n_layers=1, hidden=(4,), seed=0)
    floor = step_floor(flow, 8, np.float64, [("tanh", (8, 4), 2)])
    assert floor["gemm_gflop"] == 3 * 2 * 8 * (1 * 4 + 4 * 2) / 1e9
    assert floor["floor_ms"] == pytest.approx(floor["gemm_ms"] + floor["transcendental_ms"])
    assert floor["transcendentals"][0]["count"] == 2 and floor["transcendental_ms"] > 0
