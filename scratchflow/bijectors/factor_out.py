"""Factor-out: half the channels leave for the base distribution at each scale (Real-NVP §3.6).

Multi-scale architecture (Dinh et al., arXiv 1605.08803, §3.6; Glow's "split", arXiv 1807.03039).
After the layers of one scale, the (C, H, W) image h is cut along its channels into a kept half and
a half that leaves,

    h = [h_kept, h_out],   h_kept = h[:C/2],   h_out = h[C/2:],
    z = [f_next(h_kept), h_out],

and only h_kept goes on through the next scales f_next (a flow of dimension D/2). h_out is
already a piece of the latent: no later layer touches it. The map is block diagonal,

    ∂z/∂h = [[∂f_next/∂h_kept, 0], [0, I]],    log|det ∂z/∂h| = log|det ∂f_next/∂h_kept|,

inverse h = [f_next⁻¹(z[:D/2]), z[D/2:]], and the base N(0, I) of the whole z factorises over the
pieces, log p_z(z) = log N(f_next(h_kept); 0, I) + log N(h_out; 0, I). So the log-density of x
through a multi-scale flow is a sum per scale,

    log p(x) = Σ_scales [ log N(z_out of that scale; 0, I) + that scale's log-dets ]
               + log N(z of the last scale; 0, I) + the last scale's log-dets,

which is how the paper writes it; the flow computes the same sum with one base density over the
concatenated z (``tests/test_image_models.py`` checks the two against each other). Sampling draws
the whole z and runs the inverse: each scale puts its half h_out back beside what f_next⁻¹ made.
Each scale's layers need only half the work of the one before.

Gradient pass: dL/dh_kept = f_next's gradient pass of dL/dz[:D/2] (with the same dL/dlog_det),
dL/dh_out = dL/dz[D/2:]; through the inverse likewise. The inner flow keeps its own caches.

Rows are flat (N, C·H·W) in the layout of :mod:`scratchflow.bijectors.image_shape`, in which the
first C/2 channels are the first D/2 columns.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.bijectors.image_shape import check_image_shape


class FactorOut(Bijector):
    """z = [inner(h[:D/2]), h[D/2:]]: the last C/2 channels leave, the first C/2 go on.

    Parameters
    ----------
    shape : (C, H, W)
        Image shape of this scale's rows; C even.
    inner : Bijector
        The next scales, acting on the kept half: rows of (C/2, H, W), dimension D/2. Its
        parameters appear as ``inner.<name>``.

    References
    ----------
    L. Dinh, J. Sohl-Dickstein, S. Bengio. Density estimation using Real NVP, §3.6.
    arXiv:1605.08803.
    """

    def __init__(self, shape, inner):
        super().__init__()
        self.shape = check_image_shape(shape, even_channels=True)
        channels, height, width = self.shape
        self.dim = channels * height * width
        self.kept_shape = (channels // 2, height, width)
        self.half = self.dim // 2
        if inner.dim != self.half:
            raise ValueError(f"the inner flow has dimension {inner.dim} but the kept half "
                             f"{self.kept_shape} has {self.half} columns")
        self.dtype = inner.dtype
        self.inner = self.add_child("inner", inner)

    @property
    def samples_independent(self):
        return self.inner.samples_independent

    def _check_domain(self, x):
        self.inner._check_domain(x[:, :self.half])

    def _check_codomain(self, z):
        self.inner._check_codomain(z[:, :self.half])

    def _initialize(self, x, context=None):
        self.inner._initialize(x[:, :self.half])                            # (N, D/2) kept half

    def _forward(self, x, context=None):
        z_kept, log_det = self.inner._forward(x[:, :self.half])             # (N, D/2), (N,)
        return np.concatenate([z_kept, x[:, self.half:]], axis=1), log_det  # (N, D)

    def _inverse(self, z, context=None):
        x_kept, log_det = self.inner._inverse(z[:, :self.half])             # (N, D/2), (N,)
        return np.concatenate([x_kept, z[:, self.half:]], axis=1), log_det  # (N, D)

    def _backward(self, grad_z, grad_log_det):
        grad_kept = self.inner._backward(grad_z[:, :self.half], grad_log_det)          # (N, D/2)
        return np.concatenate([grad_kept, grad_z[:, self.half:]], axis=1)              # (N, D)

    def _inverse_backward(self, grad_x, grad_log_det):
        grad_kept = self.inner._inverse_backward(grad_x[:, :self.half], grad_log_det)  # (N, D/2)
        return np.concatenate([grad_kept, grad_x[:, self.half:]], axis=1)              # (N, D)

    def __repr__(self):
        return f"FactorOut(shape={self.shape}, inner={self.inner!r})"
