"""The objectives ``fit`` drives: minibatches that partition each epoch, the epoch counter, a
reverse-KL validation on fixed draws, and evaluation mode that restores training mode."""
import numpy as np
import pytest

from scratchflow import ElementwiseAffine, Flow
from scratchflow.bijectors import BatchNorm, Compose
from scratchflow.objectives import MaximumLikelihood, ReverseKL, evaluation_mode, minibatch_indices
from tests.strategies import GaussianTarget
from tests.time_limit import time_limit


def test_minibatches_partition_every_epoch():
    batches = minibatch_indices(7, 3, np.random.default_rng(0))
    for epoch in range(3):
        drawn = [next(batches) for _ in range(3)]                   # 3 + 3 + 1 rows
        assert [e for e, _ in drawn] == [epoch] * 3
        assert [len(indices) for _, indices in drawn] == [3, 3, 1]
        np.testing.assert_array_equal(np.sort(np.concatenate([i for _, i in drawn])), np.arange(7))
    epoch, indices = next(minibatch_indices(4, 10, np.random.default_rng(0)))
    assert epoch == 0 and sorted(indices) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        next(minibatch_indices(0, 3, np.random.default_rng(0)))


def test_maximum_likelihood_counts_epochs_and_steps():
    data = np.random.default_rng(1).normal(size=(10, 2))
    objective = MaximumLikelihood(Flow(ElementwiseAffine(2)), data, None, 4, np.random.default_rng(0))
    assert objective.steps_per_epoch == 3 and objective.epoch == 0 and not objective.validates
    epochs = []
    for _ in range(4):
        objective.step()
        epochs.append(objective.epoch)
    assert epochs == [0, 0, 0, 1]


def test_reverse_kl_validates_on_fixed_draws():
    flow = Flow(ElementwiseAffine(2))
    objective = ReverseKL(flow, GaussianTarget([1.0, -1.0]), 16, np.random.default_rng(0))
    assert objective.val_z.shape == (1024, 2) and objective.validates and objective.epoch == 0
    first = objective.evaluate()
    objective.step()
    assert objective.evaluate() == first                          # same draws, same parameters
    assert objective.epoch == 0                                   # fresh draws: no epochs


def test_evaluation_mode_switches_batchnorm_and_back():
    layer = BatchNorm(2)
    flow = Flow(Compose([ElementwiseAffine(2), layer]))
    with evaluation_mode(flow):
        assert not layer.training
    assert layer.training
    plain = Flow(ElementwiseAffine(2))
    with evaluation_mode(plain) as inside:
        assert inside is plain


def test_minibatches_of_nothing_are_an_error_not_an_endless_loop():
    with time_limit(10, "minibatch_indices"), pytest.raises(ValueError, match=r"n must be >= 1, got 0"):
        next(minibatch_indices(0, 4, np.random.default_rng(0)))
    with time_limit(10, "minibatch_indices"), pytest.raises(ValueError,
                                                           match=r"batch_size must be >= 1, got 0"):
        next(minibatch_indices(4, 0, np.random.default_rng(0)))           # not range()'s error
