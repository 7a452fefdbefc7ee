"""Compose: a stack of bijectors is a bijector (slide "Больше слоев!" / "More layers!").

With ``y = f1(x)`` and ``z = f2(y)``, the slide's chain of change-of-variables steps gives

    p_x(x) = p_z(f2(f1(x))) |det ∂f2(y)/∂y| |det ∂f1(x)/∂x|,

so for ``f = f_K ∘ ... ∘ f_1`` the log-determinants add: ``log_det = Σ_k log|det ∂f_k/∂y_{k-1}|``.
The inverse runs the layers in reverse order, ``x = f_1^{-1}(... f_K^{-1}(z))``, and its log-dets
add too.

Gradient pass: every layer's log-det enters the total with weight 1, so each layer receives the
same ``grad_log_det``; ``grad_z`` flows back through the layers in reverse order of the pass.

Each layer checks its own domain on what the layer before it produced (a Logit after a shift that
leaves (0, 1) is an error naming layer k, not a NaN), and each layer's output must be finite
(:class:`~scratchflow.divergence.DivergenceError` names the layer). A layer object may appear only
once in a stack: its caches hold one pass, and its parameters would be listed, and stepped, twice.
"""
from scratchflow.bijectors.base import Bijector
from scratchflow.divergence import check_finite_output


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

    def _forward(self, x):
        log_det = 0.0
        for k, layer in enumerate(self.layers):
            if k > 0:                                          # layer 0's input: checked by forward
                _check_layer_domain(layer, k, x, "_check_domain")
            x, layer_log_det = layer._forward(x)               # (N, D), (N,)
            check_finite_output(f"layer {k} ({type(layer).__name__})", z=x, log_det=layer_log_det)
            log_det = log_det + layer_log_det                  # (N,)
        return x, log_det

    def _inverse(self, z):
        log_det = 0.0
        last = len(self.layers) - 1
        for k, layer in reversed(list(enumerate(self.layers))):
            if k < last:
                _check_layer_domain(layer, k, z, "_check_codomain")
            z, layer_log_det = layer._inverse(z)               # (N, D), (N,)
            check_finite_output(f"layer {k} ({type(layer).__name__})", x=z, log_det=layer_log_det)
            log_det = log_det + layer_log_det
        return z, log_det

    def _backward(self, grad_z, grad_log_det):
        for k, layer in reversed(list(enumerate(self.layers))):
            grad_z = layer._backward(grad_z, grad_log_det)     # (N, D)
            check_finite_output(f"the gradient pass of layer {k} ({type(layer).__name__})",
                                grad_x=grad_z)
        return grad_z

    def _inverse_backward(self, grad_x, grad_log_det):
        for k, layer in enumerate(self.layers):
            grad_x = layer._inverse_backward(grad_x, grad_log_det)
            check_finite_output(f"the gradient pass of layer {k} ({type(layer).__name__})",
                                grad_z=grad_x)
        return grad_x

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, k):
        return self.layers[k]

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Compose([\n  {inner}\n])"


def _check_layer_domain(layer, k, points, check):
    """Run ``layer``'s domain (or codomain) check on its input; name layer k in the error."""
    try:
        getattr(layer, check)(points)
    except ValueError as error:
        raise ValueError(f"layer {k} ({type(layer).__name__}) of the stack: {error}") from None


def _modules(module):
    """``module`` and every module below it, depth first."""
    yield module
    for child in module._children.values():
        yield from _modules(child)


def _refuse_shared(layers):
    """Refuse a layer (or any module inside one) that appears twice in the stack."""
    seen = {}
    for k, layer in enumerate(layers):
        for module in _modules(layer):
            if id(module) in seen:
                raise ValueError(
                    f"layer {k} ({type(layer).__name__}) reuses the {type(module).__name__} object "
                    f"already in layer {seen[id(module)]}: one object keeps the cache of one pass "
                    f"and its parameters would be stepped twice; build a separate layer "
                    f"(copy.deepcopy(layer) for the same starting values)")
            seen[id(module)] = k
