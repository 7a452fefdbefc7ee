"""Conditional flows on the command line (beyond the lecture): the class label is the context.

``scratchflow train --data moons --conditional`` trains p(x | class) with each point's one-hot class
as its context c (moons: 2 classes, 0 = upper and 1 = lower moon; digits: 10, the digit);
``scratchflow sample --model-file ... --context 3`` then draws from p(x | class 3).
"""
import numpy as np

from scratchflow.cli.common import VALIDATION_SEED_OFFSET, usage_error
from scratchflow.data import make_moons
from scratchflow.realdata import load_labels, load_sklearn

CLASSES = {"moons": 2, "digits": 10}                  # the labelled data sets and their classes
CONDITIONAL_MODELS = ("realnvp", "maf", "iaf", "nice", "nsf", "nsf-ar")   # with conditioners


def one_hot(labels, n_classes):
    """Class labels (N,) -> contexts (N, C), row i = e_{labels[i]}."""
    return np.eye(n_classes)[np.asarray(labels, dtype=int)]               # (N, C)


def check_conditional_flags(args):
    """``train --conditional``: a labelled data set and a model with conditioners (exit 2)."""
    if args.target is not None:
        usage_error("train", "--conditional", "conditions on the class of each data point; "
                                              "--target has no data")
    if args.data not in CLASSES:
        usage_error("train", "--conditional", f"needs a data set with classes: "
                                              f"{', '.join(CLASSES)}; got {args.data}")
    if args.model not in CONDITIONAL_MODELS:
        usage_error("train", "--conditional", f"{args.model} has no conditioner network to read "
                                              f"a context; use one of {', '.join(CONDITIONAL_MODELS)}")


def labelled_data(args):
    """``(train, val, train_context, val_context)``: the data as ``train`` reads it, and one-hot
    classes beside it (moons: the same points as without --conditional)."""
    if args.data == "digits":
        train, val = load_sklearn("digits", "train"), load_sklearn("digits", "test")
        train_labels, val_labels = load_labels("digits", "train"), load_labels("digits", "test")
    else:
        train, train_labels = make_moons(args.n_train, rng=args.seed, return_labels=True)
        val, val_labels = make_moons(args.n_val, rng=args.seed + VALIDATION_SEED_OFFSET,
                                     return_labels=True)
    classes = CLASSES[args.data]
    return train, val, one_hot(train_labels, classes), one_hot(val_labels, classes)


def class_context(flow, label):
    """``sample --context K``: the one-hot context (C,) of class K for a conditional flow (exit 2
    for a flow without context or a class outside 0..C−1)."""
    if not flow.context_dim:
        usage_error("sample", "--context", "this model is not conditional (it was trained "
                                           "without --conditional)")
    if not 0 <= label < flow.context_dim:
        usage_error("sample", "--context", f"class {label} is not one of the model's classes "
                                           f"0..{flow.context_dim - 1}")
    return one_hot([label], flow.context_dim)[0]                          # (C,)
