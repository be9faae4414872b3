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


def relative_error(actual, expected):
    """Per coordinate: the largest difference along the trajectory over the
    largest displacement along it (so a crossing of zero is no 0/0)."""
    scale = np.max(np.abs(expected), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return float(np.max(np.max(np.abs(actual - expected), axis=0) / scale))


TOLERANCE = {"float64": 1e-9, "float32": 3e-4}


def assert_no_backend_import(code):
    """Runs ``code`` in a fresh interpreter; fails if it loaded TensorFlow,
    Keras or JAX."""
    import subprocess
    import sys

    check = ("; import sys; bad = [m for m in sys.modules "
             "if m.split('.')[0] in ('tensorflow', 'keras', 'jax')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code + check], check=True)


def extended_precision_trajectory(optimizer, grads, learning_rate, weight_decay=None,
                                  theta0=0.0):
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
