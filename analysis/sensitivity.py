""" "Momentum and learning rate are coupled", as data: analysis/figures/sensitivity_nielsen.png.

    python analysis/sensitivity.py [--task nielsen] [--epochs 20] [--tune 7] [--seeds 2]
                                   [--out analysis/figures/sensitivity_nielsen.png]

SGD with momentum beta = 0, 0.5 and 0.9 and Adam with beta_1 = 0.5 and 0.9
train the task's model (:func:`filteropt.cli.compare.train`: same initial
weights and batches per seed) at ``--tune`` learning rates half a decade
apart. The momentum grids are centred on eta = 0.1 (1 - beta), so that
their effective learning rates eta H(1) = eta / (1 - beta) are the same
seven values; Adam's filter has unit DC gain, H(1) = 1, so both of its
grids are centred on 0.003. The figure is
:func:`filteropt.plotting.comparison.plot_sensitivity`: final validation
loss against eta (left) and against eta H(1) (right). Printed: for each
family, the spread of the final validation loss across its members at the
same effective learning rate (the largest ratio over the grid points where
every member converged), and the spread against eta, where the momentum
curves do not share grid points and are compared by log-log interpolation.
About 3.5 minutes on two cores (6 with ``--seeds 3``); the default made the
committed figure.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np

FAMILIES = {
    "momentum": [
        "momentum:momentum=0.0,learning_rate=0.1",
        "momentum:momentum=0.5,learning_rate=0.05",
        "momentum:momentum=0.9,learning_rate=0.01",
    ],
    "adam": ["adam:beta_1=0.5,learning_rate=0.003", "adam:beta_1=0.9,learning_rate=0.003"],
}


def _curve(runs, spec, x_of):
    """(x, median final val_loss) of one spec, x by ``x_of``; non-finite dropped."""
    mine = [r for r in runs if r.spec == spec]
    xs = sorted({x_of(r) for r in mine})
    med = [np.median([r.final("val_loss") for r in mine if x_of(r) == x]) for x in xs]
    keep = [i for i, v in enumerate(med) if math.isfinite(v)]
    return np.log10(np.array(xs)[keep]), np.log10(np.array(med)[keep])


def spread(runs, specs, x_of) -> float:
    """The largest ratio of the members' median final validation losses at a
    common x (the first member's points inside every member's range), by
    log-log interpolation."""
    curves = [_curve(runs, s, x_of) for s in specs]
    lo = max(c[0].min() for c in curves)
    hi = min(c[0].max() for c in curves)
    xs = [x for x in curves[0][0] if lo - 1e-9 <= x <= hi + 1e-9]
    if not xs:
        return math.nan
    values = np.array([[np.interp(x, *c) for c in curves] for x in xs])
    return float(10 ** np.max(values.max(axis=1) - values.min(axis=1)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="nielsen")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--tune", type=int, default=7)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument(
        "--out",
        default=os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "figures", "sensitivity_nielsen.png"
        ),
    )
    args = parser.parse_args(argv)
    from filteropt.cli import quiet

    quiet.import_tensorflow()
    from filteropt import plotting as P
    from filteropt.cli import compare, tasks, tuning
    from filteropt.cli.progress import Progress
    from filteropt.plotting import comparison

    t0 = time.perf_counter()
    task_ = tasks.get(args.task)
    data = {s: task_.load(s) for s in range(args.seeds)}
    progress = Progress(sys.stderr)
    runs = []
    for specs in FAMILIES.values():
        for spec in specs:
            _, own = compare.build(spec, None, None, 1, 1)
            for lr in tuning.learning_rate_grid(own, args.tune):
                for s in range(args.seeds):
                    runs.append(
                        compare.train(
                            task_,
                            spec,
                            data[s],
                            seed=s,
                            epochs=args.epochs,
                            batch_size=task_.default_batch_size,
                            learning_rate=lr,
                            stream=sys.stderr,
                            progress=progress,
                            label=f"lr {lr:.3g} seed {s} ",
                        )
                    )
    fig = comparison.plot_sensitivity(
        runs,
        title=f"{args.task}: final validation loss, "
        f"{args.epochs} epochs, median of {args.seeds} seeds",
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    P.save(fig, args.out)
    print(f"{args.out} ({time.perf_counter() - t0:.0f} s)")
    print("largest ratio of final validation losses between a family's members:")
    for family, specs in FAMILIES.items():
        against_eta = spread(runs, specs, lambda r: r.learning_rate)
        against_eff = spread(runs, specs, lambda r: r.effective_learning_rate)
        print(
            f"  {family:9s} at equal eta: {against_eta:8.3g}   "
            f"at equal eta H(1): {against_eff:8.3g}"
        )
    return runs


if __name__ == "__main__":
    main()
