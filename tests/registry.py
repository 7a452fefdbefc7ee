"""The layer registry: one line per bijector (two for BatchNorm: training and evaluation mode).

Every per-layer test reads this list: ``tests/test_contract.py`` (the numerical contract through
:func:`scratchflow.checks.check_bijector`, gradient-pass bookkeeping, accumulation, ``zero_grad``,
float32) and ``tests/test_public_boundary.py`` (bad batches, empty batches). A bijector class
exported by ``scratchflow.bijectors`` without an entry here fails the suite.

Each entry is ``Case(cls, factory, ...)``: ``factory(dim, rng, dtype=np.float64)`` returns a small
random instance of ``cls`` of dimension ``dim``, not the identity, with parameters drawn from
``rng`` (so Hypothesis, which draws the seed, also draws the parameters). Fields: ``dims`` is the
(min, max) dimension to draw; ``to_domain`` maps an unconstrained draw (entries in [-2, 2]) into
the layer's domain (Example 2 needs x1 > 0); ``check_options`` go to ``check_bijector``; ``label``
is the test id (default the class name); ``float32`` says whether the layer can be built in float32.

``CONDITIONAL`` lists the conditional layers (``context_dim = C``, beyond the lecture), whose passes
need a context (N, C): ``tests/test_contract_conditional.py`` checks them, context gradient included.
Their factories take ``context_dim`` as a fourth argument.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from scratchflow.bijectors import (IAF, MAF, ActNorm, AffineCoupling, BatchNorm, Compose,
                                   ElementwiseAffine, Example2Map, Logit, LowerTriangular,
                                   Permutation, SplineAutoregressive, SplineCoupling)
from scratchflow.bijectors import AdditiveCoupling, LULinear, PlanarFlow, RadialFlow
from scratchflow.bijectors import (ChannelActNorm, FactorOut, InvertibleConv1x1, Pixelwise, Squeeze,
                                   Whitening, channel_mask, checkerboard_mask)


@dataclass
class Case:
    cls: type
    factory: Callable
    dims: tuple = (1, 4)
    to_domain: Optional[Callable] = None
    check_options: dict = field(default_factory=dict)
    label: Optional[str] = None
    float32: bool = True
    min_rows: int = 1        # BatchNorm-train: with 1 or 2 rows its output does not depend on x

    @property
    def name(self):
        return self.label or self.cls.__name__

    @property
    def dim(self):
        """The dimension of :meth:`make`'s instance: 3, or the nearest the layer allows."""
        return min(max(3, self.dims[0]), self.dims[1])

    def make(self, seed=0, dtype=np.float64):
        """A small instance of dimension :attr:`dim`."""
        return self.factory(self.dim, np.random.default_rng(seed), dtype=dtype)

    def batch(self, n=4, seed=1, dtype=np.float64):
        """A valid (n, dim) batch for :meth:`make`'s instance, inside the layer's domain."""
        x = np.random.default_rng(seed).uniform(-2, 2, size=(n, self.dim))    # (n, D)
        if self.to_domain is not None:
            x = self.to_domain(x)
        return x.astype(dtype)


def _affine(dim, rng, dtype=np.float64):
    return ElementwiseAffine(dim, log_scale=rng.uniform(-1, 1, dim), shift=rng.uniform(-2, 2, dim),
                             dtype=dtype)


def _positive_first(x):
    x = x.copy()
    x[:, 0] = np.exp(x[:, 0])          # x1 in [e^-2, e^2]
    return x


def _compose(dim, rng, dtype=np.float64):
    return Compose([_affine(dim, rng, dtype), _affine(dim, rng, dtype)])


def _batchnorm(dim, rng, dtype=np.float64, training=True):
    """BatchNorm with random parameters and running averages, in training or evaluation mode."""
    layer = BatchNorm(dim, log_gamma=rng.uniform(-1, 1, dim), beta=rng.uniform(-2, 2, dim),
                      momentum=rng.uniform(0.01, 1.0), training=training, dtype=dtype)
    layer.running_mean[:] = rng.uniform(-1, 1, dim)
    layer.running_var[:] = rng.uniform(0.1, 3, dim)
    return layer


def _to_unit_interval(x):
    return 0.5 + 0.225 * x              # [-2, 2] -> [0.05, 0.95], inside Logit's domain (0, 1)


def _coupling(dim, rng, dtype=np.float64):
    """AffineCoupling with a random mask (any pattern with both 0s and 1s), a randomised last layer
    (not the identity) and, every other draw, a bounded scale."""
    mask = np.zeros(dim, dtype=int)
    mask[rng.choice(dim, size=rng.integers(1, dim), replace=False)] = 1
    scale_bound = None if rng.random() < 0.5 else float(rng.uniform(0.5, 3.0))
    return AffineCoupling(dim, mask, hidden=(4,), scale_bound=scale_bound, rng=rng, zero_init=False,
                          dtype=dtype)


