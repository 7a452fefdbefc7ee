"""``scratchflow plot``: redraw a saved model's figures, reading run.json / history.json beside it."""
import argparse
import json
import os

from scratchflow.cli.common import (FIGURE_NOTE, data_set_name, fail, load_model_for, point_count,
                                    seed, usage_error, writable_folder)
from scratchflow.cli.figures import draw_figures
from scratchflow.data import DATASETS, load_dataset
from scratchflow.io import load_history
from scratchflow.realdata import IMAGE_SHAPES, load_sklearn
from scratchflow.targets import load_target


def add_plot_command(subparsers):
    parser = subparsers.add_parser(
        "plot", help="draw the figures of a trained model",
        description="Draw " + FIGURE_NOTE + "\nfor a saved model. The data set and the loss history "
                    "are read from\nrun.json / history.json beside the model when present.",
        epilog="examples:\n  scratchflow plot --model-file runs/latest/model.npz\n"
               "  scratchflow plot --model-file runs/latest/model.npz --data moons --out figures",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-file", required=True, help="model.npz written by scratchflow train")
    parser.add_argument("--data", default=None, type=data_set_name,
                        help=f"data set to draw against: {', '.join(DATASETS)} "
                             "(default: the one the model was trained on)")
    parser.add_argument("--n", type=point_count, default=2000, help="data points drawn (default: 2000)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", default=None, help="output folder (default: the model's folder)")
    parser.set_defaults(run=run_plot)


def run_plot(args):
    folder = os.path.dirname(os.path.abspath(args.model_file))
    writable_folder("plot", "--out", args.out if args.out is not None else folder)
    flow = load_model_for("plot", args.model_file)
    if flow.context_dim:                  # its density needs a class: train draws its figure
        fail("plot", f"{args.model_file} is a conditional model (context_dim={flow.context_dim}); "
                     "its figure of samples per class is drawn by train --conditional, and "
                     "scratchflow sample --context K draws class K")
    run = _read_json(os.path.join(folder, "run.json"))
    data, target, image_shape = _data_or_target(args, run, flow)
    history_path = os.path.join(folder, "history.json")
    try:
        history = load_history(history_path) if os.path.exists(history_path) else None
    except (OSError, ValueError, TypeError) as error:
        fail("plot", f"cannot read {history_path} ({type(error).__name__}: {error})")
    for path in draw_figures(flow, data, target, args.out or folder, history, seed=args.seed,
                             image_shape=image_shape):
        print(f"wrote {path}")
    return 0


def _read_json(path):
    """run.json beside the model as a dict ({} when absent); a corrupt one is a one-line error."""
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as file:
            run = json.load(file)
    except (OSError, ValueError) as error:
        fail("plot", f"cannot read {path} ({type(error).__name__}: {error})")
    if not isinstance(run, dict):
        fail("plot", f"{path} is not a JSON object of run settings")
    return run


def _data_or_target(args, run, flow):
    """What to draw the model against: ``(data, target, image_shape)``, from --data or run.json."""
    name = args.data or run.get("data")
    if name is not None and not isinstance(name, str):
        fail("plot", f"run.json names the data set {name!r}, not a name")
    image_shape = IMAGE_SHAPES.get(name)
    if image_shape is not None:
        try:
            data = load_sklearn(name, "test")
        except (ValueError, ImportError) as error:
            fail("plot", error)
        _check_dimension(args, name, data, flow)
        return data, None, image_shape
    if flow.dim > 2:
        return None, None, None                          # only the loss curves can be drawn
    if name:
        try:
            data = load_dataset(name, args.n, rng=args.seed)
        except (ValueError, ImportError) as error:
            fail("plot", error)
        _check_dimension(args, name, data, flow)
        return data, None, None
    if run.get("target"):
        try:
            return None, load_target(run["target"]), None
        except (ValueError, KeyError, TypeError) as error:
            fail("plot", f"run.json names an unknown target {run['target']!r} ({error})")
    return None, None, None


def _check_dimension(args, name, data, flow):
    message = f"data set {name!r} is {data.shape[1]}-D but the model is {flow.dim}-D"
    if data.shape[1] != flow.dim:
        if args.data is not None:
            usage_error("plot", "--data", message)
        fail("plot", message + " (read from run.json)")
