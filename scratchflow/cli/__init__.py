"""The ``scratchflow`` command: one subcommand per file in this package; this file wires them.

    scratchflow examples --out figures        the lecture's Example 1 and 2 figures   (examples.py)
    scratchflow train --data moons            train a flow, save model, history, figures  (train.py)
    scratchflow sample --model-file M --n N   draw samples from a saved model (.npy / .csv)  (sample.py)
    scratchflow plot --model-file M           redraw a saved model's figures            (plot.py)
    scratchflow figure3 --out figures         Rezende & Mohamed's Figure 3 (U1-U4)     (figure3.py)

The homework's commands (grade, release, generate-exercises) are the course package's own
``scratchflow-course`` command: the library never imports the course.

``common.py`` holds what the commands share (argument types, the one-line error exit, loading a
saved model); ``figures.py`` draws the figures that ``train`` and ``plot`` both write.
"""
import sys

from scratchflow.cli.common import OneLineParser
from scratchflow.cli.examples import add_examples_command
from scratchflow.cli.figure3 import add_figure3_command
from scratchflow.cli.plot import add_plot_command
from scratchflow.cli.sample import add_sample_command
from scratchflow.cli.train import add_train_command


def build_parser():
    parser = OneLineParser(
        prog="scratchflow",
        description="Normalizing flows from scratch in NumPy (lecture 'Normalizing flows'). Counts "
                    "of points (--n, --n-train, --n-val) go from 1 to 10000000.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_examples_command(subparsers)
    add_train_command(subparsers)
    add_sample_command(subparsers)
    add_plot_command(subparsers)
    add_figure3_command(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:                  # outside training (fit handles its own Ctrl-C)
        sys.stderr.write(f"scratchflow {args.command}: interrupted (Ctrl-C)\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
