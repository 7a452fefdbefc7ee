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
from scratchflow.bijectors import BatchNorm, Logit
from scratchflow.bijectors import ActNorm, AffineCoupling, Permutation
from scratchflow.bijectors import IAF, MAF
from scratchflow.bijectors import SplineAutoregressive, SplineCoupling


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


def _batchnorm(dim, rng, training=True):
    """BatchNorm with random parameters and running averages, in training or evaluation mode."""
    layer = BatchNorm(dim, log_gamma=rng.uniform(-1, 1, dim), beta=rng.uniform(-2, 2, dim),
                      momentum=rng.uniform(0.01, 1.0), training=training)
    layer.running_mean[:] = rng.uniform(-1, 1, dim)
    layer.running_var[:] = rng.uniform(0.1, 3, dim)
    return layer


def _to_unit_interval(x):
    return 0.5 + 0.225 * x              # [-2, 2] -> [0.05, 0.95], inside Logit's domain (0, 1)


def _coupling(dim, rng):
    """AffineCoupling with a random mask (any pattern with both 0s and 1s), a randomised last layer
    (not the identity) and, every other draw, a bounded scale."""
    mask = np.zeros(dim, dtype=int)
    mask[rng.choice(dim, size=rng.integers(1, dim), replace=False)] = 1
    scale_bound = None if rng.random() < 0.5 else float(rng.uniform(0.5, 3.0))
    return AffineCoupling(dim, mask, hidden=(4,), scale_bound=scale_bound, rng=rng, zero_init=False)


def _actnorm(dim, rng):
    """ActNorm after its data-dependent initialisation on a random batch."""
    layer = ActNorm(dim)
    layer.forward(rng.uniform(-2, 2, dim) + rng.uniform(0.3, 3, dim) * rng.standard_normal((8, dim)))
    return layer


def _autoregressive(cls, dim, rng):
    """MAF or IAF with a random ordering, a tiny MADE and a random (not zero) last layer kept
    small (|s| <= 1.5 or so), so exp(±s) stays moderate in both directions."""
    layer = cls(dim, hidden=(4,), order="random", rng=rng, zero_last=False)
    layer.made.params["2.weight"][:] = rng.uniform(-0.5, 0.5, (4, 2 * dim))
    layer.made.params["2.bias"][:] = rng.uniform(-0.5, 0.5, 2 * dim)
    return layer


REGISTRY = [
    Case(ElementwiseAffine, _affine),
    Case(Example2Map, lambda dim, rng: Example2Map(), dims=(2, 2), to_domain=_positive_first),
    Case(Compose, _compose),
    Case(BatchNorm, _batchnorm),                                          # training mode
    Case(BatchNorm, lambda dim, rng: _batchnorm(dim, rng, training=False)),   # evaluation mode
    Case(Logit, lambda dim, rng: Logit(dim, alpha=rng.uniform(0, 0.1)), to_domain=_to_unit_interval),
    Case(AffineCoupling, _coupling, dims=(2, 4)),
    Case(Permutation, lambda dim, rng: Permutation.random(dim, rng)),
    Case(ActNorm, _actnorm),
    Case(MAF, lambda dim, rng: _autoregressive(MAF, dim, rng), dims=(1, 4)),
    Case(IAF, lambda dim, rng: _autoregressive(IAF, dim, rng), dims=(1, 4)),
]


def _spline(cls, dim, rng):
    """A spline layer with B in [0.8, 2.5] (so inputs in [−2, 2] fall inside and in both tails),
    2-3 bins and two hidden units (time; tests/test_spline.py takes larger ones), random biases
    and a small last layer (|θ| <~ 2: no bin so steep that finite differences jump a knot; the
    log-det is only C⁰ there). Random biases keep knots off round inputs such as 0."""
    bins, bound = int(rng.integers(2, 4)), float(rng.uniform(0.8, 2.5))
    if cls is SplineCoupling:
        mask = np.zeros(dim, dtype=int)
        mask[rng.choice(dim, size=rng.integers(1, dim), replace=False)] = 1
        layer = SplineCoupling(dim, mask, bins=bins, bound=bound, hidden=(2,), rng=rng,
                               zero_init=False)
    else:
        layer = SplineAutoregressive(dim, bins=bins, bound=bound, hidden=(2,), order="random",
                                     rng=rng, zero_last=False)
    for name, value in layer.params.items():
        if name.endswith("bias"):
            value[:] = rng.uniform(-0.5, 0.5, value.shape)
        elif name.endswith("2.weight"):                               # the last layer
            value[:] = rng.uniform(-0.4, 0.4, value.shape)
    return layer

REGISTRY += [
    Case(SplineCoupling, lambda dim, rng: _spline(SplineCoupling, dim, rng), dims=(2, 4)),
    Case(SplineAutoregressive, lambda dim, rng: _spline(SplineAutoregressive, dim, rng),
         dims=(1, 3)),
]
