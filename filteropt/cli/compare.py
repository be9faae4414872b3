"""``filteropt compare``: train a lecture task with several optimizers, side by side, fairly.

For each optimizer spec (``adam``, ``nesterov:momentum=0.95``,
``butterworth:order=2,cutoff=0.2,learning_rate=0.05`` ...) the same model
is trained from the same initial weights on the same batches, for each
learning rate and seed asked for:

- ``tune=N`` tries N learning rates on a log grid around the spec's own,
  half a decade apart (:func:`filteropt.cli.tuning.learning_rate_grid`);
- ``seeds=K`` repeats each with seeds ``seed .. seed + K - 1`` (the seed
  fixes the data split or sample, the initial weights and the shuffling);
- ``target=LOSS`` records the loss on the whole training set after every
  optimizer step and counts the steps until it is first at or below LOSS.

Each optimizer's best learning rate is chosen over its seeds
(:func:`filteropt.cli.tuning.choose`). The run writes, in ``--out``:

- ``results.csv``: one row per optimizer x learning rate x seed: spec,
  learning rate, effective learning rate eta H(1), seed, final training
  loss (Keras's mean over the last epoch), validation loss, accuracy where
  the task has it, steps to target, epochs, seconds, and whether the row's
  learning rate is its optimizer's chosen one;
- ``learning_curves.png``: each optimizer at its best learning rate, the
  median over seeds with the inter-quartile band;
- ``sensitivity.png``: final validation loss against the learning rate and
  against the effective learning rate eta H(1);
- ``responses.png``: the optimizers' gradient-filter frequency responses.

The files are written into a temporary folder and moved in place only when
all of them are done (:mod:`filteropt.cli.output`), so an interrupted or
failed run leaves nothing that looks like a result.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time

import numpy as np

from . import tuning
from .output import check_out_dir, staged
from .progress import Progress
from .tuning import Run

#: The default run's optimizers, each at the learning rate a tuned run chose
#: on nielsen (``--tune 7 --seeds 3 --target 3e-3``, widened past the grid's
#: edge; benchmarks/RESULTS.md, "Fair comparisons").
DEFAULT_OPTIMIZERS = (
    "sgd:learning_rate=0.316",
    "momentum:learning_rate=0.316",
    "nesterov:learning_rate=0.1",
    "adam:learning_rate=0.0316",
    "butterworth:order=2,cutoff=0.2,learning_rate=0.1",
)

#: Epochs when --epochs is not given: quick first runs (about a minute on
#: two cores for the default optimizers); pass --epochs for longer ones.
QUICK_EPOCHS = {"nielsen": 60, "digits": 10, "fashion_mnist": 5}

FILES = ("results.csv", "learning_curves.png", "sensitivity.png", "responses.png")


class CompareError(Exception):
    """A user's mistake or missing data: one line, exit status 2."""


def check_specs(specs):
    """Reads every spec's recipe (no Keras) so that a bad spec fails before
    any training. Returns the recipes, for the responses figure."""
    from .. import recipes

    out = []
    for spec in specs:
        try:
            out.append(recipes.get(spec))
        except (ValueError, TypeError) as exc:
            raise CompareError(f"--optimizers {spec}: {exc}") from None
    return out


