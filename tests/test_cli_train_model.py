"""The model ``scratchflow train`` builds from its flags: the family, sizes and seed as given, and
for image data (pixels in (0, 1)) a Logit layer with alpha 0.05 in front (Real-NVP §4.1)."""
import argparse

from scratchflow.bijectors import AffineCoupling, Logit
from scratchflow.cli.train import _build_flow


def _args(data):
    return argparse.Namespace(model="realnvp", layers=2, hidden=[4], seed=3, data=data, conditional=False)


def test_image_data_gets_a_logit_layer_first():
    flow = _build_flow(_args("digits"), 64)
    first = flow.layers.layers[0]
    assert isinstance(first, Logit) and first.alpha == 0.05
    assert flow.config["logit_alpha"] == 0.05 and flow.config["seed"] == 3


def test_toy_data_gets_the_flow_as_asked():
    flow = _build_flow(_args("moons"), 2)
    assert [type(layer) for layer in flow.layers.layers] == [AffineCoupling, AffineCoupling]
    assert flow.config["hidden"] == [4] and "logit_alpha" not in flow.config


def test_train_runs_2000_steps_unless_told(monkeypatch, tmp_path):
    from scratchflow.cli import main, train
    from scratchflow.history import History
    asked = []

    def quick_fit(flow, data, val_data, **options):
        asked.append((options["steps"], options["epochs"]))
        return History(mode="data")
    monkeypatch.setattr(train, "fit", quick_fit)
    common = ["--n-train", "20", "--n-val", "10", "--no-figures", "--no-progress"]
    assert main(["train", "--out", str(tmp_path / "a")] + common) == 0
    assert main(["train", "--steps", "7", "--out", str(tmp_path / "b")] + common) == 0
    assert main(["train", "--epochs", "3", "--out", str(tmp_path / "c")] + common) == 0
    assert asked == [(2000, None), (7, None), (None, 3)]
