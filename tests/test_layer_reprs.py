"""What a layer prints: its class, its size and the choices it was built with, a conditional layer
its context size too (a printed model is how a student checks what was built)."""
import numpy as np
import pytest

from scratchflow.bijectors import (IAF, MAF, ActNorm, AffineCoupling, BatchNorm, Compose,
                                   ElementwiseAffine, SplineAutoregressive, SplineCoupling)
from scratchflow.bijectors.additive import AdditiveCoupling
from scratchflow.nn import MADE

BUILDERS = {
    "AffineCoupling": lambda c: AffineCoupling(3, [1, 0, 1], hidden=(4,), scale_bound=2.0,
                                               context_dim=c),
    "AdditiveCoupling": lambda c: AdditiveCoupling(3, [1, 0, 1], hidden=(4,), context_dim=c),
    "SplineCoupling": lambda c: SplineCoupling(3, [1, 0, 1], bins=4, hidden=(4,), context_dim=c),
    "MAF": lambda c: MAF(3, hidden=(4,), order="reversed", context_dim=c),
    "IAF": lambda c: IAF(3, hidden=(4,), context_dim=c),
    "SplineAutoregressive": lambda c: SplineAutoregressive(3, bins=4, hidden=(4,), context_dim=c),
    "MADE": lambda c: MADE(3, hidden=(4,), order="reversed", context_dim=c),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_repr_names_the_class_the_size_and_the_context(name):
    plain, conditional = repr(BUILDERS[name](0)), repr(BUILDERS[name](2))
    for text in (plain, conditional):
        assert text.startswith(f"{name}(dim=3, ") and text.endswith(")") and "hidden=(4,)" in text
    assert "context_dim" not in plain and conditional.endswith(", context_dim=2)")
    assert conditional.replace(", context_dim=2)", ")") == plain


def test_repr_shows_the_choices_that_change_the_map():
    assert "mask=101" in repr(BUILDERS["AffineCoupling"](0))
    assert "scale_bound=2.0" in repr(BUILDERS["AffineCoupling"](0))
    assert "order=[2, 1, 0]" in repr(BUILDERS["MAF"](0))
    assert "bins=4" in repr(BUILDERS["SplineAutoregressive"](0))
    layer = ActNorm(2)
    assert repr(layer) == "ActNorm(dim=2, initialized=False)"
    layer.initialize(np.array([[0.0, 1.0], [2.0, 5.0]]))
    assert repr(layer) == "ActNorm(dim=2, initialized=True)"
    assert repr(BatchNorm(2)) == "BatchNorm(dim=2, mode=train)"
    assert repr(BatchNorm(2).eval()) == "BatchNorm(dim=2, mode=eval)"
    assert repr(Compose([ElementwiseAffine(2), BatchNorm(2)])) == (
        "Compose([\n  ElementwiseAffine(dim=2),\n  BatchNorm(dim=2, mode=train)\n])")
