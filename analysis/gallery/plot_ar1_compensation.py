"""
AR1 filters and transient compensation
======================================

Momentum and Adam's first moment are the same AR1 low-pass filter on the
gradient, ``y[n] = a y[n-1] + c x[n]``, normalised two ways: Keras's momentum
takes ``c = 1`` (unit *input* gain, DC gain ``H(1) = 1 / (1 - a)``), Adam
takes ``c = 1 - a`` (unit *DC* gain, ``H(1) = 1``). Started from rest, the
filter's step response only reaches its DC gain after a transient of about
``1 / (1 - a)`` steps; Adam's bias correction divides the output by the step
response so far, ``H(1) / s[n]``, which removes the transient exactly for a
constant input and leaves the filtering of everything else unchanged.
"""

# sphinx_gallery_thumbnail_number = 2
import numpy as np

from filteropt import analysis as A
from filteropt import filters as F
from filteropt import plotting as P
from filteropt.signal.compensation import FilterPath

ALPHA = 0.9

# %%
# Unit DC gain against unit input gain
# ------------------------------------
# The same pole at ``alpha``; only the input coefficient differs, and with it
# the level the step response settles at.


def ar1_step_responses(alpha=ALPHA):
    """The unit step responses of ``ema(alpha)`` and ``trace(alpha)``."""
    fig, ax = P.figure_axes(None)
    n = np.arange(40)
    for f, name in (
        (F.ema(alpha), "unit DC gain: y = a y + (1 - a) x"),
        (F.trace(alpha), "unit input gain: y = a y + x"),
    ):
        ax.plot(n, f.step_response(40), ".-", label=f"{name}, H(1) = {f.dc_gain:g}")
    ax.set_title(f"AR1 unit step responses, alpha = {alpha}")
    ax.set_xlabel("step n")
    ax.set_ylabel("s[n]")
    P.legend_outside(ax)
    return fig


if __name__ == "__main__":  # run by the gallery; make_figures.py imports figures()
    ar1_step_responses()

# %%
# Transient compensation of a step
# --------------------------------
# Dividing by ``s[n] / H(1)`` makes the compensated step response flat from
# the first step.


def compensation_step(alpha=ALPHA):
    """The step response of ``ema(alpha)`` with and without compensation."""
    fig, ax = P.figure_axes(None)
    P.plot_step(F.ema(alpha), ax=ax, n=40, compensated="both", labels=[f"ema({alpha})"])
    ax.set_title(f"transient compensation of a step: H(1)/s[n] (alpha = {alpha})")
    return fig


if __name__ == "__main__":
    compensation_step()

# %%
# A cosine in noise
# -----------------
# On a real signal the compensated filter tracks the input's level from the
# start, while the plain filter first climbs from zero; after the transient
# the two agree, both low-pass filtering the noise.


def compensation_noisy_cosine(alpha=ALPHA):
    """``1 + cos(2 pi n / 60)`` plus white noise through ``ema(alpha)``, with and
    without transient compensation."""
    fig, ax = P.figure_axes(None)
    rng = np.random.default_rng(0)
    n = np.arange(120)
    x = np.cos(2 * np.pi * n / 60) + 0.5 * rng.standard_normal(len(n)) + 1.0
    ax.plot(n, x, color="0.7", lw=0.8, label="input: 1 + cos(2 pi n / 60) + noise")
    ax.plot(n, A.path_response(FilterPath(F.ema(alpha)), x), label=f"ema({alpha})")
    ax.plot(
        n,
        A.path_response(FilterPath(F.ema(alpha), compensate=True), x),
        label=f"ema({alpha}) with transient compensation",
    )
    ax.set_title(f"transient compensation, a cosine in noise (alpha = {alpha})")
    ax.set_xlabel("step n")
    P.legend_outside(ax)
    return fig


if __name__ == "__main__":
    compensation_noisy_cosine()


# %%
# The figures in ``analysis/figures/``
# ------------------------------------


def figures():
    """{file name: figure} for ``analysis/make_figures.py``."""
    return {
        "ar1_step_responses.png": ar1_step_responses(),
        "transient_compensation_step.png": compensation_step(),
        "transient_compensation_noisy_cosine.png": compensation_noisy_cosine(),
    }
