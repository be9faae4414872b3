"""Designed gradient filters against momentum, Nesterov and Adam on the lecture's tasks.

    python benchmarks/designed_vs_classics.py [--tasks nielsen digits] [--seeds 3]
                                             [--steps 1500] [--quick]

For each task and seed, every optimizer setting trains the same model (same
initial weights, same mini-batches of the task's default size) and the run
records the optimizer steps until the training loss (mean over the whole
training set, evaluated every ``--every`` steps) first reaches the task's
target. Each family gets five settings:

- momentum (0.9), Nesterov (0.9), Adam: five learning rates, half a decade apart;
- designed: ``filteropt.FilterOptimizer(learning_rate=design.learning_rate /
  lambda_max, gradient_filter=design.filter)`` with
  ``design = design_filter(kappa=100, order=2, max_noise_gain=B)`` for five
  noise bounds B (none, 10, 3, 1, 0.3): the designed family's knob is the
  noise bound, not the learning rate. lambda_max is estimated at the initial
  weights by :func:`filteropt.keras.curvature.estimate_curvature`. (The estimated
  lambda_min of a network's Hessian is negative, so kappa is not estimable;
  100 is a choice, printed with the curvature.)

The best setting of each family (most seeds reaching the target, then the
median number of steps) is reported in a Markdown table, followed by what
the quadratic model says about those settings (step eta * lambda_max at
the initial weights, worst-case rate for kappa = 100, noise gain at
lambda_max) and by every setting. About 4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np

TARGETS = {"nielsen": 3e-3, "digits": 1e-2}
LEARNING_RATES = {
    "momentum": (0.01, 0.03, 0.1, 0.3, 1.0),
    "nesterov": (0.01, 0.03, 0.1, 0.3, 1.0),
    "adam": (1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
}
KAPPA = 100.0
ORDER = 2
NOISE_BOUNDS = (None, 10.0, 3.0, 1.0, 0.3)


def _optimizer(family, setting, lambda_max):
    import filteropt
    from filteropt import design

    if family == "momentum":
        return filteropt.SGD(setting, momentum=0.9)
    if family == "nesterov":
        return filteropt.SGD(setting, momentum=0.9, nesterov=True)
    if family == "adam":
        return filteropt.Adam(setting)
    d = design.design_filter(KAPPA, ORDER, setting)
    return filteropt.FilterOptimizer(
        learning_rate=d.learning_rate / lambda_max, gradient_filter=d.filter
    )


def _train(task, data, family, setting, lambda_max, seed, steps, every, target):
    """(steps to target or None, best loss seen, diverged)."""
    import keras
    import tensorflow as tf

    x, y = data
    model = task.build_model(seed)
    opt = _optimizer(family, setting, lambda_max)
    loss_fn = keras.losses.get(task.loss)
    variables = model.trainable_variables

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(loss_fn(yb, model(xb, training=True)))
        grads = tape.gradient(value, variables)
        opt.apply_gradients(zip(grads, variables))
        return value

    @tf.function
    def full_loss():
        return tf.reduce_mean(loss_fn(y, model(x, training=False)))

    rng = np.random.default_rng(seed)  # the same batches for every optimizer
    batch, n, i, best = task.default_batch_size, len(x), 0, np.inf
    while i < steps:
        perm = rng.permutation(n)
        for j in range(0, n - batch + 1, batch):
            idx = perm[j : j + batch]
            step(x[idx], y[idx])
            i += 1
            if i % every == 0:
                value = float(full_loss())
                if not np.isfinite(value) or value > 1e6:
                    return None, best, True
                best = min(best, value)
                if value <= target:
                    return i, best, False
            if i >= steps:
                break
    return None, best, False


def _label(family, setting):
    if family == "designed":
        bound = "none" if setting is None else f"{setting:g}"
        return f"kappa={KAPPA:g}, order {ORDER}, max_noise_gain={bound}"
    return f"lr={setting:g}"


def _summary(results, steps):
    """Key for 'best': most seeds reaching the target, then the median number
    of steps, then the median best loss."""
    reached = [r[0] for r in results if r[0] is not None]
    median = float(np.median([r[0] if r[0] is not None else np.inf for r in results]))
    return (-len(reached), median, float(np.median([r[1] for r in results])))


def _quadratic_view(family, setting, lambda_max):
    """(eta lambda_max, eta H(1) lambda_max, worst-case rate, noise gain) of a
    setting in the quadratic model, curvatures scaled by lambda_max."""
    from filteropt import analysis, design, filters

    if family == "adam":
        return None
    if family == "designed":
        d = design.design_filter(KAPPA, ORDER, setting)
        f, step = d.filter, d.learning_rate
    else:
        f = filters.trace(0.9) if family == "momentum" else filters.nesterov(0.9)
        step = setting * lambda_max
    return (
        step,
        step * f.dc_gain,
        analysis.worst_case_rate(f, step, KAPPA),
        analysis.gradient_noise_gain(f, step),
    )


def _cell(result, steps):
    n, best, diverged = result
    if n is not None:
        return str(n)
    return "diverged" if diverged else f">{steps} ({best:.2g})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["nielsen", "digits"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1500, help="optimizer steps at most")
    parser.add_argument("--every", type=int, default=10, help="evaluate the loss every N steps")
    parser.add_argument("--quick", action="store_true", help="1 seed, 300 steps (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.steps = 1, 300

    import keras

    from filteropt import design
    from filteropt.cli import tasks
    from filteropt.keras.curvature import estimate_curvature

    t0 = time.perf_counter()
    designs = {b: design.design_filter(KAPPA, ORDER, b) for b in NOISE_BOUNDS}
    print(f"designs for kappa={KAPPA:g}, order {ORDER} ({time.perf_counter() - t0:.0f} s):")
    for b, d in designs.items():
        print(
            f"  max_noise_gain={b}: eta*lambda_max={d.learning_rate:.4g}, rate {d.rate:.4f}, "
            f"noise gain {d.noise_gain:.3g}, poles {np.round(d.filter.poles, 3).tolist()}, "
            f"zeros {np.round(d.filter.zeros, 3).tolist()}"
        )
    families = [(f, s) for f in ("momentum", "nesterov", "adam") for s in LEARNING_RATES[f]]
    families += [("designed", b) for b in NOISE_BOUNDS]
    table = {}  # (task, family, setting) -> [result per seed]
    lambda_max = {}  # task -> lambda_max at seed 0
    for name in args.tasks:
        task = tasks.get(name)
        target = TARGETS.get(task.name, 1e-2)
        for seed in range(args.seeds):
            x, y, _, _ = task.load(seed)
            keras.utils.set_random_seed(seed)
            est = estimate_curvature(
                task.build_model(seed), (x, y), loss=task.loss, iterations=15, seed=seed
            )
            lambda_max.setdefault(name, est.lambda_max)
            print(
                f"{name} seed {seed}: lambda_max {est.lambda_max:.4g}, Lanczos lambda_min "
                f"{est.lambda_min_raw:.3g}, gradient Rayleigh quotient {est.lambda_gradient:.3g}",
                flush=True,
            )
            for family, setting in families:
                r = _train(
                    task,
                    (x, y),
                    family,
                    setting,
                    est.lambda_max,
                    seed,
                    args.steps,
                    args.every,
                    target,
                )
                table.setdefault((name, family, setting), []).append(r)
        print(f"  {name} done ({time.perf_counter() - t0:.0f} s)", flush=True)

    seeds = list(range(args.seeds))
    head = (
        "| task (target loss) | optimizer | best setting | "
        + " | ".join(f"seed {s}" for s in seeds)
        + " | median |"
    )
    rule = "|" + "---|" * (4 + len(seeds))
    print(
        "\nSteps to the target training loss (best of each family's five settings; "
        ">N (x): not reached in N steps, best loss x):\n"
    )
    print(head)
    print(rule)
    for name in args.tasks:
        target = TARGETS.get(name, 1e-2)
        for family in ("momentum", "nesterov", "adam", "designed"):
            settings = [s for f, s in families if f == family]
            best = min(settings, key=lambda s: _summary(table[(name, family, s)], args.steps))
            res = table[(name, family, best)]
            med = np.median([r[0] if r[0] is not None else np.inf for r in res])
            print(
                f"| {name} ({target:g}) | {family} | {_label(family, best)} | "
                + " | ".join(_cell(r, args.steps) for r in res)
                + f" | {'>' + str(args.steps) if not np.isfinite(med) else f'{med:g}'} |"
            )
    print(
        "\nThe same settings in the quadratic model (curvatures scaled by lambda_max at the "
        f"initial weights, seed 0; rate for curvatures in [1/{KAPPA:g}, 1]; Adam's normaliser "
        "has no fixed gain):\n"
    )
    print(
        "| task | optimizer | setting | eta lambda_max | eta H(1) lambda_max | worst-case rate "
        "| noise gain at lambda_max |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.tasks:
        for family in ("momentum", "nesterov", "designed"):
            settings = [s for f, s in families if f == family]
            best = min(settings, key=lambda s: _summary(table[(name, family, s)], args.steps))
            view = _quadratic_view(family, best, lambda_max[name])
            step, dc, rate, noise = view
            print(
                f"| {name} | {family} | {_label(family, best)} | {step:.3g} | {dc:.3g} | "
                f"{rate:.4f}{' (unstable)' if rate >= 1 else ''} | {noise:.3g} |"
            )
    print("\nEvery setting:\n")
    print(head.replace("best setting", "setting"))
    print(rule)
    for (name, family, setting), res in table.items():
        med = np.median([r[0] if r[0] is not None else np.inf for r in res])
        print(
            f"| {name} | {family} | {_label(family, setting)} | "
            + " | ".join(_cell(r, args.steps) for r in res)
            + f" | {'>' + str(args.steps) if not np.isfinite(med) else f'{med:g}'} |"
        )
    print(f"\n{time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
