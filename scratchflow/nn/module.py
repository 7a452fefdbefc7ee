"""Module: the parameter container shared by every network piece and every bijector.

A module owns named parameter arrays (``params``) and gradient arrays of the same shapes
(``grads``), and may hold child modules. A composite lists its children's parameters under dotted
names, ``"layers.3.scale_net.0.weight"``; the dict values are the live arrays, not copies, so an
optimizer that updates ``params[name]`` in place changes the next forward pass.

One buffer per model
--------------------
Every parameter of a model lives in ONE flat array ``_flat_params`` (P,), every gradient in
``_flat_grads`` (P,) laid out the same way; ``params[name]`` and ``grads[name]`` are reshaped views
into them. The layout is the order of ``params``: a module's own parameters in the order they
were added, then each child's block in turn, so every module's block is one contiguous slice of
its parent's. Hence ``zero_grad`` is one ``fill``, and an optimizer given ``params`` / ``grads``
updates the whole flat block with a few vector operations (see :mod:`scratchflow.optim`). A
backward still writes ``grads[name] += ...``: the view changes the buffer.

How it stays so. ``add_param`` and ``add_child`` re-pack the module they are called on: a new
buffer, the current values copied in, every array of the subtree (and the attribute that held it,
``self.weight``) pointed at its new view. Models are built bottom-up (Linear, MLP, coupling layer,
Compose, Flow), so the module being built is the top of its tree, and packing it moves arrays
that nobody else holds yet. The arrays a re-pack replaces become read-only, so a stale reference
(an optimizer made before the model was finished) fails loudly instead of training a copy.

Rules that keep the views honest:

* ``layer.weight = new_array`` raises: it would leave the optimizer and ``save_model`` with the old
  array. Write the values in place, ``layer.weight[...] = new_array``.
* A module already inside another model's buffer is not moved when a second parent takes it
  (``Compose.with_statistics_fixed`` shares layers): that parent then keeps no single buffer and
  walks its children in ``zero_grad``, which is slower but exact. Layers lifted out of a model
  that is then thrown away call :meth:`move_to_own_buffer` first, and the new model packs them.
* Adding a parameter or child to a module that is itself inside a larger buffer raises: it would
  detach the module from that buffer. Build a module completely before putting it in another.
* ``copy.deepcopy`` copies each view as an array of its own; ``__deepcopy__`` packs the copy
  again. (Models are saved with :func:`scratchflow.io.save_model`, not pickled.)
"""
import copy
from types import SimpleNamespace

import numpy as np


class Cache(SimpleNamespace):
    """What one pass keeps for its gradient pass, by name: ``Cache(x=x, log_scale=log_scale)``.

    The one cache convention of the package: a pass writes ``self._forward_cache`` (or
    ``self._inverse_cache``) as a ``Cache``; its gradient pass reads it with
    :meth:`Module._read_cache`, which says which call is missing when it is empty.
    """


