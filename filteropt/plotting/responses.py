"""Matplotlib figures built from :mod:`filteropt.analysis` results.

Every function takes one or several optimizers (names with hyperparameters,
recipes, optimizer instances or bare filters), accepts an ``ax`` to draw
into, labels its axes, names each curve by the optimizer, and returns the
Figure. Nothing here imports a deep-learning backend.

Legends: every figure of :mod:`filteropt.plotting` puts its legend outside
the axes, to their right, its top level with the axes' top
(:func:`legend_outside`), so that it never covers a curve, a marker or an
axis label. A figure made here (no ``ax`` given) has matplotlib's
constrained layout, which makes room for the legend; on an ``ax`` of your
own figure, give that figure ``layout="constrained"`` or save it with
``bbox_inches="tight"`` (as :func:`save` does).

Labels: a spec is named as it was typed (``"momentum:momentum=0.9"``,
``"adam"``), not with every default spelled out; a recipe or an optimizer
by its name and the hyperparameters that differ from the name's defaults;
a bare filter by its repr when that is short. A long label is wrapped in
the legend (:func:`wrap_label`) rather than squeezing the plot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import analysis as A
from .. import recipes as R
from ..analysis.responses import hyperparameter_text
from ..signal.arma import ARMAFilter

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

__all__ = [
    "RESPONSES",
    "figure_axes",
    "legend_outside",
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
    "short_label",
    "wrap_label",
]

STYLE = {
    "figure.figsize": (8.0, 4.2),
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


def figure_axes(ax, nrows: int = 1, sharex: bool = False, figsize=None):
    """``(figure, axes)``: ``ax`` and its figure, or a new figure in the house
    style with constrained layout (room for the legend to the right of the
    axes, :func:`legend_outside`). ``figsize``: the new figure's size in
    inches (default 8 x 4.2, 8 x 6 for two rows)."""
    plt = pyplot()
    if ax is not None:
        return ax.figure, ax
    if figsize is None:
        figsize = (8.0, 4.2 if nrows == 1 else 6.0)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(
            nrows, 1, sharex=sharex, squeeze=True, figsize=figsize, layout="constrained"
        )
    return fig, ax


#: Characters a legend label may hold on one line (:func:`wrap_label`).
LABEL_WIDTH = 32
#: Lines a legend label may take; the rest is cut, with an ellipsis.
LABEL_LINES = 3

#: Where every legend goes: outside the axes, to their right, its top level
#: with the axes' top.
LEGEND_PLACEMENT: dict[str, Any] = {
    "loc": "upper left",
    "bbox_to_anchor": (1.02, 1.0),
    "borderaxespad": 0.0,
    "fontsize": 8,
    "frameon": False,
}

_BREAK = re.compile(r"(?<=[,:;\s])(?=[^,:;\s])")


def _greedy(pieces: list[str], width: int) -> list[str]:
    lines, line = [], ""
    for piece in pieces:
        if line and len(line + piece.rstrip()) > width:
            lines.append(line)
            line = piece
        else:
            line += piece
    return [*lines, line]


def wrap_label(text: str, width: int = LABEL_WIDTH, max_lines: int = LABEL_LINES) -> str:
    """``text`` in lines of at most ``width`` characters, each broken after a
    comma, colon, semicolon or space (a longer run without one is cut), as
    few lines as that allows, of even lengths; at most ``max_lines`` of
    them: the last ends in an ellipsis where text was left out. Unless
    something was left out, joining the lines gives ``text`` back
    (``wrapped.replace("\\n", "") == text``).

    Example:
        >>> print(wrap_label("butterworth:order=4,cutoff=0.05,momentum_gain=input"))
        butterworth:order=4,
        cutoff=0.05,momentum_gain=input
        >>> wrap_label("adam")
        'adam'
    """
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        pieces: list[str] = []
        for piece in _BREAK.split(paragraph):
            pieces += [piece[i : i + width] for i in range(0, max(len(piece), 1), width)]
        greedy = _greedy(pieces, width)
        for narrower in range(max(len(paragraph) // len(greedy), 1), width):
            even = _greedy(pieces, narrower)  # the same number of lines, shorter ones
            if len(even) == len(greedy):
                greedy = even
                break
        lines += greedy
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(width - 1, 0)].rstrip() + "\u2026"
    return "\n".join(lines)


def legend_outside(ax, handles=None, labels=None, **kwargs) -> Legend | None:
    """The legend of ``ax`` (or of ``handles`` and ``labels``) outside the
    axes, to their right, its top level with the axes' top
    (:data:`LEGEND_PLACEMENT`; ``kwargs`` override it), its labels wrapped
    (:func:`wrap_label`). None (and no legend) when nothing is labelled.

    The legend lies beyond the axes' right edge, so it covers no data and no
    axis label; the figure must make room for it: constrained layout (every
    figure made here has it) or ``bbox_inches="tight"`` when saving."""
    if handles is None:
        handles, found = ax.get_legend_handles_labels()
        labels = found if labels is None else labels
    elif labels is None:
        labels = [h.get_label() for h in handles]
    if not handles:
        return None
    return ax.legend(handles, [wrap_label(t) for t in labels], **{**LEGEND_PLACEMENT, **kwargs})


def _items(objs):
    if isinstance(objs, (str, ARMAFilter)) or not isinstance(objs, Sequence):
        objs = [objs]
    return list(objs)


def _same(a, b) -> bool:
    try:
        return bool(np.array_equal(a, b))
    except (TypeError, ValueError):
        return False


def short_label(obj) -> str:
    """A short name for a legend: a spec string as it was typed
    (``"momentum:momentum=0.9"``, ``"adam"``); a recipe, or an optimizer
    with one, as a spec of its name and only the hyperparameters that differ
    from that name's defaults (``recipes.get("momentum:momentum=0.95")`` ->
    ``"momentum:momentum=0.95"``; ``recipes.get("adam")`` -> ``"adam"``); a
    bare filter as its repr when that fits one legend line, else
    ``"ARMA filter, order N"``.

    Example:
        >>> from filteropt import recipes
        >>> short_label("nesterov"), short_label(recipes.get("nesterov:momentum=0.95"))
        ('nesterov', 'nesterov:momentum=0.95')
    """
    if isinstance(obj, str):
        return obj
    if isinstance(obj, ARMAFilter):
        text = repr(obj)
        return text if len(text) <= LABEL_WIDTH else f"ARMA filter, order {obj.order}"
    recipe = A.as_recipe(obj)
    try:
        default = R.get(recipe.name)
    except (ValueError, TypeError, KeyError):
        default = None
    defaults = {} if default is None else default.hyperparameters
    params = {
        k: text
        for k, text in hyperparameter_text(recipe).items()
        if not (k in defaults and _same(recipe.hyperparameters[k], defaults[k]))
    }
    if (
        "weight_decay" not in recipe.hyperparameters
        and default is not None
        and recipe.weight_decay != default.weight_decay
    ):
        params["weight_decay"] = f"{recipe.weight_decay:g}"
    spec = ",".join(f"{k}={text}" for k, text in params.items())
    return f"{recipe.name}:{spec}" if spec else recipe.name


def _name(obj, label=None) -> str:
    return short_label(obj) if label is None else str(label)


def _labels(items, labels) -> list[str]:
    if labels is not None and len(labels) != len(items):
        raise ValueError(
            f"`labels` must name each of the {len(items)} optimizers. "
            f"Received {len(labels)} labels: {list(labels)!r}"
        )
    return [_name(obj, labels[i] if labels is not None else None) for i, obj in enumerate(items)]


def plot_frequency(
    optimizers, ax=None, which: str = "gradient", phase: bool = False, n: int = 512, labels=None
) -> Figure:
    """Magnitude (dB) of the gradient (or variance) filter against cycles per
    step (``phase``: the phase below it, on a figure made here).

    One curve per optimizer, named by ``labels`` or :func:`short_label`; the
    legend lies outside the axes, to the right of the magnitude's
    (:func:`legend_outside`).

    Example:
        >>> from filteropt import plotting
        >>> fig = plotting.plot_frequency(["momentum", "nesterov:momentum=0.95", "adam"])
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        ['momentum', 'nesterov:momentum=0.95', 'adam']
        >>> plotting.save(fig, "frequency.png")
    """
    items = _items(optimizers)
    if phase and ax is None:
        fig, (ax_m, ax_p) = figure_axes(None, nrows=2, sharex=True)
    else:
        fig, ax_m = figure_axes(ax)
        ax_p = None
    for obj, name in zip(items, _labels(items, labels)):
        r = A.frequency_response(obj, n, which=which)
        ax_m.plot(r.nu, r.magnitude_db, label=name)
        if ax_p is not None:
            ax_p.plot(r.nu, r.phase, label=name)
    ax_m.set_ylabel("magnitude (dB)")
    ax_m.set_title(f"{which} filter frequency response")
    legend_outside(ax_m)
    last = ax_p if ax_p is not None else ax_m
    last.set_xlabel("normalised frequency (cycles per step)")
    last.set_xlim(0, 0.5)
    if ax_p is not None:
        ax_p.set_ylabel("phase (rad)")
    return fig


def _plot_time(kind, optimizers, ax, n, compensated, labels) -> Figure:
    fig, ax = figure_axes(ax)
    fn = A.step_response if kind == "step" else A.impulse_response
    items = _items(optimizers)
    for obj, name in zip(items, _labels(items, labels)):
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
    legend_outside(ax)
    return fig


def plot_step(optimizers, ax=None, n: int = 50, compensated=True, labels=None) -> Figure:
    """Step response of the gradient path (``compensated="both"`` draws both,
    the uncompensated one dashed). The legend lies outside the axes, to
    their right (:func:`legend_outside`).

    Example:
        >>> from filteropt import plotting
        >>> fig = plotting.plot_step("adam", compensated="both")
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        ['adam, compensated', 'adam, uncompensated']
    """
    return _plot_time("step", optimizers, ax, n, compensated, labels)


def plot_impulse(optimizers, ax=None, n: int = 50, compensated=True, labels=None) -> Figure:
    """Impulse response of the gradient path. The legend lies outside the
    axes, to their right (:func:`legend_outside`)."""
    return _plot_time("impulse", optimizers, ax, n, compensated, labels)


def plot_learning_rate_step(optimizers, ax=None, n: int = 50, labels=None) -> Figure:
    """The update for a constant gradient when eta drops tenfold halfway
    (:func:`filteropt.analysis.learning_rate_step_response`): before or after
    the filter, the difference a schedule makes. The legend lies outside the
    axes, to their right (:func:`legend_outside`)."""
    fig, ax = figure_axes(ax)
    items = _items(optimizers)
    for obj, name in zip(items, _labels(items, labels)):
        y = A.learning_rate_step_response(obj, n)
        ax.plot(np.arange(n), y, marker=".", ms=3, label=name)
    ax.axvline(n // 2, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("step n (eta: 1, then 0.1 from the dotted line)")
    ax.set_ylabel("-update for g = 1")
    ax.set_title("where the learning rate enters: a tenfold drop in eta")
    legend_outside(ax)
    return fig


def plot_polezero(optimizers, ax=None, which: str = "gradient", labels=None) -> Figure:
    """Poles (x) and zeros (o) in the z-plane, with the unit circle.

    Equal aspect on a square box centred on the origin that holds the unit
    circle and every pole and zero. One colour per optimizer; the legend
    names each by its poles' marker and lies outside the axes, to their
    right (:func:`legend_outside`), off the circle and the axis labels (a
    figure made here is as wide as the square and the legend together).

    Example:
        >>> from filteropt import plotting
        >>> fig = plotting.plot_polezero(["momentum", "butterworth:order=3,cutoff=0.1"])
        >>> fig.axes[0].get_aspect()  # equal: the unit circle is a circle
        1.0
    """
    own = ax is None
    fig, ax = figure_axes(ax, figsize=(7.6, 4.6))
    t = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(t), np.sin(t), color="0.6", lw=0.8)
    ax.axhline(0.0, color="0.85", lw=0.6, zorder=0)
    ax.axvline(0.0, color="0.85", lw=0.6, zorder=0)
    radius = 1.0
    items = _items(optimizers)
    for obj, name in zip(items, _labels(items, labels)):
        zeros, poles = A.pole_zero(obj, which)
        points = np.r_[np.asarray(zeros, complex), np.asarray(poles, complex)]
        points = points[np.isfinite(points)]
        if points.size:
            radius = max(radius, float(np.max(np.abs(np.r_[points.real, points.imag]))))
        line = ax.plot(np.real(poles), np.imag(poles), "x", ms=9, mew=2, label=name)[0]
        ax.plot(
            np.real(zeros),
            np.imag(zeros),
            "o",
            mfc="none",
            ms=8,
            mew=1.5,
            color=line.get_color(),
        )
    lim = 1.15 * radius
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("real part")
    ax.set_ylabel("imaginary part")
    ax.set_title(f"{which} filter poles (x) and zeros (o)")
    legend_outside(ax)
    if own:  # the square to the left, the legend after it, the figure as wide as both
        ax.set_anchor("W")
        fig.draw_without_rendering()
        fig.set_figwidth(fig.get_tightbbox().x1 + 0.15)
    return fig


def plot_group_delay(optimizers, ax=None, which: str = "gradient", labels=None) -> Figure:
    """Group delay (steps) of the gradient (or variance) filter against
    cycles per step. The legend lies outside the axes, to their right
    (:func:`legend_outside`)."""
    fig, ax = figure_axes(ax)
    items = _items(optimizers)
    for obj, name in zip(items, _labels(items, labels)):
        nu, gd = A.group_delay(obj, which=which)
        ax.plot(nu, gd, label=name)
    ax.set_xlabel("normalised frequency (cycles per step)")
    ax.set_ylabel("group delay (steps)")
    ax.set_xlim(0, 0.5)
    ax.set_title(f"{which} filter group delay")
    legend_outside(ax)
    return fig


def plot_rate(optimizers, ax=None, steps=None, labels=None, learning_rate=None) -> Figure:
    """Closed-loop rate on a quadratic against step = eta * lambda.

    An optimizer with decoupled weight decay lambda_wd has its integrator's
    pole at 1 - eta lambda_wd, which needs eta: ``learning_rate``, else the
    optimizer's own (see :func:`filteropt.analysis.quadratic_rate`). The
    legend lies outside the axes, to their right (:func:`legend_outside`)."""
    fig, ax = figure_axes(ax)
    steps = np.linspace(1e-3, 4.0, 400) if steps is None else np.asarray(steps)
    items = _items(optimizers)
    for obj, name in zip(items, _labels(items, labels)):
        ax.plot(steps, A.quadratic_rate(obj, steps, learning_rate=learning_rate), label=name)
    ax.axhline(1.0, color="0.4", lw=0.8, ls=":")
    ax.set_ylim(0, 1.5)
    ax.set_xlabel("step = learning rate x curvature")
    ax.set_ylabel("convergence rate (spectral radius)")
    ax.set_title("closed loop on a quadratic: error ~ rate^i (below 1 converges)")
    legend_outside(ax)
    return fig


def plot_rate_map(family, params, steps=None, ax=None, param_name="momentum", title=None) -> Figure:
    """Rate over (step, hyperparameter); the white contour bounds stability.
    No legend: the colour bar, to the right of the axes, says what the
    colours are."""
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


#: The responses :func:`plot_response` draws, by name (``filteropt plot --response``).
RESPONSES: dict[str, Callable[..., Figure]] = {
    "frequency": plot_frequency,
    "step": plot_step,
    "impulse": plot_impulse,
    "polezero": plot_polezero,
    "rate": plot_rate,
    "groupdelay": plot_group_delay,
    "lrstep": plot_learning_rate_step,
}


def plot_response(kind: str, optimizers, ax=None, **kwargs) -> Figure:
    """One of :data:`RESPONSES` by name (each puts its legend outside the
    axes, to their right)."""
    if kind not in RESPONSES:
        raise ValueError(f"unknown response {kind!r}; known: {', '.join(RESPONSES)}")
    return RESPONSES[kind](optimizers, ax=ax, **kwargs)


def save(fig, path) -> None:
    """Writes the figure atomically (a temporary file, then a rename), with
    the permissions a new file gets under the user's umask, cropped to what
    it draws (``bbox_inches="tight"``: a legend outside the axes is kept
    whole, whatever the figure's layout)."""
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
