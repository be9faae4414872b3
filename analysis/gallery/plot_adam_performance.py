"""
Adam's performance, with tuned learning rates
=============================================

The lecture's "Adam performance" slide shows Kingma & Ba's Figure 2: a
multilayer perceptron trained with AdaGrad, RMSProp, SGD with Nesterov
momentum, AdaDelta and Adam, training cost against iterations. Here each of
those optimizers (Keras's algorithms, as filteropt's drop-ins) trains the
task's MLP (:mod:`filteropt.cli.tasks`; batch 32) from the same initial
weights on the same batches, at ``tune`` learning rates half a decade apart
around the centre :data:`OPTIMIZERS` gives it, over ``seeds`` seeds, widened
by one rate at a time (up to three) while the best lies at the grid's edge
(:func:`filteropt.cli.tuning.widened`); the table printed says whether a
chosen rate is still at an edge. Each optimizer is drawn at the learning
rate with the lowest median final training loss, as the median and
inter-quartile band over seeds of the loss on the whole training set after
every step (:func:`filteropt.cli.compare.train`). The comparison is fair in
the filter's sense: each optimizer's gain, its learning rate times its
filter's DC gain, is tuned, not taken from a default.

This study trains 105 runs (about 6 minutes for scikit-learn's digits on two
cores), so the documentation does not run it; the figure below is the
committed ``analysis/figures/adam_performance_digits.png``. Regenerate it
with ``python analysis/adam_performance.py --tasks digits`` (or
``python analysis/make_figures.py``, which makes every committed figure).

.. image:: ../../analysis/figures/adam_performance_digits.png
   :alt: training cost against iterations for AdaGrad, RMSProp, Nesterov, AdaDelta and Adam
"""

# sphinx_gallery_thumbnail_path = '../analysis/figures/adam_performance_digits.png'
import sys
import time

import numpy as np

#: The slide's optimizers, each with the centre of its learning-rate grid. A
#: first run centred on Keras's defaults (Adagrad 0.01, RMSprop and Adam
#: 0.001, SGD 0.01, AdaDelta at Zeiler's 1.0) found every best rate at the
#: grid's top edge; these centres put each best inside its grid.
OPTIMIZERS = {"adagrad": 0.1, "rmsprop": 0.003, "nesterov": 0.03, "adadelta": 3.0, "adam": 0.003}
EPOCHS = {"digits": 20, "fashion_mnist": 5}

# %%
# Tuning and training
# -------------------


def run_task(name, epochs, tune, seeds, stream, max_extend=3):
    """(runs, best) for one task; None when its data is not present."""
    from filteropt.cli import compare, tasks, tuning
    from filteropt.cli.progress import Progress

    task_ = tasks.get(name)
    try:
        data = {s: task_.load(s) for s in range(seeds)}
    except tasks.DataUnavailable as exc:
        print(f"{name}: skipped ({str(exc)[:120]}...)", file=stream)
        return None
    progress = Progress(stream)
    runs = []

    def train_at(spec, lr):
        return compare.train_seeds(
            task_,
            spec,
            data,
            range(seeds),
            lr,
            epochs=epochs,
            batch_size=task_.default_batch_size,
            stream=stream,
            progress=progress,
            record_loss=True,
        )

    for spec, centre in OPTIMIZERS.items():
        runs += tuning.widened(
            lambda lr, spec=spec: train_at(spec, lr),
            tuning.learning_rate_grid(centre, tune),
            key="loss",
            max_extend=max_extend,
        )
    return runs, tuning.choose(runs, key="loss")


# %%
# The figure and the table
# ------------------------


def performance_figure(name, runs, best, seeds):
    """Training cost against iterations, each optimizer at its best rate; prints
    each optimizer's chosen learning rate and final loss."""
    from filteropt.plotting import comparison

    fig = comparison.plot_training_cost(
        runs,
        best,
        title=f"{name}: MLP training cost, each optimizer at its best learning "
        f"rate ({seeds} seeds)",
    )
    print(f"{'optimizer':12s} {'best eta':>9s} {'final loss (median)':>20s} {'edge of grid':>12s}")
    for spec, lr in best.items():
        at = [r for r in runs if r.spec == spec and r.learning_rate == lr]
        grid = sorted({r.learning_rate for r in runs if r.spec == spec})
        edge = "yes" if lr in (grid[0], grid[-1]) else ""
        print(f"{spec:12s} {lr:9.3g} {np.median([r.train_loss[-1] for r in at]):20.4g} {edge:>12s}")
    return fig


def figures(tasks=("digits",), epochs=None, tune=5, seeds=3, stream=sys.stderr):
    """{file name: figure}, ``adam_performance_<task>.png`` for each task whose
    data is present (Fashion-MNIST only where ``keras.datasets`` finds it:
    nothing is downloaded here)."""
    from filteropt.cli import quiet

    quiet.import_tensorflow()
    made = {}
    for name in tasks:
        t0 = time.perf_counter()
        found = run_task(name, epochs or EPOCHS[name], tune, seeds, stream)
        if found is None:
            continue
        made[f"adam_performance_{name}.png"] = performance_figure(name, *found, seeds)
        print(f"{name}: {time.perf_counter() - t0:.0f} s", file=stream)
    return made


if __name__ == "__main__":
    figures()
