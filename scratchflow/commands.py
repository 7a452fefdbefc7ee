"""``scratchflow train``, ``scratchflow sample`` and ``scratchflow plot``: parsers and runners.

    scratchflow train --model realnvp --data moons --out runs/moons     train, save, draw figures
    scratchflow sample --model-file runs/moons/model.npz --n 1000 --out samples.csv
    scratchflow plot --model-file runs/moons/model.npz --out figures/

``train`` writes into ``--out``: ``model.npz`` (reload with ``scratchflow.io.load_model``),
``history.json`` / ``history.csv`` (loss per step, validation loss per evaluation), ``run.json`` (the
command's settings) and the figures ``density.png``, ``samples.png``, ``layers.png``, ``loss.png``.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

FIGURE_NOTE = ("density.png (learned density over the data), samples.png (samples vs data),\n"
               "layers.png (data pushed through each layer), loss.png (loss curves)")


def _positive_int_list(text):
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, like "
                                         f"64,64; got {text!r}")
    return sizes


def _fail(command, error):
    """Stop with a one-line message (exit status 1) for a mistake in the user's input."""
    raise SystemExit(f"scratchflow {command}: error: {error}")


def _load_model(command, path):
    from scratchflow.bijectors import set_training
    from scratchflow.io import load_model
    try:
        flow = load_model(path)
    except (OSError, ValueError) as error:           # missing file, ModelFileError
        _fail(command, error)
    set_training(flow, False)                        # BatchNorm layers: use the running averages
    return flow


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not (value > 0 and math.isfinite(value)):           # --lr -1, 0, nan, inf
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


# ---------------------------------------------------------------------------- train
TRAIN_EPILOG = """examples:
  scratchflow train --data moons                          Real-NVP on two moons (~10-60 s)
  scratchflow train --data checkerboard --steps 5000 --out runs/checker
  scratchflow train --model maf --data 8gaussians --layers 5 --hidden 32,32
  scratchflow train --target u1 --steps 3000 --out runs/u1  fit a density known up to a
                                                          constant (reverse KL), no data
  scratchflow train --data moons --epochs 20 --patience 5   early stopping on validation NLL

The output folder gets model.npz, history.json, history.csv, run.json and the figures
""" + FIGURE_NOTE + ".\nThe progress bar shows the running training loss and the latest validation loss."


def add_train_command(subparsers):
    from scratchflow.data import DATASETS
    parser = subparsers.add_parser(
        "train", help="train a flow on a toy data set (or a target density) and draw the figures",
        description="Train a normalizing flow by minimising the negative log-likelihood of the data\n"
                    "(slide 'Алгоритм обучения' / 'Training algorithm'), or, with --target, the\n"
                    "reverse KL to an unnormalised density. Saves the model, the loss history and\n"
                    "the figures into --out.",
        epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", default=None,
                        help=f"data set: {', '.join(DATASETS)} (default: moons); or real data "
                             f"{', '.join(REAL_DATA)} (needs scikit-learn: pip install -e '.[data]')")
    source.add_argument("--target", default=None, choices=["u1", "u2", "u3", "u4"],
                        help="fit this 2-D target density by reverse KL instead of data")
    parser.add_argument("--model", default="realnvp",
                        choices=["realnvp", "maf", "iaf", "nsf", "nsf-ar"],
                        help="flow family (default: realnvp); nsf, nsf-ar: neural spline flows")
    parser.add_argument("--layers", type=_positive_int, default=8,
                        help="number of flow layers (default: 8)")
    parser.add_argument("--hidden", type=_positive_int_list, default=[64, 64],
                        help="hidden layer sizes of each layer's network (default: 64,64)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive_int, default=None,
                        help="optimizer steps (default: 2000)")
    length.add_argument("--epochs", type=_positive_int, default=None,
                        help="passes over the training data instead of --steps")
    parser.add_argument("--batch-size", type=_positive_int, default=256,
                        help="minibatch size m (default: 256)")
    parser.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam learning rate (default: 1e-3)")
    parser.add_argument("--clip-norm", type=_positive_float, default=None,
                        help="clip the global gradient norm to this value (default: off)")
    parser.add_argument("--patience", type=_positive_int, default=None,
                        help="early stopping: stop after this many evaluations without a better "
                             "validation loss (default: off; the best parameters are kept anyway)")
    parser.add_argument("--n-train", type=_positive_int, default=8000,
                        help="training points drawn from --data (default: 8000)")
    parser.add_argument("--n-val", type=_positive_int, default=2000,
                        help="validation points drawn from --data (default: 2000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for data, initial weights and minibatches (default: 0)")
    parser.add_argument("--out", default="runs/latest", help="output folder (default: runs/latest)")
    parser.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    parser.add_argument("--no-figures", action="store_true",
                        help="save the model and history only (draw later with scratchflow plot)")
    parser.set_defaults(run=run_train)


