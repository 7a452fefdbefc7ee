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
import io
import json
import math
import os
import zipfile

import numpy as np

from scratchflow.atomic import write_atomically
from scratchflow.history import History
from scratchflow.model_schema import check_config, min_stored_values
from scratchflow.models import build_model

FORMAT = "scratchflow-model"
FORMAT_VERSION = 1
MAX_EXPANSION = 64          # an archive may expand to at most this many times its size (+ 1 MiB)


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
    return write_atomically(path, lambda file: np.savez(file, header=np.array(json.dumps(header)),
                                                        **arrays))   # a file object keeps the name


def load_model(path, builder=None):
    """Read a model written by :func:`save_model` and return the rebuilt flow.

    The file is untrusted input: its arrays' sizes are checked against the archive's size before
    any is read, the header's config against :mod:`scratchflow.model_schema` (known model, keys,
    types, bounds) and the parameter count it implies against the values actually stored, all
    before anything is built; every array must be finite.

    Parameters
    ----------
    path : str
    builder : callable(config) -> Flow, optional
        Default :func:`scratchflow.models.build_model` (with the schema check; a custom builder
        checks its own config).

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
    ModelFileError (a ValueError)
        Every other failure: truncated or corrupt archive, wrong format or version, a config the
        schema refuses, missing / extra / mis-shaped / non-finite arrays.
    """
    path = os.fspath(path)                                # str or pathlib.Path
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory, not a model file; pass the .npz file "
                                f"written by save_model (e.g. {os.path.join(path, 'model.npz')})")
    with open(path, "rb") as file:                        # missing, unreadable: OSError as such
        if file.read(6) == b"\x93NUMPY":                  # a bare .npy array
            raise ModelFileError(f"{path} is a single NumPy array (.npy), not a scratchflow "
                                 f"model file (.npz written by save_model)")
        file.seek(0)
        try:
            header, arrays = _read_archive(path, file)
        except ModelFileError:
            raise
        except Exception as error:                        # zip, npy, zlib, JSON: any corruption
            raise ModelFileError(f"cannot read {path}: the file is truncated or corrupt "
                                 f"({type(error).__name__}: {error})") from error
    config = header["config"]
    if builder is None:
        builder = build_model
        try:
            check_config(config)
        except ValueError as error:
            raise ModelFileError(f"{path}: {error}") from None
        stored = sum(array.size for array in arrays.values())
        if min_stored_values(config) > stored:
            raise ModelFileError(f"{path}: the config describes a model of at least "
                                 f"{min_stored_values(config)} parameters but the file holds "
                                 f"{stored} values")
    try:
        flow = builder(config)
    except (ValueError, TypeError, MemoryError) as error:
        raise ModelFileError(f"{path}: cannot build the model its config describes "
                             f"({type(error).__name__}: {error})") from None
    _fill(path, flow, arrays, config)
    return flow


def _read_archive(path, file):
    """``(header, arrays)`` from an open .npz; each array's size is checked before it is read."""
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        limit = MAX_EXPANSION * os.fstat(file.fileno()).st_size + 2 ** 20
        if sum(member.file_size for member in members) > limit:
            raise ModelFileError(f"{path}: the archive expands to more than {limit} bytes "
                                 f"(a zip bomb, or not a model file)")
        names = [member.filename for member in members]
        if "header.npy" not in names:
            raise ModelFileError(f"{path} is not a scratchflow model file (no 'header' entry)")
        entries = {}
        for member in members:
            if not member.filename.endswith(".npy"):
                raise ModelFileError(f"{path}: unexpected entry {member.filename!r}")
            entries[member.filename[:-4]] = _read_npy(path, archive, member)
    header = _parse_header(path, entries.pop("header"))
    return header, entries


def _read_npy(path, archive, member):
    """One .npy entry, refusing object arrays and a shape larger than the entry's bytes. The entry
    is read to its end, so zipfile checks its CRC: a flipped bit is an error, not a changed value."""
    with archive.open(member) as entry:
        data = io.BytesIO(entry.read())                   # size bounded by _read_archive's check
    version = np.lib.format.read_magic(data)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, _, dtype = read_header(data)
    if dtype.hasobject:
        raise ModelFileError(f"cannot read {path}: entry {member.filename!r} holds Python objects, "
                             f"which load only by unpickling (refused: allow_pickle=False)")
    if math.prod(shape) * dtype.itemsize > member.file_size:
        raise ModelFileError(f"{path}: entry {member.filename!r} declares shape {shape} of "
                             f"{dtype}, more than its {member.file_size} bytes")
    data.seek(0)
    return np.lib.format.read_array(data, allow_pickle=False)


def _fill(path, flow, arrays, config):
    """Copy the stored arrays into the built flow after checking names, shapes, dtypes, finiteness."""
    live = {f"param:{name}": value for name, value in flow.params.items()}
    live.update({f"buffer:{name}": value for name, value in flow.buffers.items()})
    missing = sorted(set(live) - set(arrays))
    extra = sorted(set(arrays) - set(live))
    if missing or extra:
        raise ModelFileError(f"{path} does not match the architecture of its config "
                             f"({config.get('model')}): missing arrays {missing}, "
                             f"unexpected arrays {extra}")
    for key, target in live.items():
        value = arrays[key]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise ModelFileError(f"{path}: array {key!r} has shape {value.shape} and dtype "
                                 f"{value.dtype}, the model expects {target.shape} {target.dtype}")
        if not np.isfinite(value).all():
            raise ModelFileError(f"{path}: array {key!r} contains NaN or inf; a model with "
                                 f"non-finite parameters would only produce NaN")
    for key, target in live.items():
        np.copyto(target, arrays[key])


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

    The CSV has columns ``step, train_loss, grad_norm, val_loss`` (and ``val_bits_per_dim`` for
    image data); the validation columns are empty on steps without an evaluation. Returns the two
    paths.
    """
    os.makedirs(folder, exist_ok=True)
    json_path = write_atomically(os.path.join(folder, "history.json"),
                                 lambda file: json.dump(history.to_dict(), file, indent=1), "w")
    val_at = dict(zip(history.val_step, history.val_loss))
    bits_at = dict(zip(history.val_step, history.val_bits_per_dim))

    def write_csv(file):
        writer = csv.writer(file)
        bits_column = ["val_bits_per_dim"] if bits_at else []
        writer.writerow(["step", "train_loss", "grad_norm", "val_loss"] + bits_column)
        for index, loss in enumerate(history.train_loss):
            step = index + 1
            grad_norm = history.grad_norm[index] if index < len(history.grad_norm) else ""
            bits = [repr(bits_at[step]) if step in bits_at else ""] if bits_at else []
            writer.writerow([step, repr(loss), repr(grad_norm) if grad_norm != "" else "",
                             repr(val_at[step]) if step in val_at else ""] + bits)
    csv_path = write_atomically(os.path.join(folder, "history.csv"), write_csv, "w")
    return json_path, csv_path


def load_history(path):
    """Read ``history.json`` back into a :class:`scratchflow.history.History`."""
    with open(path) as file:
        return History(**json.load(file))
