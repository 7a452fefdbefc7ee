"""Correct alternatives: different but right ways to write each task, each of which must keep full
marks (the probes compare only what the contract defines, never scratch state).

``ALTERNATIVES`` lists ``{"id", "task", "file", "edits"}`` like ``solutions/mistakes.json``: each
edit ``(old, new)`` replaces a text that occurs once in the library's file. An edit may reach
outside the task's regions only to add a module-level import (the grader carries those).
"""
import os

from scratchflow_course.homework.regions import find_regions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
E, T, C = "scratchflow/bijectors/examples.py", "scratchflow/bijectors/triangular.py", "scratchflow/bijectors/compose.py"
A, L, CP = "scratchflow/nn/activations.py", "scratchflow/nn/linear.py", "scratchflow/bijectors/coupling.py"
M, AR, F = "scratchflow/nn/made.py", "scratchflow/bijectors/autoregressive.py", "scratchflow/flow.py"
O, OB, H = "scratchflow/optim.py", "scratchflow/objectives.py", "scratchflow/histogram.py"


def region(file, task, index=0):
    """The library's lines of the ``index``-th code region of ``task`` in ``file`` (between the
    markers, without the last newline): an edit that rewrites the whole region."""
    with open(os.path.join(ROOT, file), encoding="utf-8") as handle:
        text = handle.read()
    found = [r for r in find_regions(text, file) if r.is_code and r.task == task]
    return "".join(found[index].body).rstrip("\n")


def copy_initialised(task, filled, given, one_pass):
    """The sequential direction started from a copy of its input (``x = z.copy()`` for MAF's
    sampling): the column no output reads then holds the input's value, exactly as right. The one
    -pass direction rewritten too (``one_pass``: old, new)."""
    zeros = f"        {filled} = np.zeros_like({given})  "
    return {"id": f"{task}_copy_initialised", "task": task, "file": AR, "edits": [
        (zeros, f"        {filled} = {given}.copy()        "), ("        " + one_pass[0], "        " + one_pass[1])]}


MAF_SAMPLING = """        x = np.zeros_like(z)                                          # (N, D) filled one column per pass
        sweep = MADESweep(self.made, context)                         # the D passes share their work
        for d in self.order:
            shift, log_scale, made_cache = sweep.step(x, d)           # column d reads x before d only
            x[:, d] = z[:, d] * np.exp(log_scale[:, d]) + shift[:, d]
"""
IAF_DENSITY = """        z = np.zeros_like(x)                                          # (N, D) filled one column per pass
        sweep = MADESweep(self.made, context)                         # the D passes share their work
        for d in self.order:
            shift, log_scale, made_cache = sweep.step(z, d)           # column d reads z before d only
            z[:, d] = (x[:, d] - shift[:, d]) * np.exp(-log_scale[:, d])
"""

ADJOINT_TAIL = """        grad_shift, grad_log_scale = conditioner_grads(adjoint)
        self._made_backward(made_cache, -grad_shift, -grad_log_scale)
        return adjoint"""
ADJOINT_WHOLE_PASSES = """        adjoint = np.zeros_like(grad_out)
        for d in self.order[::-1]:                   # whole input-gradient passes, no sweep
            grad_made = np.concatenate(conditioner_grads(adjoint), axis=1)
            coupling = self.made._input_gradient(made_cache, grad_made)[:, d]
            adjoint[:, d] = (grad_out[:, d] - coupling) / (1.0 / inv_diag[:, d])
""" + ADJOINT_TAIL
ADJOINT_DENSE = """        n, dim = grad_out.shape
        rest = conditioner_grads(np.zeros_like(grad_out))            # the part of (dL/dμ, dL/ds) without u
        offset = self.made._input_gradient(made_cache, np.concatenate(rest, axis=1))   # (N, D)
        system = np.empty((n, dim, dim), dtype=grad_out.dtype)       # u -> diag u + VJP, per row
        for j in range(dim):
            unit = np.zeros_like(grad_out)
            unit[:, j] = 1.0
            moved = [a - b for a, b in zip(conditioner_grads(unit), rest)]
            system[:, :, j] = self.made._input_gradient(made_cache, np.concatenate(moved, axis=1))
            system[:, j, j] += 1.0 / inv_diag[:, j]
        adjoint = np.empty_like(grad_out)
        for row in range(n):                                         # upper triangular in the ordering
            ordered = system[row][np.ix_(self.order, self.order)]
            adjoint[row, self.order] = solve_triangular(ordered, (grad_out[row] - offset[row])[self.order])
""" + ADJOINT_TAIL