def _actnorm(dim, rng, dtype=np.float64):
    """ActNorm after its data-dependent initialisation on a random batch."""
    layer = ActNorm(dim, dtype=dtype)
    batch = rng.uniform(-2, 2, dim) + rng.uniform(0.3, 3, dim) * rng.standard_normal((8, dim))
    layer.initialize(batch.astype(dtype))
    return layer


def _autoregressive(cls, dim, rng, dtype=np.float64):
    """MAF or IAF with a random ordering, a tiny MADE and a random (not zero) last layer kept
    small (|s| <= 1.5 or so), so exp(±s) stays moderate in both directions."""
    layer = cls(dim, hidden=(4,), order="random", rng=rng, zero_last=False, dtype=dtype)
    layer.made.params["2.weight"][:] = rng.uniform(-0.5, 0.5, (4, 2 * dim))
    layer.made.params["2.bias"][:] = rng.uniform(-0.5, 0.5, 2 * dim)
    return layer


def _planar(dim, rng, dtype=np.float64, w_dot_u=None):
    """PlanarFlow with ‖w‖ >= 0.5 and wᵀu drawn in [-3, 3] (c = wᵀû from −0.95 up to 2).

    Closer to c = −1 the forward's Jacobian changes over less than the checker's step 1e-4 at the
    steepest point; tests/test_planar.py checks that regime with steps scaled to it."""
    w = rng.uniform(-1, 1, dim)                                     # (D,)
    w *= max(1.0, 0.5 / max(np.linalg.norm(w), 1e-12))
    u = rng.uniform(-1, 1, dim)
    target = rng.uniform(-3, 3) if w_dot_u is None else w_dot_u
    u += (target - w @ u) * w / (w @ w)                             # wᵀu = target
    return PlanarFlow(dim, u=u, w=w, b=rng.uniform(-1, 1), dtype=dtype)


def _radial(dim, rng, dtype=np.float64):
    """RadialFlow with beta in [-8, 3] (β̂ from −α + 3e-4 up to about 3). The centre is put
    outside the drawn box [-2, 2]^D (|z₀_j| in [2.5, 3.5]): at the centre itself the Jacobian has
    a kink (it depends on ‖z − z₀‖), which a finite-difference stencil across it cannot check;
    points near the centre are tested in tests/test_radial.py."""
    center = rng.uniform(2.5, 3.5, dim) * rng.choice([-1.0, 1.0], dim)   # (D,)
    return RadialFlow(dim, center=center, log_alpha=rng.uniform(-1, 1), beta=rng.uniform(-8, 3),
                      dtype=dtype)


def _lu_linear(dim, rng, dtype=np.float64):
    """LULinear from a random rotation, every parameter then moved by up to ±0.5."""
    layer = LULinear(dim, rng=rng, dtype=dtype)
    for array in layer.params.values():
        array += rng.uniform(-0.5, 0.5, array.shape).astype(dtype)
    return layer


def _additive(dim, rng, dtype=np.float64):
    mask = np.zeros(dim, dtype=int)
    mask[rng.choice(dim, size=rng.integers(1, dim), replace=False)] = 1
    return AdditiveCoupling(dim, mask, hidden=(4,), rng=rng, zero_init=False, dtype=dtype)


def _lower_triangular(dim, rng):
    """A fixed lower-triangular map whose diagonal has both signs (|L_ii| in [0.5, 2])."""
    matrix = np.tril(rng.uniform(-1, 1, (dim, dim)))
    matrix[np.diag_indices(dim)] = rng.uniform(0.5, 2, dim) * rng.choice([-1.0, 1.0], dim)
    return LowerTriangular(matrix)


REGISTRY = [
    Case(ElementwiseAffine, _affine),
    Case(Example2Map, lambda dim, rng, dtype=np.float64: Example2Map(), dims=(2, 2),
         to_domain=_positive_first, float32=False),
    Case(Compose, _compose),
    Case(BatchNorm, _batchnorm, label="BatchNorm-train", min_rows=3),
    Case(BatchNorm, lambda dim, rng, dtype=np.float64: _batchnorm(dim, rng, dtype, training=False),
         label="BatchNorm-eval"),
    Case(Logit, lambda dim, rng, dtype=np.float64: Logit(dim, alpha=rng.uniform(0, 0.1), dtype=dtype),
         to_domain=_to_unit_interval),
    Case(AffineCoupling, _coupling, dims=(2, 4)),
    Case(Permutation, lambda dim, rng, dtype=np.float64: Permutation.random(dim, rng, dtype=dtype)),
    Case(ActNorm, _actnorm),
    Case(MAF, lambda dim, rng, dtype=np.float64: _autoregressive(MAF, dim, rng, dtype)),
    Case(IAF, lambda dim, rng, dtype=np.float64: _autoregressive(IAF, dim, rng, dtype)),
    Case(AdditiveCoupling, _additive, dims=(2, 4)),                      # beyond the lecture
    Case(LULinear, _lu_linear),
    Case(PlanarFlow, _planar),
    Case(RadialFlow, _radial),
    Case(LowerTriangular, lambda dim, rng, dtype=np.float64: _lower_triangular(dim, rng),
         float32=False),
]


