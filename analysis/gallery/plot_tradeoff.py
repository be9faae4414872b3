"""
The speed-noise trade-off of gradient filters
=============================================

A faster closed loop is a noisier one: the same filter that lets the error
decay quickly also passes more of the gradient's noise into the weights.
Here the speed is the worst-case closed-loop rate over curvatures in
``[1/kappa, 1]`` and the noise is the noise gain at ``lambda = 1``, the
variance of ``theta`` per unit variance of white gradient noise (LMS's
misadjustment). Each family is drawn on its Pareto frontier over all its
parameters: heavy ball and Nesterov over (momentum, learning rate), an
order-2 Butterworth low-pass over (cutoff, learning rate), and filters
designed by :func:`filteropt.design.design_filter` (filter and learning
rate) for orders 1 to 4 under a swept noise bound. The tables printed below
give each design under each bound, and each family's best rate under each
bound, with the iterations per e-fold of the error, ``-1 / ln(rate)``.
"""

import math

from filteropt import design as D
from filteropt.design.tradeoff import designed_bounds
from filteropt.plotting import design as design_plots

KAPPA = 100.0
#: Noise bounds per designed curve.
POINTS = 6

CLASSICS = (
    ("heavy_ball", "heavy ball"),
    ("nesterov", "Nesterov"),
    ("butterworth", "Butterworth-2"),
)

# %%
# The frontiers
# -------------


def tradeoff_figure(kappa=KAPPA, n_points=POINTS):
    """Every family's frontier: worst-case rate against noise gain."""
    return design_plots.plot_tradeoff(kappa, n_points=n_points)


if __name__ == "__main__":  # run by the gallery; make_figures.py imports figures()
    tradeoff_figure()

# %%
# The numbers behind it
# ---------------------


def best_rates(kappa: float, n_points: int) -> list[tuple[float, dict]]:
    """For each of the designs' noise bounds, {family: best worst-case rate under it}."""
    bounds = designed_bounds(kappa, n_points)
    curves = {label: D.tradeoff(kappa, family, bounds=bounds) for family, label in CLASSICS}
    for order in (1, 2, 3, 4):
        curves[f"designed {order}"] = D.tradeoff(kappa, "designed", order=order, bounds=bounds)
    return [(float(b), {name: t.best_rate(b) for name, t in curves.items()}) for b in bounds]


def print_tables(kappa: float = KAPPA, n_points: int = POINTS) -> None:
    """The designs' table, then every family's best rate under each bound."""
    print(f"{'order':>5} {'max_noise_gain':>14} {'rate':>9} {'noise gain':>10} {'eta':>8}")
    for order in (1, 2, 3, 4):
        t = D.tradeoff(kappa, "designed", order=order, n_points=n_points)
        for bound, rate, noise, eta in zip(t.parameter, t.rate, t.noise_gain, t.learning_rate):
            print(f"{order:5d} {bound:14.4g} {rate:9.6f} {noise:10.4g} {eta:8.4g}")
    rows = best_rates(kappa, n_points)
    names = list(rows[0][1])
    print(
        f"\nbest worst-case rate with noise gain <= bound, kappa = {kappa:g} "
        "(each family on its frontier over all its parameters)"
    )
    print(f"{'bound':>8} " + " ".join(f"{n:>13}" for n in names))
    for bound, rates in rows:
        print(f"{bound:8.4g} " + " ".join(f"{rates[n]:13.6f}" for n in names))
    print("\niterations per e-fold of the error, -1/ln(rate)")
    print(f"{'bound':>8} " + " ".join(f"{n:>13}" for n in names))
    for bound, rates in rows:
        print(
            f"{bound:8.4g} "
            + " ".join(
                f"{-1.0 / math.log(rates[n]):13.2f}" if rates[n] < 1 else f"{'-':>13}"
                for n in names
            )
        )


if __name__ == "__main__":
    print_tables()


# %%
# The figure in ``analysis/figures/``
# -----------------------------------


def figures(kappa=KAPPA, n_points=POINTS):
    """{file name: figure} for ``analysis/make_figures.py``."""
    return {"tradeoff.png": tradeoff_figure(kappa, n_points)}
