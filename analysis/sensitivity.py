""" "Momentum and learning rate are coupled", as data: analysis/figures/sensitivity_nielsen.png.

    python analysis/sensitivity.py [--task nielsen] [--epochs 20] [--tune 7] [--seeds 2]
                                   [--out analysis/figures/sensitivity_nielsen.png]

Runs the study of ``analysis/gallery/plot_sensitivity.py`` (SGD with
momentum 0, 0.5 and 0.9 and Adam with beta_1 = 0.5 and 0.9 at ``--tune``
learning rates), saves its figure (final validation loss against eta and
against eta H(1)) to ``--out`` and prints, for each family, the spread of
the final validation loss across its members at the same eta and at the
same effective learning rate. About 3.5 minutes on two cores (6 with
``--seeds 3``); the default made the committed figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "gallery")]

import plot_sensitivity  # noqa: E402

from filteropt import plotting as P  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="nielsen")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--tune", type=int, default=7)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(HERE, "figures", "sensitivity_nielsen.png"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    runs = plot_sensitivity.train(args.task, args.epochs, args.tune, args.seeds)
    fig = plot_sensitivity.sensitivity_figure(runs, args.task, args.epochs, args.seeds)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    P.save(fig, args.out)
    print(f"{args.out} ({time.perf_counter() - t0:.0f} s)")
    return runs


if __name__ == "__main__":
    main()