class Module:
    """Named parameters, their gradients and child modules (views into one buffer, see above).

    Subclasses call :meth:`add_param` and :meth:`add_child` in ``__init__``. Gradients accumulate:
    every ``backward`` adds into ``grads``; call :meth:`zero_grad` between steps.
    """

    def __init__(self):
        self._own_params = {}      # name -> ndarray view into _flat_params
        self._own_grads = {}       # name -> ndarray view into _flat_grads, same shape
        self._children = {}        # name -> Module, in order
        self._own_buffers = {}     # name -> ndarray: state that is saved but not trained
        self._flat_params = np.zeros(0)    # (P,) this subtree's parameters; None: not one buffer
        self._flat_grads = np.zeros(0)     # (P,) their gradients, same layout

    def __setattr__(self, name, value):
        own = self.__dict__.get("_own_params")
        if own is not None and name in own and value is not own[name]:
            raise AttributeError(
                f"{type(self).__name__}.{name} is a parameter, a view into the model's one "
                f"parameter buffer; assigning a new array would detach it from the optimizer and "
                f"from save_model. Write the values in place: .{name}[...] = new_values")
        object.__setattr__(self, name, value)

    def __deepcopy__(self, memo):
        """A deep copy copies each view as an array of its own; the copy is packed again into a
        buffer of its own. (``copy.copy`` stays shallow: the copy shares the arrays.)"""
        twin = object.__new__(type(self))
        memo[id(self)] = twin
        for name, value in self.__dict__.items():
            twin.__dict__[name] = copy.deepcopy(value, memo)
        twin._pack()
        return twin

    def add_param(self, name, value, dtype=np.float64):
        """Register a parameter (a copy of ``value`` of ``dtype``, placed in the module's buffer)
        and return its live view.

        The initial value must be finite: a NaN or inf parameter would only show up, much later,
        as a NaN loss."""
        array = np.array(value, dtype=dtype)
        if not np.isfinite(array).all():
            raise ValueError(f"parameter {name!r}: the initial value contains NaN or inf")
        self._refuse_if_inside("add_param")
        self._own_params[name] = array
        self._own_grads[name] = np.zeros_like(array)
        self._pack()
        return self._own_params[name]

    def add_buffer(self, name, value, dtype=np.float64):
        """Register non-trained state that a saved model must keep (ActNorm's "initialized" flag,
        BatchNorm's running averages); return the array. Update it in place."""
        array = np.array(value, dtype=dtype)
        self._own_buffers[name] = array
        return array

    def add_child(self, name, module):
        """Register a child module whose parameters appear as ``name.<param>``; return it."""
        self._refuse_if_inside("add_child")
        self._children[name] = module
        self._pack()
        return module

    def move_to_own_buffer(self):
        """Copy this subtree's parameters into a buffer of its own and return the module, so that
        a new model can take it in: for layers lifted out of a model that is thrown away,
        ``Flow([Logit(2), *(layer.move_to_own_buffer() for layer in flow.layers.layers)])``.
        The old model's views of them become read-only: that model must not be used again."""
        self._pack()
        return self

    # ------------------------------------------------------------------ the one buffer
    def _refuse_if_inside(self, method):
        flat = self._flat_params
        if flat is not None and flat.base is not None:
            raise RuntimeError(f"{type(self).__name__}.{method}(): this module is already part of "
                               f"a larger model whose parameters share one buffer; build a module "
                               f"completely before putting it into another")

    def _pack(self):
        """Put this subtree's parameters and gradients into one new pair of flat buffers.

        Left as separate arrays (``_flat_params = None``) when a child lives in another model's
        buffer or the subtree mixes dtypes: moving those arrays would detach them."""
        home = self._flat_params
        home = home if home is None or home.base is None else home.base     # the owning buffer
        for child in self._children.values():
            flat = child._flat_params
            if flat is None or (flat.base is not None and flat.base is not home):
                self._flat_params = self._flat_grads = None
                return
        dtypes = {p.dtype for p in self._collect("_own_params").values()}
        if len(dtypes) > 1:
            self._flat_params = self._flat_grads = None
            return
        dtype = dtypes.pop() if dtypes else np.dtype(np.float64)
        size = sum(p.size for p in self._collect("_own_params").values())
        flat_params, flat_grads = np.empty(size, dtype), np.empty(size, dtype)   # (P,) each
        self._place(flat_params, flat_grads, 0)
        self._flat_params, self._flat_grads = flat_params, flat_grads   # the owners: base is None

    def _place(self, flat_params, flat_grads, start):
        """Move own parameters, then each child's, into ``flat_*[start:]``; return where they end."""
        offset = start
        for name, old_param in self._own_params.items():
            old_grad, stop = self._own_grads[name], offset + old_param.size
            param = flat_params[offset:stop].reshape(old_param.shape)    # view, shape of the old
            grad = flat_grads[offset:stop].reshape(old_param.shape)
            param[...], grad[...] = old_param, old_grad
            self._own_params[name], self._own_grads[name] = param, grad
            if self.__dict__.get(name) is old_param:                     # self.weight follows
                self.__dict__[name] = param
            old_param.flags.writeable = old_grad.flags.writeable = False   # stale: fail loudly
            offset = stop
        for child in self._children.values():
            offset = child._place(flat_params, flat_grads, offset)
        self._flat_params, self._flat_grads = flat_params[start:offset], flat_grads[start:offset]
        return offset

    # ------------------------------------------------------------------ views
    def _collect(self, kind):
        """This module's ``kind`` arrays (a dict attribute) and its children's, under dotted names."""
        out = dict(getattr(self, kind))
        for child_name, child in self._children.items():
            for name, array in child._collect(kind).items():
                out[f"{child_name}.{name}"] = array
        return out

    @property
    def params(self):
        """Dict of every parameter array, children's under dotted names (live views, buffer order)."""
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
        """Set every gradient array (own and children's) to zero in place: one fill of the flat
        gradient buffer, or array by array when the subtree is not one buffer."""
        if self._flat_grads is not None:
            self._flat_grads.fill(0.0)
            return
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
