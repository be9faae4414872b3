"""``filteropt compare``: train a lecture task with several optimizers, side by side.

For each optimizer spec (``adam``, ``nesterov:momentum=0.95``,
``butterworth:order=2,cutoff=0.2,learning_rate=0.05`` ...) the same model
(same seed, same initial weights, same batches) is trained, then the run
writes, in ``--out``:

- ``results.csv``: one row per optimizer: final training and validation
  loss, accuracy where the task has it, epochs, wall time;
- ``learning_curves.png``: loss (and accuracy) against epoch for all;
- ``responses.png``: the optimizers' gradient-filter frequency responses.

The files are written into a temporary folder and moved in place only when
all of them are done, so an interrupted or failed run leaves nothing that
looks like a result.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field

DEFAULT_OPTIMIZERS = (
    "sgd:learning_rate=0.1",
    "momentum:learning_rate=0.02",
    "nesterov:learning_rate=0.02",
    "adam:learning_rate=0.003",
    "butterworth:order=2,cutoff=0.2,learning_rate=0.1",
)

#: Epochs when --epochs is not given: quick first runs (about a minute on
#: two cores for the default optimizers); pass --epochs for longer ones.
QUICK_EPOCHS = {"nielsen": 60, "digits": 10, "fashion_mnist": 5}


class CompareError(Exception):
    """A user's mistake or missing data: one line, exit status 2."""


@dataclass
class Result:
    spec: str
    history: dict = field(default_factory=dict)
    seconds: float = 0.0

    def final(self, key):
        values = self.history.get(key)
        return float(values[-1]) if values else float("nan")


def check_specs(specs, schedule=None):
    """Builds every optimizer once (no Keras model) so that a bad spec fails
    before any training. Returns the recipes, for the responses figure."""
    from .. import recipes

    out = []
    for spec in specs:
        try:
            out.append(recipes.get(spec))
        except (ValueError, TypeError) as exc:
            raise CompareError(f"--optimizers {spec}: {exc}") from None
    return out


def _progress(spec, epochs, stream):
    import keras

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            shown = "  ".join(f"{k} {v:.4g}" for k, v in logs.items()
                              if k in ("loss", "val_loss", "accuracy", "val_accuracy"))
            print(f"  {spec:40.40s} epoch {epoch + 1:3d}/{epochs}  {shown}"
                  f"  ({time.perf_counter() - self.t0:.1f} s)", file=stream, flush=True)

    return Progress()


def run(task="nielsen", optimizers=DEFAULT_OPTIMIZERS, epochs=None, batch_size=None, seed=0,
        schedule=None, out="compare-results", jit_compile=False, stream=sys.stdout):
    """Trains ``task`` with each optimizer; returns the list of Results."""
    if epochs is not None and epochs < 1:
        raise CompareError(f"--epochs must be >= 1 (received {epochs})")
    if batch_size is not None and batch_size < 1:
        raise CompareError(f"--batch-size must be >= 1 (received {batch_size})")
    optimizers = list(optimizers) or list(DEFAULT_OPTIMIZERS)
    recipes_ = check_specs(optimizers)

    from . import tasks

    task_, epochs, batch_size, (x, y, x_val, y_val) = tasks.prepare(
        task, epochs, batch_size, seed, QUICK_EPOCHS, CompareError)
    steps_per_epoch = -(-len(x) // batch_size)

    import keras

    from ..keras.optimizers import get as get_optimizer

    built = []
    for spec in optimizers:
        try:
            opt = get_optimizer(spec)
            if schedule:
                from ..keras import schedules

                lr = float(keras.ops.convert_to_numpy(opt.learning_rate))
                sched = schedules.get(schedule, lr, epochs * steps_per_epoch, steps_per_epoch)
                opt = get_optimizer(spec, learning_rate=sched)
        except (ValueError, TypeError) as exc:
            raise CompareError(f"{'--schedule ' + schedule if schedule else spec}: {exc}") from None
        built.append(opt)

    print(f"task {task_.name}: {task_.description}; {len(x)} training and {len(x_val)} "
          f"validation samples, {epochs} epochs of batch {batch_size}", file=stream, flush=True)
    results = []
    for spec, opt in zip(optimizers, built):
        model = task_.build_model(seed)
        model.compile(optimizer=opt, loss=task_.loss, metrics=task_.metrics,
                      jit_compile=jit_compile)
        keras.utils.set_random_seed(seed)
        t0 = time.perf_counter()
        hist = model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs,
                         batch_size=batch_size, verbose=0, shuffle=True,
                         callbacks=[_progress(spec, epochs, stream)])
        results.append(Result(spec, hist.history, time.perf_counter() - t0))
    write(results, recipes_, task_, epochs, out)
    print(format_results(results, task_), file=stream)
    print(f"wrote {os.path.join(out, 'results.csv')}, learning_curves.png, responses.png",
          file=stream)
    return results


def format_results(results, task_) -> str:
    cols = ["optimizer", "loss", "val_loss"] + (
        ["accuracy", "val_accuracy"] if "accuracy" in task_.metrics else []) + ["seconds"]
    rows = [[r.spec] + [f"{r.final(c):.4g}" for c in cols[1:-1]] + [f"{r.seconds:.1f}"]
            for r in results]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(cols), line("-" * w for w in widths)] + [line(r) for r in rows])


def write(results, recipes_, task_, epochs, out):
    """Writes the three files atomically (temporary folder, then rename)."""
    from .. import plotting

    os.makedirs(os.path.abspath(out), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".compare-", dir=os.path.abspath(out))
    try:
        metrics = ["accuracy", "val_accuracy"] if "accuracy" in task_.metrics else []
        with open(os.path.join(tmp, "results.csv"), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["optimizer", "loss", "val_loss", *metrics, "epochs", "seconds"])
            for r in results:
                w.writerow([r.spec, *(f"{r.final(k):.6g}" for k in ["loss", "val_loss", *metrics]),
                            len(r.history.get("loss", [])), f"{r.seconds:.2f}"])
        plt = plotting.pyplot()
        n = 2 if metrics else 1
        fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 4.2), squeeze=False)
        for r in results:
            ep = range(1, len(r.history["loss"]) + 1)
            line = axes[0, 0].plot(ep, r.history["loss"], label=f"{r.spec} (train)")[0]
            axes[0, 0].plot(ep, r.history["val_loss"], "--", color=line.get_color(),
                            label=f"{r.spec} (validation)")
            if metrics:
                axes[0, 1].plot(ep, r.history["accuracy"], color=line.get_color(), label=r.spec)
                axes[0, 1].plot(ep, r.history["val_accuracy"], "--", color=line.get_color())
        axes[0, 0].set_yscale("log")
        axes[0, 0].set_ylabel(f"loss ({task_.loss})")
        if metrics:
            axes[0, 1].set_ylabel("accuracy (dashed: validation)")
        for ax in axes[0]:
            ax.set_xlabel("epoch")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(f"{task_.name}: learning curves")
        plotting.save(fig, os.path.join(tmp, "learning_curves.png"))
        labels = [r.spec for r in results]
        fig = plotting.plot_frequency(recipes_, labels=labels)
        plotting.save(fig, os.path.join(tmp, "responses.png"))
        for name in ("results.csv", "learning_curves.png", "responses.png"):
            os.replace(os.path.join(tmp, name), os.path.join(out, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
