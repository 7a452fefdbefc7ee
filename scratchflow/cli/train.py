"""``scratchflow train``: train a flow on data (or a target density), save it, draw the figures.

    scratchflow train --model realnvp --data moons --out runs/moons     train, save, draw figures

``train`` writes into ``--out``: ``model.npz`` (reload with ``scratchflow.io.load_model``),
``history.json`` / ``history.csv`` (loss per step, validation loss per evaluation), ``run.json`` (the
command's settings) and the figures ``density.png``, ``samples.png``, ``layers.png``, ``loss.png``
(and ``spline.png`` for the spline models nsf / nsf-ar; for image data ``generated_vs_real.png``,
the MAF slide's "(a) Generated images, (b) Real images", and bits per dimension in the summary and
the history). A run that failed (diverged, or ended worse than the base distribution alone) writes
only ``model.diverged.npz`` and exits 1; SIGTERM and SIGHUP stop training like Ctrl-C and the best
model so far is saved.
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np

from scratchflow.atomic import write_atomically
from scratchflow.bijectors import set_training
from scratchflow.cli.common import (FIGURE_NOTE, VALIDATION_SEED_OFFSET, data_set_name, fail,
                                    point_count, positive_float, positive_int, positive_int_list,
                                    seed, usage_error, writable_folder)
from scratchflow.cli.conditional import CLASSES, check_conditional_flags, labelled_data
from scratchflow.cli.figures import draw_conditional_figures, draw_figures
from scratchflow.cli.signals import as_interrupt, exit_status
from scratchflow.data import DATASETS, REAL_DATASETS, load_dataset
from scratchflow.gaussian_start import (TABULAR_DATASETS, StartSnapshot, keep_start_unless_better,
                                        start_at_gaussian)
from scratchflow.image_models import IMAGE_MODEL_NAMES
from scratchflow.io import save_history, save_model
from scratchflow.models import MODELS, build_model
from scratchflow.realdata import IMAGE_SHAPES, bits_per_dim, load_sklearn
from scratchflow.targets import load_target, log_normalizer
from scratchflow.train import fit

OVERFIT_MARGIN = 0.1     # nats (or 10% of |best|): a last validation loss more than this much worse warns

TRAIN_EPILOG = """examples:
  scratchflow train --data moons                          Real-NVP on two moons (~10-60 s)
  scratchflow train --data checkerboard --steps 5000 --out runs/checker
  scratchflow train --model maf --data 8gaussians --layers 5 --hidden 32,32
  scratchflow train --model nsf --data checkerboard --layers 4   neural spline flow
  scratchflow train --target u1 --steps 3000 --out runs/u1  fit a density known up to a
                                                          constant (reverse KL), no data
  scratchflow train --data moons --epochs 20 --patience 5   early stopping on validation NLL
  scratchflow train --model glow --data digits --out runs/glow   Glow on 8x8 digits (images)
  scratchflow train --data digits --conditional --out runs/digits   p(x | digit): the one-hot
                                                          label is the context (beyond the lecture)

