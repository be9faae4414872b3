"""Matplotlib figures built from :mod:`filteropt.analysis` results.

Every function takes one or several optimizers (names with hyperparameters,
recipes, optimizer instances or bare filters), accepts an ``ax`` to draw
into, labels its axes, names each curve by the optimizer and its
hyperparameters, and returns the Figure. Nothing here imports a
deep-learning backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import analysis as A
from ..signal.arma import ARMAFilter

__all__ = [
    "RESPONSES",
    "figure_axes",
    "plot_frequency",
    "plot_group_delay",
    "plot_impulse",
    "plot_learning_rate_step",
    "plot_polezero",
    "plot_rate",
    "plot_rate_map",
    "plot_response",
    "plot_step",
    "pyplot",
    "save",
]

STYLE = {
    "figure.figsize": (7.0, 4.2),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
}


def pyplot():
    """matplotlib.pyplot, on the Agg backend unless an interactive one is in use."""
    import matplotlib

    if (
        matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo")
        and not _interactive()
    ):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _interactive() -> bool:
    import sys

    return hasattr(sys, "ps1") or "ipykernel" in sys.modules


def figure_axes(ax, nrows=1, sharex=False):
    """``(figure, axes)``: ``ax`` and its figure, or a new figure in the house style."""
    plt = pyplot()
    if ax is not None:
        return ax.figure, ax
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(
            nrows, 1, sharex=sharex, squeeze=True, figsize=(7.0, 4.2 if nrows == 1 else 6.0)
        )
    return fig, ax


def _items(objs):
    if isinstance(objs, (str, ARMAFilter)) or not isinstance(objs, Sequence):
        objs = [objs]
    return list(objs)


def _name(obj, label=None):
    if label is not None:
        return label
    if isinstance(obj, ARMAFilter):
        return repr(obj)
    return A.label(obj)


def plot_frequency(
    optimizers, ax=None, which: str = "gradient", phase: bool = False, n: int = 512, labels=None
):
    """Magnitude (dB) of the gradient (or variance) filter against cycles per step."""
    items = _items(optimizers)
    if phase and ax is None:
        fig, (ax_m, ax_p) = figure_axes(None, nrows=2, sharex=True)
    else:
        fig, ax_m = figure_axes(ax)
        ax_p = None
    for i, obj in enumerate(items):
        r = A.frequency_response(obj, n, which=which)
        name = _name(obj, labels[i] if labels else None)
        ax_m.plot(r.nu, r.magnitude_db, label=name)
        if ax_p is not None:
            ax_p.plot(r.nu, r.phase, label=name)
    ax_m.set_ylabel("magnitude (dB)")
    ax_m.set_title(f"{which} filter frequency response")
    ax_m.legend()
    last = ax_p if ax_p is not None else ax_m
    last.set_xlabel("normalised frequency (cycles per step)")
    last.set_xlim(0, 0.5)
    if ax_p is not None:
        ax_p.set_ylabel("phase (rad)")
    return fig


def _plot_time(kind, optimizers, ax, n, compensated, labels):
    fig, ax = figure_axes(ax)
    fn = A.step_response if kind == "step" else A.impulse_response
    for i, obj in enumerate(_items(optimizers)):
        name = _name(obj, labels[i] if labels else None)
        for comp in [True, False] if compensated == "both" else [compensated]:
            y = fn(obj, n, compensated=comp)
            suffix = (
                "" if compensated != "both" else (", compensated" if comp else ", uncompensated")
            )
            ax.plot(
                np.arange(n),
                y,
                marker=".",
                ms=3,
                label=name + suffix,
                linestyle="-" if comp else "--",
            )
    ax.set_xlabel("step n")
    ax.set_ylabel(f"{kind} response")
    ax.set_title(f"gradient filter {kind} response")
    ax.legend()
    return fig


def plot_step(optimizers, ax=None, n: int = 50, compensated=True, labels=None):
    """Step response of the gradient path (``compensated="both"`` draws both)."""
    return _plot_time("step", optimizers, ax, n, compensated, labels)


def plot_impulse(optimizers, ax=None, n: int = 50, compensated=True, labels=None):
    """Impulse response of the gradient path."""
    return _plot_time("impulse", optimizers, ax, n, compensated, labels)


def plot_learning_rate_step(optimizers, ax=None, n: int = 50, labels=None):
    """The update for a constant gradient when eta drops tenfold halfway
    (:func:`filteropt.analysis.learning_rate_step_response`): before or after
    the filter, the difference a schedule makes."""
    fig, ax = figure_axes(ax)
    for i, obj in enumerate(_items(optimizers)):
        y = A.learning_rate_step_response(obj, n)
        ax.plot(np.arange(n), y, marker=".", ms=3, label=_name(obj, labels[i] if labels else None))
    ax.axvline(n // 2, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("step n (eta: 1, then 0.1 from the dotted line)")
    ax.set_ylabel("-update for g = 1")
    ax.set_title("where the learning rate enters: a tenfold drop in eta")
    ax.legend()
    return fig


def plot_polezero(optimizers, ax=None, which: str = "gradient", labels=None):
    """Poles (x) and zeros (o) in the z-plane, with the unit circle."""
    fig, ax = figure_axes(ax)
    t = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(t), np.sin(t), color="0.6", lw=0.8)
    for i, obj in enumerate(_items(optimizers)):
        zeros, poles = A.pole_zero(obj, which)
        name = _name(obj, labels[i] if labels else None)
        line = ax.plot(np.real(poles), np.imag(poles), "x", ms=9, mew=2, label=name + " poles")[0]
        ax.plot(
            np.real(zeros),
            np.imag(zeros),
            "o",
            mfc="none",
            ms=8,
            mew=1.5,
            color=line.get_color(),
            label=name + " zeros",
        )
    ax.set_aspect("equal")
    ax.set_xlabel("real part")
    ax.set_ylabel("imaginary part")
    ax.set_title(f"{which} filter poles and zeros")
    ax.legend()
    return fig


def plot_group_delay(optimizers, ax=None, which: str = "gradient", labels=None):
    fig, ax = figure_axes(ax)
    for i, obj in enumerate(_items(optimizers)):
        nu, gd = A.group_delay(obj, which=which)
        ax.plot(nu, gd, label=_name(obj, labels[i] if labels else None))
    ax.set_xlabel("normalised frequency (cycles per step)")
    ax.set_ylabel("group delay (steps)")
    ax.set_xlim(0, 0.5)
    ax.legend()
    return fig


def plot_rate(optimizers, ax=None, steps=None, labels=None, learning_rate=None):
    """Closed-loop rate on a quadratic against step = eta * lambda.

    An optimizer with decoupled weight decay lambda_wd has its integrator's
    pole at 1 - eta lambda_wd, which needs eta: ``learning_rate``, else the
    optimizer's own (see :func:`filteropt.analysis.quadratic_rate`)."""
    fig, ax = figure_axes(ax)
    steps = np.linspace(1e-3, 4.0, 400) if steps is None else np.asarray(steps)
    for i, obj in enumerate(_items(optimizers)):
        ax.plot(
            steps,
            A.quadratic_rate(obj, steps, learning_rate=learning_rate),
            label=_name(obj, labels[i] if labels else None),
        )
    ax.axhline(1.0, color="0.4", lw=0.8, ls=":")
    ax.set_ylim(0, 1.5)
    ax.set_xlabel("step = learning rate x curvature")
    ax.set_ylabel("convergence rate (spectral radius)")
    ax.set_title("closed loop on a quadratic: error ~ rate^i (below 1 converges)")
    ax.legend()
    return fig


