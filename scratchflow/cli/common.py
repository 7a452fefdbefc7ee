"""What the subcommands share: argument types, the one-line error exits, loading a saved model.

Every number and path is checked before any work starts: a bad flag ends with exit status 2 and
one line naming the flag (:class:`OneLineParser`, :func:`usage_error`); a failure of the work itself
(a missing model file, a diverged run) with exit status 1 and one line (:func:`fail`).
"""
import argparse
import contextlib
import math
import os
import sys
import tempfile

from scratchflow.bijectors import set_training
from scratchflow.data import DATASETS, REAL_DATASETS
from scratchflow.io import load_model

FIGURE_NOTE = ("density.png (learned density over the data), samples.png (samples vs data),\n"
               "layers.png (data pushed through each layer), loss.png (loss curves); for nsf and\n"
               "nsf-ar also spline.png (one learned spline over its input's histogram); for image\n"
               "data (digits) samples.png and generated_vs_real.png instead of the 2-D figures")


MAX_POINTS = 10_000_000        # --n, --n-train, --n-val: more would only end in a MemoryError
MAX_SEED = 2 ** 32 - 1
VALIDATION_SEED_OFFSET = 1_000_003   # toy validation points: drawn with --seed + this, apart from training


class OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line (exit status 2) naming the flag, no usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def usage_error(command, flag, message):
    """Stop with exit status 2 and one line naming ``flag``, as argparse does for a bad value."""
    sys.stderr.write(f"scratchflow {command}: error: argument {flag}: {message}\n")
    raise SystemExit(2)


def point_count(text):
    """``--n``-like counts: an integer in [1, MAX_POINTS]."""
    value = _integer(text)
    if not 1 <= value <= MAX_POINTS:
        raise argparse.ArgumentTypeError(f"expected a number of points in [1, {MAX_POINTS}], got {text}")
    return value


def seed(text):
    """A random seed: an integer in [0, 2^32 - 1]."""
    value = _integer(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, {MAX_SEED}], got {text}")
    return value


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def data_set_name(text):
    """``--data``: a toy or real data set name (an empty or unknown name is an argparse error)."""
    if text not in DATASETS and text not in REAL_DATASETS:
        raise argparse.ArgumentTypeError(f"unknown data set {text!r}; choose one of "
                                         f"{', '.join([*DATASETS, *REAL_DATASETS])}")
    return text


def writable_folder(command, flag, path):
    """Check (by writing a temporary file) that ``path`` is, or can be made, a writable folder.

    Folders made for the check are removed again: a command that fails later leaves no empty
    folder behind (whatever writes the results makes the folder then)."""
    if not path:
        usage_error(command, flag, "is empty; give a folder")
    if os.path.exists(path) and not os.path.isdir(path):
        usage_error(command, flag, f"{path} exists and is not a folder")
    made = []                                           # missing folders, deepest first
    probe = os.path.abspath(path)
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        made.append(probe)
        probe = os.path.dirname(probe)
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        usage_error(command, flag, f"cannot write into {path} ({error.strerror or error})")
    finally:
        for folder in made:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
    return path


def writable_file(command, flag, path, extensions):
    """Check that ``path`` ends in one of ``extensions``, is not a folder, and its folder is writable."""
    if not path:
        usage_error(command, flag, "is empty; give a file name")
    if os.path.splitext(path)[1].lower() not in extensions:
        usage_error(command, flag, f"must end in {' or '.join(extensions)}, got {path!r}")
    if os.path.isdir(path):
        usage_error(command, flag, f"{path} is a folder; give a file name inside it")
    writable_folder(command, flag, os.path.dirname(os.path.abspath(path)))
    return path


def positive_int_list(text):
    """``"64,64"`` -> [64, 64]; anything else (empty, 0, -3, "a") is an argparse error."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, like "
                                         f"64,64; got {text!r}")
    return sizes


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not (value > 0 and math.isfinite(value)):           # --lr -1, 0, nan, inf
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def fail(command, error):
    """Stop with a one-line message (exit status 1) for a mistake in the user's input."""
    raise SystemExit(f"scratchflow {command}: error: {error}")


def load_model_for(command, path):
    """Load ``path`` for ``command`` in evaluation mode; a missing or bad file is a one-line error."""
    try:
        flow = load_model(path)
    except (OSError, ValueError) as error:           # missing file, ModelFileError
        fail(command, error)
    set_training(flow, False)                        # BatchNorm layers: use the running averages
    return flow
