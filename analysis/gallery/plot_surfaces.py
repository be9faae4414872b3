"""
Optimizers on the lecture's test surfaces
=========================================

The lecture's "visualizing optimization" slide: Keras's optimizers, as
filteropt's drop-ins, run 200 steps on three 2-D functions, each at the
learning rate the surface's table gives it (``filteropt surface``;
:mod:`filteropt.cli.surfaces`). The gradient is the backend's, the paths are
what the optimizers do in float64:

- ``valley``, ``f = 0.05 x^2 + 5 y^2``, condition number 100: SGD's loop
  gain is large across the valley and small along it, so it zig-zags across
  and crawls along; momentum's low-pass accumulates the slow component and
  overshoots; the normalising methods divide each coordinate's gradient by
  its RMS and go straight;
- ``beale``, Beale's function from (1, 1.5), minimum (3, 0.5): flat plateaus
  between steep walls; momentum and Nesterov swing wide, the adaptive methods
  head for the minimum;
- ``saddle``, ``f = x^2 - y^2`` from (1, 0.001): the gradient in y is tiny
  near the saddle, SGD and momentum follow it slowly, the normalising methods
  scale it up and escape.

The last figure animates the Beale paths, a frame every few steps.
``filteropt surface NAME`` writes the same figure as ``trajectories.png``,
the animation as ``trajectories.gif`` (one frame per step) and the paths as a
CSV.
"""

# sphinx_gallery_thumbnail_number = 2
from filteropt.cli.surface import DEFAULT_STEPS, trajectories_figure
from filteropt.cli.surfaces import get, run_paths

SURFACES = ("valley", "beale", "saddle")


def paths_on(name, steps=DEFAULT_STEPS):
    """(surface, spec -> path) for the default optimizers on the surface ``name``."""
    from filteropt.cli import quiet

    quiet.import_tensorflow()
    surface = get(name)
    return surface, run_paths(surface, steps=steps)


# %%
# The three surfaces
# ------------------

if __name__ == "__main__":  # run by the gallery; make_figures.py imports figures()
    runs = {name: paths_on(name) for name in SURFACES}
    for surface, paths in runs.values():
        trajectories_figure(paths, surface)

# %%
# The animation
# -------------
# The Beale figure again, frame ``k`` drawing every path up to step
# ``k * EVERY`` (few, small frames, so that the page stays light; ``filteropt
# surface`` writes one frame per step).

#: Steps between two frames of the animation.
EVERY = 10


def animation(surface, paths, every=EVERY, dpi=60):
    """A ``FuncAnimation`` of :func:`trajectories_figure`: frame k draws each
    path up to step ``k * every``, its head a dot."""
    import numpy as np
    from matplotlib.animation import FuncAnimation

    fig = trajectories_figure(paths, surface)
    fig.set_dpi(dpi)
    ax = fig.axes[0]
    tracks = [t.points for t in paths.values()]
    lines, dots = [], []
    for line in ax.get_lines():  # each path's line, found by its data
        data = line.get_xydata()
        if any(data.shape == p.shape and np.array_equal(data, p) for p in tracks):
            lines.append(line)
        elif line.get_label().startswith("_") and line.get_marker() == "o":
            dots.append(line)  # an end point's dot: it moves with the path's head
    heads = [d for line in lines for d in dots if d.get_color() == line.get_color()]
    if len(lines) != len(tracks) or len(heads) != len(tracks):
        raise RuntimeError("the figure's paths were not found")
    tracks = [line.get_xydata() for line in lines]
    longest = max(len(p) for p in tracks)
    title = ax.get_title()

    def update(frame):
        k = min(frame * every, longest - 1)
        for line, head, p in zip(lines, heads, tracks):
            upto = min(k, len(p) - 1)
            line.set_data(p[: upto + 1, 0], p[: upto + 1, 1])
            head.set_data(p[upto : upto + 1, 0], p[upto : upto + 1, 1])
        ax.set_title(f"{title}: step {k}")
        return [*lines, *heads]

    frames = -(-(longest - 1) // every) + 1
    return FuncAnimation(fig, update, frames=frames, init_func=lambda: update(0), interval=150)


if __name__ == "__main__":
    import matplotlib

    # the page embeds every frame: JPEG frames are a quarter of PNG ones
    matplotlib.rcParams["animation.frame_format"] = "jpeg"
    anim = animation(*runs["beale"])


# %%
# The figures in ``analysis/figures/``
# ------------------------------------


def figures():
    """{file name: figure} for ``analysis/make_figures.py``."""
    return {
        f"surface_{name}.png": trajectories_figure(*reversed(paths_on(name))) for name in SURFACES
    }
