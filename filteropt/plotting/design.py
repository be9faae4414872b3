"""The speed-noise trade-off figure, from :mod:`filteropt.design.tradeoff`.

Nothing here imports a deep-learning backend.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import analysis as A
from .. import design as D
from ..design.tradeoff import designed_bounds
from ..signal import filters as F
from .responses import figure_axes, legend_outside

__all__ = ["TRADEOFF_CURVES", "plot_tradeoff"]

#: (family, order) drawn by :func:`plot_tradeoff` by default.
TRADEOFF_CURVES = (
    ("heavy_ball", None),
    ("nesterov", None),
    ("butterworth", None),
    ("designed", 1),
    ("designed", 2),
    ("designed", 3),
    ("designed", 4),
)

_STYLE = {
    "heavy_ball": {"marker": "o", "ls": "-"},
    "nesterov": {"marker": "s", "ls": "-"},
    "butterworth": {"marker": "^", "ls": "-"},
    "designed": {"marker": ".", "ls": "--"},
}

#: What each family's frontier is taken over, for the legend.
_OVER = {
    "heavy_ball": "momentum, learning rate",
    "nesterov": "momentum, learning rate",
    "butterworth": "cutoff, learning rate",
    "designed": "filter, learning rate",
}


def _union(a, b):
    """The undominated points of two trade-offs of one family."""
    both = {
        name: np.r_[getattr(a, name), getattr(b, name)]
        for name in ("parameter", "learning_rate", "rate", "noise_gain")
    }
    return replace(a, filters=a.filters + b.filters, **both).pareto()


def plot_tradeoff(
    kappa: float,
    ax=None,
    curves=TRADEOFF_CURVES,
    n_points: int = 6,
    noise: str = "gradient",
    classic_points: int = 24,
    optima: bool = True,
    sweeps: bool = False,
    **design_kwargs,
):
    """Each family's Pareto frontier: worst-case rate against noise gain at lambda = 1.

    Every curve is a frontier over all the family's parameters, drawn by
    increasing noise gain (so decreasing rate): heavy ball and Nesterov over
    momentum and learning rate, the order-2 Butterworth over cutoff and
    learning rate (:func:`design.tradeoff`: ``classic_points`` noise
    bounds and the designs' bounds too, a few seconds per family), the
    designed filters over filter and learning rate
    (:func:`design.design_filter` under ``n_points`` noise bounds, the
    markers, dominated designs dropped; about 15 s per bound for orders 1 to
    4 together at kappa = 100 on one core). The designs are known only at
    their markers (a straight segment between two can lie above the truth:
    an order-1 design is never worse than heavy ball), so compare there,
    where every classic frontier has a point too. ``curves`` lists ``(family,
    order)`` pairs. ``optima`` marks heavy ball's and Nesterov's classical
    optima (the unbounded ends of their frontiers). ``sweeps`` adds, faintly,
    the old view of the classic families: each momentum or cutoff at its
    fastest learning rate (``tradeoff(..., frontier=False)``), which is not
    a frontier. ``design_kwargs`` go to :func:`design.tradeoff` for the
    designs. The legend lies outside the axes, to their right, its top level
    with theirs (:func:`~filteropt.plotting.legend_outside`). Returns the
    Figure.
    """
    fig, ax = figure_axes(ax)
    marked = design_kwargs.get("bounds", design_kwargs.get("parameters"))
    marked = designed_bounds(kappa, n_points, noise) if marked is None else marked
    for family, order in curves:
        if family == "designed":
            t = D.tradeoff(
                kappa, family, order=order, n_points=n_points, noise=noise, **design_kwargs
            ).pareto()
        else:  # its own bounds and the designs', so that both meet at the markers
            t = _union(
                D.tradeoff(kappa, family, n_points=classic_points, noise=noise),
                D.tradeoff(kappa, family, noise=noise, bounds=marked),
            )
        (line,) = ax.plot(
            t.noise_gain,
            t.rate,
            ms=3 if family != "designed" else 7,
            label=f"{t.label} ({_OVER[family]})",
            **_STYLE[family],
        )
        if sweeps and family != "designed":
            s = D.tradeoff(kappa, family, n_points=classic_points, noise=noise, frontier=False)
            keep = np.isfinite(s.noise_gain) & (s.rate < 1.0)  # in parameter order
            ax.plot(
                s.noise_gain[keep], s.rate[keep], color=line.get_color(), alpha=0.3, lw=0.8, ls=":"
            )
    if optima:
        hb = A.heavy_ball_optimum(kappa)
        nv = A.nesterov_optimum(kappa)
        for name, f, opt, marker in (
            ("heavy ball optimum", F.trace(hb["momentum"]), hb, "*"),
            ("Nesterov optimum", F.nesterov(nv["momentum"]), nv, "P"),
        ):
            ax.plot(
                [D.loop_noise_gain(f, opt["learning_rate"], noise)],
                [opt["rate"]],
                marker,
                ms=11,
                color="k",
                ls="none",
                label=name,
            )
    if sweeps:
        ax.plot(
            [],
            [],
            color="0.5",
            alpha=0.5,
            lw=0.8,
            ls=":",
            label="each momentum or cutoff at its fastest learning rate",
        )
    ax.set_xscale("log")
    ax.set_xlabel("noise gain at lambda = 1")
    ax.set_ylabel("worst-case rate")
    what = "gradient noise" if noise == "gradient" else "noise after the learning rate"
    ax.set_title(
        f"Pareto frontiers over all parameters: speed against {what},\n"
        f"curvatures in [1/{kappa:g}, 1]"
    )
    legend_outside(ax)
    return fig
