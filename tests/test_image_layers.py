"""The image layers' own properties, beyond the contract suite (tests/test_contract.py runs each):
squeeze moves each 2×2 block into four channels, the masks' patterns, the per-channel ActNorm's
initialisation, the 1×1 convolution's log-det H·W·log|det W|, factor-out's untouched half."""
import numpy as np
import pytest

from scratchflow.bijectors import (AffineCoupling, ChannelActNorm, FactorOut, InvertibleConv1x1,
                                   Squeeze, channel_mask, checkerboard_mask)


def test_squeeze_puts_each_two_by_two_block_into_four_channels():
    shape = (2, 4, 6)
    x = np.arange(48.0).reshape(1, 48)                                 # (1, D)
    z, log_det = Squeeze(shape).forward(x)
    image, squeezed = x.reshape(shape), z.reshape(8, 2, 3)
    for c in range(2):
        for i in range(2):
            for j in range(2):
                np.testing.assert_array_equal(squeezed[4 * c + 2 * i + j], image[c, i::2, j::2])
    assert np.all(log_det == 0)
    np.testing.assert_array_equal(Squeeze(shape).inverse(z)[0], x)


def test_squeeze_refuses_odd_sizes():
    with pytest.raises(ValueError, match=r"H and W must be even"):
        Squeeze((1, 3, 4))
    with pytest.raises(ValueError, match=r"image shape \(C, H, W\)"):
        Squeeze((8, 8))


def test_masks_are_a_checkerboard_per_channel_and_half_the_channels():
    board = checkerboard_mask((2, 2, 3)).reshape(2, 2, 3)
    np.testing.assert_array_equal(board[0], [[1, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(board[1], board[0])
    np.testing.assert_array_equal(checkerboard_mask((2, 2, 3), parity=1), 1 - board.reshape(-1))
    channels = channel_mask((4, 1, 2)).reshape(4, 2)
    np.testing.assert_array_equal(channels[:, 0], [1, 1, 0, 0])
    np.testing.assert_array_equal(channel_mask((4, 1, 2), parity=1), 1 - channels.reshape(-1))
    with pytest.raises(ValueError, match=r"C must be even"):
        channel_mask((3, 2, 2))


def test_channel_actnorm_leaves_each_channel_with_mean_zero_and_unit_variance():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((16, 3, 2, 2)) * [[[2.0]], [[0.5]], [[3.0]]] + [[[1.0]], [[-4.0]], [[0.0]]])
    layer = ChannelActNorm((3, 2, 2))
    np.testing.assert_array_equal(layer.forward(x.reshape(16, 12))[0], x.reshape(16, 12))  # identity
    layer.initialize(x.reshape(16, 12))
    z, log_det = layer.forward(x.reshape(16, 12))
    per_channel = z.reshape(16, 3, 4).transpose(1, 0, 2).reshape(3, -1)   # (C, N·H·W)
    np.testing.assert_allclose(per_channel.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(per_channel.std(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(log_det, -4 * layer.layer.log_scale.sum())
    z_again, _ = layer.forward(x.reshape(16, 12) + 1.0)                     # forward only reads
    assert not np.allclose(z_again.mean(), 0)


def test_conv1x1_multiplies_every_pixel_by_w_and_its_log_det_is_pixels_times_log_det_w():
    rng = np.random.default_rng(1)
    layer = InvertibleConv1x1((3, 2, 5), rng=rng)
    layer.layer.log_scale[...] = rng.uniform(-1, 1, 3)                      # |det W| != 1
    x = rng.standard_normal((4, 30))
    z, log_det = layer.forward(x)
    weight = layer.weight()                                                 # (3, 3)
    expected = np.einsum("ij,njp->nip", weight, x.reshape(4, 3, 10)).reshape(4, 30)
    np.testing.assert_allclose(z, expected, atol=1e-12)
    np.testing.assert_allclose(log_det, 10 * np.linalg.slogdet(weight)[1], atol=1e-12)


def test_factor_out_passes_the_leaving_half_through_and_counts_the_inner_log_det_only():
    rng = np.random.default_rng(2)
    inner = AffineCoupling(4, [1, 0, 1, 0], hidden=(3,), rng=rng, zero_init=False)
    layer = FactorOut((2, 2, 2), inner)
    x = rng.standard_normal((5, 8))
    z, log_det = layer.forward(x)
    z_inner, log_det_inner = inner.forward(x[:, :4])
    np.testing.assert_array_equal(z[:, 4:], x[:, 4:])                       # the channels that left
    np.testing.assert_allclose(z[:, :4], z_inner)
    np.testing.assert_allclose(log_det, log_det_inner)
    with pytest.raises(ValueError, match=r"inner flow has dimension 3"):
        FactorOut((2, 2, 2), AffineCoupling(3, [1, 0, 1]))
