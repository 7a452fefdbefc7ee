"""``scratchflow figure3``: Rezende & Mohamed's Figure 3 (U1–U4; planar K = 2, 8, 32; IAF, Real-NVP).

    scratchflow figure3 --out figures                 every panel (minutes)
    scratchflow figure3 --targets u1 --steps 200      one row, a quick look
    scratchflow figure3 --jobs 1                      in this process only

The fits are :mod:`scratchflow.figure3`'s, the grid :mod:`scratchflow.plotting.figure3`'s; this
file checks the flags, runs both and says what it wrote (``figure3.json`` first, then the PNG).
"""
from scratchflow.cli.common import fail, positive_int, seed, writable_folder
from scratchflow.figure3 import TARGET_NAMES, fit_figure3, model_configs, save_results
from scratchflow.targets import load_target


def add_figure3_command(subparsers):
    parser = subparsers.add_parser(
        "figure3", help="reproduce Rezende & Mohamed's Figure 3 (U1-U4, planar K=2,8,32, IAF, Real-NVP)",
        description="Fit U1-U4 by reverse KL with planar flows of K = 2, 8, 32 layers and an IAF "
                    "and a Real-NVP of the K = 32 planar flow's size; write figure3.png (the grid "
                    "of densities, final KL per panel) and figure3.json.")
    parser.add_argument("--out", default="figures", help="output folder (default: figures)")
    parser.add_argument("--steps", type=positive_int, default=8000,
                        help="optimizer steps per panel, half of them annealed (default: 8000)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of every panel (default: 0)")
    parser.add_argument("--targets", default=",".join(TARGET_NAMES),
                        help="comma-separated subset of u1,u2,u3,u4 (default: u1,u2,u3,u4)")
    parser.add_argument("--jobs", type=positive_int, default=2,
                        help="panels fitted at a time, one process each, as many as the machine's "
                             "cores; the results do not depend on it (default: 2)")
    parser.set_defaults(run=run_figure3)


def run_figure3(args):
    targets = [name.strip().lower() for name in args.targets.split(",") if name.strip()]
    try:
        for name in targets or [""]:
            load_target(name)                              # an unknown name fails before any fit
    except ValueError as error:
        fail("figure3", error)
    writable_folder("figure3", "--out", args.out)          # before minutes of fitting, not after
    results, flows = fit_figure3(steps=args.steps, seed=args.seed, targets=targets,
                                 jobs=args.jobs)
    paths = [save_results(results, args.out)]             # the numbers first, then the drawing
    # local import: matplotlib is slow to import; only the commands that draw pay for it.
    from scratchflow.plotting.figure3 import plot_figure3
    paths.append(plot_figure3(flows, results, model_configs(), targets, args.out))
    for name, decreasing in results["planar_kl_decreases_with_k"].items():
        print(f"{name}: planar KL {'decreases' if decreasing else 'does NOT decrease'} with K")
    for path in paths:
        print(f"wrote {path}")
    return 0
