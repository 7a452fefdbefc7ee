"""Module: the parameter container shared by every network piece and every bijector.

A module owns named parameter arrays and gradient arrays of the same shapes, and may hold child
modules. ``params`` lists its own parameters and its children's under dotted names,
``"layers.3.net.layers.0.weight"``; the values are the live arrays, not copies, so an optimizer
that updates ``params[name]`` in place changes the next forward pass. Gradients accumulate: a
backward adds into ``grads[name]`` (``+=``); :meth:`Module.zero_grad` clears them between steps.

A parameter is updated in place (``layer.weight[...] = values``), never rebound: the optimizer and
``save_model`` hold the array itself. A :class:`~scratchflow.flow.Flow` puts its parameters into
one flat array once, when it is built (:mod:`scratchflow.nn.flat_buffer`), so that an optimizer
step is a few whole-array operations; a module on its own keeps one array per parameter.
"""
from types import SimpleNamespace

import numpy as np


class Cache(SimpleNamespace):
    """What one pass keeps for its gradient pass, by name: ``Cache(x=x, log_scale=log_scale)``.

    The cache rule of the package (``docs/architecture.md``): a public pass stores its ``Cache``
    in ``self._forward_cache`` (or ``self._inverse_cache``); its gradient pass reads it with
    :meth:`Module._read_cache`, which says which call is missing when it is empty.
    """


class Module:
    """Named parameters, their gradients and child modules.

    Subclasses call :meth:`add_param`, :meth:`add_buffer` and :meth:`add_child` in ``__init__``.
    """

    def __init__(self):
        self._own_params = {}      # name -> ndarray
        self._own_grads = {}       # name -> ndarray, same shape
        self._own_buffers = {}     # name -> ndarray: state that is saved but not trained
        self._children = {}        # name -> Module, in order

    def add_param(self, name, value, dtype=np.float64):
        """Register a parameter (a copy of ``value`` of ``dtype``) with a zero gradient; return it.

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

    def modules(self):
        """A list of this module and every module below it, depth first, parents before children."""
        found = [self]
        for child in self._children.values():
            found += child.modules()
        return found

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
        for module in self.modules():
            for grad in module._own_grads.values():
                grad.fill(0.0)

    def num_params(self):
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params.values())

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
