"""``train --conditional``'s classes: the context of each labelled data set has one column per
class, and every class occurs in the labels."""
import argparse

import numpy as np

from scratchflow.cli.conditional import CLASSES, labelled_data


def test_each_labelled_data_set_has_exactly_the_classes_its_labels_use():
    for name, classes in CLASSES.items():
        args = argparse.Namespace(data=name, n_train=400, n_val=50, seed=0)
        _, _, train_context, val_context = labelled_data(args)
        assert train_context.shape[1] == val_context.shape[1] == classes
        assert np.all(train_context.sum(axis=0) > 0), name               # every class is used
        assert np.all(train_context.sum(axis=1) == 1)                   # one-hot rows


def test_conditional_moons_are_the_points_train_draws_without_conditional():
    from scratchflow.cli.train import _train_and_validation_data
    args = argparse.Namespace(data="moons", n_train=300, n_val=40, seed=5)
    train, val, _, _ = labelled_data(args)
    plain_train, plain_val = _train_and_validation_data(args)
    np.testing.assert_array_equal(train, plain_train)
    np.testing.assert_array_equal(val, plain_val)
    assert not np.allclose(val, plain_train[:40])                       # validation: other draws
