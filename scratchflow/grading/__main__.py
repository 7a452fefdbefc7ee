"""``python -m scratchflow.grading grade ...``: the grading commands without the console script
(the Gradescope bundle's ``run_autograder`` uses this)."""
import argparse
import sys

from scratchflow.grading.cli import add_commands


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scratchflow.grading")
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
