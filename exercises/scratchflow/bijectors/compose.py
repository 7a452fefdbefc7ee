"""Compose: a stack of bijectors is a bijector (slide "Больше слоев!" / "More layers!").

With ``y = f1(x)`` and ``z = f2(y)``, the slide's chain of change-of-variables steps gives

    p_x(x) = p_z(f2(f1(x))) |det ∂f2(y)/∂y| |det ∂f1(x)/∂x|,

so for ``f = f_K ∘ ... ∘ f_1`` the log-determinants add: ``log_det = Σ_k log|det ∂f_k/∂y_{k-1}|``.
The inverse runs the layers in reverse order, ``x = f_1^{-1}(... f_K^{-1}(z))``, and its log-dets
add too.

# >>> task composition
# --- student
Gradient pass (task composition): the total log_det is a sum of the layers' log-dets, and z is
reached through every layer in turn. Work out, by the chain rule, what dL/dlog_det each layer
receives and in which order the layers' gradient passes must run.
# <<< task composition

Each layer checks its own domain on what the layer before it produced (a Logit after a shift that
leaves (0, 1) is an error naming layer k, not a NaN), and each layer's output must be finite
(:class:`~scratchflow.divergence.DivergenceError` names the layer). A layer object may appear only
once in a stack: its caches hold one pass, and its parameters would be listed, and stepped, twice.

Conditional stacks (beyond the lecture): every conditional layer receives the same context c
(N, C), the others none; c is not transformed by any layer, so the log-dets still add. L depends on
c through each conditional layer, so dL/dc is the sum of their ``grad_context`` (N, C).
"""
from scratchflow.bijectors.base import Bijector
from scratchflow.divergence import DomainError, check_finite_output