def _progress(spec, epochs, stream, progress=None, label=""):
    """The Keras callback that reports a run's epochs to ``progress``."""
    import keras

    progress = progress or Progress(stream)

    class Report(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            progress.epoch(spec, label, epoch + 1, epochs, logs, time.perf_counter() - self.t0)

    return Report()


def _whole_set_loss(model, task_, x, y):
    """A function returning the mean loss of ``model`` on all of ``(x, y)`` now."""
    import keras

    loss = keras.losses.get(task_.loss)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        xt, yt = tf.constant(x), tf.constant(y)
        return tf.function(lambda: tf.reduce_mean(loss(yt, model(xt, training=False))))
    return lambda: keras.ops.mean(loss(y, model(x, training=False)))


def _loss_recorder(evaluate):
    """The callback recording the whole training set's loss before training
    and after every optimizer step."""
    import keras

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.losses = [float(evaluate())]

        def on_train_batch_end(self, batch, logs=None):
            self.losses.append(float(evaluate()))

    return Record()


def build(spec, learning_rate, schedule, total_steps, steps_per_epoch):
    """``(optimizer, eta)``: the Keras optimizer of ``spec`` at ``learning_rate``
    (None: the spec's own, returned as ``eta``), under ``schedule`` (which then
    starts from ``eta``) if one is named."""
    import keras

    from ..keras import schedules
    from ..keras.optimizers import get as get_optimizer

    opt = (
        get_optimizer(spec)
        if learning_rate is None
        else get_optimizer(spec, learning_rate=float(learning_rate))
    )
    lr = (
        float(keras.ops.convert_to_numpy(opt.learning_rate))
        if learning_rate is None
        else float(learning_rate)
    )
    if schedule:
        sched = schedules.get(schedule, lr, total_steps, steps_per_epoch)
        opt = get_optimizer(spec, learning_rate=sched)
    return opt, lr


def train(
    task_,
    spec,
    data,
    *,
    seed,
    epochs,
    batch_size,
    learning_rate=None,
    schedule=None,
    target=None,
    jit_compile=False,
    stream=sys.stdout,
    progress=None,
    label="",
    callbacks=(),
    optimizer=None,
    record_loss=False,
):
    """One :class:`~filteropt.cli.tuning.Run`: ``task_``'s model built from
    ``seed``, trained with ``spec`` on ``data = (x, y, x_val, y_val)``
    (or with a ready ``optimizer``, ``spec`` then being its label). The
    whole training set's loss is recorded after every step when a
    ``target`` is given or ``record_loss`` is true."""
    import keras

    from .. import analysis

    x, y, x_val, y_val = data
    steps_per_epoch = -(-len(x) // batch_size)
    if optimizer is None:
        opt, lr = build(spec, learning_rate, schedule, epochs * steps_per_epoch, steps_per_epoch)
    else:
        opt, lr = optimizer, float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    model = task_.build_model(seed)
    model.compile(optimizer=opt, loss=task_.loss, metrics=task_.metrics, jit_compile=jit_compile)
    extra = list(callbacks)
    recorder = None
    if target is not None or record_loss:
        recorder = _loss_recorder(_whole_set_loss(model, task_, x, y))
        extra.append(recorder)
    keras.utils.set_random_seed(seed)
    t0 = time.perf_counter()
    hist = model.fit(
        x,
        y,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        shuffle=True,
        callbacks=[_progress(spec, epochs, stream, progress, label), *extra],
    )
    seconds = time.perf_counter() - t0
    effective = analysis.effective_learning_rate(spec if optimizer is None else opt, lr)
    run = Run(spec, lr, seed, effective, hist.history, seconds, target=target)
    if recorder is not None:
        run.train_loss = np.asarray(recorder.losses, float)
    return run


def train_seeds(task_, spec, data, seeds, learning_rate, **kwargs) -> list:
    """:func:`train` at one ``learning_rate`` once for each seed of ``seeds``
    (``data[seed]`` its data), each run labelled by its rate and seed;
    ``kwargs`` go to :func:`train` (``epochs`` and ``batch_size`` among them)."""
    return [
        train(
            task_,
            spec,
            data[s],
            seed=s,
            learning_rate=learning_rate,
            label=f"lr {learning_rate:.3g} seed {s} ",
            **kwargs,
        )
        for s in seeds
    ]


def _check_numbers(epochs, batch_size, tune, seeds, target):
    for name, value in (("--epochs", epochs), ("--batch-size", batch_size)):
        if value is not None and value < 1:
            raise CompareError(f"{name} must be >= 1 (received {value})")
    for name, value in (("--tune", tune), ("--seeds", seeds)):
        if int(value) != value or value < 1:
            raise CompareError(f"{name} must be an integer >= 1 (received {value})")
    if target is not None and not (math.isfinite(target) and target > 0):
        raise CompareError(f"--target must be a positive loss (received {target})")


def run(
    task="nielsen",
    optimizers=DEFAULT_OPTIMIZERS,
    epochs=None,
    batch_size=None,
    seed=0,
    schedule=None,
    out="compare-results",
    jit_compile=False,
    stream=sys.stdout,
    tune=1,
    seeds=1,
    target=None,
):
    """Trains ``task`` with each optimizer at ``tune`` learning rates and
    ``seeds`` seeds; writes the files; returns the list of Runs."""
    _check_numbers(epochs, batch_size, tune, seeds, target)
    check_out_dir(out, CompareError)
    optimizers = list(optimizers) or list(DEFAULT_OPTIMIZERS)
    recipes_ = check_specs(optimizers)

    from . import tasks

    task_, epochs, batch_size, first = tasks.prepare(
        task, epochs, batch_size, seed, QUICK_EPOCHS, CompareError
    )
    seed_list = [seed + k for k in range(int(seeds))]
    data = {seed: first}
    for s in seed_list[1:]:
        data[s] = task_.load(s)
    steps_per_epoch = -(-len(first[0]) // batch_size)
    grids = {}
    for spec in optimizers:
        try:
            _, own = build(spec, None, schedule, epochs * steps_per_epoch, steps_per_epoch)
            grids[spec] = [None] if tune == 1 else list(tuning.learning_rate_grid(own, tune))
            for lr in grids[spec]:
                if lr is not None:  # a rate the optimizer refuses fails before training
                    build(spec, lr, schedule, epochs * steps_per_epoch, steps_per_epoch)
        except (ValueError, TypeError) as exc:
            raise CompareError(f"{'--schedule ' + schedule if schedule else spec}: {exc}") from None

    progress = Progress(stream)
    n_runs = len(grids[optimizers[0]]) * len(seed_list)
    progress.note(
        f"task {task_.name}: {task_.description}; {len(first[0])} training and "
        f"{len(first[2])} validation samples, {epochs} epochs of batch {batch_size}; "
        f"{len(optimizers)} optimizers x {n_runs} run{'s' if n_runs > 1 else ''}"
        + (f" ({tune} learning rates x {len(seed_list)} seeds)" if n_runs > 1 else "")
        + (f", steps to a training loss of {target:g}" if target is not None else "")
    )
    runs = []
    for spec in optimizers:
        mine = []
        for i, lr in enumerate(grids[spec]):
            for j, s in enumerate(seed_list):
                label = (
                    ""
                    if n_runs == 1
                    else f"lr {i + 1}/{len(grids[spec])} seed {j + 1}/{len(seed_list)} "
                )
                mine.append(
                    train(
                        task_,
                        spec,
                        data[s],
                        seed=s,
                        epochs=epochs,
                        batch_size=batch_size,
                        learning_rate=lr,
                        schedule=schedule,
                        target=target,
                        jit_compile=jit_compile,
                        stream=stream,
                        progress=progress,
                        label=label,
                    )
                )
        runs.extend(mine)
        progress.done(spec, _standing(mine, tuning.choose(mine, target)[spec], target))
    best = tuning.choose(runs, target)
    write(runs, best, recipes_, task_, out, target)
    progress.note(format_results(runs, best, task_, target))
    progress.note(f"wrote {os.path.join(out, FILES[0])}, {', '.join(FILES[1:])}")
    return runs


def _standing(runs, lr, target) -> str:
    """One optimizer's result at its chosen learning rate, in a few words."""
    at = [r for r in runs if r.learning_rate == lr]
    text = f"learning rate {lr:.4g}: val_loss {np.median([r.final('val_loss') for r in at]):.4g}"
    if target is not None:
        reached = [r.steps_to_target for r in at if r.steps_to_target is not None]
        text += (
            f", steps to {target:g}: "
            + (f"{np.median(reached):.0f}" if len(reached) == len(at) else "not reached")
            + (f" ({len(reached)}/{len(at)} seeds)" if len(at) > 1 else "")
        )
    side = tuning.edge([r.learning_rate for r in runs], lr)
    if side:
        text += f" [the {'smallest' if side < 0 else 'largest'} rate tried: widen the grid]"
    return text + f"  ({sum(r.seconds for r in runs):.1f} s)"


def _metrics(task_):
    return ["accuracy", "val_accuracy"] if "accuracy" in task_.metrics else []


def format_results(runs, best, task_, target=None) -> str:
    """The printed table: one row per optimizer at its chosen learning rate,
    medians over seeds."""
    cols = ["optimizer", "learning_rate", "loss", "val_loss", *_metrics(task_)]
    if target is not None:
        cols.append("steps_to_target")
    cols.append("seconds")
    rows = []
    for spec, lr in best.items():
        at = [r for r in runs if r.spec == spec and r.learning_rate == lr]
        row = [spec, f"{lr:.4g}"] + [
            f"{np.median([r.final(c) for r in at]):.4g}" for c in cols[2 : 4 + len(_metrics(task_))]
        ]
        if target is not None:
            reached = [r.steps_to_target for r in at if r.steps_to_target is not None]
            row.append(
                f"{np.median(reached):.0f}"
                if len(reached) == len(at)
                else f"{len(reached)}/{len(at)} reached"
            )
        row.append(f"{sum(r.seconds for r in runs if r.spec == spec):.1f}")
        rows.append(row)
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(cols), line("-" * w for w in widths)] + [line(r) for r in rows])


def write_csv(runs, best, task_, path):
    """``results.csv``: one row per run."""
    metrics = _metrics(task_)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "optimizer",
                "learning_rate",
                "effective_learning_rate",
                "seed",
                "loss",
                "val_loss",
                *metrics,
                "steps_to_target",
                "epochs",
                "seconds",
                "best",
            ]
        )
        for r in runs:
            steps = r.steps_to_target
            w.writerow(
                [
                    r.spec,
                    f"{r.learning_rate:.6g}",
                    f"{r.effective_learning_rate:.6g}",
                    r.seed,
                    *(f"{r.final(k):.6g}" for k in ["loss", "val_loss", *metrics]),
                    "" if steps is None else steps,
                    len(r.history.get("loss", [])),
                    f"{r.seconds:.2f}",
                    int(best.get(r.spec) == r.learning_rate),
                ]
            )


def write(runs, best, recipes_, task_, out, target=None):
    """Writes the four files atomically (a temporary folder, then renames)."""
    from .. import plotting
    from ..plotting import comparison

    with staged(out, CompareError) as tmp:
        write_csv(runs, best, task_, os.path.join(tmp, "results.csv"))
        plotting.save(
            comparison.plot_learning_curves(
                runs,
                best,
                title=f"{task_.name}: learning curves",
                loss_name=task_.loss,
                metrics=_metrics(task_),
                target=target,
            ),
            os.path.join(tmp, "learning_curves.png"),
        )
        plotting.save(
            comparison.plot_sensitivity(runs, title=f"{task_.name}: learning-rate sensitivity"),
            os.path.join(tmp, "sensitivity.png"),
        )
        fig = plotting.plot_frequency(recipes_, labels=list(best))
        plotting.save(fig, os.path.join(tmp, "responses.png"))
