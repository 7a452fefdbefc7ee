"""The contract-test registry: one line per bijector.

Each entry is ``Case(cls, factory, ...)``: ``factory(dim, rng)`` returns a small random instance of
``cls`` of dimension ``dim``, with parameters drawn from ``rng`` (so Hypothesis, which draws the
seed, also draws the parameters). ``tests/test_contract.py`` runs every check of
:func:`scratchflow.checks.check_bijector` on every entry, in both directions, and fails when a
bijector class exported by ``scratchflow.bijectors`` has no entry here.

Fields: ``dims`` is the (min, max) dimension to draw; ``to_domain`` maps an unconstrained draw
(entries in [-2, 2]) into the layer's domain (Example 2 needs x1 > 0); ``check_options`` are passed
on to ``check_bijector``.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from scratchflow.bijectors import Compose, ElementwiseAffine, Example2Map


@dataclass
class Case:
    cls: type
    factory: Callable
    dims: tuple = (1, 4)
    to_domain: Optional[Callable] = None
    check_options: dict = field(default_factory=dict)

    @property
    def name(self):
        return self.cls.__name__


def _affine(dim, rng):
    return ElementwiseAffine(dim, log_scale=rng.uniform(-1, 1, dim), shift=rng.uniform(-2, 2, dim))


def _positive_first(x):
    x = x.copy()
    x[:, 0] = np.exp(x[:, 0])          # x1 in [e^-2, e^2]
    return x


def _compose(dim, rng):
    return Compose([_affine(dim, rng), _affine(dim, rng)])


REGISTRY = [
    Case(ElementwiseAffine, _affine),
    Case(Example2Map, lambda dim, rng: Example2Map(), dims=(2, 2), to_domain=_positive_first),
    Case(Compose, _compose),
]