ALTERNATIVES = [
    {"id": "example2_columns_one_by_one", "task": "change_of_variables", "file": E, "edits": [
        ("""        log_x1 = np.log(x1)                                 # (N,)
        z = np.column_stack([log_x1, x[:, 1] - 2.0 * log_x1])   # (N, 2)
        log_det = -log_x1                                   # (N,)""",
         """        z = np.empty_like(x)
        z[:, 0] = np.log(x1)
        z[:, 1] = x[:, 1] - 2.0 * z[:, 0]
        log_det = -z[:, 0]"""),
        ("""        grad_x[:, 0] = (grad_z[:, 0] - 2.0 * grad_z[:, 1] - grad_log_det) / x1
        grad_x[:, 1] = grad_z[:, 1]""",
         """        g1, g2 = grad_z[:, 0], grad_z[:, 1]
        grad_x[:, 0] = g1 / x1 - 2.0 * g2 / x1 - grad_log_det / x1
        grad_x[:, 1] = g2""")]},
    {"id": "example2_in_log_space", "task": "change_of_variables", "file": E, "edits": [
        ("""    density[positive] = (np.exp(-(log_x1 ** 2 + (x2[positive] - 2.0 * log_x1) ** 2) / 2.0)
                         / (2.0 * np.pi * x1[positive]))""",
         """    u = x2[positive] - 2.0 * log_x1
    density[positive] = np.exp(-0.5 * log_x1 ** 2 - 0.5 * u ** 2 - np.log(2.0 * np.pi) - log_x1)"""),
        ("""        x1 = np.exp(z[:, 0])                                # (N,)
        x = np.column_stack([x1, z[:, 1] + 2.0 * z[:, 0]])  # (N, 2)
        log_det = z[:, 0].copy()                            # (N,)""",
         """        x = np.stack([np.exp(z[:, 0]), z[:, 1] + 2.0 * z[:, 0]], axis=1)
        log_det = np.array(z[:, 0])"""),
        ("""        grad_z[:, 0] = grad_x[:, 0] * x1 + 2.0 * grad_x[:, 1] + grad_log_det
        grad_z[:, 1] = grad_x[:, 1]""",
         """        grad_z[:] = grad_x
        grad_z[:, 0] = grad_z[:, 0] * x1 + 2.0 * grad_x[:, 1] + grad_log_det""")]},
    {"id": "triangular_einsum_and_solve", "task": "triangular", "file": T, "edits": [
        ("        z = x @ self.matrix.T ", "        z = np.einsum('ij,nj->ni', self.matrix, x)"),
        ("np.full(x.shape[0], np.sum(np.log(np.abs(np.diag(self.matrix)))))",
         "np.log(np.abs(np.diag(self.matrix))).sum() * np.ones(x.shape[0])"),
        ("solve_triangular(self.matrix, z.T, lower=True).T", "np.linalg.solve(self.matrix, z.T).T")]},
    {"id": "triangular_substitution_loop", "task": "triangular", "file": T, "edits": [
        ("        z = x @ self.matrix.T ", "        z = (self.matrix @ x.T).T"),
        ("        x = solve_triangular(self.matrix, z.T, lower=True).T ",
         """        x = np.zeros_like(z)
        for i in range(self.dim):
            x[:, i] = (z[:, i] - x[:, :i] @ self.matrix[i, :i]) / self.matrix[i, i]
        x = x """),
        ("np.full(z.shape[0], -np.sum(np.log(np.abs(np.diag(self.matrix)))))",
         "np.full(z.shape[0], -np.log(np.abs(np.prod(np.diag(self.matrix)))))")]},
    {"id": "compose_imports_numpy", "task": "composition", "file": C, "edits": [
        ("from scratchflow.bijectors.base import Bijector\n",
         "import numpy as np\n\nfrom scratchflow.bijectors.base import Bijector\n"),
        ("""        log_det = 0.0
        for k in range(len(self.layers)):
            x, layer_log_det""",
         """        log_det = np.zeros(x.shape[0], dtype=x.dtype)
        for k in range(len(self.layers)):
            x, layer_log_det"""),
        ("""        log_det = 0.0
        for k in reversed(range(len(self.layers))):
            z, layer_log_det""",
         """        log_det = np.zeros(z.shape[0], dtype=z.dtype)
        for k in np.arange(len(self.layers))[::-1]:
            z, layer_log_det""")]},
    {"id": "compose_lists_and_sum", "task": "composition", "file": C, "edits": [
        ("""        log_det = 0.0
        for k in range(len(self.layers)):
            x, layer_log_det = self._layer_forward(k, x, context)   # (N, D), (N,)
            log_det = log_det + layer_log_det                  # (N,)
        return x, log_det""",
         """        log_dets = []
        for k in range(len(self.layers)):
            x, layer_log_det = self._layer_forward(k, x, context)
            log_dets.append(layer_log_det)
        return x, sum(log_dets)"""),
        ("""        for k in reversed(range(len(self.layers))):
            grad_z = self._layer_backward""",
         """        for k in range(len(self.layers) - 1, -1, -1):
            grad_z = self._layer_backward"""),
        ("""        for k in range(len(self.layers)):
            grad_x = self._layer_inverse_backward(k, grad_x, grad_log_det)""",
         """        k = 0
        while k < len(self.layers):
            grad_x = self._layer_inverse_backward(k, grad_x, grad_log_det)
            k += 1""")]},
    {"id": "mlp_einsum_and_sums", "task": "mlp_backward", "file": A, "edits": [
        ("""        return grad_out * (1.0 - cache.y * cache.y)                   # (N, H) g ⊙ (1 − y²)""",
         """        return grad_out * (1.0 - cache.y ** 2)""")]},
    {"id": "linear_einsum_and_sums", "task": "mlp_backward", "file": L, "edits": [
        ("""        grad_weight = cache.x.T @ grad_out                           # (in, out)
        if self.mask is not None:
            grad_weight *= self.mask
        grad_bias = ones @ grad_out                                  # (out,) = Σ_n g_n""",
         """        grad_weight = np.einsum('ni,no->io', cache.x, grad_out)
        if self.mask is not None:
            grad_weight = np.where(self.mask > 0, grad_weight, 0.0)
        grad_bias = grad_out.sum(axis=0)"""),
        ("        return grad_out @ cache.weight.T ", "        return (cache.weight @ grad_out.T).T ")]},
    {"id": "linear_transposed_products", "task": "mlp_backward", "file": L, "edits": [
        ("""        grad_weight = cache.x.T @ grad_out                           # (in, out)
        if self.mask is not None:
            grad_weight *= self.mask""",
         """        grad_weight = (grad_out.T @ cache.x).T
        if self.mask is not None:
            grad_weight = grad_weight * self.mask"""),
        ("        return grad_out @ cache.weight.T ", "        return np.dot(grad_out, cache.weight.T) ")]},
    {"id": "coupling_empty_then_fill", "task": "coupling", "file": CP, "edits": [
        ("""        exp_scale = np.exp(log_scale)                              # (N, k)
        x_moved = x[:, moved]                                      # (N, k)
        z = x.copy()                                               # (N, D): z_c = x_c
        z[:, moved] = x_moved * exp_scale + shift
        log_det = log_scale.sum(axis=1)                            # (N,)""",
         """        exp_scale = np.exp(log_scale)
        x_moved = x[:, moved].copy()
        z = np.empty_like(x)
        z[:, kept] = x[:, kept]
        z[:, moved] = exp_scale * x_moved + shift
        log_det = np.sum(log_scale, axis=1)"""),
        ("""        exp_neg_scale = np.exp(-log_scale)                         # (N, k)
        x_moved = (z[:, moved] - shift) * exp_neg_scale            # (N, k)
        x = z.copy()                                               # (N, D): x_c = z_c""",
         """        exp_neg_scale = 1.0 / np.exp(log_scale)
        x_moved = (z[:, moved] - shift) / np.exp(log_scale)
        x = np.empty_like(z)
        x[:, kept] = z[:, kept]""")]},
    {"id": "coupling_scales_its_copy_in_place", "task": "coupling", "file": CP, "edits": [
        ("""        x_moved = x[:, moved]                                      # (N, k)
        z = x.copy()                                               # (N, D): z_c = x_c
        z[:, moved] = x_moved * exp_scale + shift""",
         """        z = np.array(x)                                 # a copy: x itself stays as it was
        x_moved = z[:, moved].copy()
        z[:, moved] *= exp_scale
        z[:, moved] += shift"""),
        ("""        x_moved = (z[:, moved] - shift) * exp_neg_scale            # (N, k)
        x = z.copy()                                               # (N, D): x_c = z_c
        x[:, moved] = x_moved""",
         """        x = np.array(z)
        x[:, moved] -= shift
        x[:, moved] *= exp_neg_scale
        x_moved = x[:, moved]""")]},
    {"id": "coupling_backward_named_parts", "task": "coupling_backward", "file": CP, "edits": [
        (region(CP, "coupling_backward", 1),
         """        g_r = grad_z[:, moved]
        grad_shift = g_r
        grad_s = g_r * cache.x_moved * cache.exp_scale + grad_log_det[:, None]
        grad_kept = self._net_backward(cache.net, cache.log_scale, grad_s, grad_shift)
        grad_x[:, moved] = g_r * cache.exp_scale
        grad_x[:, kept] = grad_z[:, kept] + grad_kept"""),
        ("""        grad_x_moved = grad_x[:, moved]                            # (N, k) g_r
        grad_z_moved = grad_x_moved * cache.exp_neg_scale          # (N, k)
        grad_log_scale = -(grad_x_moved * cache.x_moved)           # (N, k) −g_r ⊙ x_r
        grad_log_scale -= grad_log_det[:, None]                    # − h""",
         """        grad_x_moved = grad_x[:, moved]
        grad_z_moved = grad_x_moved / np.exp(cache.log_scale)
        grad_log_scale = -grad_x_moved * cache.x_moved - grad_log_det[:, None]""")]},
    {"id": "coupling_backward_copy_then_adjust", "task": "coupling_backward", "file": CP, "edits": [
        (region(CP, "coupling_backward", 1),
         """        grad_x[:] = grad_z
        grad_x[:, moved] *= cache.exp_scale
        grad_s = grad_x[:, moved] * cache.x_moved + grad_log_det[:, None]
        grad_x[:, kept] += self._net_backward(cache.net, cache.log_scale, grad_s, grad_z[:, moved])"""),
        ("""        grad_kept = self._net_backward(cache.net, cache.log_scale, grad_log_scale, -grad_z_moved)
        grad_z[:, kept] = grad_x[:, kept] + grad_kept
        grad_z[:, moved] = grad_z_moved""",
         """        grad_z[:] = grad_x
        grad_z[:, moved] = grad_z_moved
        grad_z[:, kept] += self._net_backward(cache.net, cache.log_scale, grad_log_scale, -grad_z_moved)""")]},
    {"id": "made_loops", "task": "made_masks", "file": M, "edits": [
        ("    input_degrees[order] = np.arange(1, dim + 1) ",
         "    for position, d in enumerate(order):\n        input_degrees[d] = position + 1 "),
        ("""    masks = [(later[None, :] >= earlier[:, None]).astype(float)       # (H_{l−1}, H_l)
             for earlier, later in zip(degrees[:-1], degrees[1:])]""",
         """    masks = []
    for layer in range(1, len(degrees)):
        mask = np.zeros((len(degrees[layer - 1]), len(degrees[layer])))
        for j, low in enumerate(degrees[layer - 1]):
            for k, high in enumerate(degrees[layer]):
                mask[j, k] = 1.0 if high >= low else 0.0
        masks.append(mask)""")]},
    {"id": "made_outer_comparisons", "task": "made_masks", "file": M, "edits": [
        ("    input_degrees[order] = np.arange(1, dim + 1) ", "    input_degrees[:] = np.argsort(order) + 1 "),
        ("""    masks = [(later[None, :] >= earlier[:, None]).astype(float)       # (H_{l−1}, H_l)
             for earlier, later in zip(degrees[:-1], degrees[1:])]
    output = (degrees[0][None, :] > degrees[-1][:, None]).astype(float)   # (H_last, D)""",
         """    masks = [np.less_equal.outer(a, b) * 1.0 for a, b in zip(degrees, degrees[1:])]
    output = np.less.outer(degrees[-1], degrees[0]).astype(float)""")]},
    copy_initialised("maf", "x", "z", ("z = (x - shift) * inv_scale      ", "z = (x - shift) / np.exp(log_scale)")),
    {"id": "maf_whole_passes_every_column", "task": "maf", "file": AR, "edits": [
        (MAF_SAMPLING, """        x = np.zeros_like(z)
        for d in self.order:                       # D whole passes; pass i gets column order[i] right
            shift, log_scale, made_cache = self._conditioner(x, context)
            x = z * np.exp(log_scale) + shift
"""),
        ("        log_det = -log_scale.sum(axis=1)                              # (N,)\n        # <<< task maf",
         "        log_det = -np.sum(log_scale, axis=1)\n        # <<< task maf")]},
    copy_initialised("iaf", "z", "x", ("x = z * scale + shift           ", "x = shift + np.exp(log_scale) * z")),
    {"id": "iaf_whole_passes_every_column", "task": "iaf", "file": AR, "edits": [
        (IAF_DENSITY, """        z = np.zeros_like(x)
        for d in self.order:                       # D whole passes; pass i gets column order[i] right
            shift, log_scale, made_cache = self._conditioner(z, context)
            z = (x - shift) / np.exp(log_scale)
""")]},
    {"id": "loss_sum_over_m", "task": "loss", "file": F, "edits": [
        ("""        log_px = self._base_log_prob(z) + log_det                 # (m,) log p_x(x_i)
        loss = -np.mean(log_px)""",
         """        log_px = self.base.log_prob(z) + log_det
        loss = -log_px.sum() / len(log_px)"""),
        ("""        grad_z = -self.base.grad_log_prob(z) / m                  # (m, D)
        grad_log_det = np.full(m, -1.0 / m, dtype=z.dtype)        # (m,)""",
         """        grad_z = self.base.grad_log_prob(z) * (-1.0 / m)
        grad_log_det = np.full_like(z[:, 0], -1.0 / m)""")]},
    {"id": "loss_terms_swapped", "task": "loss", "file": F, "edits": [
        ("""        log_px = self._base_log_prob(z) + log_det                 # (m,) log p_x(x_i)
        loss = -np.mean(log_px)""",
         """        log_px = log_det + self._base_log_prob(z)
        loss = -(log_px.mean())"""),
        ("""        grad_z = -self.base.grad_log_prob(z) / m                  # (m, D)
        grad_log_det = np.full(m, -1.0 / m, dtype=z.dtype)        # (m,)""",
         """        grad_z = -(1.0 / m) * self.base.grad_log_prob(z)
        grad_log_det = -np.ones(m, dtype=z.dtype) / m""")]},
    {"id": "sgd_velocity_written_out", "task": "sgd", "file": O, "edits": [
        (region(O, "sgd"),
         """        if self.momentum:
            velocity[:] = self.momentum * velocity + grad
            theta[:] = theta - self.lr * velocity
        else:
            theta[:] = theta - self.lr * grad""")]},
    {"id": "sgd_ufuncs", "task": "sgd", "file": O, "edits": [
        (region(O, "sgd"),
         """        np.multiply(velocity, self.momentum, out=velocity)
        np.add(velocity, grad, out=velocity)
        np.subtract(theta, self.lr * (velocity if self.momentum else grad), out=theta)""")]},
    {"id": "adam_slide_form", "task": "adam", "file": O, "edits": [
        (region(O, "adam"),
         """        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad * grad
        m_hat = m / (1.0 - self.beta1 ** t)
        v_hat = v / (1.0 - self.beta2 ** t)
        theta -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)""")]},
    {"id": "adam_folded_written_out", "task": "adam", "file": O, "edits": [
        (region(O, "adam"),
         """        m[:] = self.beta1 * m + (1.0 - self.beta1) * grad
        v[:] = self.beta2 * v + (1.0 - self.beta2) * grad ** 2
        root = np.sqrt(1.0 - self.beta2 ** t)
        step = self.lr * root / (1.0 - self.beta1 ** t)
        theta -= step * m / (np.sqrt(v) + self.eps * root)""")]},
    {"id": "training_while_loop", "task": "training", "file": OB, "edits": [
        ("""        order = rng.permutation(n)                                    # (n,)
        for start in range(0, n, batch_size):
            yield epoch, order[start:start + batch_size]              # (m,)""",
         """        shuffled = rng.permutation(n)
        start = 0
        while start < n:
            yield epoch, shuffled[start:start + batch_size]
            start += batch_size"""),
        ("""        self.epoch, indices = next(self.batches)
        return self.flow.loss_and_grad(self.data[indices])            # fills flow.grads""",
         """        epoch, indices = next(self.batches)
        self.epoch = epoch
        batch = self.data[indices]
        loss = self.flow.loss_and_grad(batch)
        return loss""")]},
    {"id": "training_shuffle_and_split", "task": "training", "file": OB, "edits": [
        ("""        order = rng.permutation(n)                                    # (n,)
        for start in range(0, n, batch_size):
            yield epoch, order[start:start + batch_size]              # (m,)""",
         """        order = np.arange(n)
        rng.shuffle(order)
        for batch in np.split(order, np.arange(batch_size, n, batch_size)):
            yield epoch, batch"""),
        ("""        self.epoch, indices = next(self.batches)
        return self.flow.loss_and_grad(self.data[indices])            # fills flow.grads""",
         """        self.epoch, rows = next(self.batches)
        return self.flow.loss_and_grad(np.take(self.data, rows, axis=0))""")]},
    {"id": "generation_keywords", "task": "generation", "file": F, "edits": [
        ("""        z = self.base.sample(n, rng, dtype=self.dtype)            # (n, D)
        x, _ = self.layers.inverse(z, context)""",
         """        z = self.base.sample(n, rng=rng, dtype=self.dtype)
        x = self.layers.inverse(z, context=context)[0]""")]},
    {"id": "histogram_by_division", "task": "generation", "file": H, "edits": [
        ("""    counts, _ = np.histogram(samples, bins=edges)                      # (K,)
    heights = counts / (samples.size * np.diff(edges))                 # (K,)""",
         """    counts = np.histogram(samples, edges)[0]
    heights = counts / np.diff(edges) / len(samples)""")]},
    {"id": "histogram_counted_by_hand", "task": "generation", "file": H, "edits": [
        ("""    counts, _ = np.histogram(samples, bins=edges)                      # (K,)
    heights = counts / (samples.size * np.diff(edges))                 # (K,)""",
         """    bins = np.searchsorted(edges, samples, side="right") - 1      # the last edge closes the last bin
    bins[samples == edges[-1]] = len(edges) - 2
    inside = (bins >= 0) & (bins < len(edges) - 1)
    counts = np.bincount(bins[inside], minlength=len(edges) - 1)
    heights = counts / (samples.size * (edges[1:] - edges[:-1]))""")]},
    {"id": "adjoint_whole_input_gradients", "task": "adjoint", "file": AR, "edits": [
        (region(AR, "adjoint", 0), ADJOINT_WHOLE_PASSES)]},
    {"id": "adjoint_dense_triangular_solve", "task": "adjoint", "file": AR, "edits": [
        ("import numpy as np\n", "import numpy as np\nfrom scipy.linalg import solve_triangular\n"),
        (region(AR, "adjoint", 0), ADJOINT_DENSE)]},
]
