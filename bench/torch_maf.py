"""The same MAF/IAF stack in PyTorch autograd, for the side-by-side benchmarks (optional; never a
dependency of scratchflow). Built FROM a scratchflow flow: same orderings, same MADE masks, same
initial weights (copied), same dtype, so the two differ only in how gradients are computed.

Only imported by bench/ scripts, after they have checked that torch is installed.
"""
import numpy as np
import torch

from scratchflow.bijectors import MAF

LOG_2PI = float(np.log(2.0 * np.pi))


class TorchMADE(torch.nn.Module):
    """MADE with the masks and weights of a scratchflow MADE; row convention y = x @ (W*M) + b."""

    def __init__(self, made, dtype):
        super().__init__()
        self.dim = made.dim
        linears = [layer for layer in made.layers if hasattr(layer, "mask")]
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.tensor(layer.weight, dtype=dtype)) for layer in linears])
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.tensor(layer.bias, dtype=dtype)) for layer in linears])
        for i, layer in enumerate(linears):
            self.register_buffer(f"mask{i}", torch.tensor(layer.mask, dtype=dtype))

    def forward(self, x):
        n_layers = len(self.weights)
        for i in range(n_layers):
            x = torch.addmm(self.biases[i], x, self.weights[i] * getattr(self, f"mask{i}"))
            if i < n_layers - 1:
                x = torch.tanh(x)
        return x[:, :self.dim], x[:, self.dim:]                     # μ, s


class TorchAutoregressive(torch.nn.Module):
    """A stack of MAF or IAF layers (the lecture's direction: forward = x -> z)."""

    def __init__(self, flow, dtype=torch.float64):
        super().__init__()
        layers = list(flow.layers.layers)
        self.kind = "maf" if isinstance(layers[0], MAF) else "iaf"
        self.orders = [layer.order.tolist() for layer in layers]
        self.mades = torch.nn.ModuleList([TorchMADE(layer.made, dtype) for layer in layers])
        self.dim = flow.dim

    def _one_pass(self, made, a, sign):
        mu, s = made(a)
        if sign < 0:                                                # z = (x − μ(x)) e^{−s(x)}
            return (a - mu) * torch.exp(-s), -s.sum(dim=1)
        return a * torch.exp(s) + mu, s.sum(dim=1)                  # x = z e^{s(z)} + μ(z)

    def _sequential(self, made, order, a, sign):
        out = torch.zeros_like(a)                                   # filled one column per pass
        for d in order:
            mu, s = made(out)
            out = out.clone()                                       # autograd: no in-place on a used tensor
            if sign < 0:                                            # IAF density
                out[:, d] = (a[:, d] - mu[:, d]) * torch.exp(-s[:, d])
            else:                                                   # MAF sampling
                out[:, d] = a[:, d] * torch.exp(s[:, d]) + mu[:, d]
        return out, (-s.sum(dim=1) if sign < 0 else s.sum(dim=1))

    def log_prob(self, x):
        log_det = torch.zeros(x.shape[0], dtype=x.dtype)
        for made, order in zip(self.mades, self.orders):
            if self.kind == "maf":
                x, layer_log_det = self._one_pass(made, x, -1)
            else:
                x, layer_log_det = self._sequential(made, order, x, -1)
            log_det = log_det + layer_log_det
        return -0.5 * (x * x).sum(dim=1) - 0.5 * self.dim * LOG_2PI + log_det

    def inverse(self, z):
        for made, order in zip(reversed(self.mades), reversed(self.orders)):
            if self.kind == "maf":
                z, _ = self._sequential(made, order, z, +1)
            else:
                z, _ = self._one_pass(made, z, +1)
        return z
