"""One flat buffer for a model's parameters and one for its gradients: a speed path, not a slide.

An optimizer step is element-wise, so it costs a handful of NumPy calls per array it runs over. A
Real-NVP has dozens of small parameter arrays, and the calls would outweigh the arithmetic; laid
end to end in one array (P,), the whole model is one pass of each operation.

:func:`pack_parameters` does that once, explicitly: it copies every parameter of a module tree
into one new array and every gradient into a second one laid out the same way, and points each
module's arrays (its ``params`` entry and the attribute that holds it, ``self.weight``) at views
of them. :class:`~scratchflow.flow.Flow` calls it when it is built, and nothing else moves a
parameter. An optimizer made from the finished flow (``Adam(flow.params, flow.grads)``) asks
:func:`flat_pairs` for the arrays it updates and gets the two buffers, cut into blocks.

Why blocks. Each line of the optimizer's update (``m *= β1``, ``m += (1 − β1) g``, ...) is one pass
over its arrays and makes a temporary as long as they are. For a large model (577k parameters: 4.6
MB per array in float64) every pass runs from main memory; cut into blocks of
:data:`BLOCK_BYTES` per array, the same lines run over one block at a time while it sits in the
core's cache, and each temporary is one block long. The update is element-wise, so running it
block by block gives the same numbers bit for bit; only the time changes (docs/speed.md). A model
smaller than one block is one pair, the two whole buffers.

Why 128 KiB. θ, g, m, v and the update's temporaries of one block then fit a core's L2 (1 MiB on
the machine measured), and temporaries of at most 128 KiB are reused by the C allocator step after
step: in one 512 KiB block, a Real-NVP's Adam temporaries (276 KB each) cost ~150 page faults a
step, 15-20 % of the whole training step (``python bench/adam_blocks.py``, docs/speed.md).
"""
import numpy as np

BLOCK_BYTES = 128 * 1024      # per array of a pair; why: the module docstring


def pack_parameters(module):
    """Move the parameters of ``module`` and of every module below it into one flat array (P,),
    their gradients into another, and return the two; the modules keep views of them."""
    modules = list({id(part): part for part in module.modules()}.values())   # each module once
    owned = [(part, name) for part in modules for name in part._own_params]
    dtypes = {part._own_params[name].dtype for part, name in owned}
    if len(dtypes) > 1:
        raise ValueError(f"{type(module).__name__}: parameters mix dtypes {sorted(map(str, dtypes))}; "
                         f"build every layer with the same dtype")
    dtype = dtypes.pop() if dtypes else np.dtype(np.float64)
    size = sum(part._own_params[name].size for part, name in owned)
    flat_params, flat_grads = np.empty(size, dtype), np.empty(size, dtype)   # (P,) each
    start = 0
    for part, name in owned:
        param, grad = part._own_params[name], part._own_grads[name]
        stop = start + param.size
        new_param = flat_params[start:stop].reshape(param.shape)     # a view, the old shape
        new_grad = flat_grads[start:stop].reshape(param.shape)
        new_param[...], new_grad[...] = param, grad
        part._own_params[name], part._own_grads[name] = new_param, new_grad
        if getattr(part, name, None) is param:                       # self.weight follows
            setattr(part, name, new_param)
        start = stop
    return flat_params, flat_grads


def flat_pairs(params, grads):
    """The (parameter, gradient) pairs of 1-D arrays an element-wise step runs over, in place.

    When ``params`` and ``grads`` hold every array of one packed model: the two buffers, cut into
    consecutive blocks of :data:`BLOCK_BYTES` (one pair for a model smaller than that); otherwise
    one pair per name, each a flat view (n,) of its array."""
    names = list(params)
    flat_params = params[names[0]].base if names else None
    flat_grads = grads[names[0]].base if names else None
    size = sum(params[name].size for name in names)
    packed = (isinstance(flat_params, np.ndarray) and isinstance(flat_grads, np.ndarray)
              and flat_params.shape == flat_grads.shape == (size,)
              and all(params[name].base is flat_params and grads[name].base is flat_grads
                      for name in names))
    if packed:
        block = max(1, BLOCK_BYTES // flat_params.itemsize)         # elements per block
        if size <= block:
            return [(flat_params, flat_grads)]
        return [(flat_params[start:start + block], flat_grads[start:start + block])
                for start in range(0, size, block)]
    return [(params[name].reshape(-1), grads[name].reshape(-1)) for name in names]
