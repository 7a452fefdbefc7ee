"""load_model on broken and hostile files: every outcome is the identical
model or a ModelFileError, within a bounded time per case (an alarm turns a hang into a failure).

Cases: every truncation length (in steps), seeded single-bit flips over the whole file, and header
mutations that ask for huge or unknown models, drop keys, or carry NaN parameters.
"""
import io
import json
import zipfile

import numpy as np
import pytest

from scratchflow.io import ModelFileError, load_model, save_model
from scratchflow.models import build_model
from tests.time_limit import time_limit

SECONDS_PER_CASE = 5


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    flow = build_model({"model": "realnvp", "dim": 2, "n_layers": 2, "hidden": [3], "seed": 4,
                        "actnorm": True})
    rng = np.random.default_rng(0)
    for value in flow.params.values():
        value += rng.normal(size=value.shape)
    path = tmp_path_factory.mktemp("fuzz") / "model.npz"
    save_model(flow, path)
    return flow, path.read_bytes()


def _outcome(original, path):
    """'same' for a loaded model identical to ``original``, 'refused' for ModelFileError."""
    try:
        with time_limit(SECONDS_PER_CASE, "load_model on one case"):
            flow = load_model(path)
    except ModelFileError:
        return "refused"
    assert flow.config == original.config
    for mine, theirs in ((flow.params, original.params), (flow.buffers, original.buffers)):
        assert mine.keys() == theirs.keys()
        for name in mine:
            np.testing.assert_array_equal(mine[name], theirs[name])
    return "same"


def test_truncations(saved, tmp_path):
    original, data = saved
    path = tmp_path / "cut.npz"
    outcomes = set()
    for length in range(0, len(data), 37):
        path.write_bytes(data[:length])
        outcomes.add(_outcome(original, path))
    assert outcomes == {"refused"}


def test_single_bit_flips(saved, tmp_path):
    original, data = saved
    path = tmp_path / "flipped.npz"
    rng = np.random.default_rng(12)
    outcomes = []
    for bit in rng.choice(8 * len(data), size=400, replace=False):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(bytes(flipped))
        outcomes.append(_outcome(original, path))
    assert "refused" in outcomes                     # the flips did reach checked bytes


def _with_header(data_path, out_path, change_header=None, change_arrays=None):
    with np.load(data_path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(str(arrays.pop("header")))
    if change_header:
        change_header(header)
    if change_arrays:
        change_arrays(arrays)
    with open(out_path, "wb") as file:
        np.savez(file, header=np.array(json.dumps(header)), **arrays)


HEADER_MUTATIONS = {
    "ten million layers": lambda h: h["config"].update(n_layers=10 ** 7),
    "huge hidden": lambda h: h["config"].update(hidden=[20000, 20000]),
    "hidden that fits the bounds but not the file": lambda h: h["config"].update(hidden=[4000]),
    "unknown model": lambda h: h["config"].update(model="waveglow"),
    "missing dim": lambda h: h["config"].pop("dim"),
    "unknown key": lambda h: h["config"].update(colour="red"),
    "dim as text": lambda h: h["config"].update(dim="2"),
    "dim as bool": lambda h: h["config"].update(dim=True),
    "negative seed": lambda h: h["config"].update(seed=-1),
    "unknown activation": lambda h: h["config"].update(activation="gelu"),
    "config not an object": lambda h: h.update(config=[1, 2]),
    "other version": lambda h: h.update(format_version=99),
    "other format": lambda h: h.update(format="pickle"),
    "dim 1 Real-NVP": lambda h: h["config"].update(dim=1),
    "dim 3 (arrays mismatch)": lambda h: h["config"].update(dim=3),
}


@pytest.mark.parametrize("name", sorted(HEADER_MUTATIONS))
def test_header_mutations_are_refused_before_building(saved, tmp_path, name):
    original, data = saved
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    good.write_bytes(data)
    _with_header(good, bad, change_header=HEADER_MUTATIONS[name])
    assert _outcome(original, bad) == "refused"


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_parameter_is_refused(saved, tmp_path, value):
    original, data = saved
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    good.write_bytes(data)

    def poison(arrays):
        key = sorted(key for key in arrays if key.startswith("param:"))[0]
        arrays[key] = arrays[key].copy()
        arrays[key].flat[0] = value
    _with_header(good, bad, change_arrays=poison)
    with pytest.raises(ModelFileError, match="contains NaN or inf"):
        load_model(bad)
    _with_header(good, good)                         # the unchanged rewrite still loads
    assert _outcome(original, good) == "same"


def test_an_entry_whose_shape_exceeds_its_bytes_is_refused(saved, tmp_path):
    """A consistent archive whose .npy header claims 10⁹ floats for 8 bytes: refused unread."""
    original, data = saved
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    good.write_bytes(data)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for member in source.infolist():
            payload = source.read(member)
            if member.filename.startswith("param:") and "lie" not in locals():
                lie = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    lie, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 9,)})
                payload = lie.getvalue() + bytes(8)
            target.writestr(member, payload)
    with pytest.raises(ModelFileError, match=r"declares shape \(1000000000,\)"):
        load_model(bad)


def test_some_bit_flips_leave_the_model_loadable(saved, tmp_path):
    """Not every byte is checked (zip padding, timestamps): those flips must load the same model,
    which the outcome check compares array by array."""
    original, data = saved
    path = tmp_path / "flipped.npz"
    outcomes = set()
    for byte in range(len(data) - 22, len(data)):                # the end-of-archive record
        flipped = bytearray(data)
        flipped[byte] ^= 0x01
        path.write_bytes(bytes(flipped))
        outcomes.add(_outcome(original, path))
    assert outcomes <= {"same", "refused"}


@pytest.mark.parametrize("field", ["encrypted flag", "compression method"])
def test_zip_method_and_flag_flips_are_model_file_errors(saved, tmp_path, field):
    """These two fields escaped as NotImplementedError / an "encrypted" RuntimeError."""
    original, data = saved
    path = tmp_path / "flipped.npz"
    records = [(b"PK\x03\x04", 6), (b"PK\x01\x02", 8)]          # local header, central directory
    outcomes = []
    for signature, flag_offset in records:
        start = data.find(signature)
        while start != -1:
            flipped = bytearray(data)
            if field == "encrypted flag":
                flipped[start + flag_offset] ^= 0x01             # general purpose bit 0
            else:
                flipped[start + flag_offset + 2] ^= 0x04         # method 0 (stored) -> 4
            path.write_bytes(bytes(flipped))
            outcomes.append(_outcome(original, path))          # same or refused, nothing else
            start = data.find(signature, start + 1)
    assert len(outcomes) >= 2 * len(original.params) and "refused" in outcomes
