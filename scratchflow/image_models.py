"""Flows for images: Real-NVP's multi-scale architecture and Glow, by name (beyond the lecture).

Both read rows of (C, H, W) images (flat (N, C·H·W), layout of
:mod:`scratchflow.bijectors.image_shape`; the 8×8 digits are (1, 8, 8)) and are built from the
image layers of :mod:`scratchflow.bijectors` (guide: ``docs/images.md``). Each scale ends with a
:class:`~scratchflow.bijectors.FactorOut` holding the next scales, so the flow's top-level
layers are those of the first scale and its last layer the rest of the flow. Every coupling
starts as the identity (zeroed last layer). ``build_model({"model": "glow", "dim": 64})``
dispatches here; ``flow.config`` rebuilds the same architecture.
"""
import numpy as np

from scratchflow.bijectors.channel_actnorm import ChannelActNorm
from scratchflow.bijectors.compose import Compose
from scratchflow.bijectors.conv1x1 import InvertibleConv1x1
from scratchflow.bijectors.coupling import AffineCoupling
from scratchflow.bijectors.factor_out import FactorOut
from scratchflow.bijectors.image_masks import channel_mask, checkerboard_mask
from scratchflow.bijectors.image_shape import check_image_shape
from scratchflow.bijectors.squeeze import Squeeze
from scratchflow.flow import Flow
from scratchflow.input_checks import check_int, check_sizes

IMAGE_MODEL_NAMES = ("realnvp-multiscale", "glow")


def image_shape_for(dim, image_shape=None):
    """``image_shape`` as (C, H, W), checked against ``dim``; None: one channel of a square image."""
    if image_shape is None:
        side = int(round(np.sqrt(dim)))
        if side * side != dim:
            raise ValueError(f"dim = {dim} is not a square image; give image_shape=(C, H, W)")
        image_shape = (1, side, side)
    image_shape = check_image_shape(image_shape, "image_shape")
    if int(np.prod(image_shape)) != dim:
        raise ValueError(f"image_shape {image_shape} has {int(np.prod(image_shape))} values but "
                         f"dim = {dim}")
    return image_shape


def _scales_fit(shape, n_scales, what):
    """Refuse ``n_scales`` squeezes that an image of ``shape`` cannot take (H, W halve each time)."""
    channels, height, width = shape
    if height % 2 ** n_scales or width % 2 ** n_scales:
        raise ValueError(f"{what}: an image of shape {shape} cannot be squeezed {n_scales} times "
                         f"(H and W must be divisible by {2 ** n_scales})")


def build_realnvp_multiscale(dim, image_shape=None, n_scales=2, n_layers=3, hidden=(64, 64),
                             activation="tanh", scale_bound=5.0, seed=0, dtype="float64"):
    """Real-NVP's multi-scale flow (Dinh et al., arXiv 1605.08803, §3.6).

    Each scale but the last: ``n_layers`` checkerboard couplings (alternating parity), a squeeze
    (C, H, W) -> (4C, H/2, W/2), ``n_layers`` channel-wise couplings, then half the channels factor
    out. The last scale: ``n_layers + 1`` checkerboard couplings. The paper uses 3 and 4.
    ``n_scales`` counts the scales (2 for 8×8 digits: (1, 8, 8) and (2, 4, 4)). Every coupling
    bounds its log-scale softly, s = b·tanh(ŝ/b), with b = ``scale_bound`` (5 unless given; ``None``
    is the slide's plain s).
    """
    shape = image_shape_for(check_int(dim, "dim", 1), image_shape)
    n_scales, n_layers = check_int(n_scales, "n_scales", 1), check_int(n_layers, "n_layers", 1)
    _scales_fit(shape, n_scales - 1, "realnvp-multiscale")
    hidden, dtype, rng = list(check_sizes(hidden, "hidden")), np.dtype(dtype), np.random.default_rng(seed)

    def coupling(scale_shape, make_mask, parity):
        size = int(np.prod(scale_shape))
        return AffineCoupling(size, make_mask(scale_shape, parity), hidden=hidden,
                              activation=activation, scale_bound=scale_bound, rng=rng, dtype=dtype)

    def scale(scale_shape, scales_left):
        """The layers of one scale and of every scale after it, as a list."""
        if scales_left == 1:
            return [coupling(scale_shape, checkerboard_mask, k % 2) for k in range(n_layers + 1)]
        layers = [coupling(scale_shape, checkerboard_mask, k % 2) for k in range(n_layers)]
        squeeze = Squeeze(scale_shape, dtype=dtype)
        layers.append(squeeze)
        layers += [coupling(squeeze.out_shape, channel_mask, k % 2) for k in range(n_layers)]
        channels, height, width = squeeze.out_shape
        inner = Compose(scale((channels // 2, height, width), scales_left - 1))
        return layers + [FactorOut(squeeze.out_shape, inner)]

    flow = Flow(scale(shape, n_scales))
    flow.config = {"model": "realnvp-multiscale", "dim": dim, "image_shape": list(shape),
                   "n_scales": n_scales, "n_layers": n_layers, "hidden": hidden,
                   "activation": activation,
                   "scale_bound": None if scale_bound is None else float(scale_bound),
                   "seed": int(seed), "dtype": dtype.name}
    return flow


def build_glow(dim, image_shape=None, n_levels=2, n_layers=4, hidden=(64, 64), activation="tanh",
               scale_bound=5.0, seed=0, dtype="float64"):
    """Glow (Kingma & Dhariwal, arXiv 1807.03039, §3, Fig. 2): L levels of K steps.

    A level: squeeze, then K = ``n_layers`` steps of flow, each ActNorm per channel (data-dependent
    initialisation), an invertible 1×1 convolution and an affine coupling on the first half of the
    channels; every level but the last then factors out half the channels. L = ``n_levels``
    (2 or 3 for 8×8 digits: (4, 4, 4), (8, 2, 2), (16, 1, 1)). The couplings bound their log-scale
    softly as in :func:`build_realnvp_multiscale` (``scale_bound``, 5 unless given).
    """
    shape = image_shape_for(check_int(dim, "dim", 1), image_shape)
    n_levels, n_layers = check_int(n_levels, "n_levels", 1), check_int(n_layers, "n_layers", 1)
    _scales_fit(shape, n_levels, "glow")
    hidden, dtype, rng = list(check_sizes(hidden, "hidden")), np.dtype(dtype), np.random.default_rng(seed)

    def step(level_shape):
        size = int(np.prod(level_shape))
        return [ChannelActNorm(level_shape, dtype=dtype),
                InvertibleConv1x1(level_shape, rng=rng, dtype=dtype),
                AffineCoupling(size, channel_mask(level_shape), hidden=hidden, activation=activation,
                               scale_bound=scale_bound, rng=rng, dtype=dtype)]

    def level(level_shape, levels_left):
        """The layers of one level and of every level after it, as a list."""
        squeeze = Squeeze(level_shape, dtype=dtype)
        layers = [squeeze]
        for _ in range(n_layers):
            layers += step(squeeze.out_shape)
        if levels_left == 1:
            return layers
        channels, height, width = squeeze.out_shape
        inner = Compose(level((channels // 2, height, width), levels_left - 1))
        return layers + [FactorOut(squeeze.out_shape, inner)]

    flow = Flow(level(shape, n_levels))
    flow.config = {"model": "glow", "dim": dim, "image_shape": list(shape), "n_levels": n_levels,
                   "n_layers": n_layers, "hidden": hidden, "activation": activation,
                   "scale_bound": None if scale_bound is None else float(scale_bound),
                   "seed": int(seed), "dtype": dtype.name}
    return flow
