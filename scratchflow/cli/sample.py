"""``scratchflow sample``: draw x = f^-1(z), z ~ N(0, I), from a saved model into .npy or .csv."""
import argparse
import os

import numpy as np

from scratchflow.cli.common import fail, load_model_for, positive_int


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
    parser.add_argument("--n", type=positive_int, default=1000, help="number of samples (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", default="samples.npy",
                        help="output file, .npy or .csv (default: samples.npy)")
    parser.set_defaults(run=run_sample)


def run_sample(args):
    extension = os.path.splitext(args.out)[1].lower()
    if extension not in (".npy", ".csv"):
        fail("sample", f"--out must end in .npy or .csv, got {args.out!r}")
    flow = load_model_for("sample", args.model_file)
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
