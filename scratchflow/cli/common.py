"""What the subcommands share: argument types, the one-line error exit, loading a saved model."""
import argparse
import math

from scratchflow.bijectors import set_training
from scratchflow.io import load_model

FIGURE_NOTE = ("density.png (learned density over the data), samples.png (samples vs data),\n"
               "layers.png (data pushed through each layer), loss.png (loss curves); for nsf and\n"
               "nsf-ar also spline.png (one learned spline over its input's histogram)")


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
