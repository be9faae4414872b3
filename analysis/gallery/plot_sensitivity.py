"""
Momentum and learning rate are coupled
======================================

Keras's momentum is an AR1 filter with unit input gain: its DC gain is
``H(1) = 1 / (1 - beta)``, so for the slowly varying part of the gradient
the step is ``eta H(1)``, not ``eta``: raising the momentum raises the
effective learning rate with it. Adam's gradient filter has unit DC gain,
``H(1) = 1``, for every ``beta_1``. Put as data: SGD with momentum
``beta = 0``, 0.5 and 0.9 and Adam with ``beta_1 = 0.5`` and 0.9 train the
task's model (:func:`filteropt.cli.compare.train`: same initial weights and
batches per seed) at ``tune`` learning rates half a decade apart. The
momentum grids are centred on ``eta = 0.1 (1 - beta)``, so that their
effective learning rates ``eta / (1 - beta)`` are the same seven values;
both of Adam's grids are centred on 0.003.

The figure (:func:`filteropt.plotting.comparison.plot_sensitivity`) draws
the final validation loss against ``eta`` (left) and against ``eta H(1)``
(right). Against ``eta H(1)`` the momentum curves collapse onto one another,
up to the largest rates, where momentum's wider stability range
``2 (1 + beta) / lambda`` lets it go on; against ``eta`` they do not. Adam's
filter has unit DC gain, so its two panels are the same (its two members
still differ: ``beta_1`` acts beyond ``H(1)``). The printed numbers are,
for each family, the largest ratio of the final validation losses of its
members at the same ``eta`` (by log-log interpolation: the momentum grids
share no points) and at the same ``eta H(1)``.

This study trains 70 runs (about 3.5 minutes on two cores), so the
documentation does not run it; the figure below is the committed
``analysis/figures/sensitivity_nielsen.png``. Regenerate it with
``python analysis/sensitivity.py`` (or ``python analysis/make_figures.py``,
which makes every committed figure).

.. image:: ../../analysis/figures/sensitivity_nielsen.png
   :alt: final validation loss against eta and against eta H(1)
"""

# sphinx_gallery_thumbnail_path = '../analysis/figures/sensitivity_nielsen.png'
import math
import sys

import numpy as np

FAMILIES = {
    "momentum": [
        "momentum:momentum=0.0,learning_rate=0.1",
        "momentum:momentum=0.5,learning_rate=0.05",
        "momentum:momentum=0.9,learning_rate=0.01",
    ],
    "adam": ["adam:beta_1=0.5,learning_rate=0.003", "adam:beta_1=0.9,learning_rate=0.003"],
}

# %%
# Training
# --------


def train(task="nielsen", epochs=20, tune=7, seeds=2, stream=sys.stderr):
    """Every member of :data:`FAMILIES` at ``tune`` learning rates around its
    own, over ``seeds`` seeds: the list of runs (:func:`filteropt.cli.compare.train`)."""
    from filteropt.cli import quiet

    quiet.import_tensorflow()
    from filteropt.cli import compare, tasks, tuning
    from filteropt.cli.progress import Progress

    task_ = tasks.get(task)
    data = {s: task_.load(s) for s in range(seeds)}
    progress = Progress(stream)
    runs = []
    for specs in FAMILIES.values():
        for spec in specs:
            _, own = compare.build(spec, None, None, 1, 1)
            for lr in tuning.learning_rate_grid(own, tune):
                runs += compare.train_seeds(
                    task_,
                    spec,
                    data,
                    range(seeds),
                    lr,
                    epochs=epochs,
                    batch_size=task_.default_batch_size,
                    stream=stream,
                    progress=progress,
                )
    return runs


# %%
# How far apart a family's members are
# ------------------------------------


def _curve(runs, spec, x_of):
    """(x, median final val_loss) of one spec, x by ``x_of``; non-finite dropped."""
    mine = [r for r in runs if r.spec == spec]
    xs = sorted({x_of(r) for r in mine})
    med = [np.median([r.final("val_loss") for r in mine if x_of(r) == x]) for x in xs]
    keep = [i for i, v in enumerate(med) if math.isfinite(v)]
    return np.log10(np.array(xs)[keep]), np.log10(np.array(med)[keep])


def spread(runs, specs, x_of) -> float:
    """The largest ratio of the members' median final validation losses at a
    common x (the first member's points inside every member's range), by
    log-log interpolation."""
    curves = [_curve(runs, s, x_of) for s in specs]
    lo = max(c[0].min() for c in curves)
    hi = min(c[0].max() for c in curves)
    xs = [x for x in curves[0][0] if lo - 1e-9 <= x <= hi + 1e-9]
    if not xs:
        return math.nan
    values = np.array([[np.interp(x, *c) for c in curves] for x in xs])
    return float(10 ** np.max(values.max(axis=1) - values.min(axis=1)))


# %%
# The figure
# ----------


def sensitivity_figure(runs, task="nielsen", epochs=20, seeds=2):
    """The two panels described above; prints each family's spreads."""
    from filteropt.plotting import comparison

    fig = comparison.plot_sensitivity(
        runs,
        title=f"{task}: final validation loss, {epochs} epochs, median of {seeds} seeds",
    )
    print("largest ratio of final validation losses between a family's members:")
    for family, specs in FAMILIES.items():
        against_eta = spread(runs, specs, lambda r: r.learning_rate)
        against_eff = spread(runs, specs, lambda r: r.effective_learning_rate)
        print(
            f"  {family:9s} at equal eta: {against_eta:8.3g}   "
            f"at equal eta H(1): {against_eff:8.3g}"
        )
    return fig


def figures(task="nielsen", epochs=20, tune=7, seeds=2, stream=sys.stderr):
    """{file name: figure} for ``analysis/make_figures.py``."""
    runs = train(task, epochs, tune, seeds, stream)
    return {f"sensitivity_{task}.png": sensitivity_figure(runs, task, epochs, seeds)}


if __name__ == "__main__":
    figures()
