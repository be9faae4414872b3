"""A designed filter from one probe run against tuned classics: steps to a target loss.

    python benchmarks/fair_comparison.py [--tasks nielsen digits] [--tune 7] [--seeds 3]
                                         [--max-extend 3] [--probe-epochs N] [--order 2]
                                         [--misadjustment M ...] [--skip-classics]
                                         [--json FILE]

The classics (SGD, momentum 0.9, Nesterov 0.9, Adam) run exactly as

    filteropt compare --task T --optimizers sgd momentum nesterov adam \\
        --tune 7 --seeds 3 --target LOSS --epochs E

does (:func:`filteropt.cli.compare.train`, same initial weights, batches
and seeds): seven learning rates half a decade apart around Keras's
defaults (0.01; Adam 0.001), each over three seeds; a classic's best
learning rate is the one with the most seeds reaching the target, then the
fewest median steps (:func:`filteropt.cli.tuning.choose`). Where the best
is at an edge of the grid, one more rate beyond it is tried, up to
``--max-extend`` times (so a classic's grid may hold up to ten rates).

The designed optimizer has no learning-rate search. Per seed: one probe run
(plain SGD at Keras's default 0.01, ``--probe-epochs`` epochs, a
:class:`filteropt.GradientProbe` measuring sharpness), then
``filteropt.Designed.from_probe(probe, order, misadjustment)`` picks the
filter and its learning rate from what was measured, and that optimizer
trains from the same initial weights as the classics. Its steps are counted
from its own start; the probe run's steps are reported beside them. Several
``--misadjustment`` values give one designed row each, all designed from the
same probe runs (the default, 0.1, is the one with no choice made).

Reported per task: each classic at its best learning rate and at its
default, the designed optimizer, and the ratio of the designed optimizer's
median steps to the best tuned classic's. About 20 minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np

TARGETS = {"nielsen": 3e-3, "digits": 1e-2}
EPOCHS = {"nielsen": 60, "digits": 20}
CLASSICS = ("sgd", "momentum", "nesterov", "adam")
SHARPNESS_SAMPLES = 1000


def _median_steps(runs):
    steps = [r.steps_to_target for r in runs]
    return float(np.median(steps)) if all(s is not None for s in steps) else None


def probe(task_, data, seed, epochs, batch_size):
    """(GradientProbe after one plain-SGD run at Keras's default rate, steps, seconds)."""
    import filteropt
    from filteropt.cli import compare

    x, y = data[0], data[1]
    steps = epochs * -(-len(x) // batch_size)
    sample = np.random.default_rng(seed).permutation(len(x))[:SHARPNESS_SAMPLES]
    found = filteropt.GradientProbe(
        sharpness_every=max(1, steps // 8),
        sharpness_data=(x[sample], y[sample]),
        max_steps=steps,
        seed=seed,
    )
    t0 = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        compare.train(
            task_,
            "sgd",
            data,
            seed=seed,
            epochs=epochs,
            batch_size=batch_size,
            stream=devnull,
            callbacks=[found],
        )
    return found, steps, time.perf_counter() - t0


def designed_results(task_, data, seeds, epochs, batch, target, args, log, progress):
    """One entry per misadjustment M: the designed optimizer's runs from each
    seed's probe (the same probe for every M), or why the design was refused."""
    import filteropt
    from filteropt.cli import compare

    probes = {s: probe(task_, data[s], s, args.probe_epochs, batch) for s in seeds}
    out = []
    for m in args.misadjustment:
        runs, info, refused = [], [], []
        for s in seeds:
            try:
                opt = filteropt.Designed.from_probe(probes[s][0], order=args.order, misadjustment=m)
            except ValueError as exc:  # the measurements give nothing to design for
                refused.append(f"seed {s}: {exc}")
                continue
            found = opt.measured
            info.append(
                {
                    "seed": s,
                    "probe_steps": probes[s][1],
                    "probe_seconds": probes[s][2],
                    "kappa": found.kappa,
                    "lambda_max": found.lambda_max,
                    "q": found.noise_to_signal,
                    "max_noise_gain": found.max_noise_gain,
                    "learning_rate": float(opt.learning_rate.numpy()),
                }
            )
            runs.append(
                compare.train(
                    task_,
                    f"designed M={m:g}",
                    data[s],
                    seed=s,
                    epochs=epochs,
                    batch_size=batch,
                    target=target,
                    stream=log,
                    progress=progress,
                    label=f"seed {s} ",
                    optimizer=opt,
                )
            )
        out.append(
            {
                "optimizer": f"designed (order {args.order}, M = {m:g})",
                "refused": refused,
                "median_steps": _median_steps(runs) if runs else None,
                "reached": sum(r.steps_to_target is not None for r in runs),
                "steps": [r.steps_to_target for r in runs],
                "final_loss": [float(r.train_loss[-1]) for r in runs],
                "probes": info,
            }
        )
    return out


def run_task(name, args, log):
    from filteropt.cli import compare, tasks, tuning
    from filteropt.cli.progress import Progress

    task_ = tasks.get(name)
    target, epochs, batch = TARGETS[name], EPOCHS[name], task_.default_batch_size
    seeds = list(range(args.seeds))
    data = {s: task_.load(s) for s in seeds}
    progress = Progress(log)
    runs = []

    def train_at(spec, lr):
        return compare.train_seeds(
            task_,
            spec,
            data,
            seeds,
            lr,
            epochs=epochs,
            batch_size=batch,
            target=target,
            stream=log,
            progress=progress,
        )

    extended = {}
    for spec in () if args.skip_classics else CLASSICS:
        _, own = compare.build(spec, None, None, 1, 1)
        grid = tuning.learning_rate_grid(own, args.tune)
        mine = tuning.widened(
            lambda lr, spec=spec: train_at(spec, lr), grid, target, max_extend=args.max_extend
        )
        extended[spec] = len({r.learning_rate for r in mine}) - len(grid)
        runs += mine
    best = tuning.choose(runs, target) if runs else {}
    designed = designed_results(task_, data, seeds, epochs, batch, target, args, log, progress)
    table = []
    for spec in best:
        mine = [r for r in runs if r.spec == spec]
        _, own = compare.build(spec, None, None, 1, 1)
        at_best = [r for r in mine if r.learning_rate == best[spec]]
        at_default = [r for r in mine if np.isclose(r.learning_rate, own)]
        table.append(
            {
                "optimizer": spec,
                "best_learning_rate": best[spec],
                "grid": sorted({r.learning_rate for r in mine}),
                "extended": extended[spec],
                "best_at_edge": tuning.edge([r.learning_rate for r in mine], best[spec]),
                "best_median_steps": _median_steps(at_best),
                "best_reached": sum(r.steps_to_target is not None for r in at_best),
                "best_steps": [r.steps_to_target for r in at_best],
                "default_learning_rate": own,
                "default_median_steps": _median_steps(at_default),
                "default_reached": sum(r.steps_to_target is not None for r in at_default),
                "default_final_loss": float(np.median([r.train_loss[-1] for r in at_default])),
            }
        )
    classic_best = [t["best_median_steps"] for t in table if t["best_median_steps"] is not None]
    for d in designed:
        d["ratio_to_best_tuned"] = (
            d["median_steps"] / min(classic_best)
            if d["median_steps"] is not None and classic_best
            else None
        )
    return {
        "task": name,
        "target": target,
        "epochs": epochs,
        "batch_size": batch,
        "seeds": seeds,
        "tune": args.tune,
        "classics": table,
        "designed": designed,
        "all_runs": [
            {
                "optimizer": r.spec,
                "learning_rate": r.learning_rate,
                "seed": r.seed,
                "steps_to_target": r.steps_to_target,
                "final_loss": float(r.train_loss[-1]),
            }
            for r in runs
        ],
    }


def _fmt(steps):
    return "not reached" if steps is None else f"{steps:.0f}"


def report(result) -> str:
    lines = [
        (
            f"### {result['task']} (target {result['target']:g}, {result['epochs']} epochs, "
            f"seeds {result['seeds']})"
        ),
        "",
        (
            "| optimizer | tuned: best eta | median steps | seeds reached | "
            "at default eta | median steps | seeds reached |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    n = len(result["seeds"])
    for t in result["classics"]:
        edge = " (edge)" if t["best_at_edge"] else ""
        lines.append(
            f"| {t['optimizer']} | {t['best_learning_rate']:.3g}{edge} | "
            f"{_fmt(t['best_median_steps'])} | {t['best_reached']}/{n} | "
            f"{t['default_learning_rate']:.3g} | {_fmt(t['default_median_steps'])} | "
            f"{t['default_reached']}/{n} |"
        )
    for d in result["designed"]:
        etas = ", ".join(f"{p['learning_rate']:.3g}" for p in d["probes"])
        ratio = d["ratio_to_best_tuned"]
        lines.append(
            f"| {d['optimizer']} | (designed: {etas or 'refused'}) | "
            f"{_fmt(d['median_steps'])} | {d['reached']}/{n} | | | "
            + ("" if ratio is None else f"{ratio:.2f} x best tuned")
            + " |"
        )
    for d in result["designed"]:
        lines += [
            "",
            f"{d['optimizer']}: "
            + "; ".join(
                f"seed {p['seed']}: probe {p['probe_steps']} steps, kappa {p['kappa']:.3g}, "
                f"lambda_max {p['lambda_max']:.3g}, q {p['q']:.3g}, bound "
                + ("none" if p["max_noise_gain"] is None else f"{p['max_noise_gain']:.3g}")
                for p in d["probes"]
            ),
        ]
        if d["refused"]:
            lines += ["", "Designed.from_probe refused: " + "; ".join(d["refused"])]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["nielsen", "digits"])
    parser.add_argument("--tune", type=int, default=7)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--max-extend",
        type=int,
        default=3,
        help="rates added beyond the grid's edge while the best is there",
    )
    parser.add_argument("--probe-epochs", type=int, default=5)
    parser.add_argument("--order", type=int, default=2)
    parser.add_argument(
        "--misadjustment",
        type=float,
        nargs="+",
        default=[0.1],
        help="the design's M; several give one designed row each, all from the same probe runs",
    )
    parser.add_argument(
        "--skip-classics",
        action="store_true",
        help="only the probe runs and the designed optimizers",
    )
    parser.add_argument("--json", default=None, help="write the results here too")
    args = parser.parse_args(argv)
    from filteropt.cli import quiet

    quiet.import_tensorflow()
    results = []
    t0 = time.perf_counter()
    for name in args.tasks:
        results.append(run_task(name, args, sys.stderr))
        print(report(results[-1]), flush=True)
        print(flush=True)
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
