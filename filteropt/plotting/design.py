"""The speed-noise trade-off figure, from :mod:`filteropt.design.tradeoff`.

Nothing here imports a deep-learning backend.
"""

from __future__ import annotations

import numpy as np

from .. import analysis as A
from .. import design as D
from ..signal import filters as F
from .responses import figure_axes

__all__ = ["plot_tradeoff", "TRADEOFF_CURVES"]

#: (family, order) drawn by :func:`plot_tradeoff` by default.
TRADEOFF_CURVES = (("heavy_ball", None), ("nesterov", None), ("butterworth", None),
                   ("designed", 1), ("designed", 2), ("designed", 3), ("designed", 4))

_STYLE = {"heavy_ball": dict(marker="o", ls="-"), "nesterov": dict(marker="s", ls="-"),
          "butterworth": dict(marker="^", ls="-"), "designed": dict(marker=".", ls="--")}


def plot_tradeoff(kappa: float, ax=None, curves=TRADEOFF_CURVES, n_points: int = 6,
                  noise: str = "gradient", classic_points: int = 40, optima: bool = True,
                  **design_kwargs):
    """Worst-case rate against noise gain at lambda = 1, one curve per family.

    Each curve is drawn in the order of its parameter (momentum, cutoff,
    decreasing noise bound), so a family that doubles back shows it.

    ``curves`` lists ``(family, order)`` pairs (see :func:`design.tradeoff`):
    heavy ball, Nesterov and order-2 Butterworth sweep their parameter
    (``classic_points`` values, best learning rate each); the designed
    filters sweep the noise bound (``n_points`` bounds; about 15 s per bound
    for orders 1 to 4 together at kappa = 100 on one core). ``optima`` marks
    heavy ball's and Nesterov's classical optima. ``design_kwargs`` go to
    :func:`design.tradeoff`. Returns the Figure.
    """
    fig, ax = figure_axes(ax)
    for family, order in curves:
        if family == "designed":
            t = D.tradeoff(kappa, family, order=order, n_points=n_points, noise=noise,
                           **design_kwargs)
        else:
            t = D.tradeoff(kappa, family, n_points=classic_points, noise=noise)
        keep = np.isfinite(t.noise_gain) & (t.rate < 1.0)      # in parameter order
        ax.plot(t.noise_gain[keep], t.rate[keep], ms=4, label=t.label, **_STYLE[family])
    if optima:
        hb = A.heavy_ball_optimum(kappa)
        nv = A.nesterov_optimum(kappa)
        for name, f, opt, marker in (("heavy ball optimum", F.trace(hb["momentum"]), hb, "*"),
                                     ("Nesterov optimum", F.nesterov(nv["momentum"]), nv, "P")):
            ax.plot([D.loop_noise_gain(f, opt["learning_rate"], noise)], [opt["rate"]], marker,
                    ms=11, color="k", ls="none", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("noise gain at lambda = 1")
    ax.set_ylabel("worst-case rate")
    what = "gradient noise" if noise == "gradient" else "noise after the learning rate"
    ax.set_title(f"speed against {what}, curvatures in [1/{kappa:g}, 1]")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig
