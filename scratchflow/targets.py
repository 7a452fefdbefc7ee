"""Unnormalised 2-D target densities for reverse-KL fitting (Rezende & Mohamed 2015, table 1).

Slide "Постановка задачи" / "Problem statement" asks for a flow fitted to data. Here there is no
data: the target is known up to a constant, ``p*(x) ∝ exp(−U(x))``, and the flow is fitted by
minimising the reverse KL divergence with samples from the flow itself (``Flow.reverse_kl_loss_and_grad``;
the job IAF was made for). With w1, w2, w3 of the first coordinate,

    w1(x) = sin(2π x1 / 4),   w2(x) = 3 exp(−½ ((x1 − 1)/0.6)²),   w3(x) = 3 σ((x1 − 1)/0.3)

the four potentials are

    U1(x) = ½ ((‖x‖ − 2)/0.4)² − log[ exp(−½ ((x1 − 2)/0.6)²) + exp(−½ ((x1 + 2)/0.6)²) ]
    U2(x) = ½ ((x2 − w1)/0.4)²
    U3(x) = −log[ exp(−½ ((x2 − w1)/0.35)²) + exp(−½ ((x2 − w1 + w2)/0.35)²) ]
    U4(x) = −log[ exp(−½ ((x2 − w1)/0.4)²) + exp(−½ ((x2 − w1 + w3)/0.35)²) ]

Gradients by hand. For ``U = −log(e^a + e^b)`` (computed as ``−logaddexp(a, b)``),
``∇U = −(r ∇a + (1 − r) ∇b)`` with ``r = σ(a − b)``. For a square ``a = −½ (d/σ)²`` with
``d = x2 − w(x1)``: ``∂a/∂x2 = −d/σ²`` and ``∂a/∂x1 = (d/σ²) w'(x1)``. The pieces are
``w1' = (π/2) cos(π x1/2)``, ``w2' = −w2 (x1 − 1)/0.36``, ``w3' = 3 σ(u)(1 − σ(u))/0.3`` with
``u = (x1 − 1)/0.3``, and ``∇‖x‖ = x/‖x‖`` (taken as 0 at the origin, where U1 has a cusp).

Table 1 leaves U2–U4 improper along x1; :func:`load_target` adds a wall outside |x1| = 4 (the
paper's plotting square) so that every target is normalisable; ``box=None`` turns it off.

``log_prob(x) = −U(x)`` (N,) and ``grad_log_prob(x) = −∇U(x)`` (N, 2). The normaliser ``log Z`` is
unknown to the model; :func:`log_normalizer` computes it on a grid, so that a reverse-KL loss
``E_q[log q − log p*]`` can be reported as ``KL(q‖p) = loss + log Z`` (0 for a perfect fit).

References
----------
Rezende, Mohamed. Variational Inference with Normalizing Flows, table 1. arXiv:1505.05770.
"""
import numpy as np

from scratchflow.nn.activations import sigmoid
from scratchflow.input_checks import check_array, check_int, check_number

HALF_PI = 0.5 * np.pi
DEFAULT_BOX = 4.0           # the paper's plotting square [−4, 4]²; see load_target
WALL_WIDTH = 0.25


def _w1(x1):
    return np.sin(HALF_PI * x1), HALF_PI * np.cos(HALF_PI * x1)          # value, derivative


def _w2(x1):
    value = 3.0 * np.exp(-0.5 * ((x1 - 1.0) / 0.6) ** 2)
    return value, -value * (x1 - 1.0) / 0.36


def _w3(x1):
    s = sigmoid((x1 - 1.0) / 0.3)
    return 3.0 * s, 3.0 * s * (1.0 - s) / 0.3


def _square(d, width):
    """a = −½ (d/width)² and ∂a/∂d = −d/width²."""
    return -0.5 * (d / width) ** 2, -d / width ** 2


def _mixture(a, grad_a, b, grad_b):
    """U = −log(e^a + e^b) and ∇U = −(r ∇a + (1 − r) ∇b), r = σ(a − b); grads (N, 2)."""
    r = sigmoid(a - b)[:, None]                                          # (N, 1)
    return -np.logaddexp(a, b), -(r * grad_a + (1.0 - r) * grad_b)


def _potential_u1(x):
    x1 = x[:, 0]
    radius = np.sqrt(np.einsum("nd,nd->n", x, x))                         # (N,)
    unit = np.divide(x, radius[:, None], out=np.zeros_like(x), where=radius[:, None] > 0)  # (N, 2)
    ring = 0.5 * ((radius - 2.0) / 0.4) ** 2
    grad_ring = ((radius - 2.0) / 0.16)[:, None] * unit                   # (N, 2)
    a, da = _square(x1 - 2.0, 0.6)
    b, db = _square(x1 + 2.0, 0.6)
    zero = np.zeros_like(x1)
    modes, grad_modes = _mixture(a, np.column_stack([da, zero]), b, np.column_stack([db, zero]))
    return ring + modes, grad_ring + grad_modes


