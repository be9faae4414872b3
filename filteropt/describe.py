"""Words for filters and recipes, in the seed's "Summary of Optimizers" terms.

Everything here is derived from the coefficients, never typed in per
optimizer, so a description cannot disagree with what the optimizer does.
"""

from __future__ import annotations

import math

import numpy as np

from .filters import ARMAFilter

__all__ = ["filter_kind", "describe_recipe"]


def _close(x, y, tol=1e-9):
    return abs(x - y) <= tol * max(1.0, abs(x), abs(y))


def filter_kind(f: ARMAFilter | None) -> str:
    """``"AR1, unit DC gain"``, ``"ARMA1 (1 pole, 1 zero)"``, ``"summer"``, ...

    AR means the numerator is a single coefficient; the gain named is the
    one that equals 1 (DC gain H(1) or input gain b[0]), if either does.
    """
    if f is None or f.is_identity:
        return "none"
    b, a = f.padded()
    order = f.order
    if order == 0:
        return f"gain {b[0]:g}"
    n_zeros = int(np.sum(np.abs(f.zeros) > 1e-12))  # zeros at z = 0 are delays
    if order == 1 and _close(a[1], -1.0) and n_zeros == 0:
        return "summer" if _close(b[0], 1.0) else f"summer x {b[0]:g}"
    if n_zeros == 0:
        kind = f"AR{order}"
    else:
        kind = f"ARMA{order} ({order} pole{'s' * (order > 1)}, {n_zeros} zero{'s' * (n_zeros > 1)})"
    gains = []
    dc = f.dc_gain
    if math.isfinite(dc) and _close(dc, 1.0):
        gains.append("unit DC gain")
    if _close(f.input_gain, 1.0):
        gains.append("unit input gain")
    return ", ".join([kind] + gains)


def describe_recipe(recipe) -> dict:
    """A dict: gradient filtering, normalization, variance filter, lr position."""
    grad = filter_kind(recipe.gradient_filter)
    if recipe.path.schedule is not None and recipe.path.schedule.decay == 0.0:
        grad += (", transient compensation of each branch: beta_1 m / (1 - beta_1^(t+1))"
                 " + (1 - beta_1) g / (1 - beta_1^t)")
    elif recipe.path.schedule is not None:
        grad += ", transient compensation (time-varying: Dozat's momentum schedule)"
    elif recipe.path.compensate:
        grad += ", transient compensation"
    if recipe.path.direct and recipe.path.schedule is None:
        grad += f" (quasi-hyperbolic: {recipe.path.direct:g} of the raw gradient)"
    if recipe.normalizer is None:
        norm, variance = "none", "n/a"
    else:
        d = recipe.normalizer.describe()
        norm = d["normalization"]
        vf = d["variance_filter"]
        variance = "n/a" if vf is None else filter_kind(vf)
        path = getattr(recipe.normalizer, "path", None)
        if path is not None and path.compensate and vf is not None:
            variance += ", transient compensation"
    return {
        "name": recipe.name,
        "hyperparameters": dict(recipe.hyperparameters),
        "gradient_filtering": grad,
        "gradient_filter": recipe.gradient_filter,
        "gradient_normalization": norm,
        "variance_filter_kind": variance,
        "variance_filter": recipe.variance_filter,
        "learning_rate": recipe.learning_rate_position,
        "stages": list(recipe.stages),
    }
