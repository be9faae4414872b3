"""How closely each drop-in follows its Keras built-in.

    python benchmarks/conformance.py [--cases 10] [--steps 150]

For each optimizer, random hyperparameters (learning rate, betas, momentum,
epsilon, flags) and a random learning-rate schedule; gradient columns whose
scales span 1e-8 to 1e2; both optimizers take the same gradients. Prints, per
optimizer and dtype, the largest relative error over all cases (per
coordinate: largest difference along the trajectory over the largest
displacement along it), and how far each float32 run is from the float64
trajectory.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import keras
import numpy as np
from helpers import relative_error, trajectory

import filteropt


def draw(name, rng):
    u = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
    eps = float(rng.choice([1e-12, 1e-8, 1e-7, 1e-3]))
    beta = lambda: float(rng.choice([0.0, u(0, 0.9999), 0.9, 0.999]))  # noqa: E731
    cfg = {
        "SGD": dict(momentum=float(rng.choice([0.0, u(0, 1)])), nesterov=bool(rng.integers(2))),
        "Adagrad": dict(initial_accumulator_value=u(0, 1), epsilon=eps),
        "Adadelta": dict(rho=u(0.5, 0.999), epsilon=eps),
        "RMSprop": dict(
            rho=u(0.5, 0.999),
            momentum=float(rng.choice([0.0, u(0, 1)])),
            epsilon=eps,
            centered=bool(rng.integers(2)),
        ),
        "Adam": dict(beta_1=beta(), beta_2=beta(), epsilon=eps, amsgrad=bool(rng.integers(2))),
        "AdamW": dict(beta_1=beta(), beta_2=beta(), epsilon=eps, weight_decay=u(0, 0.1)),
        "Nadam": dict(beta_1=beta(), beta_2=beta(), epsilon=eps),
        "Adamax": dict(beta_1=beta(), beta_2=beta(), epsilon=eps),
        "Lion": dict(beta_1=u(0.01, 1.0), beta_2=beta()),
    }[name]
    lr = 10 ** u(-4, -1)
    sched = rng.integers(3)
    if sched == 1:
        lr = keras.optimizers.schedules.ExponentialDecay(lr, 10, 0.7)
    elif sched == 2:
        lr = keras.optimizers.schedules.PiecewiseConstantDecay([40, 90], [lr, lr / 5, lr / 25])
    return dict(cfg, learning_rate=lr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{args.cases} random cases per optimizer and dtype, {args.steps} steps\n")
    print(
        "| optimizer | float64 vs Keras | float32 vs Keras | float32 filteropt vs float64 "
        "| float32 Keras vs float64 |"
    )
    print("|---|---|---|---|---|")
    for name in filteropt.testing.DROP_IN_NAMES:
        worst, to_exact = {}, {"filteropt": [], "keras": []}
        for dtype in ("float64", "float32"):
            errs = []
            for _ in range(args.cases):
                cfg = draw(name, rng)
                scales = 10.0 ** rng.permutation(np.linspace(-8, 2, 6))
                grads = (rng.standard_normal(6) + rng.standard_normal((args.steps, 6))) * scales
                theirs = getattr(keras.optimizers, name)(**cfg)
                ours = getattr(filteropt, name)(**cfg)
                mine, keras_run = trajectory(ours, grads, dtype), trajectory(theirs, grads, dtype)
                errs.append(relative_error(mine, keras_run))
                if dtype == "float32":
                    exact = trajectory(getattr(keras.optimizers, name)(**cfg), grads, "float64")
                    to_exact["filteropt"].append(relative_error(mine, exact))
                    to_exact["keras"].append(relative_error(keras_run, exact))
            worst[dtype] = max(errs)
        print(
            f"| {name} | {worst['float64']:.2e} | {worst['float32']:.2e} | "
            f"{max(to_exact['filteropt']):.2e} | {max(to_exact['keras']):.2e} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