def plot_rate_map(family, params, steps=None, ax=None, param_name="momentum", title=None):
    """Rate over (step, hyperparameter); the white contour bounds stability."""
    fig, ax = figure_axes(ax)
    steps = np.linspace(0.01, 4.0, 200) if steps is None else np.asarray(steps)
    params = np.asarray(params)
    rates = A.rate_map(family, steps, params)
    mesh = ax.pcolormesh(
        steps, params, np.minimum(rates, 1.2), shading="auto", cmap="viridis", vmin=0, vmax=1.2
    )
    ax.contour(steps, params, rates, levels=[1.0], colors="white", linewidths=1.2)
    fig.colorbar(mesh, ax=ax, label="convergence rate (>= 1: diverges)")
    ax.set_xlabel("step = learning rate x curvature")
    ax.set_ylabel(param_name)
    ax.set_title(title or "closed-loop convergence rate")
    ax.grid(False)
    return fig


RESPONSES = {
    "frequency": plot_frequency,
    "step": plot_step,
    "impulse": plot_impulse,
    "polezero": plot_polezero,
    "rate": plot_rate,
    "groupdelay": plot_group_delay,
    "lrstep": plot_learning_rate_step,
}


def plot_response(kind: str, optimizers, ax=None, **kwargs):
    """One of :data:`RESPONSES` by name."""
    if kind not in RESPONSES:
        raise ValueError(f"unknown response {kind!r}; known: {', '.join(RESPONSES)}")
    return RESPONSES[kind](optimizers, ax=ax, **kwargs)


def save(fig, path) -> None:
    """Writes the figure atomically (a temporary file, then a rename), with
    the permissions a new file gets under the user's umask."""
    import os
    import tempfile

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1] or ".png"
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=directory)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is for secrets, not figures
    try:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        pyplot().close(fig)
