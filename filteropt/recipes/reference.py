"""The numpy reference: a recipe run on arrays, step by step, no backend."""

from __future__ import annotations

import numpy as np

from .core import Recipe
from .registry import get

__all__ = ["simulate"]


def simulate(recipe: Recipe, gradients, learning_rate=1e-3, theta0=0.0, dtype="float64"):
    """Runs a recipe with numpy on a gradient sequence (no backend).

    ``gradients`` has shape ``(n_steps, ...)``; ``learning_rate`` is a number,
    a sequence of n_steps numbers, or a callable of the step index. Returns
    the parameter trajectory theta[1..n], with the recipe's decoupled weight
    decay (see :meth:`Recipe.decayed`); the gradients are taken as given,
    not recomputed at theta: an open-loop run. ``dtype`` is the precision
    the parameters, slots and gradients are kept in ("float32" rounds as a
    float32 model's optimizer does; the per-step scalars stay float64 and
    are rounded where they meet the arrays, as in the engine); the
    trajectory comes back in float64.

    Example:
        >>> from filteropt import recipes
        >>> simulate(recipes.get("sgd"), [1.0, 1.0, 1.0], learning_rate=0.1)
        array([-0.1, -0.2, -0.3])
        >>> simulate(recipes.get("momentum:momentum=0.9"), [1.0, 1.0, 1.0], learning_rate=0.1)
        array([-0.1  , -0.29 , -0.561])
    """
    recipe = get(recipe)
    dtype = np.dtype(dtype)
    grads = np.asarray(gradients, dtype=float).astype(dtype)
    theta = np.zeros(grads.shape[1:], dtype=dtype) + dtype.type(theta0)
    state = [
        np.zeros(grads.shape[1:], dtype=dtype) + dtype.type(init) for _, init in recipe.slots()
    ]
    scalars = [float(s) for s in recipe.scalar_init()]
    out = []
    for i, g in enumerate(grads):
        t = float(i + 1)
        scalars = [float(s) for s in recipe.advance(np, scalars, t)]
        lr = (
            learning_rate(i)
            if callable(learning_rate)
            else (learning_rate[i] if np.ndim(learning_rate) else learning_rate)
        )
        gains = tuple(tuple(float(c) for c in part) for part in recipe.gains(np, scalars, t))
        delta, state = recipe.step(np, g, float(lr), state, gains)
        decayed = recipe.decayed(theta, dtype.type(lr), dtype.type(recipe.weight_decay))
        theta = (decayed + delta).astype(dtype)
        out.append(theta.astype(float))
    return np.array(out)
