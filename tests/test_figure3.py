"""The Figure-3 command: wiring, outputs, and the tempered target (the real run is in the docs)."""
import json
import os

import numpy as np
import pytest

from scratchflow.cli import main
import scratchflow.figure3 as figure3
from scratchflow.figure3 import TemperedTarget, model_configs
from scratchflow.models import build_model
from scratchflow.targets import load_target


def test_columns_match_the_planar_k32_size():
    columns = model_configs()
    assert [label for label, _ in columns][:3] == ["planar K=2", "planar K=8", "planar K=32"]
    sizes = [build_model(config).num_params() for _, config in columns]
    assert sizes[:3] == [10, 40, 160]
    assert all(abs(size - 160) <= 16 for size in sizes[3:])            # IAF, Real-NVP within 10%


def test_tempered_target_scales_log_prob_and_gradient():
    target = load_target("u2")
    x = np.random.default_rng(0).normal(size=(5, 2))
    tempered = TemperedTarget(target, 0.25)
    np.testing.assert_allclose(tempered.log_prob(x), 0.25 * target.log_prob(x))
    np.testing.assert_allclose(tempered.grad_log_prob(x), 0.25 * target.grad_log_prob(x))


def test_command_writes_the_grid_and_the_kl_table(tmp_path, capsys):
    out = str(tmp_path / "fig")
    assert main(["figure3", "--out", out, "--steps", "12", "--targets", "u1"]) == 0
    with open(os.path.join(out, "figure3.json"), encoding="utf-8") as handle:
        results = json.load(handle)
    assert [panel["model"] for panel in results["panels"]][:3] == ["planar K=2", "planar K=8",
                                                                  "planar K=32"]
    assert all(np.isfinite(panel["kl"]) for panel in results["panels"])
    assert set(results["planar_kl_decreases_with_k"]) == {"u1"}
    assert os.path.getsize(os.path.join(out, "figure3.png")) > 0
    assert "planar KL" in capsys.readouterr().out


def test_command_refuses_an_unknown_target(tmp_path):
    with pytest.raises(SystemExit, match="unknown target 'u9'"):
        main(["figure3", "--out", str(tmp_path), "--targets", "u1,u9"])
    assert not os.listdir(tmp_path)                                   # nothing written


def test_an_interrupted_save_keeps_the_previous_results(tmp_path, monkeypatch):
    """figure3.json is written under a temporary name: an interrupt mid-write keeps the old one."""
    path = figure3.save_results({"panels": [], "run": "old"}, str(tmp_path))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(json, "dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        figure3.save_results({"panels": [], "run": "new"}, str(tmp_path))
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle)["run"] == "old"


def test_fit_refuses_zero_steps_before_fitting():
    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        figure3.fit_figure3(steps=0, log=None)


def test_a_panel_anneals_in_three_equal_stages_then_fits_the_target_in_the_second_half(monkeypatch):
    """As the module docstring says: β = 0.05, 0.2, 0.5 in three equal stages over the first half of
    the steps, then β = 1 (the target itself) for the second half, each fit seeded differently."""
    calls = []

    def record(flow, target, steps, seed, **options):
        calls.append((getattr(target, "beta", 1.0), steps, seed))
    monkeypatch.setattr(figure3, "fit", record)
    target = load_target("u1")
    flow, kl = figure3.fit_panel(model_configs()[0][1], target, steps=120, seed=3)
    assert [(beta, steps) for beta, steps, _ in calls] == [(0.05, 20), (0.2, 20), (0.5, 20), (1.0, 60)]
    assert len({seed for _, _, seed in calls}) == 4
    calls.clear()
    figure3.fit_panel(model_configs()[0][1], target, steps=2, seed=3)   # fewer steps than stages
    assert [(beta, steps) for beta, steps, _ in calls] == [(0.05, 1), (0.2, 1), (0.5, 1), (1.0, 1)]
    calls.clear()
    assert figure3.fit_panel(model_configs()[0][1], target, steps=120, seed=3)[1] == kl   # fixed draws
    z = flow.base.sample(4096, np.random.default_rng(99))                 # (4096, 2) other draws
    x, log_det = flow.layers.inverse(z)                                   # (4096, 2), (4096,)
    terms = flow.base.log_prob(z) - log_det - target.log_prob(x)          # log q(x) − log p*(x)
    assert abs(kl - terms.mean() - figure3.log_normalizer(target)) < 5 * terms.std() / 64 * np.sqrt(2)
