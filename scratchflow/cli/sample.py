"""``scratchflow sample``: draw x = f^-1(z), z ~ N(0, I), from a saved model into .npy or .csv."""
import argparse
import os

import numpy as np

from scratchflow.atomic import write_atomically
from scratchflow.cli.common import (fail, load_model_for, point_count, seed, usage_error,
                                    writable_file)
from scratchflow.cli.conditional import class_context


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
    parser.add_argument("--n", type=point_count, default=1000, help="number of samples (default: 1000)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    parser.add_argument("--context", type=_class_label, default=None,
                        help="a conditional model (train --conditional): draw samples of this "
                             "class, e.g. --context 3 for threes (beyond the lecture)")
    parser.add_argument("--out", default="samples.npy",
                        help="output file, .npy or .csv (default: samples.npy)")
    parser.set_defaults(run=run_sample)


def run_sample(args):
    writable_file("sample", "--out", args.out, (".npy", ".csv"))
    flow = load_model_for("sample", args.model_file)
    context = None if args.context is None else class_context(flow, args.context)   # (C,)
    if flow.context_dim and context is None:
        usage_error("sample", "--context", f"this model is conditional: give the class to draw "
                                           f"(0..{flow.context_dim - 1})")
    try:
        samples = flow.sample(args.n, rng=args.seed, context=context)              # (n, D)
    except FloatingPointError as error:                   # a layer overflowed: no NaN file
        fail("sample", f"{args.model_file} produced non-finite samples: {error}")
    if os.path.splitext(args.out)[1].lower() == ".npy":
        write_atomically(args.out, lambda file: np.save(file, samples))
    else:
        header = ",".join(f"x{j + 1}" for j in range(samples.shape[1]))
        write_atomically(args.out, lambda file: np.savetxt(file, samples, delimiter=",", header=header,
                                                           comments="", fmt="%.17g"), "w")
    print(f"wrote {args.out} ({samples.shape[0]} x {samples.shape[1]})")
    return 0


def _class_label(text):
    """``--context``: a class label, an integer >= 0 (its upper bound is the model's)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a class label (an integer), got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a class label >= 0, got {text}")
    return value
