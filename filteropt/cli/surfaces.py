"""The 2-D test functions of ``filteropt surface`` (the lecture's "visualizing
optimization" slide), and the loop that runs Keras optimizers on them.

Each :class:`Surface` holds the function twice: in ``keras.ops`` (so that the
backend's autodiff computes the gradient the optimizer sees: the paths are
what the Keras optimizer does on that function) and in numpy (for contours
and for the loss column of the CSV), a default start point, the plotting box,
the known minima (and saddle points), and a table of default learning rates
per optimizer name, used when a spec names no ``learning_rate``:

- ``valley``: f = 0.05 x^2 + 5 y^2, a long narrow valley (condition number
  100): SGD zig-zags across it and crawls along it, momentum overshoots,
  the adaptive methods normalise the two directions and go straight;
- ``beale``: Beale's function, minimum (3, 0.5), from (1, 1.5): flat
  plateaus between steep walls; momentum and Nesterov swing wide, the
  adaptive methods head for the minimum;
- ``saddle``: f = x^2 - y^2 from (1, 1e-3), next to the saddle (0, 0): SGD
  and momentum follow the tiny gradient in y and stay near the saddle,
  the adaptive methods normalise it and escape;
- ``rosenbrock``: (1 - x)^2 + 100 (y - x^2)^2, minimum (1, 1), from
  (-1.5, 2): the curved valley, steep across and flat along: in 200 steps
  momentum gets furthest, SGD (held back by the steep direction) least;
- ``rastrigin``: 20 + x^2 - 10 cos(2 pi x) + y^2 - 10 cos(2 pi y), global
  minimum (0, 0) among a grid of local ones: at learning rates at which
  they converge, all of them stop in the local minimum of the basin they
  start in (larger ones hop between basins, erratically);
- ``quadratic``: 0.5 (x^2 + 10 y^2), minimum (0, 0): the one to add
  gradient noise to (``--noise``).

:func:`run_paths` runs the optimizers, eagerly, one step at a time, on one
``keras.Variable`` of shape (2,) in **float64** (so that a path is what the
optimizer's arithmetic does, not float32 rounding; the learning rate is
still Keras's float32 variable, cast to float64). It needs the TensorFlow
backend (the project's default) or JAX (float64 only with JAX's x64 mode,
``JAX_ENABLE_X64=1``; float32 otherwise, see :func:`parameter_dtype`);
nothing here imports Keras at module level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "SURFACES",
    "Surface",
    "SurfaceError",
    "Trajectory",
    "get",
    "parameter_dtype",
    "resolve",
    "run_paths",
]

#: The slide's optimizers, run when ``--optimizers`` is not given; each takes
#: its learning rate from the surface's table.
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop")

#: A path has diverged when its loss is not finite or it is further than
#: this many box diagonals from the box's centre.
DIVERGED_DIAGONALS = 100.0


class SurfaceError(Exception):
    """A user's mistake (unknown surface, bad spec or argument): one line, exit status 2."""


@dataclass(frozen=True)
class Surface:
    """A 2-D test function.

    Attributes:
        name: the command-line name.
        description: one line, what the surface shows.
        keras_fn: the function of a tensor of shape (2,), in ``keras.ops``.
        numpy_fn: the same function of arrays ``x, y`` (broadcasting).
        start: the default start point.
        box: ``(xmin, xmax, ymin, ymax)``, the plotting box.
        minima: the known minima, a tuple of points (empty if none).
        saddles: the saddle points to mark.
        learning_rates: default learning rate per optimizer name, for specs
            that name none.
    """

    name: str
    description: str
    keras_fn: Callable
    numpy_fn: Callable
    start: tuple
    box: tuple
    minima: tuple = ()
    saddles: tuple = ()
    learning_rates: Mapping[str, float] = field(default_factory=dict)

    def __call__(self, x, y):
        return self.numpy_fn(x, y)


def _ops():
    import keras

    return keras.ops


def _valley(v):
    return 0.05 * v[0] ** 2 + 5.0 * v[1] ** 2


