"""Experiment against theory (slides "Пример 1", "Пример 2": «Эксперимент» / «Теория»).

The slides draw samples as the generation algorithm does (z ~ p_z, x = f^{-1}(z)) and lay their
histogram over the analytic density p_x. For the two to be comparable the histogram must be a
density itself: bin k, of width w_k = e_{k+1} − e_k, holding c_k of the n samples, has height

    h_k = c_k / (n · w_k),       so that Σ_k h_k w_k = 1 (when no sample falls outside the bins).

:func:`experiment_vs_theory` returns both sides at the bins' centres; a correct sampler gives a
gap that shrinks like 1/√n.
"""
import numpy as np


def histogram_density(samples, edges):
    """Heights (K,) of the density histogram of 1-D ``samples`` (n,) over ``edges`` (K + 1,),
    increasing; a sample outside [edges[0], edges[-1]] counts in n but in no bin. Bin k holds
    the samples in [e_k, e_{k+1}), the last bin also its right edge.
    """
    samples = np.asarray(samples, dtype=np.float64).ravel()           # (n,)
    edges = np.asarray(edges, dtype=np.float64)                        # (K + 1,)
    if edges.ndim != 1 or edges.size < 2 or (np.diff(edges) <= 0).any():
        raise ValueError("edges must be an increasing 1-D array of at least two numbers")
    if samples.size == 0:
        raise ValueError("a histogram density needs at least one sample")
    # >>> task generation
    counts, _ = np.histogram(samples, bins=edges)                      # (K,)
    heights = counts / (samples.size * np.diff(edges))                 # (K,)
    # <<< task generation
    return heights


def experiment_vs_theory(samples, density, edges):
    """``(experiment (K,), theory (K,))``: the histogram density of ``samples`` and ``density``
    (a function of an array of points) at the bins' centres."""
    edges = np.asarray(edges, dtype=np.float64)
    centres = 0.5 * (edges[1:] + edges[:-1])                           # (K,)
    return histogram_density(samples, edges), np.asarray(density(centres), dtype=np.float64)
