"""Shared helpers: run optimizers on gradient sequences and compare."""

import numpy as np


def trajectory(optimizer, grads, dtype="float64", theta0=0.0):
    """Applies ``grads`` (steps x width) one step at a time; returns theta[1..n]."""
    import keras

    v = keras.Variable(np.full(grads.shape[1:], theta0), dtype=dtype)
    out = []
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, dtype=dtype), v)])
        out.append(keras.ops.convert_to_numpy(v))
    return np.array(out, dtype=float)


def optimizer_classes():
    """Every optimizer class the registry names (filteropt.recipes.registry),
    in its order, except ``Designed``: a FilterOptimizer over a designed
    filter, with no state of its own (test_designed_optimizer.py)."""
    from filteropt.recipes.registry import REGISTRY

    return tuple(dict.fromkeys(e.optimizer for e in REGISTRY.values() if e.optimizer != "Designed"))


def relative_error(actual, expected):
    """Per coordinate: the largest difference along the trajectory over the
    largest displacement along it (so a crossing of zero is no 0/0)."""
    scale = np.max(np.abs(expected), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return float(np.max(np.max(np.abs(actual - expected), axis=0) / scale))


#: float32's unit roundoff: one rounding changes a value by at most this, relative.
FLOAT32_ROUNDOFF = 2.0**-24

#: ``relative_error`` allowed between filteropt and another implementation
#: (Keras's built-ins, optax, the authors' code) over the trajectories of
#: up to 150 steps these tests run.
#:
#: float32: 3e-4, about 150 steps x 32 roundoffs: two float32 runs that
#: order a step's ten or so operations differently drift apart by a few
#: roundoffs a step, Keras's float32 forms (its 1 - beta^t, its v + (g^2 -
#: v)(1 - beta_2)) lose a few bits more, and the drifts add up along the
#: trajectory. Where Keras loses more than that, the conformance test checks
#: which run is the closer to exact arithmetic instead.
#:
#: float64: 1e-9, far above float64's rounding along such a trajectory
#: (1e-13 is typical) and far below what a coefficient or learning rate
#: rounded to float32 where the reference keeps float64 changes (1e-8 to
#: 6e-8 relative in the update, for a coefficient drawn at random): the
#: slip that a float64 comparison exists to catch.
TOLERANCE = {"float64": 1e-9, "float32": 3e-4}


def float32_rounding(steps):
    """The ``relative_error`` float32 rounding alone can cause in ``steps``
    steps: each step rounds some ten operations (each by at most
    FLOAT32_ROUNDOFF) and these add up no faster than linearly."""
    return steps * 10 * FLOAT32_ROUNDOFF


def assert_no_backend_import(code):
    """Runs ``code`` in a fresh interpreter; fails if it loaded TensorFlow,
    Keras or JAX."""
    import subprocess
    import sys

    check = (
        "; import sys; bad = [m for m in sys.modules "
        "if m.split('.')[0] in ('tensorflow', 'keras', 'jax')]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code + check], check=True)


def extended_precision_trajectory(optimizer, grads, learning_rate, weight_decay=None, theta0=0.0):
    """theta[1..n] of a filteropt optimizer's recipe in numpy long double.

    The learning rate (a number or a Keras schedule) and the weight decay
    are taken as Keras's optimizers see them (float32 values); the rest runs
    at extended precision. A witness for which of two float64 runs is closer
    to exact arithmetic where their formulas round differently.
    """
    import keras

    ld = np.longdouble
    recipe = optimizer.recipe
    grads = np.asarray(grads, dtype=ld)
    theta = np.zeros(grads.shape[1:], dtype=ld) + ld(theta0)
    state = [np.zeros(grads.shape[1:], dtype=ld) + ld(init) for _, init in recipe.slots()]
    scalars = [ld(s) for s in recipe.scalar_init()]
    wd = None if weight_decay is None else ld(float(np.float32(weight_decay)))
    out = []
    for i, g in enumerate(grads):
        if callable(learning_rate):
            lr = ld(float(keras.ops.convert_to_numpy(learning_rate(i))))
        else:
            lr = ld(float(np.float32(learning_rate)))
        if wd is not None:
            theta = theta - theta * wd * lr
        t = ld(i + 1)
        scalars = recipe.advance(np, scalars, t)
        delta, state = recipe.step(np, g, lr, state, recipe.gains(np, scalars, t))
        theta = theta + delta
        out.append(theta.copy())
    return np.array(out)
