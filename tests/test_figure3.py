"""The Figure-3 command: wiring, outputs, and the tempered target (the real run is in the docs)."""
import json
import os

import numpy as np
import pytest

from scratchflow.cli import main
from scratchflow.history import History
import scratchflow.figure3 as figure3
from scratchflow.figure3 import TemperedTarget, final_kl, fit_panel, model_configs, schedule
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


def test_schedule_anneals_beta_over_the_first_half_and_decays_the_rate_to_zero():
    steps = 1000
    betas, factors = zip(*(schedule(step, steps) for step in range(steps + 1)))
    assert betas[0] == pytest.approx(0.01) and factors[0] == pytest.approx(1.0)
    assert betas[steps // 2] == pytest.approx(1.0) and betas[steps // 2 - 50] < 0.95
    assert all(beta == 1.0 for beta in betas[steps // 2:])
    assert factors[steps // 2] == pytest.approx(0.5) and factors[-1] == pytest.approx(0.0)
    assert np.all(np.diff(betas) >= 0) and np.all(np.diff(factors) <= 0)


def test_fit_panel_runs_one_optimizer_through_the_schedule(monkeypatch):
    """Every chunk is a fit on p*^β with the β and rate of the schedule at its middle, and the
    same Adam (its moments) throughout."""
    calls = []
    real_fit = figure3.fit

    def recording_fit(flow, *, target, steps, optimizer, **kwargs):
        calls.append((target.beta, optimizer.lr, steps, optimizer))
        return real_fit(flow, target=target, steps=steps, optimizer=optimizer, **kwargs)
    monkeypatch.setattr(figure3, "fit", recording_fit)
    config = {"model": "planar", "dim": 2, "n_layers": 2}
    _, kl, standard_error = fit_panel(config, load_target("u2"), steps=250)
    assert [steps for *_, steps, _ in calls] == [100, 100, 50]
    assert len({id(optimizer) for *_, optimizer in calls}) == 1
    for (beta, lr, _, _), middle in zip(calls, (50, 150, 225)):
        expected_beta, factor = schedule(middle, 250)
        assert beta == pytest.approx(expected_beta) and lr == pytest.approx(2e-2 * factor)
    assert np.isfinite(kl) and 0 < standard_error < 0.1


class ShiftedNormal:
    """N(mean, I) in 2-D, normalised (log Z = 0)."""
    dim = 2

    def __init__(self, mean):
        self.mean = np.asarray(mean, dtype=float)

    def log_prob(self, x):
        return -0.5 * np.sum((x - self.mean) ** 2, axis=1) - np.log(2 * np.pi)     # (N,)


def test_ctrl_c_inside_a_chunk_stops_the_panel(monkeypatch):
    """fit returns normally after Ctrl-C (keeping its parameters); fit_panel must not go on to the
    next chunk and the next panel as if nothing happened."""
    calls = []

    def interrupted_fit(flow, **kwargs):
        calls.append(kwargs["steps"])
        return History(mode="target", stopped="interrupted (Ctrl-C) after 3 steps")
    monkeypatch.setattr(figure3, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt, match="interrupted"):
        fit_panel({"model": "planar", "dim": 2, "n_layers": 2}, load_target("u2"), steps=300)
    assert calls == [100]


def test_final_kl_is_the_exact_kl_between_two_gaussians():
    """A Real-NVP at its initialisation is the identity, q = N(0, I): KL(q‖N(m, I)) = ½‖m‖², and
    log q − log p = ½‖m‖² − zᵀm has standard deviation ‖m‖, so the standard error is ‖m‖/√n."""
    flow = build_model({"model": "realnvp", "dim": 2, "n_layers": 2, "hidden": [4], "seed": 3})
    kl, standard_error = final_kl(flow, ShiftedNormal([0.0, 0.0]))
    assert abs(kl) < 1e-4 and standard_error < 1e-6          # log Z on the grid: ~1e-6
    kl, standard_error = final_kl(flow, ShiftedNormal([0.6, -0.8]))
    assert standard_error == pytest.approx(1.0 / np.sqrt(figure3.EVAL_DRAWS), rel=0.02)
    assert abs(kl - 0.5) < 4 * standard_error


def test_command_writes_the_grid_and_the_kl_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(figure3, "EVAL_DRAWS", 1024)                   # a tiny run: 12 steps
    out = str(tmp_path / "fig")
    assert main(["figure3", "--out", out, "--steps", "12", "--targets", "u1", "--jobs", "1"]) == 0
    with open(os.path.join(out, "figure3.json"), encoding="utf-8") as handle:
        results = json.load(handle)
    assert [panel["model"] for panel in results["panels"]][:3] == ["planar K=2", "planar K=8",
                                                                  "planar K=32"]
    assert all(np.isfinite(panel["kl"]) for panel in results["panels"])
    assert all(0 < panel["kl_standard_error"] < 1 for panel in results["panels"])
    assert set(results["planar_kl_decreases_with_k"]) == {"u1"}
    assert os.path.getsize(os.path.join(out, "figure3.png")) > 0
    assert "planar KL" in capsys.readouterr().out


def test_two_processes_give_the_results_of_one():
    """Each panel is seeded on its own and comes back as parameters: jobs = 2 changes nothing."""
    one, flows_one = figure3.fit_figure3(steps=5, targets=("u2",), log=lambda line: None, jobs=1)
    two, flows_two = figure3.fit_figure3(steps=5, targets=("u2",), log=lambda line: None, jobs=2)
    assert [panel["kl"] for panel in one["panels"]] == [panel["kl"] for panel in two["panels"]]
    points = np.random.default_rng(0).normal(size=(7, 2))
    for key, flow in flows_one.items():
        np.testing.assert_array_equal(flow.layers.inverse(points)[0],
                                      flows_two[key].layers.inverse(points)[0])
    target = load_target("u2")                     # the rebuilt flows carry the fitted parameters
    for panel in two["panels"]:
        kl, _ = final_kl(flows_two["u2", panel["model"]], target)
        assert kl == pytest.approx(panel["kl"], abs=1e-12)


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




@pytest.mark.parametrize("steps", [2, 3, 1000])
def test_beta_rises_linearly_from_0_01_and_reaches_1_at_half_the_steps(steps):
    """β_t = 0.01 + 0.99 t / (steps / 2) up to half the steps, then 1, whatever the length."""
    half = steps / 2
    times = np.linspace(0.0, half, 11)
    betas = [schedule(t, steps)[0] for t in times]
    np.testing.assert_allclose(betas, 0.01 + 0.99 * times / half, rtol=1e-12)
    assert schedule(half, steps)[0] == pytest.approx(1.0) and schedule(steps, steps)[0] == 1.0


def test_matched_columns_are_the_ones_the_docs_report():
    """docs/flow_family.md: IAF 4 layers of width 5 (156 parameters), Real-NVP 4 couplings of
    width 9 (152; width 10 gives 168, as far from 160: the tie goes to the smaller model)."""
    columns = dict(model_configs())
    for label, width, size in (("IAF (matched)", 5, 156), ("Real-NVP (matched)", 9, 152)):
        assert columns[label]["n_layers"] == 4 and columns[label]["hidden"] == [width]
        assert build_model(columns[label]).num_params() == size


@pytest.mark.parametrize("model,lr", [("iaf", 1e-2), ("realnvp", 1e-2), ("planar", 2e-2)])
def test_each_family_starts_at_the_documented_rate_and_keeps_its_last_parameters(monkeypatch, model, lr):
    """docs/flow_family.md: the rate starts at 2e-2 (planar) or 1e-2 (IAF, Real-NVP)."""
    rates = []

    def recording_fit(flow, *, optimizer, restore_best, **kwargs):
        rates.append(optimizer.lr)
        assert restore_best is False        # the flow keeps its last parameters, as documented
        return History(mode="target", stopped="interrupted (Ctrl-C) after 0 steps")
    monkeypatch.setattr(figure3, "fit", recording_fit)
    config = dict(model_configs())["IAF (matched)" if model == "iaf" else
                                   "Real-NVP (matched)" if model == "realnvp" else "planar K=2"]
    with pytest.raises(KeyboardInterrupt):
        fit_panel(config, load_target("u2"), steps=1000)
    assert rates == [pytest.approx(lr * schedule(50, 1000)[1])]
