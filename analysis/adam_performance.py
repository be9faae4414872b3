"""The lecture's "Adam performance" slide, regenerated with tuned learning rates.

    python analysis/adam_performance.py [--tasks digits fashion_mnist] [--epochs N]
                                        [--tune 5] [--seeds 3] [--out analysis/figures]

The slide shows Kingma & Ba's Figure 2: a multilayer perceptron trained
with AdaGrad, RMSProp, SGD with Nesterov momentum, AdaDelta and Adam,
training cost against iterations. Here each of those optimizers (Keras's
algorithms, as filteropt's drop-ins) trains the task's MLP
(:mod:`filteropt.cli.tasks`; batch 32) from the same initial weights on the
same batches, at ``--tune`` learning rates half a decade apart around the
centre :data:`OPTIMIZERS` gives it, over ``--seeds`` seeds, widened by one
rate at a time (up to three) while the best lies at the grid's edge
(:func:`filteropt.cli.tuning.widened`); the table printed says whether a
chosen rate is still at an edge. Each optimizer is
drawn at the learning rate with the lowest median final training loss, as
the median and inter-quartile band over seeds of the loss on the whole
training set after every step (:func:`filteropt.cli.compare.train`).

Writes ``adam_performance_<task>.png`` for each task whose data is present:
scikit-learn's digits always; Fashion-MNIST only where ``keras.datasets``
finds it (nothing is downloaded here). Prints each optimizer's chosen
learning rate and final loss. About 6 minutes for digits on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np

#: The slide's optimizers, each with the centre of its learning-rate grid. A
#: first run centred on Keras's defaults (Adagrad 0.01, RMSprop and Adam
#: 0.001, SGD 0.01, AdaDelta at Zeiler's 1.0) found every best rate at the
#: grid's top edge; these centres put each best inside its grid.
OPTIMIZERS = {"adagrad": 0.1, "rmsprop": 0.003, "nesterov": 0.03, "adadelta": 3.0, "adam": 0.003}
EPOCHS = {"digits": 20, "fashion_mnist": 5}


def run_task(name, epochs, tune, seeds, stream, max_extend=3):
    """(runs, best) for one task; None when its data is not present."""
    from filteropt.cli import compare, tasks, tuning
    from filteropt.cli.progress import Progress

    task_ = tasks.get(name)
    try:
        data = {s: task_.load(s) for s in range(seeds)}
    except tasks.DataUnavailable as exc:
        print(f"{name}: skipped ({str(exc)[:120]}...)", file=stream)
        return None
    progress = Progress(stream)
    runs = []

    def train_at(spec, lr):
        return [
            compare.train(
                task_,
                spec,
                data[s],
                seed=s,
                epochs=epochs,
                batch_size=task_.default_batch_size,
                learning_rate=lr,
                stream=stream,
                progress=progress,
                record_loss=True,
                label=f"lr {lr:.3g} seed {s} ",
            )
            for s in range(seeds)
        ]

    for spec, centre in OPTIMIZERS.items():
        runs += tuning.widened(
            lambda lr, spec=spec: train_at(spec, lr),
            tuning.learning_rate_grid(centre, tune),
            key="loss",
            max_extend=max_extend,
        )
    return runs, tuning.choose(runs, key="loss")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["digits", "fashion_mnist"])
    parser.add_argument(
        "--epochs", type=int, default=None, help="default: digits 20, fashion_mnist 5"
    )
    parser.add_argument("--tune", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures")
    )
    args = parser.parse_args(argv)
    from filteropt.cli import quiet

    quiet.import_tensorflow()
    from filteropt import plotting as P
    from filteropt.plotting import comparison

    os.makedirs(args.out, exist_ok=True)
    for name in args.tasks:
        t0 = time.perf_counter()
        found = run_task(name, args.epochs or EPOCHS[name], args.tune, args.seeds, sys.stderr)
        if found is None:
            continue
        runs, best = found
        fig = comparison.plot_training_cost(
            runs,
            best,
            title=f"{name}: MLP training cost, each optimizer at its best learning "
            f"rate ({args.seeds} seeds)",
        )
        path = os.path.join(args.out, f"adam_performance_{name}.png")
        P.save(fig, path)
        print(f"{path} ({time.perf_counter() - t0:.0f} s)")
        print(
            f"{'optimizer':12s} {'best eta':>9s} {'final loss (median)':>20s} {'edge of grid':>12s}"
        )
        for spec, lr in best.items():
            at = [r for r in runs if r.spec == spec and r.learning_rate == lr]
            grid = sorted({r.learning_rate for r in runs if r.spec == spec})
            edge = "yes" if lr in (grid[0], grid[-1]) else ""
            print(
                f"{spec:12s} {lr:9.3g} {np.median([r.train_loss[-1] for r in at]):20.4g} "
                f"{edge:>12s}"
            )


if __name__ == "__main__":
    main()