def _beale(v):
    x, y = v[0], v[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _saddle(v):
    return v[0] ** 2 - v[1] ** 2


def _rosenbrock(v):
    return (1.0 - v[0]) ** 2 + 100.0 * (v[1] - v[0] ** 2) ** 2


def _rastrigin(v):
    ops = _ops()
    two_pi = 2.0 * math.pi
    return (
        20.0 + v[0] ** 2 - 10.0 * ops.cos(two_pi * v[0]) + v[1] ** 2 - 10.0 * ops.cos(two_pi * v[1])
    )


def _quadratic(v):
    return 0.5 * (v[0] ** 2 + 10.0 * v[1] ** 2)


def _np(fn):
    """The numpy version of a polynomial written on ``v[0], v[1]`` (the same
    expression: ``+ - * **`` mean the same on numpy arrays)."""

    def numpy_fn(x, y):
        return fn((np.asarray(x, dtype=float), np.asarray(y, dtype=float)))

    return numpy_fn


def _rastrigin_np(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return 20.0 + x**2 - 10.0 * np.cos(2 * np.pi * x) + y**2 - 10.0 * np.cos(2 * np.pi * y)


# The learning rates: chosen so that on each surface, in the default 200
# steps, every method does what the slide shows it doing (and none diverges).
SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface(
            "valley",
            "f = 0.05 x^2 + 5 y^2: a long narrow valley (condition number 100)",
            _valley,
            _np(_valley),
            start=(-9.0, 1.2),
            box=(-10.0, 10.0, -2.0, 2.0),
            minima=((0.0, 0.0),),
            learning_rates={
                "sgd": 0.18,
                "momentum": 0.05,
                "nesterov": 0.05,
                "adagrad": 1.0,
                "adadelta": 100.0,
                "rmsprop": 0.1,
                "adam": 0.2,
            },
        ),
        Surface(
            "beale",
            "Beale's function: a plateau between steep walls, minimum (3, 0.5)",
            _beale,
            _np(_beale),
            start=(1.0, 1.5),
            box=(-4.5, 4.5, -4.5, 4.5),
            minima=((3.0, 0.5),),
            learning_rates={
                "sgd": 0.01,
                "momentum": 0.005,
                "nesterov": 0.005,
                "adagrad": 1.0,
                "adadelta": 60.0,
                "rmsprop": 0.05,
                "adam": 0.1,
            },
        ),
        Surface(
            "saddle",
            "f = x^2 - y^2: a saddle at (0, 0), no minimum",
            _saddle,
            _np(_saddle),
            start=(1.0, 1e-3),
            box=(-1.5, 1.5, -1.5, 1.5),
            saddles=((0.0, 0.0),),
            learning_rates={
                "sgd": 0.01,
                "momentum": 0.001,
                "nesterov": 0.001,
                "adagrad": 0.03,
                "adadelta": 0.05,
                "rmsprop": 0.005,
                "adam": 0.005,
            },
        ),
        Surface(
            "rosenbrock",
            "Rosenbrock's function: a curved valley, minimum (1, 1)",
            _rosenbrock,
            _np(_rosenbrock),
            start=(-1.5, 2.0),
            box=(-2.0, 2.0, -1.0, 3.0),
            minima=((1.0, 1.0),),
            learning_rates={
                "sgd": 0.001,
                "momentum": 0.0005,
                "nesterov": 0.0005,
                "adagrad": 0.5,
                "adadelta": 30.0,
                "rmsprop": 0.02,
                "adam": 0.1,
            },
        ),
        Surface(
            "rastrigin",
            "Rastrigin's function: a grid of local minima, global minimum (0, 0)",
            _rastrigin,
            _rastrigin_np,
            start=(4.3, -3.7),
            box=(-5.12, 5.12, -5.12, 5.12),
            minima=((0.0, 0.0),),
            learning_rates={
                "sgd": 0.002,
                "momentum": 0.001,
                "nesterov": 0.001,
                "adagrad": 0.5,
                "adadelta": 20.0,
                "rmsprop": 0.02,
                "adam": 0.05,
            },
        ),
        Surface(
            "quadratic",
            "f = 0.5 (x^2 + 10 y^2), minimum (0, 0): add --noise",
            _quadratic,
            _np(_quadratic),
            start=(-2.5, 2.0),
            box=(-3.0, 3.0, -3.0, 3.0),
            minima=((0.0, 0.0),),
            learning_rates={
                "sgd": 0.05,
                "momentum": 0.01,
                "nesterov": 0.01,
                "adagrad": 0.5,
                "adadelta": 30.0,
                "rmsprop": 0.02,
                "adam": 0.05,
            },
        ),
    )
}


def get(name: str) -> Surface:
    """The surface named ``name``; SurfaceError naming the known ones otherwise."""
    try:
        return SURFACES[name]
    except KeyError:
        raise SurfaceError(f"unknown surface {name!r}; known: {', '.join(SURFACES)}") from None


@dataclass
class Trajectory:
    """One optimizer's path.

    Attributes:
        spec: the spec as given.
        learning_rate: the learning rate it ran with.
        points: (n + 1, 2): the start, then one point per step taken.
        losses: (n + 1,): the function at each point.
        diverged: the step at which the path diverged (its point is not
            recorded), or None.
    """

    spec: str
    learning_rate: float
    points: np.ndarray
    losses: np.ndarray
    diverged: int | None = None


