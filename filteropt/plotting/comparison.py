"""Figures of a tuned, repeated comparison (``filteropt compare``).

The runs are any objects with ``spec``, ``learning_rate``,
``effective_learning_rate``, ``seed``, ``history`` (Keras's, per epoch),
``final(key)`` and, when a target was given, ``steps`` and ``train_loss``
(:class:`filteropt.cli.tuning.Run`). Medians and quartiles are over seeds.
Each figure has one legend, outside the axes to the right of its last panel
(:func:`~filteropt.plotting.legend_outside`), each optimizer named by its
spec as given (and its best learning rate). Nothing here imports a
deep-learning backend.
"""

from __future__ import annotations

import math

import numpy as np

from .responses import legend_outside, pyplot

__all__ = ["plot_learning_curves", "plot_sensitivity", "plot_training_cost"]


def _quartiles(curves):
    a = np.asarray(curves, float)
    return np.median(a, axis=0), np.percentile(a, 25, axis=0), np.percentile(a, 75, axis=0)


def _band(ax, x, curves, label, **style):
    """Median line with the inter-quartile band; returns the line's colour."""
    n = min(len(c) for c in curves)
    med, lo, hi = _quartiles([c[:n] for c in curves])
    line = ax.plot(x[:n], med, label=label, **style)[0]
    if len(curves) > 1:
        ax.fill_between(x[:n], lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    return line.get_color()


def _by_spec(runs, best):
    return {
        spec: [r for r in runs if r.spec == spec and r.learning_rate == lr]
        for spec, lr in best.items()
    }


def plot_learning_curves(
    runs, best, title="learning curves", loss_name="loss", metrics=(), target=None
):
    """Each optimizer at its best learning rate (``best``: spec -> eta): loss
    against epoch (training solid, validation dashed), accuracy where
    ``metrics`` has it, and with a ``target`` the whole training set's loss
    against the optimizer step with the target drawn. The panels share one
    legend, outside the axes to the right of the last panel. Returns the
    Figure."""
    plt = pyplot()
    groups = _by_spec(runs, best)
    panels = 1 + bool(metrics) + (target is not None)
    fig, axes = plt.subplots(
        1, panels, figsize=(5.4 * panels + 2.2, 4.4), squeeze=False, layout="constrained"
    )
    axes = list(axes[0])
    n_seeds = max(len(g) for g in groups.values())
    for spec, group in groups.items():
        label = f"{spec} (eta {best[spec]:.3g})"
        ep = np.arange(1, len(group[0].history["loss"]) + 1)
        color = _band(axes[0], ep, [r.history["loss"] for r in group], label)
        _band(axes[0], ep, [r.history["val_loss"] for r in group], None, ls="--", color=color)
        k = 1
        if metrics:
            _band(axes[k], ep, [r.history["accuracy"] for r in group], label, color=color)
            _band(
                axes[k], ep, [r.history["val_accuracy"] for r in group], None, ls="--", color=color
            )
            k += 1
    if target is not None:
        _training_cost(axes[-1], runs, best, target)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel(f"loss ({loss_name}); dashed: validation")
    if metrics:
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("accuracy; dashed: validation")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    legend_outside(axes[-1], *_handles(axes))
    spread = f"median and inter-quartile range of {n_seeds} seeds" if n_seeds > 1 else "one seed"
    fig.suptitle(f"{title} (best learning rate each; {spread})")
    return fig


def _handles(axes):
    """The labelled artists of all ``axes``, each label once."""
    found: dict = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            found.setdefault(label, handle)
    return list(found.values()), list(found)


def _training_cost(ax, runs, best, target):
    for spec, group in _by_spec(runs, best).items():
        _band(ax, group[0].steps, [r.train_loss for r in group], f"{spec} (eta {best[spec]:.3g})")
    if target is not None:
        ax.axhline(target, color="k", lw=0.8, ls=":", label=f"target {target:g}")
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step (iteration)")
    ax.set_ylabel("loss on the whole training set")
    ax.grid(True, alpha=0.3)


def plot_training_cost(runs, best, ax=None, target=None, title=None):
    """The whole training set's loss against the optimizer step, each
    optimizer at its best learning rate (``best``: spec -> eta), median and
    inter-quartile band over seeds; the ``target`` as a dotted line. Draws on
    ``ax`` (a new figure, with constrained layout, if None); the legend lies
    outside the axes, to their right. Returns the Figure."""
    if ax is None:
        fig, ax = pyplot().subplots(figsize=(8.4, 4.6), layout="constrained")
    fig = ax.figure
    _training_cost(ax, runs, best, target)
    legend_outside(ax)
    if title:
        ax.set_title(title)
    return fig


def plot_sensitivity(runs, title="learning-rate sensitivity", key="val_loss"):
    """Final ``key`` against the learning rate eta (left) and against the
    effective learning rate eta H(1) (right), median over seeds with the
    inter-quartile range as error bars. Where a momentum's curves collapse
    on the right, its learning rate and momentum are coupled through
    eta/(1 - beta). Diverged runs are drawn as open markers at the top.
    The legend lies outside the axes, to the right of the right panel.
    Returns the Figure."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13.0, 4.4), sharey=True, layout="constrained")
    finite = [r.final(key) for r in runs if math.isfinite(r.final(key))]
    top = max(finite) * 2 if finite else 1.0
    for spec in dict.fromkeys(r.spec for r in runs):
        mine = [r for r in runs if r.spec == spec]
        lrs = sorted({r.learning_rate for r in mine})
        eff = [next(r.effective_learning_rate for r in mine if r.learning_rate == lr) for lr in lrs]
        values = [[r.final(key) for r in mine if r.learning_rate == lr] for lr in lrs]
        med = np.array([np.median(v) if all(map(math.isfinite, v)) else np.nan for v in values])
        lo = np.array(
            [np.percentile(v, 25) if all(map(math.isfinite, v)) else np.nan for v in values]
        )
        hi = np.array(
            [np.percentile(v, 75) if all(map(math.isfinite, v)) else np.nan for v in values]
        )
        color = None
        for ax, x in zip(axes, (np.array(lrs), np.array(eff))):
            bar = ax.errorbar(
                x,
                med,
                yerr=[med - lo, hi - med],
                marker="o",
                ms=4,
                capsize=2,
                label=spec,
                color=color,
            )
            color = bar.lines[0].get_color()
            bad = np.isnan(med)
            if bad.any():
                ax.plot(x[bad], np.full(bad.sum(), top), "o", mfc="none", color=color)
    for ax, xlabel in zip(axes, ("learning rate eta", "effective learning rate eta H(1)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(f"final {key} (open: diverged)")
    legend_outside(axes[1])
    fig.suptitle(title)
    return fig
