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
