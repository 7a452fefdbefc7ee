"""The torch mirror of scratchflow's image flows (realnvp-multiscale, glow), for bench/bench_image_digits.py.

``TorchImageFlow(flow)`` walks a scratchflow Flow built by ``build_model`` (Logit, AffineCoupling
with any mask, Squeeze, ChannelActNorm, InvertibleConv1x1, FactorOut, Compose) and builds the same
maps with autograd, its parameters COPIED from the flow's, in the same parameterisation (the LU
factors of each 1×1 convolution, ActNorm's loc and log-scale, each MLP's weights), so both sides
compute the same density at the same weights and take comparable steps. torch only lives in bench/.
"""
import numpy as np
import torch

from scratchflow.bijectors import (AffineCoupling, ChannelActNorm, Compose, FactorOut,
                                   InvertibleConv1x1, Logit, Squeeze)

ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "softplus": torch.nn.Softplus,
               "silu": torch.nn.SiLU}


def _parameter(array):
    return torch.nn.Parameter(torch.from_numpy(np.array(array, dtype=np.float64)))


class TorchLogit(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.alpha = float(layer.alpha)

    def forward(self, x):
        p = self.alpha + (1 - 2 * self.alpha) * x
        log_det = (np.log(1 - 2 * self.alpha) - torch.log(p) - torch.log1p(-p)).sum(dim=1)
        return torch.log(p) - torch.log1p(-p), log_det


class TorchCoupling(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.cond, self.trans = torch.from_numpy(layer.kept_index), torch.from_numpy(layer.moved_index)
        self.scale_bound, self.k = layer.scale_bound, len(layer.moved_index)
        modules = []
        for module in layer.net.layers:
            if hasattr(module, "weight"):
                linear = torch.nn.Linear(*module.weight.shape).double()
                with torch.no_grad():
                    linear.weight.copy_(torch.from_numpy(module.weight.T.copy()))   # (out, in)
                    linear.bias.copy_(torch.from_numpy(module.bias.copy()))
                modules.append(linear)
            else:
                modules.append(ACTIVATIONS[layer.activation]())
        self.net = torch.nn.Sequential(*modules)

    def forward(self, x):
        out = self.net(x[:, self.cond])
        log_scale, shift = out[:, :self.k], out[:, self.k:]
        if self.scale_bound is not None:
            log_scale = self.scale_bound * torch.tanh(log_scale / self.scale_bound)
        z = x.clone()
        z[:, self.trans] = x[:, self.trans] * torch.exp(log_scale) + shift
        return z, log_scale.sum(dim=1)


class TorchSqueeze(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.shape = layer.shape

    def forward(self, x):
        channels, height, width = self.shape
        blocks = x.reshape(len(x), channels, height // 2, 2, width // 2, 2)
        z = blocks.permute(0, 1, 3, 5, 2, 4).reshape(len(x), -1)
        return z, torch.zeros(len(x), dtype=x.dtype)


class TorchChannelActNorm(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.shape = layer.shape
        self.loc, self.log_scale = _parameter(layer.layer.loc), _parameter(layer.layer.log_scale)

    def forward(self, x):
        channels, height, width = self.shape
        image = x.reshape(len(x), channels, height * width)
        z = (image - self.loc[:, None]) * torch.exp(-self.log_scale)[:, None]
        log_det = -height * width * self.log_scale.sum()
        return z.reshape(len(x), -1), log_det.expand(len(x))


class TorchConv1x1(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        lu = layer.layer
        self.shape = layer.shape
        self.lower, self.upper = _parameter(lu.lower), _parameter(lu.upper)
        self.log_scale = _parameter(lu.log_scale)
        self.register_buffer("perm", torch.from_numpy(lu.perm.copy()))
        self.register_buffer("sign", torch.from_numpy(lu.sign.copy()))
        self.register_buffer("lower_mask", torch.from_numpy(lu.lower_mask.copy()))
        self.register_buffer("upper_mask", torch.from_numpy(lu.upper_mask.copy()))

    def weight(self):
        channels = self.shape[0]
        lower = self.lower * self.lower_mask + torch.eye(channels, dtype=self.lower.dtype)
        upper = self.upper * self.upper_mask + torch.diag(self.sign * torch.exp(self.log_scale))
        return (lower @ upper)[self.perm]

    def forward(self, x):
        channels, height, width = self.shape
        image = x.reshape(len(x), channels, height * width)
        z = torch.einsum("ij,njp->nip", self.weight(), image)
        log_det = height * width * self.log_scale.sum()
        return z.reshape(len(x), -1), log_det.expand(len(x))


class TorchFactorOut(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.half = layer.half
        self.inner = TorchStack(layer.inner.layers)

    def forward(self, x):
        z_kept, log_det = self.inner(x[:, :self.half])
        return torch.cat([z_kept, x[:, self.half:]], dim=1), log_det


class TorchStack(torch.nn.Module):
    MIRRORS = {Logit: TorchLogit, AffineCoupling: TorchCoupling, Squeeze: TorchSqueeze,
               ChannelActNorm: TorchChannelActNorm, InvertibleConv1x1: TorchConv1x1,
               FactorOut: TorchFactorOut}

    def __init__(self, layers):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            [TorchStack(layer.layers) if isinstance(layer, Compose) else self.MIRRORS[type(layer)](layer)
             for layer in layers])

    def forward(self, x):
        log_det = torch.zeros(len(x), dtype=x.dtype)
        for layer in self.layers:
            x, layer_log_det = layer(x)
            log_det = log_det + layer_log_det
        return x, log_det


class TorchImageFlow(torch.nn.Module):
    """log p(x) = log N(f(x); 0, I) + log|det ∂f/∂x| with the flow's layers mirrored."""

    def __init__(self, flow):
        super().__init__()
        self.stack = TorchStack(flow.layers.layers)

    def log_prob(self, x):
        z, log_det = self.stack(x)
        return -0.5 * (z * z).sum(dim=1) - 0.5 * z.shape[1] * np.log(2 * np.pi) + log_det
