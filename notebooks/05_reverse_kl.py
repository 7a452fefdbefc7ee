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
# # 5. Reverse KL on the targets U1–U4: a density you can evaluate but not sample
#
# Slide «Постановка задачи» / problem statement, with a target density instead of data; the
# objective IAF was designed for (slide «Inverse Autoregressive Flow (IAF)»). Source:
# [scratchflow/targets.py](../scratchflow/targets.py) (U1–U4 and their gradients),
# [scratchflow/flow.py](../scratchflow/flow.py) (`Flow.reverse_kl_loss_and_grad`),
# [scratchflow/objectives.py](../scratchflow/objectives.py) (`ReverseKL`), and the write-up
# [docs/reverse_kl.md](../docs/reverse_kl.md).
#
# With $p^*(x) \propto \exp(-U(x))$ and the flow's own samples $x = f^{-1}(z)$, $z \sim N(0, I)$:
#
# $$\mathrm{KL}(q\,\|\,p) = \mathbb{E}_{x\sim q}\big[\log q(x) - \log p^*(x)\big] + \log Z .$$
#
# Training minimises the expectation (the loss); $\log Z$ does not depend on the flow, and
# `log_normalizer` computes it on a grid so the loss can be read as a KL (0 is a perfect fit).

# %%
import os

from IPython.display import Image, display

from scratchflow.models import build_realnvp
from scratchflow.plotting import plot_density, plot_layers
from scratchflow.targets import load_target, log_normalizer
from scratchflow.train import fit

FAST = os.environ.get("SCRATCHFLOW_FAST") == "1"      # the test suite's quick setting
STEPS = 40 if FAST else 3000
HIDDEN = (16, 16) if FAST else (64, 64)
LAYERS = 4 if FAST else 8
RESOLUTION = 40 if FAST else 200
DRAWN = ("u3",) if FAST else ("u1", "u2", "u3", "u4")   # figures take longer than training here
FIGURES = "figures/05_reverse_kl"
SQUARE = ((-4.0, -4.0), (4.0, 4.0))                   # the paper's plotting square

# %%
flows = {}
for name in ("u1", "u2", "u3", "u4"):
    target = load_target(name)
    flow = build_realnvp(dim=2, n_layers=LAYERS, hidden=HIDDEN, seed=0)
    history = fit(flow, target=target, steps=STEPS, batch_size=256, lr=1e-3, seed=0)
    kl = history.best_val_loss + log_normalizer(target)
    print(f"{name}: KL(q || p) = {kl:.3f} nats after {history.steps} steps")
    flows[name] = flow
    if name in DRAWN:
        display(Image(plot_density(flow, None, FIGURES, filename=f"density_{name}.png", target=target,
                                   limits=SQUARE, resolution=RESOLUTION, title=name.upper())))

# %% [markdown]
# «Больше слоев!» for a reverse-KL run: there is no data, so the first panel shows the flow's own
# samples $x = f^{-1}(z)$, pushed back through each layer to $z$.

# %%
flow = flows["u1"]
display(Image(plot_layers(flow, flow.sample(1000, rng=0), FIGURES, filename="layers_u1.png",
                          input_label="x = f⁻¹(z) (samples) / сэмплы")))

# %% [markdown]
# ## What this shows
# Without any data, minimising KL(q ‖ p*) with draws from the base fits all four targets: the
# printed KL (the validation estimate plus log Z) falls well below the untrained base's 3-5 nats,
# the densities match the paper's shapes, and the layer panels show the flow's own samples pulled
# back to $N(0, I)$. Reverse KL is mode-seeking: where a target has separated modes (U3, U4), a
# flow that misses part of the mass is punished little, so look for thin or missing pieces there.
#
# ## Questions and experiments
# 1. Which target has the largest remaining KL, and where in its picture is the mass the flow
#    misses?
# 2. Fit U1 by maximum likelihood instead: draw data from the trained flow of another run and fit
#    a fresh flow to it. How do the two objectives differ in what they forgive?
# 3. Double `LAYERS` or `STEPS`: which target gains the most?
