"""The ``scratchflow`` command. Each subcommand lives beside the code it runs; this file wires them.

    scratchflow examples --out figures        the lecture's Example 1 and 2 figures
    scratchflow train --data moons            train a Real-NVP, save model, history and figures
    scratchflow sample --model-file M --n N   draw samples from a saved model (.npy / .csv)
    scratchflow plot --model-file M           redraw a saved model's figures
    scratchflow figure3 --out figures         Rezende & Mohamed's Figure 3 (U1-U4, planar flows)
    scratchflow grade / release / generate-exercises   the homework's autograder (scratchflow/grading)
"""
import argparse
import sys

from scratchflow.commands import add_plot_command, add_sample_command, add_train_command
from scratchflow.figure3 import add_figure3_command
from scratchflow.grading.cli import add_commands as add_grading_commands


def _add_examples_command(subparsers):
    parser = subparsers.add_parser(
        "examples", help="draw the lecture's Example 1 and Example 2 figures (experiment vs theory)",
        description="Sample the lecture's two examples as x = f^-1(z) and draw the histogram of the "
                    "samples ('Эксперимент' / experiment) against the analytic density "
                    "('Теория' / theory). Writes example1.png and example2.png.")
    parser.add_argument("--out", default="figures", help="output folder (default: figures)")
    parser.add_argument("--n", type=int, default=100_000, help="number of samples (default: 100000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.set_defaults(run=_run_examples)


def _run_examples(args):
    from scratchflow.plotting import plot_example
    for number in (1, 2):
        path = plot_example(number, out_dir=args.out, n=args.n, rng=args.seed)
        print(f"wrote {path}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="scratchflow",
        description="Normalizing flows from scratch in NumPy (lecture 'Normalizing flows').")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_examples_command(subparsers)
    add_train_command(subparsers)
    add_sample_command(subparsers)
    add_plot_command(subparsers)
    add_figure3_command(subparsers)
    add_grading_commands(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
