"""``scratchflow train --data digits --model glow`` writes the MAF slide's figure, read back from
the PNG: two grids of images side by side, captioned "(a) Generated images" and "(b) Real images";
and the summary and the history give bits per dimension."""
import json

import numpy as np
import pytest
from PIL import Image

from scratchflow.cli import main
from scratchflow.plotting.generated_vs_real import image_grid


def _dark_column_runs(pixels):
    """Runs of consecutive columns with a dark pixel in the middle third of the rows (a grid's
    black gaps between cells cross every column of it; the white page between grids has none):
    a list of (start, stop)."""
    rows = pixels.shape[0]
    band = pixels[rows // 3: 2 * rows // 3].mean(axis=2)                 # (R/3, W) grey levels
    dark = band.min(axis=0) < 0.5                                        # (W,)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], dark.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def test_train_glow_on_digits_writes_generated_beside_real_images_and_bits_per_dim(tmp_path, capsys):
    out = tmp_path / "glow"
    status = main(["train", "--model", "glow", "--data", "digits", "--steps", "3", "--layers", "1",
                   "--hidden", "8", "--no-progress", "--out", str(out)])
    assert status == 0
    summary = capsys.readouterr().out
    assert "bits/dim" in summary and "generated_vs_real.png" in summary
    with Image.open(out / "generated_vs_real.png") as png:
        assert png.text["Description"] == "(a) Generated images, (b) Real images"
        pixels = np.asarray(png.convert("RGB"), dtype=float) / 255.0       # (R, W, 3)
    runs = _dark_column_runs(pixels)
    assert len(runs) == 2, runs                                          # two grids
    widths = [stop - start for start, stop in runs]
    assert min(widths) > 0.3 * pixels.shape[1] and abs(widths[0] - widths[1]) <= 2   # same size
    history = json.loads((out / "history.json").read_text())
    assert len(history["val_bits_per_dim"]) == len(history["val_loss"]) >= 1
    assert 0 < history["val_bits_per_dim"][-1] < 20


def test_image_grid_places_image_k_in_row_k_div_columns():
    images = np.arange(1, 17, dtype=float)[:, None] * np.ones((16, 4)) / 16   # 16 flat 2×2 images
    mosaic = image_grid(images, (2, 2), columns=8)
    assert mosaic.shape == (2 * 3 - 1, 8 * 3 - 1)
    assert mosaic[3, 3] == images[9, 0] and mosaic[2].max() == 0          # row 2 is the gap


def test_train_refuses_an_image_model_on_data_that_are_not_images(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--model", "realnvp-multiscale", "--data", "moons", "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert "realnvp-multiscale is a flow for images; train it on digits" in capsys.readouterr().err