def _build_flow(args, dim):
    from scratchflow.models import build_model
    config = {"model": args.model, "dim": dim, "n_layers": args.layers, "hidden": args.hidden,
              "seed": args.seed}
    if args.data in IMAGE_DATA:              # pixels in (0, 1): a logit layer first (Real-NVP §4.1)
        config["logit_alpha"] = 0.05
    return build_model(config)


REAL_DATA = ("digits", "wine", "breast_cancer")     # scratchflow.realdata, needs scikit-learn
IMAGE_DATA = {"digits": (8, 8)}                     # drawn as images; modelled through a Logit layer


def _train_and_validation_data(args):
    """Toy sets: independent draws (validation with another seed). Real sets: the fixed train and
    test splits of scratchflow.realdata (--n-train / --n-val do not apply)."""
    if args.data in REAL_DATA:
        from scratchflow.realdata import load_sklearn
        return load_sklearn(args.data, "train"), load_sklearn(args.data, "test")
    from scratchflow.data import load_dataset
    return (load_dataset(args.data, args.n_train, rng=args.seed),
            load_dataset(args.data, args.n_val, rng=args.seed + 1_000_003))


def run_train(args):
    from scratchflow.bijectors import set_training
    from scratchflow.io import save_history, save_model
    from scratchflow.train import fit

    target = train_data = val_data = None
    try:
        if args.target is not None:
            from scratchflow.targets import load_target
            target = load_target(args.target)
            dim, source = target.dim, f"target {args.target}"
        else:
            args.data = args.data or "moons"
            train_data, val_data = _train_and_validation_data(args)                    # (N, D), (V, D)
            dim = train_data.shape[1]
            source = f"{args.data} ({len(train_data)} train / {len(val_data)} validation points)"
        flow = _build_flow(args, dim)
    except (ValueError, ImportError) as error:       # unknown data set, model that cannot take D, ...
        _fail("train", error)
    print(f"training {args.model} ({len(flow.layers)} layers, {flow.num_params()} parameters) "
          f"on {source}", file=sys.stderr)
    steps = None if args.epochs is not None else (args.steps or 2000)
    history = fit(flow, train_data, val_data, target=target, steps=steps, epochs=args.epochs,
                  batch_size=args.batch_size, lr=args.lr, clip_norm=args.clip_norm, seed=args.seed,
                  patience=args.patience, progress=not args.no_progress)

    set_training(flow, False)                        # figures: BatchNorm with running averages
    os.makedirs(args.out, exist_ok=True)
    written = [save_model(flow, os.path.join(args.out, "model.npz"))]
    written += save_history(history, args.out)
    run_path = os.path.join(args.out, "run.json")
    with open(run_path, "w") as file:
        json.dump({key: value for key, value in vars(args).items() if key != "run"}, file, indent=1)
    written.append(run_path)
    if not args.no_figures:
        written += draw_figures(flow, val_data, target, args.out, history, seed=args.seed,
                                image_shape=IMAGE_DATA.get(args.data))

    what = "NLL" if target is None else "reverse KL + const"
    summary = f"{history.steps} steps in {history.seconds:.1f} s"
    if history.best_step is not None:
        summary += f"; best validation {what} {history.best_val_loss:.4f} nats at step {history.best_step}"
    if target is not None and history.best_step is not None:
        from scratchflow.targets import log_normalizer
        kl = history.best_val_loss + log_normalizer(target)
        summary += f"; KL(q || p*) = that + log Z = {kl:.4f} nats (0 is a perfect fit)"
    if val_data is not None:
        base_nll = -float(np.mean(flow.base.log_prob(val_data)))
        summary += f" (the base N(0, I) alone: {base_nll:.4f})"
    print(f"{history.stopped}: {summary}")
    for path in written:
        print(f"wrote {path}")
    return 1 if history.stopped.startswith("non-finite") else 0


def draw_figures(flow, data, target, out_dir, history=None, seed=0, image_shape=None):
    """Draw every figure that fits the flow's dimension; return the paths written.

    ``image_shape`` (e.g. (8, 8) for digits) draws data and samples as images instead.
    """
    from scratchflow import plotting
    from scratchflow.train import limit_blas_threads
    with limit_blas_threads(1):                      # the density grid: many small products
        return _draw_figures(plotting, flow, data, target, out_dir, history, seed, image_shape)


