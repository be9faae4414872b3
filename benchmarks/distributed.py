"""Fusing under tf.distribute: MirroredStrategy on two logical CPU devices.

    python benchmarks/distributed.py [--rounds 9] [--size 4e6]

Under a strategy the step is not one launch (Keras updates each variable
per device in cross-replica code); filteropt then compiles the update of
each variable of at least ``filteropt.keras.fused.MIN_SIZE`` parameters per
device (``fused="auto"``, the default) or runs Keras's per-operation path
for all (``fused=False``). This measures both against Keras's built-in of
the same name: one optimizer step (``strategy.run(opt.apply)`` on float32
variables split in four tensors, no XLA around it, Keras's default on CPU)
and one epoch of ``model.fit`` on the lecture's 784-128-10 MLP. Ratios are
medians of interleaved rounds. Runs in its own process: the logical devices
must be set up before TensorFlow starts.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import tensorflow as tf

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
from more import interleaved  # noqa: E402
from step_time import split  # noqa: E402

import filteropt  # noqa: E402

OPTIMIZERS = (("Adam", {}), ("SGD", {"momentum": 0.9}), ("RMSprop", {}))


def variants(name, kw):
    return {
        "Keras": lambda: getattr(keras.optimizers, name)(**kw),
        "fused": lambda: getattr(filteropt, name)(**kw),  # the default, fused="auto"
        "unfused": lambda: getattr(filteropt, name)(fused=False, **kw),
    }


def report(label, ref, fused, unfused, rounds, reps, sync):
    r_f, t_k, t_f = interleaved(ref, fused, rounds, reps, sync)
    r_u, _, t_u = interleaved(ref, unfused, rounds, reps, sync)
    print(
        f"| {label} | {t_k * 1e3:.1f} | {t_f * 1e3:.1f} | {t_u * 1e3:.1f} | {r_f:.2f} "
        f"| {r_u:.2f} |",
        flush=True,
    )


def steps(strategy, rounds, size):
    print(f"\n### One optimizer step, {size / 1e6:g}M float32 parameters, 2 replicas\n")
    print(
        "| optimizer | Keras ms | default ms | fused=False ms | default / Keras "
        "| fused=False / Keras |"
    )
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    shapes = split(int(size))
    values = [rng.standard_normal(s).astype("float32") for s in shapes]
    grads = [tf.constant(rng.standard_normal(s).astype("float32")) for s in shapes]
    for name, kw in OPTIMIZERS:
        runs = {}
        for label, make in variants(name, kw).items():
            with strategy.scope():
                variables = [tf.Variable(v) for v in values]
                opt = make()
                opt.build(variables)

            @tf.function
            def step(opt=opt, variables=variables):
                strategy.run(lambda: opt.apply(grads, variables))

            step()
            runs[label] = (step, variables)
        sync = lambda: [v[0][0].numpy() for _, v in runs.values()]  # noqa: E731
        report(
            name + ("(momentum=0.9)" if kw else ""),
            runs["Keras"][0],
            runs["fused"][0],
            runs["unfused"][0],
            rounds,
            3,
            sync,
        )


def fit_epoch(strategy, rounds, samples=12000):
    print(
        f"\n### One epoch of model.fit, 784-128-10 MLP, global batch 64, {samples} samples, "
        "2 replicas\n"
    )
    print(
        "| optimizer | Keras ms | default ms | fused=False ms | default / Keras "
        "| fused=False / Keras |"
    )
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    for name, kw in OPTIMIZERS:
        runs = {}
        for label, make in variants(name, kw).items():
            with strategy.scope():
                keras.utils.set_random_seed(0)
                model = keras.Sequential(
                    [
                        keras.Input((784,)),
                        keras.layers.Dense(128, activation="relu"),
                        keras.layers.Dense(10, activation="softmax"),
                    ]
                )
                model.compile(optimizer=make(), loss="sparse_categorical_crossentropy")
            model.fit(x[:128], y[:128], batch_size=64, epochs=1, verbose=0)
            runs[label] = lambda m=model: m.fit(x, y, batch_size=64, epochs=1, verbose=0)
        report(
            name + ("(momentum=0.9)" if kw else ""),
            runs["Keras"],
            runs["fused"],
            runs["unfused"],
            max(5, rounds // 2),
            1,
            lambda: None,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--size", type=float, default=4e6)
    args = parser.parse_args()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    steps(strategy, args.rounds, args.size)
    fit_epoch(strategy, args.rounds)


if __name__ == "__main__":
    main()
