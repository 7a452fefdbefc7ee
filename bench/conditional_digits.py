"""Measure a class-conditional flow on digits against the unconditional one of the same size.

One line (about two minutes on one core)::

    python bench/conditional_digits.py                    # seeds 0 1 2, figures into docs/figures

Workload: the digits split of ``scratchflow.realdata`` (seed 0): 1500 training images, of which
the last 300 are held out for early stopping, and 297 test images, dequantised into (0, 1)^64.
Both models are ``build_model({"model": "realnvp", "logit_alpha": 0.05, ...})`` with the same
layers and hidden sizes; the conditional one adds ``context_dim = 10`` (the one-hot digit enters
every coupling network, 10 more inputs each). Adam, batch 256, the best validation step kept.

Printed, per seed and as a mean: the test NLL (nats per image in pixel space, and bits/dim of the
0..16 counts) of both models; then, for the conditional model, the share of samples drawn with
context "digit k" that a classifier trained on the data calls k, per digit and overall. The
classifier is multinomial logistic regression written here in NumPy (scikit-learn only supplies
the data set). Also writes ``conditional_digits.png`` (samples per digit) and
``conditional_moons.png`` (two moons with the moon as context).
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse      # noqa: E402
import json          # noqa: E402

import numpy as np   # noqa: E402

from scratchflow.cli.conditional import one_hot          # noqa: E402
from scratchflow.data import make_moons                  # noqa: E402
from scratchflow.models import build_model               # noqa: E402
from scratchflow.plotting import plot_conditional_images, plot_conditional_samples   # noqa: E402
from scratchflow.plotting.conditional import class_samples   # noqa: E402
from scratchflow.realdata import bits_per_dim, load_labels, load_sklearn   # noqa: E402
from scratchflow.train import fit                        # noqa: E402

N_VALIDATION = 300


def fit_logistic(x, labels, n_classes, l2=1e-3, steps=2000, lr=0.5):
    """Multinomial logistic regression by full-batch gradient descent on the mean cross-entropy
    + (l2/2)‖W‖²; returns (W (D, K), b (K,)). p = softmax(x W + b); dL/dlogits = (p − Y)/N."""
    targets = one_hot(labels, n_classes)                                  # (N, K)
    weight, bias = np.zeros((x.shape[1], n_classes)), np.zeros(n_classes)
    for _ in range(steps):
        probs = softmax(x @ weight + bias)                               # (N, K)
        grad_logits = (probs - targets) / len(x)                          # (N, K)
        weight -= lr * (x.T @ grad_logits + l2 * weight)
        bias -= lr * grad_logits.sum(axis=0)
    return weight, bias


def softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))         # (N, K)
    return shifted / shifted.sum(axis=1, keepdims=True)


def classify(classifier, x):
    weight, bias = classifier
    return np.argmax(x @ weight + bias, axis=1)                          # (N,)


def train_pair(seed, data, args):
    """The unconditional and the conditional flow of one seed, trained on the same rows."""
    train, val, train_context, val_context = data
    flows = {}
    for name, context_dim in (("unconditional", 0), ("conditional", 10)):
        config = {"model": "realnvp", "dim": 64, "n_layers": args.layers, "hidden": args.hidden,
                  "seed": seed, "logit_alpha": 0.05}
        if context_dim:
            config["context_dim"] = context_dim
        flow = build_model(config)
        contexts = ((train_context, val_context) if context_dim else (None, None))
        fit(flow, train, val, steps=args.steps, batch_size=256, lr=1e-3, seed=seed,
            eval_every=50, progress=False, context=contexts[0], val_context=contexts[1])
        flows[name] = flow
    return flows


def sample_rates(flow, classifier, per_digit, seed):
    """Share of the samples of each digit k (context one-hot k) classified as k: (10,)."""
    return np.array([np.mean(classify(classifier, class_samples(flow, k, per_digit, seed + k)) == k)
                     for k in range(10)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64])
    parser.add_argument("--per-digit", type=int, default=200, help="samples per digit to classify")
    parser.add_argument("--figures", default="docs/figures")
    args = parser.parse_args()

    pixels, labels = load_sklearn("digits", "train"), load_labels("digits", "train")
    test, test_labels = load_sklearn("digits", "test"), load_labels("digits", "test")
    train, val = pixels[:-N_VALIDATION], pixels[-N_VALIDATION:]           # (1200, 64), (300, 64)
    data = (train, val, one_hot(labels[:-N_VALIDATION], 10), one_hot(labels[-N_VALIDATION:], 10))
    classifier = fit_logistic(pixels, labels, 10)
    accuracy = float(np.mean(classify(classifier, test) == test_labels))
    print(f"classifier (NumPy logistic regression) on the 297 test digits: {accuracy:.3f}")

    results = []
    for seed in args.seeds:
        flows = train_pair(seed, data, args)
        nll = {"unconditional": -flows["unconditional"].log_prob(test).mean(),
               "conditional": -flows["conditional"].log_prob(test, one_hot(test_labels, 10)).mean()}
        rates = sample_rates(flows["conditional"], classifier, args.per_digit, 1000 * seed)
        results.append({"seed": seed, "nll": nll, "rates": rates.tolist(),
                        "params": {name: flow.num_params() for name, flow in flows.items()}})
        print(f"seed {seed}: test NLL unconditional {nll['unconditional']:.2f} nats "
              f"({bits_per_dim(nll['unconditional'], 64):.3f} bits/dim), conditional "
              f"{nll['conditional']:.2f} ({bits_per_dim(nll['conditional'], 64):.3f}); samples "
              f"classified as their context: {rates.mean():.3f}")
        if seed == args.seeds[0]:
            print("  wrote", plot_conditional_images(flows["conditional"], args.figures,
                                                     "conditional_digits.png", seed=seed))
    rates = np.mean([r["rates"] for r in results], axis=0)                # (10,)
    print("mean over seeds: test NLL unconditional "
          f"{np.mean([r['nll']['unconditional'] for r in results]):.2f}, conditional "
          f"{np.mean([r['nll']['conditional'] for r in results]):.2f} nats")
    print("samples classified as their context, per digit 0..9:",
          " ".join(f"{rate:.2f}" for rate in rates), f"overall {rates.mean():.3f}")
    print(json.dumps({"classifier_test_accuracy": accuracy, "runs": results}))
    print("  wrote", moons_figure(args.figures))


def moons_figure(folder, steps=1500):
    """Conditional two moons (context = the moon's one-hot label) and its figure."""
    points, moon = make_moons(4000, rng=0, return_labels=True)
    val, val_moon = make_moons(1000, rng=1, return_labels=True)
    flow = build_model({"model": "realnvp", "dim": 2, "n_layers": 6, "hidden": [32, 32],
                        "seed": 0, "context_dim": 2})
    fit(flow, points, val, steps=steps, batch_size=256, lr=2e-3, seed=0, progress=False,
        context=one_hot(moon, 2), val_context=one_hot(val_moon, 2))
    return plot_conditional_samples(flow, val, val_moon, folder, "conditional_moons.png",
                                    title="Two moons, the moon as context: x = f⁻¹(z; c)")


if __name__ == "__main__":
    main()
