# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. MAF vs IAF: one pass vs D passes
#
# Slides «Masked Autoregressive Flow (MAF)» and «Inverse Autoregressive Flow (IAF)». Source:
# [scratchflow/nn/made.py](../scratchflow/nn/made.py) (`MADE`: all $\mu_d, s_d$ in one masked pass),
# [scratchflow/bijectors/autoregressive.py](../scratchflow/bijectors/autoregressive.py) (`MAF`, `IAF`),
# [scratchflow/models.py](../scratchflow/models.py) (`build_autoregressive`).
#
# MAF: $z_d = (x_d - \mu_d(x_{1:d-1}))\exp(-s_d(x_{1:d-1}))$. The conditioners read $x$, so the
# density (x → z) is **one** MADE pass; sampling (z → x) must build $x$ one dimension at a time,
# **D** passes. IAF: the conditioners read $z$, so it is the other way round. Both have
# $\log|\det \partial f/\partial x| = -\sum_d s_d$.

# %%
import os
import time

import numpy as np
from IPython.display import Image, display

from scratchflow.data import load_dataset
from scratchflow.models import build_autoregressive
from scratchflow.plotting import plot_density, plot_samples
from scratchflow.train import fit, limit_blas_threads

FAST = os.environ.get("SCRATCHFLOW_FAST") == "1"      # the test suite's quick setting
DIMENSIONS = (2, 8) if FAST else (2, 8, 32)
N = 200 if FAST else 2000
STEPS = 60 if FAST else 3000
HIDDEN = (16, 16) if FAST else (64, 64)
FIGURES = "figures/04_maf_vs_iaf"


def seconds(function, repeats=3):
    """Best of a few wall-clock timings of ``function()``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


# %% [markdown]
# ## Timed: density and sampling as D grows
# Untrained flows are enough here: the cost does not depend on the weights.

# %%
print(f"{'D':>3} {'model':>5} {'log_prob (s)':>13} {'sample (s)':>11}")
with limit_blas_threads(1):
    for dim in DIMENSIONS:
        x = np.random.default_rng(0).standard_normal((N, dim))              # (N, D)
        for model in ("maf", "iaf"):
            flow = build_autoregressive(model, dim, n_layers=2, hidden=HIDDEN, seed=0)
            density_time = seconds(lambda: flow.log_prob(x))
            sample_time = seconds(lambda: flow.sample(N, rng=0))
            print(f"{dim:>3} {model:>5} {density_time:>13.4f} {sample_time:>11.4f}")

# %% [markdown]
# MAF's `log_prob` stays flat as D grows while its `sample` grows about linearly in D; IAF is the
# mirror image.
#
# ## Trained on eight Gaussians: density (MAF's fast direction) and samples (IAF's)

# %%
train = load_dataset("8gaussians", 8000, rng=0)       # (8000, 2)
validation = load_dataset("8gaussians", 2000, rng=1)  # (2000, 2)
flows = {}
for model in ("maf", "iaf"):
    flows[model] = build_autoregressive(model, 2, n_layers=5, hidden=HIDDEN, seed=0)
    history = fit(flows[model], train, validation, steps=STEPS, batch_size=256, lr=1e-3, seed=0)
    print(model, history.stopped, f"- best validation NLL {history.best_val_loss:.4f} nats")

# %% [markdown]
# MAF's density on a grid (one MADE pass per layer for all grid points at once):

# %%
display(Image(plot_density(flows["maf"], validation, FIGURES, filename="density_maf.png",
                           resolution=50 if FAST else 200, title="MAF")))

# %% [markdown]
# IAF's samples (one pass per layer); `plot_samples(flows["maf"], ...)` draws MAF's, D passes each.

# %%
display(Image(plot_samples(flows["iaf"], validation, FIGURES, filename="samples_iaf.png", n=1000,
                           title="IAF")))

# %% [markdown]
# ## What this shows
# MAF and IAF are the same autoregressive map used in opposite directions: both reach similar
# validation NLLs on eight Gaussians, but MAF evaluates the density in one MADE pass per layer and
# samples in D passes, while IAF samples in one pass and needs D passes for the density. With
# D = 2 the difference is small; it grows linearly with D.
#
# ## Questions and experiments
# 1. Time `flow.log_prob` and `flow.sample` for MAF and IAF at D = 2, 8 and 32 (build on random
#    data). Which direction grows with D, for which model?
# 2. Train IAF by reverse KL (`fit(flow, target=load_target("u1"))`) instead of on data. Why is
#    this the objective IAF was designed for?
# 3. Change `order` to `"natural"` in every layer. Does the validation NLL suffer, and why?
