"""``scratchflow plot``: redraw a saved model's figures, reading run.json / history.json beside it."""
import argparse
import json
import os

from scratchflow.cli.common import FIGURE_NOTE, fail, load_model_for, positive_int
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
    parser.add_argument("--data", default=None,
                        help=f"data set to draw against: {', '.join(DATASETS)} "
                             "(default: the one the model was trained on)")
    parser.add_argument("--n", type=positive_int, default=2000, help="data points drawn (default: 2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", default=None, help="output folder (default: the model's folder)")
    parser.set_defaults(run=run_plot)


def run_plot(args):
    flow = load_model_for("plot", args.model_file)
    folder = os.path.dirname(os.path.abspath(args.model_file))
    run = {}
    if os.path.exists(os.path.join(folder, "run.json")):
        with open(os.path.join(folder, "run.json")) as file:
            run = json.load(file)
    data, target, image_shape = _data_or_target(args, run, flow)
    history_path = os.path.join(folder, "history.json")
    history = load_history(history_path) if os.path.exists(history_path) else None
    for path in draw_figures(flow, data, target, args.out or folder, history, seed=args.seed,
                             image_shape=image_shape):
        print(f"wrote {path}")
    return 0


def _data_or_target(args, run, flow):
    """What to draw the model against: ``(data, target, image_shape)``, from --data or run.json."""
    name = args.data or run.get("data")
    image_shape = IMAGE_SHAPES.get(name)
    if image_shape is not None:
        return load_sklearn(name, "test"), None, image_shape
    if flow.dim > 2:
        return None, None, None                          # only the loss curves can be drawn
    if args.data is not None or run.get("data"):
        try:
            data = load_dataset(name, args.n, rng=args.seed)
        except ValueError as error:
            fail("plot", error)
        if data.shape[1] != flow.dim:
            fail("plot", f"data set {name!r} is {data.shape[1]}-D but the model is {flow.dim}-D")
        return data, None, None
    if run.get("target"):
        return None, load_target(run["target"]), None
    return None, None, None
