"""Optimizer step time: filteropt against the Keras built-in, side by side.

    python benchmarks/step_time.py [--sizes 1e6 4e6 16e6] [--optimizers Adam SGD ...]
                                   [--rounds 15] [--jit both|on|off]

For each optimizer and parameter count, both optimizers update the same
float32 variable (split into a few tensors like a model's layers) inside a
``tf.function`` (with or without XLA). Short timed runs of the two are
interleaved, and the median of the per-round ratios filteropt / Keras is
reported: absolute times on a shared machine are noisy, ratios much less.
The memory-bandwidth floor (bytes the update must move / measured streaming
bandwidth) is reported beside each time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

import filteropt  # noqa: E402
from cases import CONFIGS, floor_bytes  # noqa: E402


def split(n):
    """Sizes of four tensors adding up to n, like a few layers."""
    parts = [n // 2, n // 4, n // 8]
    return parts + [n - sum(parts)]


def stream_bandwidth(n=16_000_000, repeats=15):
    """Bytes per second of y = a * x + y on float32 (read 2, write 1 in
    place: plain SGD's pattern), on the benchmark's four-tensor split; the
    best of ``repeats`` timed runs (the machine is shared: the best run is
    the one least disturbed)."""
    xs = [tf.Variable(tf.ones([s])) for s in split(n)]
    ys = [tf.Variable(tf.ones([s])) for s in split(n)]

    @tf.function(jit_compile=True)
    def triad():
        for x, y in zip(xs, ys):
            y.assign(0.5 * x + y)

    triad()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(5):
            triad()
        _ = ys[0][0].numpy()
        times.append((time.perf_counter() - t0) / 5)
    return 12 * n / min(times)


def make_step(opt, variables, grads, jit):
    opt.build(variables)

    @tf.function(jit_compile=jit)
    def step():
        opt.apply(grads, variables)

    step()
    return step




def bench(name, size, jit, rounds, reps):
    kwargs, _ = CONFIGS[name]
    cls = name.split("-")[0]
    shapes = split(int(size))
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal(s).astype("float32") for s in shapes]
    grads = [tf.constant(rng.standard_normal(s).astype("float32")) for s in shapes]
    v_k = [tf.Variable(v) for v in vals]
    v_f = [tf.Variable(v) for v in vals]
    s_k = make_step(getattr(keras.optimizers, cls)(**kwargs), v_k, grads, jit)
    s_f = make_step(getattr(filteropt, cls)(**kwargs), v_f, grads, jit)
    ratios, t_keras, t_ours = [], [], []
    for r in range(rounds):
        pair = [(s_k, t_keras), (s_f, t_ours)]
        if r % 2:
            pair.reverse()
        for step, sink in pair:
            t0 = time.perf_counter()
            for _ in range(reps):
                step()
            _ = v_k[0][0].numpy(), v_f[0][0].numpy()
            sink.append((time.perf_counter() - t0) / reps)
        ratios.append(t_ours[-1] / t_keras[-1])
    return statistics.median(ratios), statistics.median(t_keras), statistics.median(t_ours)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 4e6, 16e6])
    parser.add_argument("--optimizers", nargs="+", default=list(CONFIGS))
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--jit", choices=["both", "on", "off"], default="both")
    args = parser.parse_args()
    jits = {"both": [False, True], "on": [True], "off": [False]}[args.jit]
    bw = stream_bandwidth()
    print(f"streaming bandwidth (XLA triad, float32): {bw / 1e9:.1f} GB/s")
    print("| optimizer | params | XLA | Keras ms | filteropt ms | ratio (median) "
          "| floor ms | filteropt / floor |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.optimizers:
        for size in args.sizes:
            for jit in jits:
                ratio, tk, tf_ = bench(name, size, jit, args.rounds, args.reps)
                floor = floor_bytes(CONFIGS[name][1]) * size / bw
                print(f"| {name} | {size / 1e6:g}M | {'on' if jit else 'off'} | {tk * 1e3:.2f} "
                      f"| {tf_ * 1e3:.2f} | {ratio:.2f} | {floor * 1e3:.2f} | "
                      f"{tf_ / floor:.2f} |", flush=True)


if __name__ == "__main__":
    main()