The output folder gets model.npz, history.json, history.csv, run.json and the figures
""" + FIGURE_NOTE + ".\nThe progress bar shows the running training loss and the latest validation loss."


def add_train_command(subparsers):
    """The ``train`` parser. Longer than 40 lines: one ``add_argument`` per flag, nothing else."""
    parser = subparsers.add_parser(
        "train", help="train a flow on a toy data set (or a target density) and draw the figures",
        description="Train a normalizing flow by minimising the negative log-likelihood of the data\n"
                    "(slide 'Алгоритм обучения' / 'Training algorithm'), or, with --target, the\n"
                    "reverse KL to an unnormalised density. Saves the model, the loss history and\n"
                    "the figures into --out.",
        epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", default=None, type=data_set_name,
                        help=f"data set: {', '.join(DATASETS)} (default: moons); or real data "
                             f"{', '.join(REAL_DATASETS)} (needs scikit-learn: pip install -e '.[data]')")
    source.add_argument("--target", default=None, choices=["u1", "u2", "u3", "u4"],
                        help="fit this 2-D target density by reverse KL instead of data")
    parser.add_argument("--model", default="realnvp", choices=list(MODELS),
                        help="flow family (default: realnvp); nsf, nsf-ar: neural spline flows; "
                             "planar, radial, nice: docs/flow_family.md; realnvp-multiscale, glow: "
                             "image data (digits), --layers couplings per stage / steps per level, "
                             "docs/images.md")
    parser.add_argument("--layers", type=positive_int, default=8,
                        help="number of flow layers (default: 8)")
    parser.add_argument("--hidden", type=positive_int_list, default=[64, 64],
                        help="hidden layer sizes of each layer's network (default: 64,64)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=positive_int, default=None,
                        help="optimizer steps (default: 2000)")
    length.add_argument("--epochs", type=positive_int, default=None,
                        help="passes over the training data instead of --steps")
    parser.add_argument("--batch-size", type=positive_int, default=256,
                        help="minibatch size m (default: 256)")
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="Adam learning rate (default: 1e-3)")
    parser.add_argument("--clip-norm", type=positive_float, default=None,
                        help="clip the global gradient norm to this value (default: off)")
    parser.add_argument("--patience", type=positive_int, default=None,
                        help="early stopping: stop after this many evaluations without a better "
                             "validation loss (default: off; the best parameters are kept anyway)")
    parser.add_argument("--n-train", type=point_count, default=None,
                        help="training points drawn from a toy --data set (default: 8000; real "
                             "data sets have a fixed split)")
    parser.add_argument("--n-val", type=point_count, default=None,
                        help="validation points drawn from a toy --data set (default: 2000)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed for data, initial weights and minibatches (default: 0)")
    parser.add_argument("--out", default="runs/latest", help="output folder (default: runs/latest)")
    parser.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    parser.add_argument("--conditional", action="store_true",
                        help="a conditional flow p(x | class): the one-hot class of each point is "
                             "the context of every conditioner (moons, digits; realnvp, maf, iaf, "
                             "nice); draw a class with scratchflow sample --context K")
    parser.add_argument("--no-whiten", action="store_true",
                        help="tabular data (wine, breast_cancer): do not start the flow at the "
                             "data's full-covariance Gaussian (a whitening first layer fitted to "
                             "the training rows; on by default)")
    parser.add_argument("--no-figures", action="store_true",
                        help="save the model and history only (draw later with scratchflow plot)")
    parser.set_defaults(run=run_train)


def run_train(args):
    _check_flags(args)                               # every flag, before any work
    target, train_data, val_data, flow, source = _setup(args)
    contexts = getattr(args, "contexts", (None, None))  # one-hot classes with --conditional
    print(f"training {args.model} ({len(flow.layers)} layers, {flow.num_params()} parameters) "
          f"on {source}", file=sys.stderr)
    steps = None if args.epochs is not None else (args.steps or 2000)
    start = StartSnapshot(flow, val_data) if flow.config.get("whiten") else None
    with warnings.catch_warnings(), as_interrupt():  # the stop is printed in the summary below;
                                                     # SIGTERM, SIGHUP: saved like Ctrl-C
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(flow, train_data, val_data, target=target, steps=steps, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, clip_norm=args.clip_norm,
                      seed=args.seed, patience=args.patience, progress=not args.no_progress,
                      context=contexts[0], val_context=contexts[1])
    if start is not None and not history.stopped.startswith("interrupted"):
        _keep_gaussian_unless_better(flow, start, history)
    if args.data in IMAGE_SHAPES:                    # pixels: bits per dimension, the headline
        history.val_bits_per_dim = [bits_per_dim(loss, flow.dim) for loss in history.val_loss]
    set_training(flow, False)                        # figures: BatchNorm with running averages
    try:
        return _save_run(args, flow, history, target, val_data)
    except OSError as error:                         # disk full, folder removed meanwhile, ...
        fail("train", f"could not write the results into {args.out}: {error}")


def _keep_gaussian_unless_better(flow, start, history):
    """Tabular data: keep the training only if its validation gain over the starting Gaussian is
    more than two standard errors (docs/real_data.md); say which was kept. When the Gaussian is
    kept, the history's best is the start's (step 0), so the summary and history.json report the
    model that is saved."""
    kept, gain, error = keep_start_unless_better(flow, start)
    verdict = "kept the trained flow" if kept else "kept the starting Gaussian N(mean, cov)"
    print(f"validation gain over the data's Gaussian: {gain:.4f} ± {error:.4f} nats per row; "
          f"{verdict}", file=sys.stderr)
    if not kept:
        history.best_step, history.best_val_loss = 0, float(-start.val_log_prob.mean())


def _check_flags(args):
    """Refuse, in one line naming the flag (exit 2), what would only fail after training."""
    writable_folder("train", "--out", args.out)
    if args.target is None:
        args.data = args.data or "moons"
    if args.conditional:
        check_conditional_flags(args)
    if args.target is not None:
        return
    if args.data in REAL_DATASETS:
        for flag, value in (("--n-train", args.n_train), ("--n-val", args.n_val)):
            if value is not None:
                usage_error("train", flag, f"{args.data} has a fixed train/test split; --n-train "
                                           f"and --n-val apply to the toy data sets only")
    if args.model in IMAGE_MODEL_NAMES and args.data not in IMAGE_SHAPES:
        usage_error("train", "--model", f"{args.model} is a flow for images; train it on "
                                        f"{', '.join(IMAGE_SHAPES)}, not {args.data}")
    if args.data not in REAL_DATASETS:
        args.n_train = args.n_train or 8000
        args.n_val = args.n_val or 2000
        if args.model == "realnvp" and load_dataset(args.data, 1, rng=0).shape[1] < 2:
            usage_error("train", "--data", f"{args.data} is 1-D and Real-NVP needs D >= 2 (a "
                                           f"coupling conditions one part on the other); use "
                                           f"--model maf or --model iaf")


def _save_run(args, flow, history, target, val_data):
    """Write the run into --out and return the exit status. A run that failed (diverged, or worse
    than the base alone) goes to ``model.diverged.npz`` only; an interrupted one goes beside a
    model already there: neither replaces a model, history or figure in --out."""
    diverged = history.diverged
    interrupted = history.stopped.startswith("interrupted")
    model_path = os.path.join(args.out, "model.npz")
    summary = f"{history.stopped}: {_summary(flow, history, target, val_data)}"
    earlier = os.path.exists(model_path)
    if diverged or (interrupted and earlier):
        beside = os.path.join(args.out, "model.diverged.npz" if diverged else "model.interrupted.npz")
        save_model(flow, beside)
        print(summary)
        if diverged:
            print(f"the run FAILED; its parameters, as kept above, are in {beside} (not loaded by "
                  f"default: rerun with a smaller --lr, or --clip-norm)")
        if earlier:
            print(f"kept the earlier {model_path} (and its history and figures); this run's "
                  f"parameters are in {beside}")
        return 1 if diverged else exit_status(history)
    written = [save_model(flow, model_path)]
    written += save_history(history, args.out)
    settings = {key: value for key, value in vars(args).items() if key not in ("run", "contexts")}
    written.append(write_atomically(os.path.join(args.out, "run.json"),
                                    lambda file: json.dump(settings, file, indent=1), "w"))
    if args.conditional and not args.no_figures and not interrupted:
        written += draw_conditional_figures(flow, val_data, args)
    elif not args.no_figures and not interrupted:    # Ctrl-C: out quickly (scratchflow plot later)
        written += draw_figures(flow, val_data, target, args.out, history, seed=args.seed,
                                image_shape=IMAGE_SHAPES.get(args.data))
    print(summary)
    for path in written:
        print(f"wrote {path}")
    if interrupted:
        print(f"interrupted: the best model so far is in {model_path}; draw its figures with "
              f"scratchflow plot --model-file {model_path}")
    return exit_status(history) if interrupted else 0


def _setup(args):
    """``(target, train_data, val_data, flow, source)`` from the flags; bad input exits in one line."""
    target = train_data = val_data = None
    try:
        if args.target is not None:
            target = load_target(args.target)
            dim, source = target.dim, f"target {args.target}"
        else:
            if args.conditional:                     # contexts (N, C), (V, C) kept for fit
                train_data, val_data, *args.contexts = labelled_data(args)
            else:
                train_data, val_data = _train_and_validation_data(args)                # (N, D), (V, D)
            dim = train_data.shape[1]
            source = f"{args.data} ({len(train_data)} train / {len(val_data)} validation points)"
        flow = _build_flow(args, dim)
        if flow.config.get("whiten"):                # untrained flow = N(mean, cov) of the rows
            start_at_gaussian(flow, train_data)
    except (ValueError, ImportError) as error:       # unknown data set, model that cannot take D, ...
        fail("train", error)
    return target, train_data, val_data, flow, source


def _train_and_validation_data(args):
    """Toy sets: independent draws (validation with another seed). Real sets: the fixed train and
    test splits of scratchflow.realdata (--n-train / --n-val do not apply)."""
    if args.data in REAL_DATASETS:
        return load_sklearn(args.data, "train"), load_sklearn(args.data, "test")
    return (load_dataset(args.data, args.n_train, rng=args.seed),
            load_dataset(args.data, args.n_val, rng=args.seed + VALIDATION_SEED_OFFSET))


def _build_flow(args, dim):
    config = {"model": args.model, "dim": dim, "n_layers": args.layers, "hidden": args.hidden,
              "seed": args.seed}
    if args.model in ("planar", "radial"):   # no conditioner network: --hidden does not apply
        del config["hidden"]
    if args.data in IMAGE_SHAPES:            # pixels in (0, 1): a logit layer first (Real-NVP §4.1)
        config["logit_alpha"] = 0.05
    if args.data in TABULAR_DATASETS and not getattr(args, "no_whiten", False):
        config["whiten"] = True              # start at the data's Gaussian (docs/real_data.md)
    if args.conditional:
        config["context_dim"] = CLASSES[args.data]
    return build_model(config)


def _summary(flow, history, target, val_data):
    """The closing line: steps, time, best validation loss, KL to the target or the base's NLL,
    and a warning when the last validation loss is worse than the best by more than a margin."""
    what = "NLL" if target is None else "reverse KL + const"
    summary = f"{history.steps} steps in {history.seconds:.1f} s"
    if history.best_step is not None and history.val_bits_per_dim:    # image data
        best_bits = bits_per_dim(history.best_val_loss, flow.dim)
        summary += (f"; best validation {best_bits:.4f} bits/dim (NLL {history.best_val_loss:.4f} "
                    f"nats) at step {history.best_step}")
    elif history.best_step is not None:
        summary += f"; best validation {what} {history.best_val_loss:.4f} nats at step {history.best_step}"
        summary += _worse_after_best(history)
    if target is not None and history.best_step is not None:
        kl = history.best_val_loss + log_normalizer(target)
        summary += f"; KL(q || p*) = that + log Z = {kl:.4f} nats (0 is a perfect fit)"
    if val_data is not None:
        base_nll = -float(np.mean(flow.base.log_prob(val_data)))
        summary += f" (the base N(0, I) alone: {base_nll:.4f})"
    return summary


def _worse_after_best(history):
    """A warning when the last validation loss is worse than the best by more than the margin:
    overfitting if the training loss kept falling meanwhile (the model learns the training points),
    an unstable optimisation if it did not (it got worse on every point: the learning rate)."""
    last, best = history.val_loss[-1], history.best_val_loss
    if history.diverged or last <= best + max(OVERFIT_MARGIN, OVERFIT_MARGIN * abs(best)):
        return ""
    window = max(1, history.val_step[-1] - history.val_step[-2]) if len(history.val_step) > 1 else 1
    before_best = history.train_loss[max(0, history.best_step - window):history.best_step]
    kept = f"the best parameters (step {history.best_step}) were kept"
    if not before_best:                              # no training losses to tell the cause by
        return f"; WARNING: validation got worse after its best (last {last:.4f}); {kept}"
    at_best, at_end = np.mean(before_best), np.mean(history.train_loss[-window:])
    if at_end < at_best:
        return (f"; WARNING: validation got worse after its best (last {last:.4f}) while the "
                f"training loss kept falling ({at_best:.4f} -> {at_end:.4f}): the model overfits; "
                f"{kept}; more training data or fewer steps (--patience) would help")
    return (f"; WARNING: validation got worse after its best (last {last:.4f}) and the training "
            f"loss did not fall ({at_best:.4f} -> {at_end:.4f}): the optimisation is unstable, not "
            f"overfitting; the learning rate is the likely cause: try a "
            f"smaller --lr; {kept}")
