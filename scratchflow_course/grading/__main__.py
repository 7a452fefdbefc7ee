"""``scratchflow-course`` (and ``python -m scratchflow_course.grading``): the course's commands
grade, generate-exercises and release (the Gradescope bundle's ``run_autograder`` uses this)."""
import argparse
import sys

from scratchflow_course.grading.cli import add_commands


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scratchflow-course", description="The homework of the scratchflow course: grade, generate-exercises, release.")
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    from scratchflow_course.homework.build import CourseSourceMissing   # local import: NumPy and the probes
    try:
        return args.run(args)
    except CourseSourceMissing as error:
        print(f"scratchflow-course {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
