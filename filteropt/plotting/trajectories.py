"""Optimizer paths on a 2-D function: a contour plot and its animation
(``filteropt surface``, the lecture's "visualizing optimization" slide).

- :func:`plot_trajectories`: the function's contours, every path, the start
  and the known minima (or saddle points), a legend outside the axes, to
  their right (:func:`~filteropt.plotting.legend_outside`), so that it hides
  no path;
- :func:`animate_trajectories`: the same picture as a GIF
  (``matplotlib.animation.FuncAnimation`` and ``PillowWriter``), exactly one
  frame per recorded step: frame k draws each path up to step k;
- :func:`contour_levels`: the levels both use, log-spaced where the function
  is positive and spans decades (Beale's, Rosenbrock's).

A path is an array of shape (n + 1, 2): the start, then one point per step;
paths may have different lengths (one that diverged stops early). Nothing
here computes a path or imports a deep-learning backend: the functions take
a numpy function ``f(x, y)`` and the recorded points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .responses import STYLE, legend_outside, pyplot

__all__ = ["animate_trajectories", "contour_levels", "plot_trajectories"]


def contour_levels(z, n: int = 30, log: bool | None = None):
    """``(levels, log)`` for contours of the values ``z``.

    ``log=None`` chooses: log-spaced when ``z`` is never negative and its
    95th percentile is more than 100 times its 5th (the function spans
    decades over the box), from ``max(min z, 1e-7 max z)`` to ``max z``;
    evenly spaced from min to max otherwise.
    """
    z = np.asarray(z, dtype=float)
    z = z[np.isfinite(z)]
    lo, hi = float(z.min()), float(z.max())
    if log is None:
        p5, p95 = np.percentile(z, [5, 95])
        log = lo >= 0 and p95 > 100 * max(p5, np.finfo(float).tiny)
    if log:
        lo = max(lo, 1e-7 * hi, np.finfo(float).tiny)
        return np.logspace(np.log10(lo), np.log10(hi), n), True
    if hi <= lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, n), False


def _background(ax, fn, box, minima, saddles, start, log, resolution):
    from matplotlib.colors import LogNorm

    xmin, xmax, ymin, ymax = box
    x, y = np.meshgrid(np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution))
    with np.errstate(all="ignore"):
        z = np.asarray(fn(x, y), dtype=float)
    levels, log = contour_levels(z, log=log)
    norm = LogNorm(levels[0], levels[-1]) if log else None
    ax.contour(x, y, z, levels=levels, norm=norm, cmap="viridis", linewidths=0.6, alpha=0.8)
    for i, m in enumerate(minima):
        ax.plot(
            *m,
            "*",
            color="crimson",
            ms=12,
            mec="k",
            mew=0.5,
            label="minimum" if i == 0 else None,
            zorder=5,
        )
    for i, s in enumerate(saddles):
        ax.plot(
            *s,
            "X",
            color="crimson",
            ms=9,
            mec="k",
            mew=0.5,
            label="saddle point" if i == 0 else None,
            zorder=5,
        )
    if start is not None:
        ax.plot(*start, "o", color="k", ms=6, label="start", zorder=5)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(False)


def _paths(paths):
    out = {}
    for label, p in paths.items():
        p = np.asarray(p, dtype=float)
        if p.ndim != 2 or p.shape[1] != 2 or len(p) == 0:
            raise ValueError(
                f"path {label!r} must be an array of shape (n + 1, 2); received shape {p.shape}"
            )
        out[label] = p
    if not out:
        raise ValueError("no paths to draw")
    return out


def plot_trajectories(
    surface_numpy_fn: Callable,
    box: Sequence[float],
    paths: Mapping[str, np.ndarray],
    minima=(),
    start=None,
    *,
    saddles=(),
    title: str | None = None,
    ax=None,
    log: bool | None = None,
    resolution: int = 300,
):
    """The contours of ``surface_numpy_fn`` over ``box`` (``xmin, xmax,
    ymin, ymax``) with every path (label -> array (n + 1, 2), the label in
    the legend), ``start`` and the ``minima`` (and ``saddles``) marked.
    ``log``: log-spaced levels (None: :func:`contour_levels` decides).
    The legend lies outside the axes, to their right
    (:func:`~filteropt.plotting.legend_outside`; a figure made here has
    constrained layout, which makes room for it), long labels wrapped.
    Returns the Figure."""
    paths = _paths(paths)
    plt = pyplot()
    if ax is None:
        with plt.rc_context(STYLE):
            fig, ax = plt.subplots(figsize=(8.6, 5.6), layout="constrained")
    else:
        fig = ax.figure
    _background(ax, surface_numpy_fn, box, minima, saddles, start, log, resolution)
    for label, p in paths.items():
        line = ax.plot(p[:, 0], p[:, 1], "-", lw=1.4, label=label, zorder=3)[0]
        ax.plot(p[-1, 0], p[-1, 1], "o", color=line.get_color(), ms=4, zorder=4)
    legend_outside(ax)
    if title:
        ax.set_title(title)
    return fig


def _pixels_artist():
    from matplotlib.artist import Artist

    class Pixels(Artist):
        """A figure-sized RGBA buffer, drawn pixel for pixel (the figure's dpi
        must be the one it was rendered at)."""

        def __init__(self, rgba):
            super().__init__()
            # the renderer takes rows bottom-up; the canvas buffer is top-down
            self._rgba = np.ascontiguousarray(np.asarray(rgba, dtype=np.uint8)[::-1])

        def draw(self, renderer):
            gc = renderer.new_gc()
            renderer.draw_image(gc, 0, 0, self._rgba)
            gc.restore()

    return Pixels


def _writer():
    from matplotlib.animation import PillowWriter
    from PIL import Image

    class SharedPaletteWriter(PillowWriter):
        """matplotlib's PillowWriter, with every frame mapped to one palette
        (the last frame's, which shows every path whole) before Pillow writes
        the GIF: Pillow would otherwise compute a palette per frame (most of
        the writing time) and store each, so the file is also several times
        smaller. One frame in, one frame out, as before."""

        def finish(self):
            frames = getattr(self, "_frames", None)
            if frames:
                palette = (
                    frames[-1].convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
                )
                self._frames = [
                    f.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE)
                    for f in frames
                ]
            super().finish()

    return SharedPaletteWriter


def _Pixels(rgba):
    return _pixels_artist()(rgba)


def _still(fn, box, paths, minima, start, saddles, log, figsize, dpi, resolution):
    """``(figure, axes, colours)``: what does not move in the animation,
    drawn (constrained layout, the legend outside the axes, to their right,
    a blank title kept for the animated one); the colours are the paths'."""
    plt = pyplot()
    with plt.rc_context(STYLE):
        still = plt.figure(figsize=figsize, dpi=dpi, layout="constrained")
    try:
        ax = still.add_subplot()
        _background(ax, fn, box, minima, saddles, start, log, resolution)
        colors = [ax.plot([], [], "-", lw=1.2, label=label)[0].get_color() for label in paths]
        legend_outside(ax, fontsize=6)
        ax.set_title(" ")  # room for the animated title
        still.canvas.draw()
    except BaseException:
        plt.close(still)
        raise
    return still, ax, colors


def animate_trajectories(
    surface_numpy_fn: Callable,
    box: Sequence[float],
    paths: Mapping[str, np.ndarray],
    path,
    minima=(),
    start=None,
    *,
    saddles=(),
    title: str | None = None,
    log: bool | None = None,
    fps: int = 20,
    dpi: int = 70,
    figsize=(6.6, 4.2),
    resolution: int = 150,
) -> int:
    """Writes the GIF ``path``: frame k (k = 0 .. longest path's length - 1)
    draws each path up to its step k (a shorter path stays at its last
    point) and says "step k" in the title, so that no two frames are equal
    and the GIF holds exactly one frame per recorded step. Same arguments
    as :func:`plot_trajectories`; ``fps``, ``dpi`` and ``figsize`` size the
    animation. Returns the number of frames. As in :func:`plot_trajectories`
    the legend lies outside the axes, to their right, where no path is
    drawn (the paths are clipped to the axes).

    The frames go through ``matplotlib.animation.FuncAnimation`` and
    ``PillowWriter``. What does not move (contours, axes, legend, markers) is
    drawn once, into pixels the animated figure copies as they are (no
    resampling), under a bare axes at the same place holding the paths: a
    frame then costs a few milliseconds instead of a full redraw of the
    contours and the text (a 200-step GIF in about two seconds, not thirty).
    """
    from matplotlib.animation import FuncAnimation

    paths = _paths(paths)
    plt = pyplot()
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=figsize, dpi=dpi)
    still = None
    try:
        still, ax, colors = _still(
            surface_numpy_fn, box, paths, minima, start, saddles, log, figsize, dpi, resolution
        )
        fig.add_artist(_Pixels(np.asarray(still.canvas.buffer_rgba())))
        moving = fig.add_axes(ax.get_position(), xlim=ax.get_xlim(), ylim=ax.get_ylim())
        moving.set_axis_off()
        moving.set_zorder(1)  # above the image
        lines, heads = [], []
        for color, p in zip(colors, paths.values()):
            lines.append(moving.plot(p[:1, 0], p[:1, 1], "-", lw=1.2, color=color, zorder=3)[0])
            heads.append(moving.plot(p[:1, 0], p[:1, 1], "o", color=color, ms=4, zorder=4)[0])
        # a figure text where the still's title would be (an axes title
        # would measure the hidden axes' ticks at every frame)
        heading = fig.text(
            0.5 * (ax.get_position().x0 + ax.get_position().x1),
            0.0,
            "",
            ha="center",
            va="baseline",
            fontsize=ax.title.get_fontsize(),
            transform=fig.transFigure,
        )
        heading.set_y(
            fig.transFigure.inverted().transform(
                ax.title.get_window_extent(still.canvas.get_renderer()).p0
            )[1]
        )
        n_frames = max(len(p) for p in paths.values())
        prefix = f"{title}: " if title else ""

        def update(k):
            for line, head, p in zip(lines, heads, paths.values()):
                upto = min(k, len(p) - 1)
                line.set_data(p[: upto + 1, 0], p[: upto + 1, 1])
                head.set_data(p[upto : upto + 1, 0], p[upto : upto + 1, 1])
            heading.set_text(f"{prefix}step {k}")
            return [*lines, *heads, heading]

        anim = FuncAnimation(
            fig,
            update,
            frames=n_frames,
            init_func=lambda: update(0),
            blit=False,
            repeat=False,
            cache_frame_data=False,
        )
        anim.save(str(path), writer=_writer()(fps=fps), dpi=dpi)
    finally:
        if still is not None:
            plt.close(still)
        plt.close(fig)
    return n_frames
