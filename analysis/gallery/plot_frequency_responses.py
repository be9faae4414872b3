"""
Gradient filters in the frequency domain
========================================

Read as a filter on the gradient sequence, momentum is an AR1 low-pass:
``H(z) = 1 / (1 - a z^-1)`` passes the slowly varying part of the gradient
(the direction of descent) with gain ``1 / (1 - a)`` and attenuates the
fast, alternating part (noise, oscillation across a valley) towards
``1 / (1 + a)``. Nesterov's momentum adds a zero, ``((1 + a) - a z^-1) /
(1 - a z^-1)``, which lifts the high frequencies again. Adam's gradient
filter has unit DC gain, so its learning rate is not scaled by its momentum
as SGD's is. Higher-order low-passes (a Butterworth, normalised to the same
unit input gain) cut the high band more sharply for the same pass band.

Each curve is ``|H(e^{j 2 pi nu})|`` of the optimizer's recipe, in dB,
against the normalised frequency ``nu`` in cycles per step (0.5: a gradient
that flips sign every step).
"""

from filteropt import plotting as P

#: file name -> (optimizer specs, title): one figure each.
RESPONSES = {
    "momentum_frequency.png": (["momentum"], "standard momentum"),
    "nesterov_frequency.png": (["nesterov"], "Bengio-Nesterov momentum"),
    "adam_frequency.png": (["adam"], "Adam (unit DC gain: lr and momentum not coupled)"),
    "momentum_vs_nesterov.png": (
        ["momentum", "nesterov"],
        "Nesterov attenuates high frequencies less than momentum",
    ),
    "butterworth_momentum.png": (
        [
            "momentum:momentum=0.9",
            "butterworth:order=1,cutoff=0.05,momentum_gain=input",
            "butterworth:order=2,cutoff=0.05,momentum_gain=input",
            "butterworth:order=4,cutoff=0.05,momentum_gain=input",
        ],
        "Butterworth low-pass as momentum (unit input gain)",
    ),
}


def frequency_figure(specs, title):
    """The magnitude response of each spec's gradient filter."""
    fig = P.plot_frequency(specs, phase=False)
    fig.axes[0].set_title(f"gradient filter frequency response: {title}")
    return fig


# %%
# Momentum, Nesterov and Adam
# ---------------------------
# Momentum 0.9: 20 dB at DC, -5.6 dB at the Nyquist frequency. Nesterov at
# the same momentum keeps the DC gain but rises again towards Nyquist. Adam's
# filter has the same pole as momentum at ``beta_1 = 0.9`` and unit DC gain:
# the whole curve is 20 dB lower.

if __name__ == "__main__":  # run by the gallery; make_figures.py imports figures()
    for name in ("momentum_frequency.png", "nesterov_frequency.png", "adam_frequency.png"):
        frequency_figure(*RESPONSES[name])

# %%
# Momentum against Nesterov
# -------------------------

if __name__ == "__main__":
    frequency_figure(*RESPONSES["momentum_vs_nesterov.png"])

# %%
# A Butterworth low-pass as momentum
# ----------------------------------
# Orders 1, 2 and 4 at a cutoff of 0.05 cycles per step, each scaled to the
# unit input gain of Keras's momentum, against momentum 0.9.

if __name__ == "__main__":
    frequency_figure(*RESPONSES["butterworth_momentum.png"])


# %%
# The figures in ``analysis/figures/``
# ------------------------------------


def figures():
    """{file name: figure} for ``analysis/make_figures.py``."""
    return {name: frequency_figure(*args) for name, args in RESPONSES.items()}
