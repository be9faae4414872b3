"""Optimizer step time: filteropt against the Keras built-in, side by side.

    python benchmarks/step_time.py [--sizes nielsen mlp 4e6 ...]
                                   [--optimizers Adam SGD-momentum ...]
                                   [--rounds 15] [--jit both|on|off] [--variants auto True False]
    python benchmarks/step_time.py --crossover [--sizes 1e4 3e4 1e5 ...] [--rounds 15]
    python benchmarks/step_time.py --operations [--sizes nielsen] [--variants False]

A size is a parameter count, split into four tensors (n/2, n/4, n/8 and the
rest, like a few layers), or a model of the lecture's, its layers' kernels
and biases: ``nielsen`` (the 1-64-64-64-1 MLP of
``filteropt.cli.tasks``, 8513 parameters in 8 tensors) and ``mlp`` (the
784-128-10 Fashion-MNIST MLP, 101,770 parameters in 4 tensors). For each
optimizer and size, Keras's optimizer and filteropt's (as ``fused="auto"``,
the default, and forced ``True`` and ``False``) update the same float32
variables inside a ``tf.function``, with or without XLA around it (``off``
is Keras's default on CPU). Each round times a short run of every variant in
a rotating order; the ratio variant / Keras is taken per round and its
median reported: absolute times on a shared machine are noisy, ratios of
neighbouring runs much less. The memory-bandwidth floor (bytes the update
must move / measured streaming bandwidth) is reported beside each time.

``--crossover`` times filteropt's compiled launch (``fused=True``) against
its per-operation path (``fused=False``) over a sweep of sizes n, without
XLA around the step, for one variable of n parameters and for four: the n
where the ratio falls under 1 is where compiling starts to pay
(``filteropt.keras.fused.MIN_SIZE``, what ``fused="auto"`` uses).

``--operations`` counts, instead of timing, the operations each step's graph
runs per call after TensorFlow's graph optimizer (what costs on small
models).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras
import numpy as np
import tensorflow as tf
from cases import CONFIGS, floor_bytes

import filteropt

#: The lecture's models as their layers' kernel and bias shapes.
MODELS = {
    "nielsen": [(1, 64), (64,), (64, 64), (64,), (64, 64), (64,), (64, 1), (1,)],
    "mlp": [(784, 128), (128,), (128, 10), (10,)],
}


def split(n):
    """Sizes of four tensors adding up to n, like a few layers."""
    parts = [n // 2, n // 4, n // 8]
    return parts + [n - sum(parts)]


def shapes_of(size):
    """The tensor shapes of a size argument (a model's name or a count)."""
    if size in MODELS:
        return MODELS[size]
    return [(s,) for s in split(int(float(size)))]


def label_of(size):
    if size in MODELS:
        return f"{size} ({sum(int(np.prod(s)) for s in MODELS[size]):,})"
    n = float(size)
    return f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k"


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


def _fused(text):
    return {"auto": "auto", "True": True, "False": False}[text]


def interleaved(steps, sync, rounds, reps, times=None):
    """Per step: (median time, median of its per-round ratio to steps[0],
    quartiles of that ratio). Each round runs every step once, starting one
    further each round; ``times`` (a list per step) receives the times."""
    times = [[] for _ in steps] if times is None else times
    for r in range(rounds):
        for k in range(len(steps)):
            i = (r + k) % len(steps)
            t0 = time.perf_counter()
            for _ in range(reps):
                steps[i]()
            sync()
            times[i].append((time.perf_counter() - t0) / reps)
    out = []
    for t in times:
        ratios = [a / b for a, b in zip(t, times[0])]
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (1.0, 1.0, 1.0)
        out.append((statistics.median(t), statistics.median(ratios), (q1, q3)))
    return out


def calibrate(step, sync, target=0.02):
    """Repetitions for a timed run of about ``target`` seconds."""
    t0 = time.perf_counter()
    for _ in range(3):
        step()
    sync()
    return max(3, int(target / max((time.perf_counter() - t0) / 3, 1e-6)))


def build_runs(name, shapes, jit, variants):
    """Step functions of Keras's optimizer, then filteropt's ``variants``."""
    kwargs, _ = CONFIGS[name]
    cls = name.split("-")[0]
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal(s).astype("float32") for s in shapes]
    grads = [tf.constant(rng.standard_normal(s).astype("float32")) for s in shapes]
    makers = [lambda: getattr(keras.optimizers, cls)(**kwargs)]
    makers += [lambda f=f: getattr(filteropt, cls)(fused=f, **kwargs) for f in variants]
    steps, firsts = [], []
    for make in makers:
        variables = [tf.Variable(v) for v in vals]
        steps.append(make_step(make(), variables, grads, jit))
        firsts.append(variables[0])
    return steps, lambda: [v[0].numpy() if v.shape.rank == 1 else v[0, 0].numpy() for v in firsts]


