"""Plots of learning-rate schedules (matplotlib, no GUI: the Agg canvas).

Example:

>>> from filteropt.keras.schedule_plots import plot_schedules
>>> fig = plot_schedules(["constant", "exponential", "cyclical:max_lr=0.05"],
...                      learning_rate=0.01, total_steps=1000)
>>> fig.savefig("schedules.png")
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_schedules", "schedule_values"]


def schedule_values(schedule, total_steps) -> np.ndarray:
    """``[lr(0), lr(1), ..., lr(total_steps - 1)]`` of a LearningRateSchedule."""
    from keras import ops

    steps = np.arange(int(total_steps))
    try:
        out = np.asarray(ops.convert_to_numpy(schedule(ops.convert_to_tensor(steps))), dtype=float)
        return np.broadcast_to(out, steps.shape).copy()
    except Exception:  # noqa: BLE001 - a schedule that takes scalar steps only
        return np.array([float(ops.convert_to_numpy(schedule(int(i)))) for i in steps])


def plot_schedules(specs, learning_rate, total_steps, steps_per_epoch=1, ax=None, log=False):
    """Draws learning-rate schedules against the step; returns the Figure.

    Args:
        specs: a schedule spec (``"name"`` or ``"name:k=v,..."``, see
            :func:`filteropt.schedules.get`), a LearningRateSchedule, or a
            sequence of them; each is one line, labelled in the legend with
            its spec (or its class name).
        learning_rate, total_steps, steps_per_epoch: as in
            :func:`filteropt.schedules.get`.
        ax: a matplotlib Axes to draw on; by default a new Figure (on the Agg
            canvas, so nothing touches pyplot or opens a window).
        log: a logarithmic learning-rate axis.

    Example:

    >>> fig = plot_schedules(["step", "sgdr"], 0.1, 5000, steps_per_epoch=100, log=True)
    >>> fig.savefig("lr.png")
    """
    from . import schedules as S

    if isinstance(specs, (str, S.LearningRateSchedule)):
        specs = [specs]
    specs = list(specs)
    if not specs:
        raise ValueError("`specs` must name at least one schedule. Received: specs=[]")
    lines = []
    for spec in specs:
        schedule = S.get(spec, learning_rate, total_steps, steps_per_epoch)
        label = spec if isinstance(spec, str) else type(spec).__name__
        lines.append((label, schedule_values(schedule, total_steps)))

    if ax is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
    else:
        fig = ax.figure

    steps = np.arange(int(total_steps))
    for label, values in lines:
        ax.plot(steps, values, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if log:
        ax.set_yscale("log")
    # Outside the axes, to their right, as filteropt.plotting.legend_outside
    # places it (filteropt.keras and filteropt.plotting do not import each other).
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    return fig
