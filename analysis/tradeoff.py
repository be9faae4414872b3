"""The speed-noise trade-off of gradient filters: analysis/figures/tradeoff.png.

    python analysis/tradeoff.py [--kappa 100] [--points 6] [--out analysis/figures/tradeoff.png]

Worst-case closed-loop rate over curvatures in [1/kappa, 1] against the
noise gain at lambda = 1 (variance of theta per unit variance of gradient
noise, LMS's misadjustment), each family on its Pareto frontier over all
its parameters: heavy ball and Nesterov over (momentum, learning rate), an
order-2 Butterworth low-pass over (cutoff, learning rate), and filters
designed by :func:`filteropt.design.design_filter` (filter and learning
rate) for orders 1 to 4 under a swept noise bound. Then two tables: each
design under each bound, and, for each bound, every family's best rate
under it, with the iterations per e-fold of the error, -1/ln(rate). A few
minutes on one core.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from filteropt import design as D
from filteropt import plotting as P
from filteropt.design.tradeoff import designed_bounds
from filteropt.plotting import design as design_plots

CLASSICS = (
    ("heavy_ball", "heavy ball"),
    ("nesterov", "Nesterov"),
    ("butterworth", "Butterworth-2"),
)


def best_rates(kappa: float, n_points: int) -> list[tuple[float, dict]]:
    """For each of the designs' noise bounds, {family: best worst-case rate under it}."""
    bounds = designed_bounds(kappa, n_points)
    curves = {label: D.tradeoff(kappa, family, bounds=bounds) for family, label in CLASSICS}
    for order in (1, 2, 3, 4):
        curves[f"designed {order}"] = D.tradeoff(kappa, "designed", order=order, bounds=bounds)
    return [(float(b), {name: t.best_rate(b) for name, t in curves.items()}) for b in bounds]


def print_tables(kappa: float, n_points: int) -> None:
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


def main(argv=None):
    """Draw the figure, save it to ``--out``, print the tables; returns the path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kappa", type=float, default=100.0)
    parser.add_argument("--points", type=int, default=6, help="noise bounds per designed curve")
    parser.add_argument(
        "--out",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures", "tradeoff.png"),
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    fig = design_plots.plot_tradeoff(args.kappa, n_points=args.points)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    P.save(fig, args.out)
    print(f"{args.out} ({time.perf_counter() - t0:.0f} s)")
    print_tables(args.kappa, args.points)
    print(f"\n({time.perf_counter() - t0:.0f} s in all)")
    return args.out


if __name__ == "__main__":
    main()
