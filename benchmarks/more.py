"""The rest of the performance picture, filteropt beside Keras in one process.

    python benchmarks/more.py [--rounds 9]

- cost against filter order: Butterworth momentum of order 1..8 (a
  FilterOptimizer), against Keras's SGD with momentum, at 4M parameters,
  with and without XLA around the step;
- one epoch of ``model.fit`` on the lecture's Fashion-MNIST-shaped MLP
  (784-128-10, batch 32, synthetic data of that shape), filteropt against
  Keras's optimizer of the same name, Keras's default compile;
- optimizer state bytes against Keras's;
- latency of ``filteropt table`` and ``filteropt plot`` (no backend import);
- the fixed cost of one XLA launch (what a fused step pays on small models).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras
import numpy as np
import tensorflow as tf
from step_time import interleaved as interleaved_steps
from step_time import make_step, split

import filteropt


def interleaved(a, b, rounds, reps, sync):
    """(median ratio b / a, median time of a, of b) over interleaved rounds."""
    (ta, _, _), (tb, ratio, _) = interleaved_steps([a, b], sync, rounds, reps)
    return ratio, ta, tb


def butterworth_orders(rounds, size=4e6, orders=(1, 2, 3, 4, 6, 8, 10, 12)):
    print("\n### Cost against filter order (4M float32 parameters)\n")
    print("| order | XLA | SGD(momentum=0.9) ms | Butterworth ms | ratio |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    shapes = split(int(size))
    grads = [tf.constant(rng.standard_normal(s).astype("float32")) for s in shapes]
    for jit in (False, True):
        for order in orders:
            v_k = [tf.Variable(tf.zeros(s)) for s in shapes]
            v_f = [tf.Variable(tf.zeros(s)) for s in shapes]
            ref = make_step(keras.optimizers.SGD(momentum=0.9), v_k, grads, jit)
            f = filteropt.filters.butterworth(order, 0.1, gain="input")
            ours = make_step(filteropt.FilterOptimizer(gradient_filter=f), v_f, grads, jit)
            ratio, tk, tf_ = interleaved(
                ref, ours, rounds, 3, lambda: (v_k[0][0].numpy(), v_f[0][0].numpy())
            )
            print(
                f"| {order} | {'on' if jit else 'off'} | {tk * 1e3:.2f} | {tf_ * 1e3:.2f} "
                f"| {ratio:.2f} |",
                flush=True,
            )


def launch_overhead(rounds):
    print("\n### Fixed cost of one XLA launch (12 variables of 2500 float32)\n")
    print("| 12 assign_add operations ms | one XLA launch of them ms | difference ms |")
    print("|---|---|---|")
    variables = [tf.Variable(tf.zeros([2500])) for _ in range(12)]
    grads = [tf.ones([2500]) for _ in range(4)]

    def update():
        for i, v in enumerate(variables):
            v.assign_add(grads[i % 4])

    compiled = tf.function(update, jit_compile=True)
    plain, launched = tf.function(update), tf.function(compiled.__call__)
    plain(), launched()
    _, t_plain, t_xla = interleaved(plain, launched, rounds, 50, lambda: None)
    print(f"| {t_plain * 1e3:.3f} | {t_xla * 1e3:.3f} | {(t_xla - t_plain) * 1e3:.3f} |")


def fit_epoch(rounds):
    print("\n### One epoch of model.fit, 784-128-10 MLP, batch 32 (60000 synthetic samples)\n")
    print("| optimizer | Keras s | filteropt s | ratio (median) |")
    print("|---|---|---|---|")
    rng = np.random.default_rng(0)
    x = rng.random((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60000)

    def model_with(opt):
        keras.utils.set_random_seed(0)
        m = keras.Sequential(
            [
                keras.Input((784,)),
                keras.layers.Dense(128, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        m.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
        m.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)  # trace and build
        return m

    for name, kw in (("Adam", {}), ("SGD", {"momentum": 0.9}), ("RMSprop", {})):
        mk = model_with(getattr(keras.optimizers, name)(**kw))
        mf = model_with(getattr(filteropt, name)(**kw))
        run = lambda m: m.fit(x, y, batch_size=32, epochs=1, verbose=0)  # noqa: E731
        ratio, tk, tf_ = interleaved(
            lambda: run(mk), lambda: run(mf), max(5, rounds // 2), 1, lambda: None
        )
        label = name + ("(momentum=0.9)" if kw else "")
        print(f"| {label} | {tk:.2f} | {tf_:.2f} | {ratio:.3f} |", flush=True)


def state_bytes():
    print("\n### Optimizer state bytes (784-128-10 MLP, float32)\n")
    print("| optimizer | Keras bytes | filteropt bytes | difference |")
    print("|---|---|---|---|")
    for name, kw in (
        ("SGD", {"momentum": 0.9}),
        ("Adam", {}),
        ("Nadam", {}),
        ("RMSprop", {}),
        ("Adagrad", {}),
        ("Lion", {}),
        ("Adamax", {}),
        ("Adadelta", {}),
    ):
        sizes = []
        for opt in (getattr(keras.optimizers, name)(**kw), getattr(filteropt, name)(**kw)):
            m = keras.Sequential(
                [keras.Input((784,)), keras.layers.Dense(128), keras.layers.Dense(10)]
            )
            opt.build(m.trainable_variables)
            sizes.append(
                sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in opt.variables)
            )
        print(f"| {name} | {sizes[0]} | {sizes[1]} | {sizes[1] - sizes[0]:+d} |")


def cli_latency():
    print("\n### Command latency (median of 5, separate processes)\n")
    print("| command | seconds |")
    print("|---|---|")
    out = os.path.join(tempfile.mkdtemp(), "p.png")
    for args in (
        ["table"],
        ["describe", "adam"],
        ["plot", "momentum", "nesterov", "adam", "--out", out],
    ):
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "filteropt.cli", *args], check=True, capture_output=True
            )
            times.append(time.perf_counter() - t0)
        print(
            f"| filteropt {' '.join(a for a in args if a != out)} | "
            f"{statistics.median(times):.2f} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--only", nargs="*", default=["orders", "fit", "state", "cli", "launch"])
    args = parser.parse_args()
    if "cli" in args.only:
        cli_latency()
    if "state" in args.only:
        state_bytes()
    if "launch" in args.only:
        launch_overhead(args.rounds)
    if "orders" in args.only:
        butterworth_orders(args.rounds)
    if "fit" in args.only:
        fit_epoch(args.rounds)


if __name__ == "__main__":
    main()
