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
receives and in which order the layers' ``_backward`` (and ``_inverse_backward``) must run.
# <<< task composition
"""
from scratchflow.bijectors.base import Bijector


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
        self.layers[0]._check_domain(x)

    def _check_codomain(self, z):
        self.layers[-1]._check_codomain(z)

    # Task composition: the four passes call the layers' unchecked ``_forward``, ``_inverse``,
    # ``_backward``, ``_inverse_backward`` (the stack checks its input once, at the edge).
    def _forward(self, x):
        # >>> task composition
        raise NotImplementedError('task composition (slide «Больше слоев! / More layers!»): Compose._forward is yours to write; the docstring above gives the formula and the contract')
        # <<< task composition

    def _inverse(self, z):
        # >>> task composition
        raise NotImplementedError('task composition (slide «Больше слоев! / More layers!»): Compose._inverse is yours to write; the docstring above gives the formula and the contract')
        # <<< task composition

    def _backward(self, grad_z, grad_log_det):
        # >>> task composition
        raise NotImplementedError('task composition (slide «Больше слоев! / More layers!»): Compose._backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task composition

    def _inverse_backward(self, grad_x, grad_log_det):
        # >>> task composition
        raise NotImplementedError('task composition (slide «Больше слоев! / More layers!»): Compose._inverse_backward is yours to write; the docstring above gives the formula and the contract')
        # <<< task composition

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, k):
        return self.layers[k]

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Compose([\n  {inner}\n])"
