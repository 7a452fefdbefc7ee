"""Figure 3's result table (scratchflow/figure3.py) apart from any fit: "the planar KL decreases
with K" means strictly, target by target, and the JSON keeps every number."""
import json

from scratchflow import figure3


def _results(kls_by_target):
    return {"panels": [{"target": name, "model": model, "kl": kl}
                       for name, kls in kls_by_target.items()
                       for model, kl in zip(["planar K=2", "planar K=8", "planar K=32", "IAF (matched)"],
                                            kls)]}


def test_planar_kl_decreases_with_k_strictly_and_per_target():
    results = _results({"u1": [0.5, 0.3, 0.1, 9.0], "u2": [0.5, 0.3, 0.3, 0.0],
                        "u3": [0.5, 0.6, 0.1, 0.0]})
    assert figure3._decreases(results, "u1")                          # the IAF column is not planar
    assert not figure3._decreases(results, "u2")                      # a tie is no decrease
    assert not figure3._decreases(results, "u3")


def test_saved_results_read_back_equal(tmp_path):
    results = {"steps": 12, "panels": [{"target": "u1", "model": "planar K=2", "kl": 0.125}]}
    path = figure3.save_results(results, str(tmp_path / "out"))
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle) == results


def _stated_defaults(function):
    import ast
    import inspect
    import re
    paragraph = inspect.getdoc(function).split("Defaults:", 1)[1]
    return {name: ast.literal_eval(value) for name, value in re.findall(r"``(\w+)=([^`]+)``", paragraph)}


def test_fit_panel_by_default_fits_as_its_stated_defaults_do(monkeypatch):
    """Every chunk's fit gets the same minibatch size, validation size and seed whether the
    defaults the docstring states are left out or given."""
    from scratchflow.history import History
    from scratchflow.targets import load_target
    calls = []

    def recording_fit(flow, **kwargs):
        calls.append({key: kwargs[key] for key in ("batch_size", "val_size", "seed", "steps")})
        return History(mode="target")
    monkeypatch.setattr(figure3, "fit", recording_fit)
    monkeypatch.setattr(figure3, "EVAL_DRAWS", 16)
    config = {"model": "planar", "dim": 2, "n_layers": 2}
    figure3.fit_panel(config, load_target("u2"), steps=150)
    by_default = calls[:]
    figure3.fit_panel(config, load_target("u2"), steps=150, **_stated_defaults(figure3.fit_panel))
    assert calls[2:] == by_default and len(by_default) == 2


def test_the_final_kl_uses_the_documented_number_of_fixed_draws(monkeypatch):
    """The module docstring: "on N base draws that are the same for every panel and every seed"."""
    import re

    from scratchflow.models import build_model
    from scratchflow.targets import load_target
    documented = int(re.search(r"on (\d+) base draws", figure3.__doc__).group(1))
    flow = build_model({"model": "planar", "dim": 2, "n_layers": 2})
    drawn = []
    base_sample = flow.base.sample
    monkeypatch.setattr(flow.base, "sample",
                        lambda n, rng, **options: drawn.append(base_sample(n, rng, **options)) or drawn[-1])
    figure3.final_kl(flow, load_target("u2"))
    (draws,) = drawn
    assert draws.shape == (documented, 2)


def test_a_panel_fits_without_a_progress_bar(monkeypatch, capfd):
    """The figure3 command prints one line per panel; the panels' fits draw no bar of their own."""
    from scratchflow.targets import load_target
    monkeypatch.setattr(figure3, "EVAL_DRAWS", 16)
    figure3.fit_panel({"model": "planar", "dim": 2, "n_layers": 2}, load_target("u2"), steps=3,
                      batch_size=8)
    assert capfd.readouterr().err == ""


def test_the_final_kl_adds_log_z_back_for_an_unnormalised_target():
    """p* = e^3 N(m, I): log q − log p* is 3 lower than against the normalised N(m, I), and
    + log Z (= 3) gives the same KL, ½‖m‖² at the identity flow."""
    import numpy as np

    from scratchflow.models import build_model

    class Unnormalised:
        dim = 2

        def log_prob(self, x):
            return -0.5 * np.sum((x - [0.6, -0.8]) ** 2, axis=1) - np.log(2 * np.pi) + 3.0
    flow = build_model({"model": "realnvp", "dim": 2, "n_layers": 2, "hidden": [4], "seed": 3})
    kl, standard_error = figure3.final_kl(flow, Unnormalised())
    assert abs(kl - 0.5) < 4 * standard_error + 1e-5


def test_fit_figure3_by_default_fits_as_its_stated_defaults_do(monkeypatch):
    tasks = []

    def recording_worker(task):
        tasks.append(task)
        return {}, 0.25, 0.01
    monkeypatch.setattr(figure3, "_fit_in_worker", recording_worker)
    monkeypatch.setattr(figure3, "model_configs",
                        lambda: [("planar K=2", {"model": "planar", "dim": 2, "n_layers": 2})])
    import time
    start = time.perf_counter()
    by_default, _ = figure3.fit_figure3(targets=("u1",), log=lambda line: None)
    assert 0.0 <= by_default["seconds"] <= time.perf_counter() - start     # its wall time
    stated, _ = figure3.fit_figure3(targets=("u1",), log=lambda line: None,
                                    **_stated_defaults(figure3.fit_figure3))
    half = len(tasks) // 2
    assert tasks[:half] == tasks[half:] and half == 1                    # one task a panel
    assert {key: by_default[key] for key in ("steps", "seed", "jobs")} == \
        {key: stated[key] for key in ("steps", "seed", "jobs")}


def test_fit_figure3_refuses_zero_jobs_before_fitting():
    import pytest
    with pytest.raises(ValueError, match="jobs must be >= 1, got 0"):
        figure3.fit_figure3(steps=5, jobs=0, log=None)


def test_the_final_kl_of_a_flow_to_its_own_density_is_zero_on_one_blas_thread(monkeypatch):
    """log q − log p* is 0 on every draw when p* is the flow's own density (log Z = 0): this needs
    the log-determinant of x = f⁻¹(z) with its sign. The draws run one-threaded."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from scratchflow import ElementwiseAffine, Flow
    flow = Flow([ElementwiseAffine(2, log_scale=[0.7, -0.4], shift=[1.0, -2.0])])
    seen = []
    inverse = flow.layers.inverse

    def watched(z):
        seen.append({info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"})
        return inverse(z)
    monkeypatch.setattr(flow.layers, "inverse", watched)
    with threadpool_limits(limits=2, user_api="blas"):
        kl, standard_error = figure3.final_kl(flow, flow, log_z=0.0)
    assert abs(kl) < 1e-12 and standard_error < 1e-12
    blas = {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
    if blas:
        assert seen == [{1}]
