"""Affine coupling layer (slide "Real-NVP" / "Примеры: Real-NVP"; Dinh et al., arXiv 1605.08803).

The slide, with the first d dimensions conditioning the rest::

    z_{1:d}   = x_{1:d}
    z_{d+1:D} = x_{d+1:D} ⊙ exp(s(x_{1:d})) + t(x_{1:d})

Here any binary ``mask`` picks the split: ``mask[j] = 1`` marks a conditioning dimension (passed
through unchanged, the slide's x_{1:d}), ``mask[j] = 0`` a transformed one (the slide's x_{d+1:D}).
Write ``c`` for the conditioning part and ``r`` for the rest, ``k = D − d`` = number of zeros.

Jacobian, "матрица первых производных" (rows and columns ordered c, r): block lower-triangular,

    ∂z/∂x = [[ I_d,              0            ],
             [ ∂z_r/∂x_c,   diag(exp(s(x_c))) ]]

so its determinant ("значение Якобиана") is ``|det ∂z/∂x| = exp(Σ_j s_j(x_c))`` and
``log|det ∂z/∂x| = Σ_j s_j(x_c)``: exact and cheap, whatever the networks s and t are.

Inverse (x_c = z_c is known, so s and t can be recomputed from it)::

    x_c = z_c,   x_r = (z_r − t(z_c)) ⊙ exp(−s(z_c)),   log|det ∂x/∂z| = −Σ_j s_j(z_c).

Networks. s and t come from ONE hand-written MLP (``scratchflow.nn.MLP``) with d inputs and 2k
outputs: the first k are the raw scale ŝ, the last k the shift t. A shared trunk halves the number
of matrix products (the "separate networks" variant is the same maths with two MLPs).

Bounded scale. exp(s) overflows once s reaches ~710 (float64) or ~88 (float32), and a large s makes
training unstable. With ``scale_bound = b`` the layer uses the soft clamp

    s = b · tanh(ŝ / b),      ds/dŝ = 1 − (s / b)²,

which is ≈ ŝ for |ŝ| ≪ b and never leaves (−b, b). The map is still the slide's map, with this s:
the log-det is Σ_j s_j of the CLAMPED s, and the gradient through ŝ picks up the factor 1 − (s/b)².
``scale_bound=None`` is the slide's plain form s = ŝ.

# >>> task coupling_backward
# --- student
Gradient pass of forward (g = dL/dz (N, D), h = dL/dlog_det (N,)). L depends on x through z and
through log_det; with e = exp(s), z_r = x_r ⊙ e + t and log_det = Σ_j s_j, derive

    dL/dx_r = ?,   dL/dt = ?,   dL/ds = ?   (s enters z_r AND log_det),
    dL/dx_c = g_c + (what the network's backward returns for (dL/dŝ, dL/dt))

(dL/dŝ = dL/ds ⊙ ds/dŝ is yours too, in ``_net_backward``). Gradient pass of inverse (g = dL/dx,
h = dL/dlog_det of the inverse): differentiate x_r = (z_r − t) ⊙ e⁻¹ and log_det = −Σ s the same
way. Check both with ``scratchflow.check_bijector(layer, x)`` — it works while other tasks are
still stubs — and make the network's zero start non-trivial first (``zero_init=False``).
# <<< task coupling_backward

Conditional coupling (beyond the lecture; ``context_dim = C``): the network reads [x_c, c] with a
context c (N, C), so s = s(x_c, c), t = t(x_c, c). c is not transformed, so for fixed c the
Jacobian ∂z/∂x is the same block-triangular matrix with diagonal exp(s(x_c, c)) and the log-det
is still Σ_j s_j; dL/dc is the network's input gradient in the c columns (``grad_context``).

Forward and inverse keep separate caches (the network trace included), so a forward, an inverse
and then both gradient passes, in any order, each read their own pass.
"""
import numpy as np

from scratchflow.bijectors.base import Bijector
from scratchflow.nn.mlp import MLP
from scratchflow.nn.module import Cache
from scratchflow.input_checks import check_dtype, check_int, check_number, check_sizes


def coupling_split(dim, mask):
    """Check a coupling layer's ``dim`` and ``mask``; return ``(dim, mask, kept_index, moved_index)``.

    ``mask`` (D,) of 0/1: 1 = conditioning (``x_c``, copied), 0 = transformed (``x_r``); at least
    one of each. Shared by every coupling layer (affine, additive, spline).
    """
    dim = check_int(dim, "dim")
    if dim < 2:
        raise ValueError(f"a coupling layer needs dim >= 2 (something to condition on), got {dim}")
    mask = np.asarray(mask)
    if mask.shape != (dim,):
        raise ValueError(f"mask must have shape ({dim},), one entry per dimension; got {mask.shape}")
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"mask must contain only 0 (transformed) and 1 (conditioning), got {mask}")
    if mask.all() or not mask.any():
        raise ValueError(f"mask needs at least one 1 (conditioning) and one 0 (transformed) entry, "
                         f"got {mask}")
    mask = mask.astype(bool)                                       # (D,)
    return dim, mask, np.flatnonzero(mask), np.flatnonzero(~mask)  # (d,), (k,)


