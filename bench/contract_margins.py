"""How far below its tolerances each registered layer stays: the worst error of every kind of check
over many random draws (the same draws the contract suite makes, without Hypothesis' shrinking).

    python bench/contract_margins.py [--draws 200]

Prints one JSON line per layer: the worst reconstruction, log-det and gradient errors seen.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from scratchflow.checks import check_bijector  # noqa: E402
from tests.registry import REGISTRY  # noqa: E402


def kind(check_name):
    if "reconstruction" in check_name:
        return "reconstruction"
    if "log-det" in check_name:
        return "log_det"
    return "gradient"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    for index, case in enumerate(REGISTRY):
        rng = np.random.default_rng(index)
        worst = {"reconstruction": 0.0, "log_det": 0.0, "gradient": 0.0}
        for _ in range(args.draws):
            dim = int(rng.integers(case.dims[0], case.dims[1] + 1))
            n = int(rng.integers(1, 6))
            x = rng.uniform(-2, 2, size=(n, dim))
            if case.to_domain is not None:
                x = case.to_domain(x)
            seed = int(rng.integers(0, 2**32 - 1))
            layer = case.factory(dim, np.random.default_rng(seed))
            report = check_bijector(layer, x, rng=seed, **case.check_options)
            for result in report.results:
                worst[kind(result.name)] = max(worst[kind(result.name)], result.error)
        print(json.dumps({"layer": case.name, "draws": args.draws,
                          **{f"worst_{k}_error": float(f"{v:.3g}") for k, v in worst.items()},
                          "tolerances": {"reconstruction": 1e-10, "log_det": 1e-7, "gradient": 1e-6}}))


if __name__ == "__main__":
    main()
