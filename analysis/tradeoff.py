"""The speed-noise trade-off of gradient filters: analysis/figures/tradeoff.png.

    python analysis/tradeoff.py [--kappa 100] [--points 6] [--out analysis/figures/tradeoff.png]

Worst-case closed-loop rate over curvatures in [1/kappa, 1] against the
noise gain at lambda = 1 (variance of theta per unit variance of gradient
noise, LMS's misadjustment) for heavy ball, Nesterov, an order-2
Butterworth low-pass (each parameter with its best learning rate) and
filters designed by :func:`filteropt.design.design_filter` for orders 1 to
4 under a swept noise bound. About two minutes on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from filteropt import design as D  # noqa: E402
from filteropt.plotting import design as design_plots  # noqa: E402
from filteropt import plotting as P  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kappa", type=float, default=100.0)
    parser.add_argument("--points", type=int, default=6, help="noise bounds per designed curve")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "figures", "tradeoff.png"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    fig = design_plots.plot_tradeoff(args.kappa, n_points=args.points)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    P.save(fig, args.out)
    print(f"{args.out} ({time.perf_counter() - t0:.0f} s)")
    print(f"{'order':>5} {'max_noise_gain':>14} {'rate':>9} {'noise gain':>10} {'eta':>8}")
    for order in (1, 2, 3, 4):
        t = D.tradeoff(args.kappa, "designed", order=order, n_points=args.points)
        for bound, rate, noise, eta in zip(t.parameter, t.rate, t.noise_gain, t.learning_rate):
            print(f"{order:5d} {bound:14.4g} {rate:9.6f} {noise:10.4g} {eta:8.4g}")
    return args.out


if __name__ == "__main__":
    main()
