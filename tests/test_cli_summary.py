"""The closing line of ``scratchflow train``: steps and time, the best validation loss, for a
target the KL to it (best loss + log Z), for data the base density's NLL to compare with."""
import re

import numpy as np

from scratchflow import ElementwiseAffine, Flow
from scratchflow.cli.train import _summary
from scratchflow.history import History
from scratchflow.realdata import bits_per_dim
from scratchflow.targets import load_target, log_normalizer


def _history(best_step=40, best=1.25, last=None):
    val_loss = [] if best is None else [best, best if last is None else last]
    history = History(mode="data", train_loss=[2.0] * 50, val_loss=val_loss, best_step=best_step,
                      best_val_loss=best)
    history.seconds = 3.04
    return history


def _number_after(label, text):
    return float(re.search(re.escape(label) + r" (-?[0-9.]+)", text).group(1))


def test_data_summary_compares_with_the_base_density():
    data = np.random.default_rng(0).normal(size=(50, 2)) * 2.0          # (50, 2)
    text = _summary(Flow(ElementwiseAffine(2)), _history(), None, data)
    assert text.startswith("50 steps in 3.0 s; best validation NLL 1.2500 nats at step 40")
    base_nll = -np.mean(Flow(ElementwiseAffine(2)).base.log_prob(data))
    assert _number_after("the base N(0, I) alone:", text) == round(base_nll, 4)
    assert "KL" not in text
    assert "WARNING" not in text


def test_target_summary_adds_log_z_to_the_best_loss():
    target = load_target("u1")
    text = _summary(Flow(ElementwiseAffine(2)), _history(best=-0.5), target, None)
    assert "best validation reverse KL + const -0.5000 nats" in text
    kl = _number_after("KL(q || p*) = that + log Z =", text)
    assert abs(kl - (-0.5 + log_normalizer(target))) < 1e-4
    assert "base" not in text


def test_image_summary_gives_the_best_in_bits_per_dimension_and_in_nats():
    history = _history(best=-80.0)
    history.val_bits_per_dim = [bits_per_dim(-80.0, 64)] * 2
    text = _summary(Flow(ElementwiseAffine(64)), history, None, None)
    assert text.startswith(f"50 steps in 3.0 s; best validation {bits_per_dim(-80.0, 64):.4f} bits/dim "
                           "(NLL -80.0000 nats) at step 40")


def test_no_validation_no_best_line():
    text = _summary(Flow(ElementwiseAffine(2)), _history(best_step=None, best=None), None, None)
    assert text == "50 steps in 3.0 s"


def test_a_last_validation_loss_well_above_the_best_warns_of_overfitting():
    text = _summary(Flow(ElementwiseAffine(2)), _history(best=1.25, last=1.5), None, None)
    assert "WARNING: validation got worse after its best (last 1.5000)" in text
    assert "best parameters (step 40) were kept" in text
    text = _summary(Flow(ElementwiseAffine(2)), _history(best=1.25, last=1.3), None, None)
    assert "WARNING" not in text                       # within the 0.1-nat margin


def test_the_overfitting_margin_is_the_larger_of_a_tenth_of_a_nat_and_a_tenth_of_the_best():
    """Warn only when the last loss is worse than the best by MORE than max(0.1, 0.1 |best|)."""
    def warns(best, last):
        text = _summary(Flow(ElementwiseAffine(2)), _history(best=best, last=last), None, None)
        assert text.startswith("50 steps in 3.0 s; best validation NLL")     # the warning is added
        return "WARNING" in text
    assert not warns(0.5, 0.6) and warns(0.5, 0.61)            # exactly at 0.1 nat: no warning
    assert not warns(-5.0, -4.5) and warns(-5.0, -4.49)        # |best| = 5: margin 0.5
    assert not warns(3.0, 3.25) and warns(3.0, 3.31)           # best = 3: margin 0.3, not 0.1


def test_the_summary_warns_when_validation_got_worse_than_its_best():
    flow = Flow([ElementwiseAffine(2)])
    val = np.zeros((4, 2))
    worse = History(mode="data", val_step=[15, 300], val_loss=[1.2, 900.0], best_step=15,
                    best_val_loss=1.2)
    assert "WARNING: validation got worse after its best (last 900.0000)" in _summary(
        flow, worse, None, val)
    steady = History(mode="data", val_step=[15, 300], val_loss=[1.2, 1.25], best_step=15,
                     best_val_loss=1.2)
    assert "WARNING" not in _summary(flow, steady, None, val)