def _draw_figures(plotting, flow, data, target, out_dir, history, seed, image_shape):
    paths = []
    if history is not None:
        paths.append(plotting.plot_loss(history, out_dir))
    if image_shape is not None and data is not None:
        paths.append(plotting.plot_image_samples(flow, data, out_dir, image_shape=image_shape,
                                                 seed=seed))
        return paths
    if flow.dim > 2:
        print(f"(no density/sample/layer figures: the data is {flow.dim}-D)", file=sys.stderr)
        return paths
    limits = None if target is None else ((-4.0, -4.0), (4.0, 4.0))
    paths.append(plotting.plot_density(flow, data, out_dir, target=target, limits=limits))
    paths.append(plotting.plot_samples(flow, data, out_dir, seed=seed))
    if flow.dim == 2:
        layer_points = data if data is not None else flow.sample(2000, rng=seed)
        paths.append(plotting.plot_layers(flow, layer_points, out_dir))
    return paths


# ---------------------------------------------------------------------------- sample
def add_sample_command(subparsers):
    parser = subparsers.add_parser(
        "sample", help="draw samples x = f^-1(z) from a trained model into .npy or .csv",
        description="Generation algorithm (slide 'Алгоритм генерации'): draw z ~ N(0, I) with the "
                    "given seed and return x = f^-1(z). Writes an (n, D) array.",
        epilog="examples:\n  scratchflow sample --model-file runs/latest/model.npz --n 1000 "
               "--out samples.csv\n  scratchflow sample --model-file runs/latest/model.npz --seed 7 "
               "--out samples.npy",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-file", required=True, help="model.npz written by scratchflow train")
    parser.add_argument("--n", type=_positive_int, default=1000, help="number of samples (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", default="samples.npy",
                        help="output file, .npy or .csv (default: samples.npy)")
    parser.set_defaults(run=run_sample)


def run_sample(args):
    extension = os.path.splitext(args.out)[1].lower()
    if extension not in (".npy", ".csv"):
        _fail("sample", f"--out must end in .npy or .csv, got {args.out!r}")
    flow = _load_model("sample", args.model_file)
    samples = flow.sample(args.n, rng=args.seed)                                   # (n, D)
    folder = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    if extension == ".npy":
        np.save(args.out, samples)
    else:
        header = ",".join(f"x{j + 1}" for j in range(samples.shape[1]))
        np.savetxt(args.out, samples, delimiter=",", header=header, comments="", fmt="%.17g")
    print(f"wrote {args.out} ({samples.shape[0]} x {samples.shape[1]})")
    return 0


# ---------------------------------------------------------------------------- plot
def add_plot_command(subparsers):
    from scratchflow.data import DATASETS
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
    parser.add_argument("--n", type=_positive_int, default=2000, help="data points drawn (default: 2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", default=None, help="output folder (default: the model's folder)")
    parser.set_defaults(run=run_plot)


def run_plot(args):
    from scratchflow.data import load_dataset
    from scratchflow.io import load_history
    flow = _load_model("plot", args.model_file)
    folder = os.path.dirname(os.path.abspath(args.model_file))
    out_dir = args.out or folder
    run = {}
    if os.path.exists(os.path.join(folder, "run.json")):
        with open(os.path.join(folder, "run.json")) as file:
            run = json.load(file)
    data = target = None
    image_shape = IMAGE_DATA.get(args.data or run.get("data"))
    if image_shape is not None:
        from scratchflow.realdata import load_sklearn
        data = load_sklearn(args.data or run["data"], "test")
    elif flow.dim > 2:
        pass                                          # only the loss curves can be drawn
    elif args.data is not None or run.get("data"):
        try:
            data = load_dataset(args.data or run["data"], args.n, rng=args.seed)
        except ValueError as error:
            _fail("plot", error)
        if data.shape[1] != flow.dim:
            _fail("plot", f"data set {args.data or run['data']!r} is {data.shape[1]}-D but the "
                          f"model is {flow.dim}-D")
    elif run.get("target"):
        from scratchflow.targets import load_target
        target = load_target(run["target"])
    history_path = os.path.join(folder, "history.json")
    history = load_history(history_path) if os.path.exists(history_path) else None
    for path in draw_figures(flow, data, target, out_dir, history, seed=args.seed,
                             image_shape=image_shape):
        print(f"wrote {path}")
    return 0
