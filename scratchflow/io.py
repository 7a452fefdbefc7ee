"""Save and load trained flows (one ``.npz`` file per model, no pickle) and training histories.

A model file is a NumPy ``.npz`` archive holding

* ``header``: a JSON string with ``format``, ``format_version``, the model's ``config`` (the dict
  :func:`scratchflow.models.build_model` rebuilds it from) and the name, shape and dtype of every
  saved array;
* ``param:<name>`` for every entry of ``flow.params`` (``param:layers.0.scale_net.0.weight``);
* ``buffer:<name>`` for every entry of ``flow.buffers`` (ActNorm's "initialized" flag, ...).

Loading opens it with ``np.load(allow_pickle=False)``, rebuilds the architecture from the config and
copies each array in place, after checking that nothing is missing, extra, mis-shaped or of another
dtype. A round trip reproduces ``log_prob`` bit for bit.

    save_model(flow, "out/model.npz")
    flow = load_model("out/model.npz")
"""
import csv
import json
import os
import zipfile

import numpy as np

from scratchflow.history import History
from scratchflow.models import build_model

FORMAT = "scratchflow-model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be loaded: corrupt, from another format version, or not matching
    the architecture its config describes."""


def save_model(flow, path):
    """Write ``flow`` (which must have a ``config`` dict) to ``path`` (.npz); return the path."""
    config = getattr(flow, "config", None)
    if not isinstance(config, dict) or "model" not in config:
        raise ValueError("this flow has no config to rebuild it from; build it with "
                         "scratchflow.models.build_model(...) or build_realnvp(...) to save it")
    arrays = {f"param:{name}": value for name, value in flow.params.items()}
    arrays.update({f"buffer:{name}": value for name, value in flow.buffers.items()})
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config,
        "arrays": {key: {"shape": list(value.shape), "dtype": value.dtype.name}
                   for key, value in arrays.items()},
    }
    path = os.fspath(path)                                # str or pathlib.Path
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give the model file's path, e.g. "
                                f"{os.path.join(path, 'model.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    partial = path + ".partial"
    with open(partial, "wb") as file:                     # a file object: np.savez keeps the name
        np.savez(file, header=np.array(json.dumps(header)), **arrays)
    os.replace(partial, path)                             # never leave a half-written model
    return path


def load_model(path, builder=None):
    """Read a model written by :func:`save_model` and return the rebuilt flow.

    Parameters
    ----------
    path : str
    builder : callable(config) -> Flow, optional
        Default :func:`scratchflow.models.build_model`.

    Raises
    ------
    FileNotFoundError
    ModelFileError (a ValueError)
        Truncated or corrupt file, wrong format or version, missing / extra / mis-shaped arrays.
    """
    builder = build_model if builder is None else builder
    path = os.fspath(path)                                # str or pathlib.Path
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory, not a model file; pass the .npz file "
                                f"written by save_model (e.g. {os.path.join(path, 'model.npz')})")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):      # a bare .npy array
            raise ModelFileError(f"{path} is a single NumPy array (.npy), not a scratchflow "
                                 f"model file (.npz written by save_model)")
        with loaded as archive:
            if "header" not in archive.files:
                raise ModelFileError(f"{path} is not a scratchflow model file (no 'header' entry)")
            header = _parse_header(path, archive["header"])
            arrays = {key: archive[key] for key in archive.files if key != "header"}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        if isinstance(error, (ModelFileError, FileNotFoundError)):
            raise
        raise ModelFileError(f"cannot read {path}: the file is truncated or corrupt "
                             f"({type(error).__name__}: {error})") from error

    flow = builder(header["config"])
    live = {f"param:{name}": value for name, value in flow.params.items()}
    live.update({f"buffer:{name}": value for name, value in flow.buffers.items()})
    missing = sorted(set(live) - set(arrays))
    extra = sorted(set(arrays) - set(live))
    if missing or extra:
        raise ModelFileError(f"{path} does not match the architecture of its config "
                             f"({header['config'].get('model')}): missing arrays {missing}, "
                             f"unexpected arrays {extra}")
    for key, target in live.items():
        value = arrays[key]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise ModelFileError(f"{path}: array {key!r} has shape {value.shape} and dtype "
                                 f"{value.dtype}, the model expects {target.shape} {target.dtype}")
    for key, target in live.items():
        np.copyto(target, arrays[key])
    return flow


def _parse_header(path, header_array):
    if header_array.dtype.kind != "U" or header_array.shape != ():
        raise ModelFileError(f"{path}: the 'header' entry is not a JSON string")
    try:
        header = json.loads(str(header_array))
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path}: the header is not valid JSON ({error})") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a scratchflow model file (format "
                             f"{header.get('format') if isinstance(header, dict) else None!r})")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path} has model format version {header.get('format_version')!r}; "
                             f"this scratchflow reads version {FORMAT_VERSION}")
    if not isinstance(header.get("config"), dict):
        raise ModelFileError(f"{path}: the header has no model config")
    return header


def save_history(history, folder):
    """Write ``history.json`` (everything) and ``history.csv`` (one row per step) into ``folder``.

    The CSV has columns ``step, train_loss, grad_norm, val_loss``; ``val_loss`` is empty on steps
    without an evaluation. Returns the two paths.
    """
    os.makedirs(folder, exist_ok=True)
    json_path = os.path.join(folder, "history.json")
    with open(json_path, "w") as file:
        json.dump(history.to_dict(), file, indent=1)
    csv_path = os.path.join(folder, "history.csv")
    val_at = dict(zip(history.val_step, history.val_loss))
    with open(csv_path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["step", "train_loss", "grad_norm", "val_loss"])
        for index, loss in enumerate(history.train_loss):
            step = index + 1
            grad_norm = history.grad_norm[index] if index < len(history.grad_norm) else ""
            writer.writerow([step, repr(loss), repr(grad_norm) if grad_norm != "" else "",
                             repr(val_at[step]) if step in val_at else ""])
    return json_path, csv_path


def load_history(path):
    """Read ``history.json`` back into a :class:`scratchflow.history.History`."""
    with open(path) as file:
        return History(**json.load(file))
