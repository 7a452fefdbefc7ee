"""Small tabular data: every flow family against the full-covariance Gaussian it starts from.

Workload: scikit-learn's wine (13-D) and breast cancer (30-D), standardised
(``scratchflow.realdata``); three splits (seeds 0, 1, 2 of the train/test permutation), each train
split cut once more into 75 % training rows (wine 106, breast cancer 341) and 25 % validation rows.
Every family trains with the same budget: Adam lr 1e-3, batch 256, at most ``--steps`` steps,
validation NLL every 10 steps, early stopping after 20 evaluations without a better one, the best
validation parameters kept. With whitening (the default; ``--no-whiten`` trains from the plain
identity start, as before the whitening layer existed) each flow's first layer is fitted to the
training rows, so the untrained flow is the full-covariance Gaussian, and that start is the first
validation candidate: the training is kept only if its validation gain over the start exceeds k
standard errors (``scratchflow.gaussian_start.keep_start_unless_better``), else the flow stays
where it started. One table per k (default 0, 1, 2) from the same runs.

Output: one line per split and family (test NLL at the start and after training, best step,
validation gain ± standard error), then per k the table of mean test NLL (nats per row) over the
three splits, one row per data set, the Gaussian first.

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


def train_family(family, train, val, test, steps, whiten, seed, lr=1e-3):
    """Train one family; return the test NLL at the start and after training, the best step, and
    the validation gain of the training over the start with its standard error (nats per row)."""
    config = {"model": family, "dim": train.shape[1], "n_layers": 5, "hidden": [64, 64],
              "seed": seed, "whiten": whiten}
    flow = build_model(config)
    if whiten:
        start_at_gaussian(flow, train)
    start = StartSnapshot(flow, val)
    start_nll = -float(flow.log_prob(test).mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(flow, train, val, steps=steps, batch_size=256, lr=lr, seed=seed,
                      eval_every=10, patience=20, progress=False)
    trained_nll = -float(flow.log_prob(test).mean())
    _, gain, error = keep_start_unless_better(flow, start, standard_errors=0.0)
    return start_nll, trained_nll, history.best_step, gain, error


def kept_nll(run, standard_errors):
    """The test NLL of the parameters ``keep_start_unless_better`` keeps at this threshold."""
    start_nll, trained_nll, _, gain, error = run
    return trained_nll if gain > standard_errors * error else start_nll


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", default=list(DATA_SETS))
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--splits", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--no-whiten", action="store_true")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--standard-errors", type=float, nargs="+", default=[0.0, 1.0, 2.0],
                        help="thresholds of keep_start_unless_better, one table each (0: keep "
                             "the training whenever its validation NLL is better at all; the "
                             "library's default is 2)")
    args = parser.parse_args()
    gaussian, runs = {}, {}
    for name in args.data:
        for seed in args.splits:
            train, val, test = splits(name, seed)
            gaussian.setdefault(name, []).append(gaussian_nll(train, test))
            for family in args.families:
                run = train_family(family, train, val, test, args.steps, not args.no_whiten, seed,
                                   args.lr)
                runs.setdefault((name, family), []).append(run)
                print(f"{name} split {seed} {family}: test NLL start {run[0]:.2f}, trained "
                      f"{run[1]:.2f} (best step {run[2]}), validation gain {run[3]:.3f} ± "
                      f"{run[4]:.3f}; Gaussian {gaussian[name][-1]:.2f}", flush=True)
    for threshold in args.standard_errors:
        print(f"\nkept if the validation gain > {threshold:g} standard errors "
              f"({'whitened start' if not args.no_whiten else 'identity start'}); mean test NLL "
              f"of {len(args.splits)} splits, nats per row")
        print("| data | full-cov Gaussian | " + " | ".join(args.families) + " |")
        print("|---|" + "---|" * (len(args.families) + 1))
        for name in args.data:
            means = [np.mean(gaussian[name])] + [
                np.mean([kept_nll(run, threshold) for run in runs[(name, family)]])
                for family in args.families]
            print(f"| {name} | " + " | ".join(f"{mean:.2f}" for mean in means) + " |")


if __name__ == "__main__":
    main()
