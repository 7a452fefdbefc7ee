"""The grading subcommands of ``scratchflow`` (wired into :mod:`scratchflow.cli` by one line).

    scratchflow-course grade SUBMISSION_DIR [--results results.json] [--hidden] [--time-limit S]
    scratchflow-course grade --all SUBMISSIONS_DIR [--results scores.csv] [--results-dir DIR]
    scratchflow-course generate-exercises [--source solutions] [--out exercises] [--check]
    scratchflow-course release --out DIR [--source solutions]
"""
import json
import os
import sys

from scratchflow_course.grading.grader import grade_all, grade_to_file
from scratchflow_course.grading.paths import default_source
from scratchflow_course.grading.release import build_release
from scratchflow_course.homework.build import check_sync, course_root, generate


def add_commands(subparsers):
    """Add ``grade``, ``generate-exercises`` and ``release`` to the ``scratchflow`` parser."""
    grade = subparsers.add_parser(
        "grade", help="autograde a homework submission (Gradescope results.json)",
        description="Run every task of the homework on a submission folder, each in its own "
                    "sandboxed process with a time limit, compare the outputs with the reference "
                    "solution and write Gradescope's results.json. With --all, grade every "
                    "sub-folder and write a CSV of scores.")
    grade.add_argument("submission", help="the submission folder (with --all: a folder of submission folders)")
    grade.add_argument("--results", default=None,
                       help="where to write results.json (default: results.json); with --all, the CSV "
                            "(default: scores.csv)")
    grade.add_argument("--hidden", action="store_true", help="also run the hidden tests (the autograder does)")
    grade.add_argument("--time-limit", type=float, default=None, metavar="S",
                       help="seconds per task (default: each task's limit in homework.json)")
    grade.add_argument("--all", action="store_true", help="grade every sub-folder; write a CSV")
    grade.add_argument("--results-dir", default=None,
                       help="with --all: also write each submission's results to DIR/<name>.json")
    grade.add_argument("--source", default=None, help="the solutions folder (default: solutions/ of this checkout)")
    grade.add_argument("--seed", type=int, default=None,
                       help="seed of the hidden tests (default: fixed per submission)")
    grade.add_argument("--submission-metadata", default=None,
                       help="Gradescope's submission_metadata.json: its id fixes the seed")
    grade.add_argument("--jobs", type=int, default=2, help="tasks graded at the same time (default: 2)")
    grade.set_defaults(run=_run_grade)

    generate = subparsers.add_parser(
        "generate-exercises", help="write exercises/ from the library's task regions and solutions/",
        description="Stub every '# >>> task <id>' region of the library, write the public tests, "
                    "the expected values and the known mistakes' signatures (computed from the "
                    "reference) and the README. With --check, only report whether exercises/ is in sync.")
    generate.add_argument("--source", default=None, help="the solutions folder (default: solutions/)")
    generate.add_argument("--out", default=None, help="the exercises folder (default: exercises/ beside it)")
    generate.add_argument("--check", action="store_true", help="exit 1 if the exercises are out of date")
    generate.set_defaults(run=_run_generate)

    release = subparsers.add_parser(
        "release", help="write the student release and the Gradescope autograder zip",
        description="Write DIR/student/ and DIR/student.zip (the library with the exercises' stubs, "
                    "public tests, README, setup.cfg; no answer) and DIR/autograder.zip (setup.sh "
                    "and run_autograder at its root, the package, the solutions and the checks).")
    release.add_argument("--out", required=True, help="output folder")
    release.add_argument("--source", default=None, help="the solutions folder (default: solutions/)")
    release.set_defaults(run=_run_release)


def _fail(command, message):
    """One line on stderr and exit status 2: the instructor's mistake, not the students'."""
    print(f"scratchflow-course {command}: {message}", file=sys.stderr)
    return 2


def _run_grade(args):
    course_root(args.source or default_source())           # one line and exit 2 when it is missing
    if not os.path.isdir(args.submission):
        return _fail("grade", f"no folder {args.submission!r} to grade")
    if args.all:
        csv_path = args.results or "scores.csv"
        grade_all(args.submission, csv_path, source=args.source, hidden=args.hidden,
                  time_limit=args.time_limit, jobs=args.jobs, results_dir=args.results_dir)
        print(f"wrote {csv_path}")
        return 0
    results_path = args.results or "results.json"
    submission_id = None
    if args.submission_metadata and os.path.isfile(args.submission_metadata):
        try:
            with open(args.submission_metadata, encoding="utf-8") as handle:
                submission_id = json.load(handle).get("id")
        except (OSError, ValueError):
            submission_id = None
    if submission_id is None:
        submission_id = os.path.basename(os.path.abspath(args.submission))
    results = grade_to_file(args.submission, results_path, source=args.source, hidden=args.hidden,
                            time_limit=args.time_limit, seed=args.seed, submission_id=submission_id,
                            jobs=args.jobs)
    print(results.get("output", ""))
    for test in results["tests"]:
        if test["name"] == "autograder failed" or test["visibility"] == "hidden" and not test["max_score"]:
            print(test["output"], file=sys.stderr)                 # the grader's notes: the instructor's
    print(f"wrote {results_path}")
    return 0


def _run_generate(args):
    root = course_root(args.source or default_source())
    out = args.out or os.path.join(root, "exercises")
    if args.check:
        problems = check_sync(root, out)
        for problem in problems:
            print(problem)
        print("exercises are in sync with the solutions" if not problems else
              f"{len(problems)} difference(s): run 'scratchflow-course generate-exercises'")
        return 1 if problems else 0
    written = generate(root, out)
    print(f"wrote {len(written)} files to {out}")
    return 0


def _run_release(args):
    source = os.path.join(course_root(args.source or default_source(), exercises=True), "solutions")
    try:
        paths = build_release(args.out, source=source)
    except OSError as error:
        return _fail("release", f"cannot write {error.filename or args.out}: {error.strerror or error}")
    for path in paths:
        print(f"wrote {path}")
    return 0