def column_selector(index):
    """``x[:, column_selector(index)]`` selects the same columns as ``x[:, index]``: a slice when
    the columns are contiguous (every half mask, and D = 2), so that reading them makes a view
    instead of a copy and writing them needs no gather; else the index array itself."""
    index = np.asarray(index)
    if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
        return slice(int(index[0]), int(index[0]) + len(index))
    return index


def realnvp_masks(dim, n_layers):
    """Coupling masks (1 = conditioning) for ``n_layers`` layers of dimension ``dim``.

    The layers cycle through four patterns: half ``[1]*(D//2) + [0]*(D − D//2)``, its complement,
    checkerboard ``[1, 0, 1, 0, ...]``, its complement. Each pattern is followed by its complement,
    so every dimension is transformed every other layer (the slide: "layers must alternate which
    part is conditioned"), and the checkerboard mixes the two halves. For D = 2 half and
    checkerboard coincide, so the masks are simply ``[1, 0], [0, 1], [1, 0], ...``.
    """
    dim = int(dim)
    half = (np.arange(dim) < dim // 2).astype(int)                 # (D,)
    checker = (np.arange(dim) % 2 == 0).astype(int)                # (D,)
    cycle = [half, 1 - half, checker, 1 - checker]
    return [cycle[k % 4] for k in range(int(n_layers))]


class AffineCoupling(Bijector):
    """Real-NVP affine coupling: ``z_r = x_r ⊙ exp(s(x_c)) + t(x_c)``, ``z_c = x_c``.

    Parameters
    ----------
    dim : int
        D >= 2.
    mask : array_like of 0/1, shape (D,)
        1 = conditioning dimension (unchanged), 0 = transformed. Any pattern with at least one of
        each, e.g. ``[1, 0]``, ``[1, 1, 0, 0]`` or a checkerboard ``[1, 0, 1, 0]``.
    hidden : sequence of int
        Hidden layer sizes of the MLP that outputs (ŝ, t).
    activation : {"tanh", "relu", "softplus", "silu"}
    scale_bound : float or None
        Soft clamp ``s = b·tanh(ŝ/b)``; ``None`` (default) is the slide's plain ``s = ŝ``.
    rng : numpy.random.Generator or int, optional
        Initial weights of the MLP.
    zero_init : bool
        Zero the MLP's last layer, so s = t = 0 and the layer starts as the identity (default).
    dtype : float64 (default) or float32
    context_dim : int
        C >= 1 makes the layer conditional: s and t read [x_c, c]; 0 (default) is the slide's layer.

    Attributes
    ----------
    net : MLP
        ``MLP([d + C, *hidden, 2k])``; parameters ``net.0.weight``, ``net.0.bias``, ...

    References
    ----------
    L. Dinh, J. Sohl-Dickstein, S. Bengio. Density estimation using Real NVP. arXiv:1605.08803.
    """

    def __init__(self, dim, mask, hidden=(64, 64), activation="tanh", scale_bound=None, rng=None,
                 zero_init=True, dtype=np.float64, context_dim=0):
        super().__init__()
        self.dim, self.mask, self.kept_index, self.moved_index = coupling_split(dim, mask)
        self.dtype = check_dtype(dtype)
        self.context_dim = check_int(context_dim, "context_dim", 0)
        if scale_bound is not None:        # finite: b = inf would give s = inf · tanh(0) = NaN
            scale_bound = check_number(scale_bound, "scale_bound (a positive number or None)", 0,
                                       low_open=True)
        self.scale_bound = scale_bound
        self.hidden = check_sizes(hidden, "hidden")
        self.activation = activation
        n_kept, n_moved = len(self.kept_index), len(self.moved_index)
        rng = np.random.default_rng(rng)
        self.net = self.add_child("net", MLP([n_kept + self.context_dim, *self.hidden, 2 * n_moved], activation,
                                             rng=rng, zero_last=zero_init, dtype=self.dtype))
        self._n_moved = n_moved
        self._kept_columns = column_selector(self.kept_index)      # x[:, kept] as a view if it can be
        self._moved_columns = column_selector(self.moved_index)
        self._forward_cache = None      # Cache(net, log_scale, exp_scale, x_moved) of the forward
        self._inverse_cache = None      # Cache(net, log_scale, exp_neg_scale, x_moved) of the inverse

    # ---------------------------------------------------------------- s and t from the network
    def _scale_shift(self, kept, context=None):
        """Run the MLP on the conditioning columns (and the context (N, C), if any): returns
        s (N, k), t (N, k), the MLP's cache."""
        if context is not None:
            kept = np.concatenate([kept, context], axis=1)         # (N, d + C)
        out, trace = self.net._forward(kept)                       # (N, 2k)
        n_moved = self._n_moved
        raw_scale, shift = out[:, :n_moved], out[:, n_moved:]      # (N, k) each
        if self.scale_bound is None:
            log_scale = raw_scale
        else:
            log_scale = self.scale_bound * np.tanh(raw_scale / self.scale_bound)   # (N, k)
        return log_scale, shift, trace

    def _net_backward(self, trace, log_scale, grad_log_scale, grad_shift):
        """dL/ds, dL/dt (N, k) -> dL/d(conditioning input) (N, d); fills the MLP's grads (and
        ``grad_context`` (N, C), the context's columns, in a conditional layer).

        Task coupling_backward: with a ``scale_bound`` b the network's raw output ŝ becomes
        s = b·tanh(ŝ/b) (``_scale_shift``); turn ``grad_log_scale`` = dL/ds into dL/dŝ, written with s
        (``log_scale``), which the pass kept.
        """
        if self.scale_bound is not None:
            # >>> task coupling_backward
            raise NotImplementedError('task coupling_backward (slide «Real-NVP (gradient pass)»): AffineCoupling._net_backward is yours to write; the docstring above gives the formula and the contract')
            # <<< task coupling_backward
        grad_out = np.concatenate([grad_log_scale, grad_shift], axis=1)   # (N, 2k)
        grad_in = self.net._backward(trace, grad_out)              # (N, d + C)
        return self._keep_context_gradient(grad_in, len(self.kept_index))   # (N, d)

    # ---------------------------------------------------------------- x -> z
    def _forward(self, x, context=None):
        """x (N, D) -> (z (N, D), log_det (N,)), the slide's formula.

        Task coupling: use ``self._scale_shift(x_c, context)`` for s, t and the network's trace;
        define ``log_scale`` (N, k), ``exp_scale`` = exp(s) (N, k), ``x_moved`` (N, k), ``trace``, ``z`` and
        ``log_det``: the lines after the region keep them for the gradient pass.
        """
        kept, moved = self._kept_columns, self._moved_columns
        # >>> task coupling
        raise NotImplementedError('task coupling (slide «Real-NVP»): AffineCoupling._forward is yours to write; the docstring above gives the formula and the contract')
        # <<< task coupling
        self._forward_cache = Cache(net=trace, log_scale=log_scale, exp_scale=exp_scale,
                                    x_moved=x_moved)
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        """dL/dz (N, D), dL/dlog_det (N,) -> dL/dx (N, D).

        Task coupling_backward: read the forward's ``cache`` (``exp_scale``, ``x_moved``,
        ``log_scale``, ``net``); fill ``grad_x``; hand (dL/ds, dL/dt) to ``self._net_backward`` (it
        adds the network's grads).
        """
        cache = self._read_cache("forward")
        kept, moved = self._kept_columns, self._moved_columns
        grad_x = np.empty_like(grad_z)                             # (N, D)
        # >>> task coupling_backward
        raise NotImplementedError('task coupling_backward (slide «Real-NVP (gradient pass)»): AffineCoupling._backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task coupling_backward
        return grad_x

    # ---------------------------------------------------------------- z -> x
    def _inverse(self, z, context=None):
        """z (N, D) -> (x (N, D), log_det (N,)) with log_det = log|det ∂f⁻¹/∂z|.

        Task coupling: define ``log_scale``, ``exp_neg_scale`` = exp(−s), ``x_moved``, ``trace``, ``x`` and
        ``log_det``.
        """
        kept, moved = self._kept_columns, self._moved_columns
        # >>> task coupling
        raise NotImplementedError('task coupling (slide «Real-NVP»): AffineCoupling._inverse is yours to write; the docstring above gives the formula and the contract')
        # <<< task coupling
        self._inverse_cache = Cache(net=trace, log_scale=log_scale, exp_neg_scale=exp_neg_scale,
                                    x_moved=x_moved)
        return x, log_det

    def _inverse_backward(self, grad_x, grad_log_det):
        """dL/dx (N, D), dL/dlog_det (N,) -> dL/dz (N, D) through the latest inverse.

        Task coupling_backward: read the inverse's cache (``exp_neg_scale``, ``x_moved``,
        ``log_scale``, ``net``); fill ``grad_z``; hand (dL/ds, dL/dt) to ``self._net_backward``.
        """
        cache = self._read_cache("inverse")
        kept, moved = self._kept_columns, self._moved_columns
        grad_z = np.empty_like(grad_x)                             # (N, D)
        # >>> task coupling_backward
        raise NotImplementedError('task coupling_backward (slide «Real-NVP (gradient pass)»): AffineCoupling._inverse_backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task coupling_backward
        return grad_z

    def __repr__(self):
        mask = "".join(str(int(m)) for m in self.mask)
        return (f"AffineCoupling(dim={self.dim}, mask={mask}, hidden={self.hidden}, "
                f"activation={self.activation!r}, scale_bound={self.scale_bound}"
                + (f", context_dim={self.context_dim})" if self.context_dim else ")"))
