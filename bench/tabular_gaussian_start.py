"""Small tabular data: every flow family against the full-covariance Gaussian it starts from.

Workload: scikit-learn's wine (13-D) and breast cancer (30-D), standardised
(``scratchflow.realdata``); three splits (seeds 0, 1, 2 of the train/test permutation), each train
split cut once more into 75 % training rows (wine 106, breast cancer 341) and 25 % validation rows.
Every family trains with the same budget: Adam lr 1e-3, batch 256, at most ``--steps`` steps,
validation NLL every 10 steps, early stopping after 20 evaluations without a better one, the best
validation parameters kept. With whitening (the default; ``--no-whiten`` trains from the plain
identity start, as before the whitening layer existed) each flow's first layer is fitted to the
training rows, so the untrained flow is the full-covariance Gaussian, and that start is the first
validation candidate: the training is kept only if its validation gain over the start exceeds one
standard error (``scratchflow.gaussian_start.keep_start_unless_better``), else the flow stays the
Gaussian.

Output: the table of mean test NLL (nats per row) over the three splits, one row per data set,
the Gaussian first, then one line per split and family with its test NLL and best step.

Usage::

    python bench/tabular_gaussian_start.py                     # both sets, 3 splits, 2000 steps
    python bench/tabular_gaussian_start.py --no-whiten --families maf realnvp
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse      # noqa: E402
import warnings      # noqa: E402

import numpy as np   # noqa: E402
from scipy.stats import multivariate_normal   # noqa: E402

from scratchflow.gaussian_start import (StartSnapshot, keep_start_unless_better,   # noqa: E402
                                        start_at_gaussian)
from scratchflow.models import build_model                  # noqa: E402
from scratchflow.realdata import load_sklearn               # noqa: E402
from scratchflow.train import fit                           # noqa: E402

FAMILIES = ("maf", "realnvp", "nsf", "nsf-ar", "nice")
DATA_SETS = ("wine", "breast_cancer")


def splits(name, seed):
    """(train, val, test) rows of split ``seed``: the train split cut 75 / 25."""
    rows, test = load_sklearn(name, "train", seed=seed), load_sklearn(name, "test", seed=seed)
    n_train = int(0.75 * len(rows))
    return rows[:n_train], rows[n_train:], test


def gaussian_nll(train, test):
    """Test NLL of the full-covariance Gaussian fitted by maximum likelihood to ``train``."""
    covariance = np.cov(train.T, bias=True)
    covariance += 1e-6 * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    return -float(multivariate_normal(train.mean(axis=0), covariance).logpdf(test).mean())


def train_family(family, train, val, steps, whiten, seed, lr=1e-3, standard_errors=1.0):
    """Train one family; return (flow, best step, validation gain over the start, its standard
    error); best step 0: the start was kept."""
    config = {"model": family, "dim": train.shape[1], "n_layers": 5, "hidden": [64, 64],
              "seed": seed, "whiten": whiten}
    flow = build_model(config)
    if whiten:
        start_at_gaussian(flow, train)
    start = StartSnapshot(flow, val)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(flow, train, val, steps=steps, batch_size=256, lr=lr, seed=seed,
                      eval_every=10, patience=20, progress=False)
    kept, gain, error = keep_start_unless_better(flow, start, standard_errors)
    return flow, history.best_step if kept else 0, gain, error


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", default=list(DATA_SETS))
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--no-whiten", action="store_true")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--standard-errors", type=float, default=1.0,
                        help="keep the training only if its validation gain exceeds this many "
                             "standard errors (0: whenever it is better at all)")
    args = parser.parse_args()
    table = {}
    for name in args.data:
        for seed in args.splits:
            train, val, test = splits(name, seed)
            table.setdefault((name, "gaussian"), []).append(gaussian_nll(train, test))
            for family in args.families:
                flow, best_step, gain, error = train_family(
                    family, train, val, args.steps, not args.no_whiten, seed, args.lr,
                    args.standard_errors)
                nll = -float(flow.log_prob(test).mean())
                table.setdefault((name, family), []).append(nll)
                print(f"{name} split {seed} {family}: test NLL {nll:.2f} (best step {best_step}, "
                      f"validation gain {gain:.3f} ± {error:.3f}; Gaussian "
                      f"{table[(name, 'gaussian')][-1]:.2f})", flush=True)
    columns = ["gaussian", *args.families]
    print("\n| data | full-cov Gaussian | " + " | ".join(args.families) + " |")
    print("|---|" + "---|" * len(columns))
    for name in args.data:
        means = [np.mean(table[(name, column)]) for column in columns]
        print(f"| {name} | " + " | ".join(f"{mean:.2f}" for mean in means) + " |")


if __name__ == "__main__":
    main()