def table(args):
    variants = [_fused(v) for v in args.variants]
    jits = {"both": [False, True], "on": [True], "off": [False]}[args.jit]
    bw = stream_bandwidth()
    print(f"streaming bandwidth (XLA triad, float32): {bw / 1e9:.1f} GB/s")
    head = " | ".join(f"fused={v} ms | ratio [quartiles]" for v in args.variants)
    print(f"| optimizer | params | XLA | Keras ms | {head} | floor ms |")
    print("|---|---|---|---|" + "---|---|" * len(variants) + "---|")
    for name in args.optimizers:
        for size in args.sizes:
            shapes = shapes_of(size)
            n = sum(int(np.prod(s)) for s in shapes)
            for jit in jits:
                steps, sync = build_runs(name, shapes, jit, variants)
                reps = args.reps or calibrate(steps[0], sync)
                res = interleaved(steps, sync, args.rounds, reps)
                cells = " | ".join(
                    f"{t * 1e3:.3f} | {r:.2f} [{q[0]:.2f}-{q[1]:.2f}]" for t, r, q in res[1:]
                )
                floor = floor_bytes(CONFIGS[name][1]) * n / bw
                print(
                    f"| {name} | {label_of(size)} | {'on' if jit else 'off'} "
                    f"| {res[0][0] * 1e3:.3f} | {cells} | {floor * 1e3:.3f} |",
                    flush=True,
                )


def crossover(args):
    sizes = args.sizes if args.sizes != DEFAULT_SIZES else CROSSOVER_SIZES
    print(
        "fused=True / fused=False without XLA around the step (median of interleaved "
        "rounds), for one variable of n parameters and for four; Keras's time for scale\n"
    )
    print(
        "| optimizer | n | tensors | Keras ms | fused / unfused [quartiles] "
        "| fused / Keras | unfused / Keras |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.optimizers:
        for size in sizes:
            n = int(float(size))
            for tensors in (1, 4):
                steps, sync = build_runs(name, [(n,)] * tensors, False, [True, False])
                reps = args.reps or calibrate(steps[0], sync)
                times = [[] for _ in steps]
                res = interleaved(steps, sync, args.rounds, reps, times)
                ratios = [a / b for a, b in zip(times[1], times[2])]
                q1, _, q3 = statistics.quantiles(ratios, n=4)
                print(
                    f"| {name} | {n / 1e3:g}k | {tensors} "
                    f"| {res[0][0] * 1e3:.3f} | {statistics.median(ratios):.2f} "
                    f"[{q1:.2f}-{q3:.2f}] | {res[1][1]:.2f} | {res[2][1]:.2f} |",
                    flush=True,
                )


def grappled_operations(step):
    """Operations of a step's graph after TensorFlow's graph optimizer
    (Grappler), what runs per call: constants, placeholders and identities
    left out."""
    from tensorflow.core.protobuf import config_pb2
    from tensorflow.python.framework import meta_graph
    from tensorflow.python.grappler import tf_optimizer

    graph = step.get_concrete_function().graph
    meta = meta_graph.create_meta_graph_def(graph=graph)
    fetch = meta.collection_def["train_op"]
    for op in graph.get_operations():
        if op.type.startswith("Assign") or "PartitionedCall" in op.type:
            fetch.node_list.value.append(op.name)
    optimized = tf_optimizer.OptimizeGraph(config_pb2.ConfigProto(), meta)
    return sum(
        1
        for node in optimized.node
        if node.op not in ("Const", "Placeholder", "Identity", "IdentityN", "NoOp")
    )


def operations(args):
    print("Operations per step after Grappler, no XLA around the step\n")
    print(
        "| optimizer | params | Keras | " + " | ".join(f"fused={v}" for v in args.variants) + " |"
    )
    print("|---|---|---|" + "---|" * len(args.variants))
    for name in args.optimizers:
        for size in args.sizes:
            steps, _ = build_runs(name, shapes_of(size), False, [_fused(v) for v in args.variants])
            counts = " | ".join(str(grappled_operations(s)) for s in steps)
            print(f"| {name} | {label_of(size)} | {counts} |", flush=True)


DEFAULT_SIZES = ["nielsen", "mlp", "4e6"]
CROSSOVER_SIZES = ["5e3", "1e4", "2e4", "4e4", "7e4", "1e5", "2e5", "4e5"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES)
    parser.add_argument(
        "--optimizers",
        nargs="+",
        default=["Adam", "SGD-momentum", "RMSprop"],
        choices=list(CONFIGS),
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--reps", type=int, default=0, help="steps per timed run (0: about 20 ms of Keras's steps)"
    )
    parser.add_argument("--jit", choices=["both", "on", "off"], default="both")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["auto", "True", "False"],
        choices=["auto", "True", "False"],
    )
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument(
        "--operations",
        action="store_true",
        help="instead: count the operations of each step's graph",
    )
    args = parser.parse_args()
    if args.operations:
        operations(args)
    elif args.crossover:
        crossover(args)
    else:
        table(args)


if __name__ == "__main__":
    main()
