"""Task 5 — MADE masks from degrees (slide "Masked Autoregressive Flow, MAF": "in practice one MADE
network computes all μ_d and s_d in one pass, with masks"; Germain et al., arXiv 1502.03509).

An autoregressive network's output for dimension d may read inputs x_1..x_{d−1} only. MADE gets
this from an ordinary MLP by multiplying every weight matrix (row convention, W (in, out)) by a 0/1
mask built from *degrees*:

* input unit i has degree m(i) = its position in the ordering (1..D);
* hidden unit k has a degree in 1..D−1 (here: ``m(k) = (k mod (D − 1)) + 1``, k = 0, 1, ...; all
  ones when D = 1);
* a hidden layer may connect unit i -> k when ``m(k) >= m(i)``:  ``M[i, k] = 1[m(k) >= m(i)]``;
* the output layer is stricter, ``M[k, j] = 1[m(j) > m(k)]``, so output d sees only inputs of
  smaller degree. Each dimension has ``n_params`` outputs (μ and s: n_params = 2); output column
  ``p * D + (d − 1)`` has the degree of input d.

You write ``hidden_degrees``, ``hidden_mask``, ``output_mask`` and ``made_masks``. Shapes: degree
vectors are int arrays; a mask between layers of sizes a and b is a float array (a, b) of 0 and 1.

What the public tests check (``python -m pytest tests/test_task5_made_masks.py``): mask shapes,
the slide's small example, and the autoregressive property — ``(M_1 @ ... @ M_out)[i, j] == 0``
whenever output j's degree <= input i's degree — also run through :class:`scratchflow.nn.MaskedLinear`.
The package's checker tests a whole layer; here the property is the check: build a network from
your masks and see that changing x_i moves no output of degree <= i (as the last public test does;
``scratchflow.checks.numerical_jacobian`` shows the same as a strictly triangular Jacobian).

Not allowed in this file: scratchflow's MADE (``scratchflow.nn.made``, ``MADE``).
"""
import numpy as np


def hidden_degrees(n_units, dim):
    """Degrees of a hidden layer with ``n_units`` units for data of dimension ``dim`` -> (n_units,) int."""
    # TODO m(k) = (k mod (D - 1)) + 1 for k = 0..n_units-1 (all ones when D = 1)
    raise NotImplementedError('Task 5. MADE masks from degrees: hidden_degrees is not written yet (see the TODO above)')


def hidden_mask(degrees_in, degrees_out):
    """Mask of a hidden layer: ``M[i, k] = 1[m_out(k) >= m_in(i)]`` -> (len(in), len(out)) float."""
    # TODO M[i, k] = 1 when degrees_out[k] >= degrees_in[i], else 0 (broadcast, no loops)
    raise NotImplementedError('Task 5. MADE masks from degrees: hidden_mask is not written yet (see the TODO above)')


def output_mask(degrees_in, degrees_out):
    """Mask of the output layer: ``M[k, j] = 1[m_out(j) > m_in(k)]`` (strict) -> float array."""
    # TODO M[k, j] = 1 when degrees_out[j] > degrees_in[k] (strictly greater), else 0
    raise NotImplementedError('Task 5. MADE masks from degrees: output_mask is not written yet (see the TODO above)')


def made_masks(dim, hidden_sizes, ordering=None, n_params=2):
    """All masks of a MADE with layer sizes ``[dim, *hidden_sizes, n_params * dim]``.

    Parameters
    ----------
    dim : int
    hidden_sizes : list of int
    ordering : array of the degrees 1..dim of the inputs (a permutation); default 1, 2, ..., dim
    n_params : int, outputs per dimension

    Returns
    -------
    list of float arrays, one per layer: (dim, h1), (h1, h2), ..., (h_last, n_params * dim)
    """
    ordering = np.arange(1, dim + 1) if ordering is None else np.asarray(ordering)
    # TODO degrees: inputs = ordering, hidden layers = hidden_degrees, outputs = ordering tiled n_params times
    # TODO hidden_mask between hidden layers, output_mask last
    raise NotImplementedError('Task 5. MADE masks from degrees: made_masks is not written yet (see the TODO above)')
