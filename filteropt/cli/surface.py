"""``filteropt surface``: Keras optimizers on a 2-D test function, the lecture's
"visualizing optimization" slide.

    filteropt surface NAME --optimizers SPEC [SPEC ...] [--steps N] [--noise SIGMA]
                      [--seed S] [--start X Y] [--out DIR]

runs each optimizer (``filteropt.keras.optimizers.get(spec)``; a spec that
names no ``learning_rate`` takes the surface's default for its name, from
:data:`filteropt.cli.surfaces.SURFACES`) on the surface NAME (valley, beale,
saddle, rosenbrock, rastrigin, quadratic; :mod:`filteropt.cli.surfaces`)
and writes, in ``--out``:

- ``trajectories.csv``: columns optimizer, step, x, y, loss; step 0 is the
  start, then one row per step (a path that diverged stops before the step
  at which it did);
- ``trajectories.png``: the function's contours with every path, the start
  and the known minima (:func:`filteropt.plotting.plot_trajectories`);
- ``trajectories.gif``: the animation, one frame per recorded step
  (:func:`filteropt.plotting.animate_trajectories`).

It prints a line per optimizer: its learning rate, where it ended, the
loss there, and where it diverged, if it did. The files are written into a
temporary folder inside ``--out`` and moved in place only when all three are
done (:func:`filteropt.cli.output.staged`).
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time

import numpy as np

from .output import check_out_dir, staged
from .surfaces import DEFAULT_OPTIMIZERS, SurfaceError, parameter_dtype, run_paths
from .surfaces import get as get_surface

__all__ = [
    "DEFAULT_STEPS",
    "FILES",
    "SurfaceError",
    "format_summary",
    "run",
    "trajectories_figure",
    "write",
]

FILES = ("trajectories.csv", "trajectories.png", "trajectories.gif")
DEFAULT_STEPS = 200


def _label(t) -> str:
    """The legend's name of a path: the spec, its learning rate when it came
    from the surface's table, and where it diverged."""
    label = t.spec if "learning_rate" in t.spec else f"{t.spec} (lr {t.learning_rate:.3g})"
    if t.diverged is not None:
        label += f", diverged at step {t.diverged}"
    return label


def run(
    name: str,
    optimizers=DEFAULT_OPTIMIZERS,
    steps: int = DEFAULT_STEPS,
    noise: float = 0.0,
    seed: int = 0,
    start=None,
    out: str = "surface-results",
    stream=sys.stdout,
):
    """Runs the optimizers on the surface ``name`` and writes the three files
    in ``out``; returns spec -> :class:`filteropt.cli.surfaces.Trajectory`.
    SurfaceError (nothing written) for a user's mistake."""
    surface = get_surface(name)
    if steps < 1:
        raise SurfaceError(f"--steps must be >= 1 (received {steps})")
    if not (noise >= 0 and math.isfinite(noise)):
        raise SurfaceError(f"--noise must be a finite number >= 0 (received {noise})")
    check_out_dir(out, SurfaceError)
    t0 = time.perf_counter()
    paths = run_paths(
        surface, list(optimizers) or list(DEFAULT_OPTIMIZERS), steps, noise, seed, start
    )
    seconds = time.perf_counter() - t0
    start = tuple(next(iter(paths.values())).points[0])
    print(
        f"surface {surface.name}: {surface.description}; from ({start[0]:g}, {start[1]:g}), "
        f"{steps} steps{f', gradient noise {noise:g} (seed {seed})' if noise else ''}, "
        f"{parameter_dtype()} ({seconds:.1f} s)",
        file=stream,
    )
    print(format_summary(paths, surface), file=stream)
    write(paths, surface, out)
    print(f"wrote {', '.join(os.path.join(out, f) for f in FILES)}", file=stream)
    return paths


def format_summary(paths, surface) -> str:
    """One line per path: spec, learning rate, steps, end point, loss there,
    distance to the nearest known minimum, divergence."""
    targets = np.array(surface.minima or surface.saddles or [(math.nan, math.nan)], dtype=float)
    what = "minimum" if surface.minima else "saddle"
    lines = []
    width = max(len(spec) for spec in paths)
    for spec, t in paths.items():
        end = t.points[-1]
        dist = float(np.min(np.hypot(*(targets - end).T)))
        note = f"  DIVERGED at step {t.diverged}" if t.diverged is not None else ""
        lines.append(
            f"  {spec:{width}s}  lr {t.learning_rate:<8.3g} {len(t.points) - 1:5d} steps"
            f"  end ({end[0]: .4g}, {end[1]: .4g})  loss {t.losses[-1]: .4g}"
            f"  {dist:.3g} from the {what}{note}"
        )
    return "\n".join(lines)


def trajectories_figure(paths, surface):
    """``trajectories.png``'s figure (left open): the surface's contours with
    every path of ``paths`` (spec -> :class:`~filteropt.cli.surfaces.Trajectory`)."""
    from .. import plotting

    return plotting.plot_trajectories(
        surface.numpy_fn,
        surface.box,
        {_label(t): t.points for t in paths.values()},
        title=f"{surface.name}: {surface.description}",
        minima=surface.minima,
        start=next(iter(paths.values())).points[0],
        saddles=surface.saddles,
    )


def write(paths, surface, out):
    """Writes the CSV, the PNG and the GIF atomically (a temporary folder
    inside ``out``, then one rename each)."""
    from .. import plotting

    labelled = {_label(t): t.points for t in paths.values()}
    start = next(iter(paths.values())).points[0]
    with staged(out, SurfaceError) as tmp:
        with open(os.path.join(tmp, FILES[0]), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["optimizer", "step", "x", "y", "loss"])
            for spec, t in paths.items():
                for k, ((x, y), loss) in enumerate(zip(t.points, t.losses)):
                    w.writerow([spec, k, repr(float(x)), repr(float(y)), repr(float(loss))])
        common = {"minima": surface.minima, "start": start, "saddles": surface.saddles}
        plotting.save(trajectories_figure(paths, surface), os.path.join(tmp, FILES[1]))
        plotting.animate_trajectories(
            surface.numpy_fn,
            surface.box,
            labelled,
            os.path.join(tmp, FILES[2]),
            title=surface.name,
            **common,
        )
