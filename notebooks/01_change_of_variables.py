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
# # 1. Change of variables: Examples 1 and 2
#
# Slides «Теорема о замене переменных» / change of variables, «Пример 1», «Пример 2» and
# «Эксперимент / Теория» (lecture 4, [digest](../docs/lecture_map.md)). Source:
# [scratchflow/bijectors/examples.py](../scratchflow/bijectors/examples.py) (the two maps and their
# densities), [scratchflow/plotting/examples.py](../scratchflow/plotting/examples.py) (the figures),
# [scratchflow/flow.py](../scratchflow/flow.py) (`Flow.log_prob`).
#
# Given $p_z(z)$ and $z = f(x)$:
# $\quad p_x(x) = p_z(f(x))\,\left|\det \dfrac{\partial f(x)}{\partial x}\right|$,
# or in logs, what every layer of scratchflow returns:
# $\log p_x(x) = \log p_z(f(x)) + \log|\det \partial f/\partial x|$.

# %%
import os

import numpy as np
from IPython.display import Image, display

from scratchflow import Example2Map, Flow, example1_bijector
from scratchflow.bijectors.examples import example1_density, example2_density
from scratchflow.plotting import plot_example

FAST = os.environ.get("SCRATCHFLOW_FAST") == "1"      # the test suite's quick setting
N_SAMPLES = 5_000 if FAST else 100_000
FIGURES = "figures/01_change_of_variables"

# %% [markdown]
# ## Example 1: $z = f(x) = 0.5x - 2.5$, $p_z = N(0, 1)$
# The Jacobian is the 1×1 matrix (0.5), so $p_x(x) = 0.5\,N(0.5x - 2.5;\,0, 1) = N(5, 2^2)$.
# A one-layer flow computes the same number from the layer's `log_det`:

# %%
flow = Flow([example1_bijector()])
x = np.linspace(-3.0, 13.0, 9)[:, None]                     # (9, 1)
from_flow = np.exp(flow.log_prob(x))                         # (9,)
from_slide = example1_density(x[:, 0])                       # (9,)
print("largest difference:", np.max(np.abs(from_flow - from_slide)))
assert np.allclose(from_flow, from_slide)

# %% [markdown]
# «Эксперимент / Теория»: samples drawn as on the slide, $z \sim N(0, 1)$, $x = f^{-1}(z) = 2z + 5$,
# against the density above.

# %%
display(Image(plot_example(1, FIGURES, n=N_SAMPLES, rng=0)))

# %% [markdown]
# ## Example 2: $z_1 = \ln x_1$, $z_2 = x_2 - 2\ln x_1$
# Jacobian $\begin{pmatrix} 1/x_1 & 0 \\ -2/x_1 & 1 \end{pmatrix}$, $|\det| = 1/x_1$, so
# $p_x(x) = \frac{1}{2\pi x_1}\exp\!\big(-\tfrac12[(\ln x_1)^2 + (x_2 - 2\ln x_1)^2]\big)$.

# %%
flow = Flow([Example2Map()])
rng = np.random.default_rng(0)
x = np.column_stack([rng.uniform(0.1, 4.0, 200), rng.uniform(-4.0, 6.0, 200)])   # (200, 2)
from_flow = np.exp(flow.log_prob(x))                                            # (200,)
from_slide = example2_density(x[:, 0], x[:, 1])                                 # (200,)
print("largest relative difference:", np.max(np.abs(from_flow / from_slide - 1)))
assert np.allclose(from_flow, from_slide)

# %% [markdown]
# The histogram of $x = f^{-1}(z)$ ($x_1 = e^{z_1}$, $x_2 = z_2 + 2z_1$) and the density, on one
# colour scale: equal colours are equal densities.

# %%
display(Image(plot_example(2, FIGURES, n=N_SAMPLES, rng=0)))

# %% [markdown]
# Try: change `N_SAMPLES` and watch the experiment approach the theory; or write your own map in
# `Example2Map`'s style and check it with `scratchflow.checks.check_bijector`.

# %% [markdown]
# ## What this shows
# The flow's density $p_z(f(x))\,|\det \partial f/\partial x|$ and the slide's closed form agree
# to round-off at every point (the largest relative difference printed above), and the histogram
# of $x = f^{-1}(z)$ lands on the same colours as the formula: the change-of-variables formula is
# the whole story, in both directions.
#
# ## Questions and experiments
# 1. Drop the $|\det|$ factor from the formula (use $p_z(f(x))$ alone). Where in the
#    $(x_1, x_2)$ plane does the histogram disagree with it most, and why there?
# 2. How many samples does the histogram need before it matches the density by eye? Change
#    `N_SAMPLES` by factors of 10 and watch the noise shrink like $1/\sqrt{n}$.
# 3. Write $z_1 = \ln x_1$, $z_2 = x_2 - x_1^2$ as a `Bijector` in `Example2Map`'s style and check it
#    with `check_bijector`: what is its log-det?