class Compose(Bijector):
    """``f = f_K ∘ ... ∘ f_1``; ``forward`` applies ``layers[0]`` first.

    Parameters
    ----------
    layers : sequence of Bijector
        All of the same dimension D and dtype. Their parameters appear as ``"<k>.<name>"``.
    """

    def __init__(self, layers):
        super().__init__()
        if isinstance(layers, Bijector) or not hasattr(layers, "__iter__"):
            raise TypeError(f"Compose takes a sequence of Bijector layers, got "
                            f"{type(layers).__name__}; wrap a single layer as Compose([layer])")
        layers = list(layers)
        if not layers:
            raise ValueError("Compose needs at least one layer")
        for k, layer in enumerate(layers):
            if not isinstance(layer, Bijector):
                raise TypeError(f"layer {k} is a {type(layer).__name__}, not a Bijector")
            if layer.dim != layers[0].dim:
                raise ValueError(f"layer {k} has dimension {layer.dim} but layer 0 has {layers[0].dim}")
        _refuse_shared(layers)
        self.layers = layers
        self.dim = layers[0].dim
        dtypes = {layer.dtype for layer in layers if layer.num_params() > 0}
        if len(dtypes) > 1:
            raise ValueError(f"layers mix dtypes {sorted(map(str, dtypes))}; build them with one dtype")
        self.dtype = dtypes.pop() if dtypes else layers[0].dtype
        context_dims = {layer.context_dim for layer in layers if layer.context_dim}
        if len(context_dims) > 1:
            raise ValueError(f"conditional layers read contexts of different sizes "
                             f"{sorted(context_dims)}; one stack reads one context (N, C)")
        self.context_dim = context_dims.pop() if context_dims else 0
        for k, layer in enumerate(layers):
            self.add_child(str(k), layer)

    @property
    def samples_independent(self):
        """Rows stay independent only if they do in every layer (not so for BatchNorm in training)."""
        return all(layer.samples_independent for layer in self.layers)

    def with_statistics_fixed(self):
        """The stack with every layer's batch statistics held fixed (see Bijector), or None."""
        if self.samples_independent:
            return self
        fixed = [layer.with_statistics_fixed() for layer in self.layers]
        return None if any(layer is None for layer in fixed) else Compose(fixed)

    def _check_domain(self, x):
        _check_layer_domain(self.layers[0], 0, x, "_check_domain")

    def _check_codomain(self, z):
        _check_layer_domain(self.layers[-1], len(self.layers) - 1, z, "_check_codomain")

    def _initialize(self, x, context=None):
        """Initialise layer k on what layers 0..k-1, initialised first, make of x (N, D); each step
        from one layer's input to the next is the one-layer stack ``Compose([layer])``'s forward."""
        for k, layer in enumerate(self.layers):
            if k > 0:
                _check_layer_domain(layer, k, x, "_check_domain", points_from_the_model=True)
            layer._initialize(x, context if layer.context_dim else None)
            if k < len(self.layers) - 1:
                x, _ = Compose([layer])._forward(x, context)          # (N, D), layer k + 1's input

    def _forward(self, x, context=None):
        # >>> task composition
        # Task composition: the four passes of the stack, written with the one-layer steps below
        # (``self._layer_forward(k, x)`` etc.: layer k's unchecked pass, its domain and output checked).
        raise NotImplementedError('task composition (slide «Больше слоев! / More layers!»): Compose._forward is yours to write; the docstring above gives the formula and the contract')
        # <<< task composition

    def _inverse(self, z, context=None):
        # >>> task composition
        raise NotImplementedError('task composition (slide «Больше слоев! / More layers!»): Compose._inverse is yours to write; the docstring above gives the formula and the contract')
        # <<< task composition

    def _backward(self, grad_z, grad_log_det):
        self.grad_context = None                               # the layers' steps add into it
        # >>> task composition
        raise NotImplementedError('task composition (slide «Больше слоев! / More layers!»): Compose._backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task composition

    def _inverse_backward(self, grad_x, grad_log_det):
        self.grad_context = None                               # the layers' steps add into it
        # >>> task composition
        raise NotImplementedError('task composition (slide «Больше слоев! / More layers!»): Compose._inverse_backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task composition

    # ---------------------------------------------------------------- one layer's step, checked
    def _layer_forward(self, k, x, context=None):
        """Layer k's ``_forward`` on x (N, D) (with the context (N, C) if the layer is
        conditional): its domain checked (layer 0's by ``forward``), its output finite; returns
        (z (N, D), log_det (N,))."""
        layer = self.layers[k]
        if k > 0:
            _check_layer_domain(layer, k, x, "_check_domain", points_from_the_model=True)
        z, log_det = layer._forward(x, context if layer.context_dim else None)
        check_finite_output(f"layer {k} ({type(layer).__name__})", z=z, log_det=log_det)
        return z, log_det

    def _layer_inverse(self, k, z, context=None):
        """Layer k's ``_inverse`` on z (N, D) (and context), checked likewise; returns (x, log_det)."""
        layer = self.layers[k]
        if k < len(self.layers) - 1:                           # the last layer's: by ``inverse``
            _check_layer_domain(layer, k, z, "_check_codomain", points_from_the_model=True)
        x, log_det = layer._inverse(z, context if layer.context_dim else None)
        check_finite_output(f"layer {k} ({type(layer).__name__})", x=x, log_det=log_det)
        return x, log_det

    def _layer_backward(self, k, grad_z, grad_log_det):
        """Layer k's ``_backward`` (through its latest forward); returns its dL/d(input) (N, D)."""
        layer = self.layers[k]
        grad_x = layer._backward(grad_z, grad_log_det)         # (N, D)
        check_finite_output(f"the gradient pass of layer {k} ({type(layer).__name__})", grad_x=grad_x)
        self._add_context_gradient(layer)
        return grad_x

    def _layer_inverse_backward(self, k, grad_x, grad_log_det):
        """Layer k's ``_inverse_backward`` (through its latest inverse); returns (N, D)."""
        layer = self.layers[k]
        grad_z = layer._inverse_backward(grad_x, grad_log_det)   # (N, D)
        check_finite_output(f"the gradient pass of layer {k} ({type(layer).__name__})", grad_z=grad_z)
        self._add_context_gradient(layer)
        return grad_z

    def _add_context_gradient(self, layer):
        """Add a conditional layer's dL/dc (N, C) of its latest gradient pass into ours."""
        if not layer.context_dim:
            return
        if self.grad_context is None:
            self.grad_context = layer.grad_context.copy()      # (N, C)
        else:
            self.grad_context += layer.grad_context

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, k):
        return self.layers[k]

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Compose([\n  {inner}\n])"


def _check_layer_domain(layer, k, points, check, points_from_the_model=False):
    """Run ``layer``'s domain (or codomain) check on its input; name layer k in the error, a
    :class:`~scratchflow.divergence.DomainError` when the other layers made ``points``."""
    try:
        getattr(layer, check)(points)
    except ValueError as error:
        where = f"layer {k} ({type(layer).__name__}) of the stack"
        if points_from_the_model:                    # made by the other layers, not the caller's
            raise DomainError(f"{where}: {error} (these points were made by the layers before it)",
                              where) from None
        raise ValueError(f"{where}: {error}") from None


def _refuse_shared(layers):
    """Refuse a layer (or any module inside one) that appears twice in the stack."""
    seen = {}
    for k, layer in enumerate(layers):
        for module in layer.modules():
            if id(module) in seen:
                raise ValueError(
                    f"layer {k} ({type(layer).__name__}) reuses the {type(module).__name__} object "
                    f"already in layer {seen[id(module)]}: one object keeps the cache of one pass "
                    f"and its parameters would be stepped twice; build a separate layer "
                    f"(copy.deepcopy(layer) for the same starting values)")
            seen[id(module)] = k