def resolve(spec: str, surface: Surface) -> tuple[str, float | None]:
    """``(spec to build, learning rate to pass or None)``: a spec naming no
    ``learning_rate`` gets the surface's default for its name, if the table
    has one; one naming a whole number (``adadelta:learning_rate=60``) gets it
    as a float (Keras refuses an int). SurfaceError for a spec the registry
    does not accept."""
    from .. import recipes

    try:
        name, params = recipes.parse(spec)
        recipes.get(spec)  # checks the name and the hyperparameters
    except (ValueError, TypeError) as exc:
        raise SurfaceError(f"--optimizers {spec}: {exc}") from None
    lr = params.get("learning_rate")
    if isinstance(lr, int) and not isinstance(lr, bool):
        return spec, float(lr)
    if lr is not None or name not in surface.learning_rates:
        return spec, None
    return spec, surface.learning_rates[name]


def _build(spec, lr):
    from ..keras.optimizers import get as get_optimizer

    try:
        return get_optimizer(spec) if lr is None else get_optimizer(spec, learning_rate=lr)
    except (ValueError, TypeError) as exc:
        raise SurfaceError(f"--optimizers {spec}: {exc}") from None


def parameter_dtype() -> str:
    """The parameters' dtype: float64, or float32 under JAX without x64 mode
    (where JAX would truncate float64 to float32 anyway, with a warning)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:  # type: ignore[attr-defined]  # options added at runtime
            return "float32"
    return "float64"


def _value_and_grad(fn):
    """``f(var) -> (loss, gradient)`` by the backend's autodiff."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def vg(var):
            with tf.GradientTape() as tape:
                loss = fn(var.value)
            return loss, tape.gradient(loss, var.value)

        return vg
    if backend == "jax":
        import jax

        grad = jax.value_and_grad(fn)
        return lambda var: grad(var.value)
    raise SurfaceError(
        f"filteropt surface needs the tensorflow or jax backend (KERAS_BACKEND={backend})"
    )


def run_paths(
    surface: Surface,
    optimizers=DEFAULT_OPTIMIZERS,
    steps: int = 200,
    noise: float = 0.0,
    seed: int = 0,
    start=None,
) -> dict[str, Trajectory]:
    """Runs each optimizer ``steps`` steps from ``start`` (default: the
    surface's) on ``surface``: spec -> :class:`Trajectory`.

    Each step: the backend's gradient of ``surface.keras_fn`` at the current
    point, plus ``noise`` times a standard Gaussian pair (the same sequence,
    from ``numpy.random.default_rng(seed)``, for every optimizer), through
    ``optimizer.apply``. A path whose loss turns non-finite or that leaves
    :data:`DIVERGED_DIAGONALS` box diagonals stops there.
    """
    if steps < 1:
        raise SurfaceError(f"--steps must be >= 1 (received {steps})")
    if not (noise >= 0 and math.isfinite(noise)):
        raise SurfaceError(f"--noise must be a finite number >= 0 (received {noise})")
    start = surface.start if start is None else tuple(float(s) for s in start)
    if len(start) != 2 or not all(math.isfinite(s) for s in start):
        raise SurfaceError(f"--start must be two finite numbers (received {start})")
    optimizers = list(optimizers) or list(DEFAULT_OPTIMIZERS)
    if len(set(optimizers)) != len(optimizers):
        twice = next(s for s in optimizers if optimizers.count(s) > 1)
        raise SurfaceError(f"--optimizers {twice}: given twice")
    resolved = [resolve(spec, surface) for spec in optimizers]
    built = [_build(spec, lr) for spec, lr in resolved]  # every spec fails before any run

    import keras

    kicks = (
        np.random.default_rng(seed).normal(0.0, noise, size=(steps, 2))
        if noise > 0
        else np.zeros((steps, 2))
    )
    xmin, xmax, ymin, ymax = surface.box
    centre = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2])
    far = DIVERGED_DIAGONALS * math.hypot(xmax - xmin, ymax - ymin)
    value_and_grad = _value_and_grad(surface.keras_fn)
    dtype = parameter_dtype()
    out = {}
    for spec, opt in zip(optimizers, built):
        var = keras.Variable(np.array(start, dtype=dtype), dtype=dtype, name="xy")
        points = [np.array(start, dtype=float)]
        losses = [float(surface.numpy_fn(*start))]
        diverged = None
        for k in range(steps):
            _, g = value_and_grad(var)
            if noise > 0:
                g = g + keras.ops.convert_to_tensor(kicks[k], dtype=dtype)
            opt.apply([g], [var])
            p = np.asarray(keras.ops.convert_to_numpy(var), dtype=float)
            loss = float(surface.numpy_fn(*p)) if np.all(np.isfinite(p)) else math.nan
            if not math.isfinite(loss) or np.hypot(*(p - centre)) > far:
                diverged = k + 1
                break
            points.append(p)
            losses.append(loss)
        lr = float(keras.ops.convert_to_numpy(opt.learning_rate))
        out[spec] = Trajectory(spec, lr, np.array(points), np.array(losses), diverged)
    return out
