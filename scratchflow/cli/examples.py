"""``scratchflow examples``: the lecture's Example 1 and Example 2 figures (experiment vs theory)."""
from scratchflow.cli.common import point_count, seed, writable_folder


def add_examples_command(subparsers):
    parser = subparsers.add_parser(
        "examples", help="draw the lecture's Example 1 and Example 2 figures (experiment vs theory)",
        description="Sample the lecture's two examples as x = f^-1(z) and draw the histogram of the "
                    "samples ('Эксперимент' / experiment) against the analytic density "
                    "('Теория' / theory). Writes example1.png and example2.png.")
    parser.add_argument("--out", default="figures", help="output folder (default: figures)")
    parser.add_argument("--n", type=point_count, default=100_000,
                        help="number of samples (default: 100000)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    parser.set_defaults(run=run_examples)


def run_examples(args):
    writable_folder("examples", "--out", args.out)
    # local import: matplotlib is slow to import; only the commands that draw pay for it.
    from scratchflow.plotting import plot_example
    for number in (1, 2):
        path = plot_example(number, out_dir=args.out, n=args.n, rng=args.seed)
        print(f"wrote {path}")
    return 0