def _potential_u2(x):
    w1, dw1 = _w1(x[:, 0])
    d = x[:, 1] - w1                                                      # (N,)
    return 0.5 * (d / 0.4) ** 2, np.column_stack([-d / 0.16 * dw1, d / 0.16])


def _two_branches(x, width_a, shift, dshift, width_b):
    """U = −log(e^a + e^b), a = −½((x2 − w1)/width_a)², b = −½((x2 − w1 + shift)/width_b)²."""
    w1, dw1 = _w1(x[:, 0])
    a, da = _square(x[:, 1] - w1, width_a)                               # da = ∂a/∂d
    b, db = _square(x[:, 1] - w1 + shift, width_b)
    grad_a = np.column_stack([-da * dw1, da])                             # (N, 2)
    grad_b = np.column_stack([db * (dshift - dw1), db])                   # (N, 2)
    return _mixture(a, grad_a, b, grad_b)


def _potential_u3(x):
    w2, dw2 = _w2(x[:, 0])
    return _two_branches(x, 0.35, w2, dw2, 0.35)


def _potential_u4(x):
    w3, dw3 = _w3(x[:, 0])
    return _two_branches(x, 0.4, w3, dw3, 0.35)


def _wall(x1, box):
    """½ ((|x1| − box)₊ / 0.25)² and its derivative: zero inside [−box, box], steep outside."""
    excess = np.maximum(np.abs(x1) - box, 0.0) * np.sign(x1)             # (N,)
    return 0.5 * (excess / WALL_WIDTH) ** 2, excess / WALL_WIDTH ** 2


class Target:
    """An unnormalised 2-D density ``p*(x) ∝ exp(−U(x))`` with its hand-derived gradient.

    Parameters
    ----------
    name : str
    potential : callable, x (N, 2) -> (U (N,), ∇U (N, 2))
    box : float or None
        Add the wall ``½ ((|x1| − box)₊ / 0.25)²`` to U (see :func:`load_target`); None: no wall.
    """

    dim = 2

    def __init__(self, name, potential, box=None):
        self.name = name
        self.box = None if box is None else check_number(box, "box (a positive number or None)",
                                                          0, low_open=True)
        self._potential = potential

    def _energy_and_grad(self, x):
        x = check_array(x, "x", dim=2)                                    # (N, 2)
        energy, grad = self._potential(x)                                 # (N,), (N, 2)
        if self.box is not None:
            wall, wall_grad = _wall(x[:, 0], self.box)
            energy = energy + wall
            grad = grad + np.column_stack([wall_grad, np.zeros_like(wall_grad)])
        return energy, grad

    def energy(self, x):
        """U(x) for x (N, 2) -> (N,)."""
        return self._energy_and_grad(x)[0]

    def log_prob(self, x):
        """log p*(x) + log Z = −U(x), shape (N,)."""
        return -self.energy(x)

    def grad_log_prob(self, x):
        """∇_x log p*(x) = −∇U(x), shape (N, 2)."""
        return -self._energy_and_grad(x)[1]

    def __repr__(self):
        return f"Target({self.name!r})"


TARGETS = {
    "u1": _potential_u1,
    "u2": _potential_u2,
    "u3": _potential_u3,
    "u4": _potential_u4,
}


def load_target(name, box=DEFAULT_BOX):
    """The target ``name`` ("u1".."u4", see ``TARGETS``) as a :class:`Target`.

    Parameters
    ----------
    name : str
    box : float or None
        U2, U3 and U4 depend on x1 only through bounded w's, so exp(−U) does not decay along x1:
        as printed in table 1 they are not normalisable, and the reverse KL to them has no minimum
        (q gains entropy by spreading along x1 forever). The paper shows them on [−4, 4]²; by
        default every target gets a wall ``½ ((|x1| − 4)₊ / 0.25)²`` outside that box, which leaves
        the density inside it unchanged and makes Z finite (U1, normalisable already, has log Z
        changed by about 1e-11). ``box=None`` gives table 1's potentials exactly.
    """
    key = str(name).lower()
    if key not in TARGETS:
        raise ValueError(f"unknown target {name!r}; choose one of {sorted(TARGETS)}")
    return Target(key, TARGETS[key], box)


def log_normalizer(target, limit=6.0, n=601):
    """log Z = log ∫ exp(−U(x)) dx by the midpoint rule on the square [−limit, limit]² (n × n cells).

    All four targets have negligible mass outside [−6, 6]²; the default grid gives log Z to about 1e-6.
    """
    limit = check_number(limit, "limit", 0, low_open=True)
    n = check_int(n, "n (cells per side)", 1)
    width = 2.0 * limit / n
    centres = -limit + width * (np.arange(n) + 0.5)                       # (n,)
    grid = np.stack(np.meshgrid(centres, centres, indexing="ij"), axis=-1).reshape(-1, 2)   # (n², 2)
    log_values = target.log_prob(grid)                                    # (n²,)
    top = log_values.max()
    return float(top + np.log(np.sum(np.exp(log_values - top))) + 2.0 * np.log(width))