IMAGE = (2, 2, 2)                       # (C, H, W) of the image layers' rows: D = 8


def _image_coupling(make_mask, dim, rng, dtype=np.float64):
    """AffineCoupling on (2, 2, 2) images with an image mask of either parity, not the identity."""
    return AffineCoupling(dim, make_mask(IMAGE, parity=int(rng.integers(2))), hidden=(4,),
                          scale_bound=2.0, rng=rng, zero_init=False, dtype=dtype)


def _conv1x1(dim, rng, dtype=np.float64):
    """InvertibleConv1x1 on (3, 1, 2) images (a 3×3 W), every factor moved by up to ±0.5."""
    layer = InvertibleConv1x1((3, 1, 2), rng=rng, dtype=dtype)
    for array in layer.params.values():
        array += rng.uniform(-0.5, 0.5, array.shape).astype(dtype)
    return layer


def _channel_actnorm(dim, rng, dtype=np.float64):
    """ChannelActNorm after its data-dependent initialisation on a random batch."""
    layer = ChannelActNorm(IMAGE, dtype=dtype)
    batch = rng.uniform(-2, 2, dim) + rng.uniform(0.3, 3, dim) * rng.standard_normal((4, dim))
    layer.initialize(batch.astype(dtype))
    return layer


def _factor_out(dim, rng, dtype=np.float64):
    """FactorOut on (2, 2, 2) images whose kept half goes through a random coupling."""
    return FactorOut(IMAGE, _coupling(dim // 2, rng, dtype))


REGISTRY += [                                                            # image layers
    Case(Squeeze, lambda dim, rng, dtype=np.float64: Squeeze(IMAGE, dtype=dtype), dims=(8, 8)),
    Case(AffineCoupling, lambda dim, rng, dtype=np.float64:
         _image_coupling(checkerboard_mask, dim, rng, dtype), dims=(8, 8),
         label="AffineCoupling-checkerboard"),
    Case(AffineCoupling, lambda dim, rng, dtype=np.float64:
         _image_coupling(channel_mask, dim, rng, dtype), dims=(8, 8),
         label="AffineCoupling-channels"),
    Case(Pixelwise, lambda dim, rng, dtype=np.float64: Pixelwise(IMAGE, _coupling(2, rng, dtype)),
         dims=(8, 8)),
    Case(InvertibleConv1x1, _conv1x1, dims=(6, 6)),
    Case(ChannelActNorm, _channel_actnorm, dims=(8, 8)),
    Case(FactorOut, _factor_out, dims=(8, 8)),
]


def _whitening(dim, rng, dtype=np.float64):
    """Whitening fitted to correlated random rows, then every parameter moved by up to ±0.3."""
    mixing = rng.uniform(-1, 1, (dim, dim)) + 2 * np.eye(dim)                 # (D, D)
    layer = Whitening(dim, dtype=dtype)
    layer.fit((rng.standard_normal((12, dim)) @ mixing + rng.uniform(-2, 2, dim)).astype(dtype))
    for array in layer.params.values():
        array += rng.uniform(-0.3, 0.3, array.shape).astype(dtype)
    return layer


REGISTRY.append(Case(Whitening, _whitening))                             # tabular data's first layer


def _spline(cls, dim, rng, dtype=np.float64):
    """A spline layer with B in [0.8, 2.5] (so inputs in [−2, 2] fall inside and in both tails),
    2-3 bins and two hidden units (time; tests/test_spline.py takes larger ones), random biases
    and a small last layer (|θ| <~ 2: no bin so steep that finite differences jump a knot; the
    log-det is only C⁰ there). Random biases keep knots off round inputs such as 0."""
    bins, bound = int(rng.integers(2, 4)), float(rng.uniform(0.8, 2.5))
    if cls is SplineCoupling:
        mask = np.zeros(dim, dtype=int)
        mask[rng.choice(dim, size=rng.integers(1, dim), replace=False)] = 1
        layer = SplineCoupling(dim, mask, bins=bins, bound=bound, hidden=(2,), rng=rng,
                               zero_init=False, dtype=dtype)
    else:
        layer = SplineAutoregressive(dim, bins=bins, bound=bound, hidden=(2,), order="random",
                                     rng=rng, zero_last=False, dtype=dtype)
    for name, value in layer.params.items():
        if name.endswith("bias"):
            value[:] = rng.uniform(-0.5, 0.5, value.shape)
        elif name.endswith("2.weight"):                               # the last layer
            value[:] = rng.uniform(-0.4, 0.4, value.shape)
    return layer


REGISTRY += [
    Case(SplineCoupling, lambda dim, rng, dtype=np.float64: _spline(SplineCoupling, dim, rng, dtype),
         dims=(2, 4)),
    Case(SplineAutoregressive,
         lambda dim, rng, dtype=np.float64: _spline(SplineAutoregressive, dim, rng, dtype),
         dims=(1, 3)),
]


def _mask(dim, rng):
    mask = np.zeros(dim, dtype=int)
    mask[rng.choice(dim, size=rng.integers(1, dim), replace=False)] = 1
    return mask


def _conditional_coupling(dim, rng, dtype=np.float64, context_dim=2):
    scale_bound = None if rng.random() < 0.5 else float(rng.uniform(0.5, 3.0))
    return AffineCoupling(dim, _mask(dim, rng), hidden=(4,), scale_bound=scale_bound, rng=rng,
                          zero_init=False, dtype=dtype, context_dim=context_dim)


def _conditional_additive(dim, rng, dtype=np.float64, context_dim=2):
    return AdditiveCoupling(dim, _mask(dim, rng), hidden=(4,), rng=rng, zero_init=False,
                            dtype=dtype, context_dim=context_dim)


def _conditional_autoregressive(cls, dim, rng, dtype=np.float64, context_dim=2):
    """MAF or IAF reading a context, with a small random last layer as in the unconditional case."""
    layer = cls(dim, hidden=(4,), order="random", rng=rng, zero_last=False, dtype=dtype,
                context_dim=context_dim)
    layer.made.params["2.weight"][:] = rng.uniform(-0.5, 0.5, (4, 2 * dim))
    layer.made.params["2.bias"][:] = rng.uniform(-0.5, 0.5, 2 * dim)
    return layer


def _conditional_spline(dim, rng, dtype=np.float64, context_dim=2, cls=SplineCoupling):
    """A spline layer reading a context, drawn as the unconditional one (see ``_spline``)."""
    bins, bound = int(rng.integers(2, 4)), float(rng.uniform(0.8, 2.5))
    if cls is SplineCoupling:
        layer = SplineCoupling(dim, _mask(dim, rng), bins=bins, bound=bound, hidden=(2,), rng=rng,
                               zero_init=False, dtype=dtype, context_dim=context_dim)
    else:
        layer = SplineAutoregressive(dim, bins=bins, bound=bound, hidden=(2,), order="random",
                                     rng=rng, zero_last=False, dtype=dtype, context_dim=context_dim)
    for name, value in layer.params.items():
        if name.endswith("bias"):
            value[:] = rng.uniform(-0.5, 0.5, value.shape)
        elif name.endswith("2.weight"):
            value[:] = rng.uniform(-0.4, 0.4, value.shape)
    return layer


def _conditional_stack(dim, rng, dtype=np.float64, context_dim=2):
    """Conditional and unconditional layers in one stack: only the former read the context."""
    layers = [_affine(dim, rng, dtype),
              _conditional_autoregressive(MAF, dim, rng, dtype, context_dim)]
    if dim >= 2:
        layers.append(_conditional_coupling(dim, rng, dtype, context_dim))
    return Compose(layers)


CONDITIONAL = [
    Case(AffineCoupling, _conditional_coupling, dims=(2, 4), label="AffineCoupling-context"),
    Case(AdditiveCoupling, _conditional_additive, dims=(2, 4), label="AdditiveCoupling-context"),
    Case(MAF, lambda dim, rng, dtype=np.float64, context_dim=2:
         _conditional_autoregressive(MAF, dim, rng, dtype, context_dim), label="MAF-context"),
    Case(IAF, lambda dim, rng, dtype=np.float64, context_dim=2:
         _conditional_autoregressive(IAF, dim, rng, dtype, context_dim), label="IAF-context"),
    Case(Compose, _conditional_stack, dims=(1, 3), label="Compose-context"),
    Case(SplineCoupling, lambda dim, rng, dtype=np.float64, context_dim=2:
         _conditional_spline(dim, rng, dtype, context_dim), dims=(2, 3),
         label="SplineCoupling-context"),
    Case(SplineAutoregressive, lambda dim, rng, dtype=np.float64, context_dim=2:
         _conditional_spline(dim, rng, dtype, context_dim, SplineAutoregressive), dims=(1, 3),
         label="SplineAutoregressive-context"),
]
