"""The lecture's "Adam performance" slide, regenerated with tuned learning rates.

    python analysis/adam_performance.py [--tasks digits fashion_mnist] [--epochs N]
                                        [--tune 5] [--seeds 3] [--out analysis/figures]

Runs the study of ``analysis/gallery/plot_adam_performance.py`` (AdaGrad,
RMSProp, SGD with Nesterov momentum, AdaDelta and Adam, each tuned over
``--tune`` learning rates and ``--seeds`` seeds, drawn at its best rate)
and writes ``adam_performance_<task>.png`` in ``--out`` for each task whose
data is present: scikit-learn's digits always; Fashion-MNIST only where
``keras.datasets`` finds it (nothing is downloaded here). Prints each
optimizer's chosen learning rate and final loss. About 6 minutes for digits
on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "gallery")]

import plot_adam_performance  # noqa: E402

from filteropt import plotting as P  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["digits", "fashion_mnist"])
    parser.add_argument(
        "--epochs", type=int, default=None, help="default: digits 20, fashion_mnist 5"
    )
    parser.add_argument("--tune", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(HERE, "figures"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    figures = plot_adam_performance.figures(args.tasks, args.epochs, args.tune, args.seeds)
    for name, fig in figures.items():
        path = os.path.join(args.out, name)
        P.save(fig, path)
        print(path)
    return list(figures)


if __name__ == "__main__":
    main()
