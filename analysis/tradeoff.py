"""The speed-noise trade-off of gradient filters: analysis/figures/tradeoff.png.

    python analysis/tradeoff.py [--kappa 100] [--points 6] [--out analysis/figures/tradeoff.png]

Draws the figure of ``analysis/gallery/plot_tradeoff.py`` (worst-case
closed-loop rate over curvatures in [1/kappa, 1] against the noise gain at
lambda = 1, each family on its Pareto frontier), saves it to ``--out`` and
prints that script's tables: each design under each bound, and, for each
bound, every family's best rate under it, with the iterations per e-fold of
the error, -1/ln(rate). A few minutes on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "gallery")]

import plot_tradeoff  # noqa: E402

from filteropt import plotting as P  # noqa: E402


def main(argv=None):
    """Draw the figure, save it to ``--out``, print the tables; returns the path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kappa", type=float, default=plot_tradeoff.KAPPA)
    parser.add_argument(
        "--points", type=int, default=plot_tradeoff.POINTS, help="noise bounds per designed curve"
    )
    parser.add_argument("--out", default=os.path.join(HERE, "figures", "tradeoff.png"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    (fig,) = plot_tradeoff.figures(args.kappa, args.points).values()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    P.save(fig, args.out)
    print(f"{args.out} ({time.perf_counter() - t0:.0f} s)")
    plot_tradeoff.print_tables(args.kappa, args.points)
    print(f"\n({time.perf_counter() - t0:.0f} s in all)")
    return args.out


if __name__ == "__main__":
    main()
