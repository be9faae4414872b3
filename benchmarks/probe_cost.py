"""What a GradientProbe costs: the ``fit`` step on the digits MLP with and without it.

    python benchmarks/probe_cost.py [--rounds 11] [--projections 4] [--epochs 2]
                                    [--optimizers momentum adam] [--jit both|on|off]

The 64-128-10 digits MLP of ``filteropt.cli.tasks`` (9,610 parameters in 4
tensors), batch 32, 45 steps an epoch. Each round trains, in a rotating
order, a fresh model without a probe and one with
``GradientProbe(projections=k)`` (no sharpness: that is a measurement on
its own schedule, priced below) for ``--epochs`` epochs, and times the
median time between batch ends from the second epoch on (the first traces
and compiles; the median is robust to the stalls of a shared machine); the
ratio probe / none is taken per round and its median over rounds reported,
with the median time per step of each. ``--sharpness`` adds the cost of one sharpness measurement
(20 Lanczos steps on 1,000 training examples) relative to one step.
Absolute times on a shared CPU are noisy; ratios of neighbouring runs much
less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from filteropt.cli import tasks
from filteropt.keras.optimizers import get as get_optimizer
from filteropt.keras.probe import GradientProbe

KERAS = {
    "momentum": lambda: keras.optimizers.SGD(0.02, momentum=0.9),
    "adam": lambda: keras.optimizers.Adam(0.003),
}


class StepTimes(keras.callbacks.Callback):
    """The time between consecutive batch ends, after the first epoch."""

    def on_train_begin(self, logs=None):
        self.times, self.last, self.epoch = [], None, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.last = epoch, None

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.epoch > 0 and self.last is not None:
            self.times.append(now - self.last)
        self.last = now


def step_time(task, data, make_optimizer, probe, epochs, jit):
    """The median step of a fresh model's ``fit`` (robust to the stalls of a
    shared machine), the first epoch (tracing, compiling) left out."""
    x, y = data
    model = task.build_model(0)
    model.compile(optimizer=make_optimizer(), loss=task.loss, jit_compile=jit)
    timer = StepTimes()
    callbacks = [timer] + ([probe] if probe is not None else [])
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, shuffle=True, callbacks=callbacks)
    return statistics.median(timer.times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--projections", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--optimizers", nargs="+", default=["momentum", "adam"])
    ap.add_argument(
        "--source",
        choices=("keras", "filteropt"),
        default="keras",
        help="Keras's own optimizers or filteropt's of the same names",
    )
    ap.add_argument("--jit", choices=("both", "on", "off"), default="both")
    ap.add_argument("--sharpness", action="store_true")
    args = ap.parse_args(argv)
    task = tasks.get("digits")
    x, y, _, _ = task.load(0)
    jits = {"both": (False, True), "on": (True,), "off": (False,)}[args.jit]
    print(
        f"digits MLP, {len(x)} examples, batch 32; projections={args.projections}; "
        f"{args.rounds} rounds; {args.source}'s optimizers"
    )
    print("optimizer  jit    none ms/step  probe ms/step  probe/none (median)  [min, max]")
    for name in args.optimizers:
        make = KERAS[name] if args.source == "keras" else (lambda n=name: get_optimizer(n))
        for jit in jits:
            ratios, base, probed = [], [], []
            for r in range(args.rounds):
                order = (False, True) if r % 2 == 0 else (True, False)
                t = {}
                for with_probe in order:
                    probe = GradientProbe(projections=args.projections) if with_probe else None
                    t[with_probe] = step_time(task, (x, y), make, probe, args.epochs, jit)
                ratios.append(t[True] / t[False])
                base.append(t[False])
                probed.append(t[True])
            print(
                f"{name:10s} {jit!s:5s}  {1e3 * statistics.median(base):12.3f}  "
                f"{1e3 * statistics.median(probed):13.3f}  {statistics.median(ratios):19.3f}"
                f"  [{min(ratios):.3f}, {max(ratios):.3f}]",
                flush=True,
            )
    if args.sharpness:
        model = task.build_model(0)
        model.compile(optimizer=KERAS["momentum"](), loss=task.loss)
        probe = GradientProbe(sharpness_every=10**9, sharpness_data=(x[:1000], y[:1000]))
        model.fit(x[:32], y[:32], batch_size=32, epochs=1, verbose=0, callbacks=[probe])
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            probe._measure_sharpness(0)
            times.append(time.perf_counter() - t0)
        base = step_time(task, (x, y), KERAS["momentum"], None, args.epochs, False)
        print(
            f"one sharpness measurement: {1e3 * statistics.median(times):.1f} ms "
            f"= {statistics.median(times) / base:.0f} steps"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
