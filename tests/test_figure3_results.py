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
