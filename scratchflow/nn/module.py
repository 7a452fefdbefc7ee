"""Module: the parameter container shared by every network piece and every bijector.

A module owns named parameter arrays (``params``) and gradient arrays of the same shapes
(``grads``), and may hold child modules. A composite lists its children's parameters under dotted
names, ``"layers.3.scale_net.0.weight"``; the dict values are the live arrays, not copies, so an
optimizer that updates ``params[name]`` in place changes the next forward pass.
"""
from types import SimpleNamespace

import numpy as np


class Cache(SimpleNamespace):
    """What one pass keeps for its gradient pass, by name: ``Cache(x=x, log_scale=log_scale)``.

    The one cache convention of the package: a pass writes ``self._forward_cache`` (or
    ``self._inverse_cache``) as a ``Cache``; its gradient pass reads it with
    :meth:`Module._read_cache`, which says which call is missing when it is empty.
    """


class Module:
    """Named parameters, their gradients and child modules.

    Subclasses call :meth:`add_param` and :meth:`add_child` in ``__init__``. Gradients accumulate:
    every ``backward`` adds into ``grads``; call :meth:`zero_grad` between steps.
    """

    def __init__(self):
        self._own_params = {}      # name -> ndarray, owned by this module
        self._own_grads = {}       # name -> ndarray of the same shape
        self._children = {}        # name -> Module, in order
        self._own_buffers = {}     # name -> ndarray: state that is saved but not trained

    def add_param(self, name, value, dtype=np.float64):
        """Register a parameter (copied to a fresh array of ``dtype``) and return it.

        The initial value must be finite: a NaN or inf parameter would only show up, much later,
        as a NaN loss."""
        array = np.array(value, dtype=dtype)
        if not np.isfinite(array).all():
            raise ValueError(f"parameter {name!r}: the initial value contains NaN or inf")
        self._own_params[name] = array
        self._own_grads[name] = np.zeros_like(array)
        return array

    def add_buffer(self, name, value, dtype=np.float64):
        """Register non-trained state that a saved model must keep (ActNorm's "initialized" flag,
        BatchNorm's running averages); return the array. Update it in place."""
        array = np.array(value, dtype=dtype)
        self._own_buffers[name] = array
        return array

    def add_child(self, name, module):
        """Register a child module whose parameters appear as ``name.<param>``; return it."""
        self._children[name] = module
        return module

    def _collect(self, kind):
        """This module's ``kind`` arrays (a dict attribute) and its children's, under dotted names."""
        out = dict(getattr(self, kind))
        for child_name, child in self._children.items():
            for name, array in child._collect(kind).items():
                out[f"{child_name}.{name}"] = array
        return out

    @property
    def params(self):
        """Dict of every parameter array, children's under dotted names (live arrays)."""
        return self._collect("_own_params")

    @property
    def grads(self):
        """Dict of gradient arrays with the same keys and shapes as :attr:`params`."""
        return self._collect("_own_grads")

    @property
    def buffers(self):
        """Dict of every buffer array, children's under dotted names (live arrays)."""
        return self._collect("_own_buffers")

    def zero_grad(self):
        """Set every gradient array (own and children's) to zero in place."""
        for grad in self._own_grads.values():
            grad.fill(0.0)
        for child in self._children.values():
            child.zero_grad()

    def _read_cache(self, direction="forward", method=None):
        """The :class:`Cache` the latest ``direction`` pass kept (``"forward"`` or ``"inverse"``),
        or a ``RuntimeError`` naming the gradient pass ``method`` (default ``backward`` /
        ``inverse_backward``) and the pass that has to run first."""
        cache = getattr(self, f"_{direction}_cache", None)
        if cache is None:
            name = type(self).__name__
            method = method or ("backward" if direction == "forward" else "inverse_backward")
            raise RuntimeError(f"{name}.{method}() called before {name}.{direction}(): the "
                               f"gradient pass reads what {direction} kept")
        return cache

    def num_params(self):
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params.values())
