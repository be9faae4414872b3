"""Words for filters and recipes, and the lecture's "Summary of Optimizers" table.

Everything here is derived from the coefficients, never typed in per
optimizer, so a description cannot disagree with what the optimizer does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..recipes.registry import REGISTRY
from ..signal.arma import ARMAFilter
from .responses import as_recipe

__all__ = [
    "LECTURE_TABLE_ROWS",
    "TABLE_COLUMNS",
    "describe",
    "describe_recipe",
    "extra_table_rows",
    "filter_kind",
    "format_table",
    "summary_table",
]


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
        grad += (
            ", transient compensation of each branch: beta_1 m / (1 - beta_1^(t+1))"
            " + (1 - beta_1) g / (1 - beta_1^t)"
        )
    elif recipe.path.schedule is not None:
        grad += ", transient compensation (time-varying: Dozat's momentum schedule)"
    elif recipe.path.compensate:
        grad += ", transient compensation"
    if recipe.path.direct and recipe.path.schedule is None:
        grad += f" (quasi-hyperbolic: {recipe.path.direct:g} of the raw gradient)"
    if getattr(recipe.path, "first_gain", None) is not None:
        grad += (
            f", starting at the first gradient (input gain {recipe.path.first_gain:g} at step 1)"
        )
    if any(
        getattr(p, "uses_step_count", False) and not getattr(p, "compensate", True)
        for p in getattr(recipe.path, "paths", ())
    ):
        grad += ", a branch warmed up over the first steps"
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
        "weight_decay": recipe.weight_decay,
    }


def describe(obj) -> dict:
    """:func:`describe_recipe` of a recipe, its name spec, an optimizer or a filter.

    Example:
        >>> from filteropt import analysis
        >>> d = analysis.describe("adam")
        >>> d["gradient_filtering"], d["learning_rate"]
        ('AR1, unit DC gain, transient compensation', 'after the normalizer')
    """
    return describe_recipe(as_recipe(obj))


# -- the summary table ------------------------------------------------------------

#: The lecture's "Summary of Optimizers" rows: (row label, recipe spec).
LECTURE_TABLE_ROWS = (
    ("SGD", "sgd"),
    ("SGD w/ momentum", "momentum"),
    ("SGD w/ Nesterov Momentum", "nesterov"),
    ("Adagrad", "adagrad"),
    ("Adadelta", "adadelta"),
    ("RMSprop", "rmsprop"),
    ("Adam", "adam"),
    ("Nadam (Adam w/ Nesterov)", "nadam"),
)


def extra_table_rows() -> tuple:
    """``(title, name)`` of every registered optimizer the lecture's table
    does not list, titled by the class that runs it (``"Adam(amsgrad=True)"``)."""
    lecture = {spec for _, spec in LECTURE_TABLE_ROWS}
    rows = []
    for e in REGISTRY.values():
        if e.name not in lecture:
            fixed = ", ".join(f"{k}={v}" for k, v in e.fixed.items())
            rows.append((f"{e.optimizer}({fixed})" if fixed else e.optimizer, e.name))
    return tuple(rows)


TABLE_COLUMNS = (
    "optimizer",
    "gradient filtering",
    "gradient normalization",
    "grad variance filter",
    "learning rate schedule",
)


def _row(title, spec):
    recipe = as_recipe(spec)
    d = describe_recipe(recipe)
    normalized = recipe.normalizer is not None
    return {
        "optimizer": title,
        "gradient filtering": d["gradient_filtering"] + _decay_words(recipe.weight_decay),
        "gradient normalization": "yes" if normalized else "none",
        "grad variance filter": d["variance_filter_kind"] if normalized else "n/a",
        "learning rate schedule": "separate, but gradient norm does alter"
        if normalized
        else "separate",
        "normalizer": d["gradient_normalization"],
    }


def _decay_words(weight_decay: float) -> str:
    """The integrator theta[i] = (1 - eta lambda) theta[i-1] + Delta[i], in words."""
    if not weight_decay:
        return ""
    return (
        f"; decoupled weight decay: integrator 1/(1 - (1 - {weight_decay:g} eta) z^-1)"
        " instead of 1/(1 - z^-1)"
    )


def summary_table(rows: Sequence | None = None, extra: bool = True) -> list[dict]:
    """The lecture's "Summary of Optimizers", derived from the recipes.

    ``rows`` is a sequence of ``(title, spec)``; by default the lecture's
    eight rows, then (``extra=True``) the optimizers it does not list. The
    words come from :func:`filter_kind`, so they follow
    the maths: Adam's filters are "AR1, unit DC gain" (the lecture's own
    table says "unit input gain" there, while its Adam slide and Kingma &
    Ba's algorithm, m = beta_1 m + (1 - beta_1) g, have unit DC gain).
    """
    if rows is None:
        rows = LECTURE_TABLE_ROWS + (extra_table_rows() if extra else ())
    return [_row(title, spec) for title, spec in rows]


def format_table(rows: list[dict], columns: Sequence[str] = TABLE_COLUMNS) -> str:
    """Aligned plain-text table.

    Example:
        >>> from filteropt import analysis
        >>> rows = analysis.summary_table()[:2]
        >>> print(analysis.format_table(rows, ("optimizer", "gradient filtering")))
        optimizer        gradient filtering
        ---------------  --------------------
        SGD              none
        SGD w/ momentum  AR1, unit input gain
    """
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(columns), line("-" * w for w in widths)]
    out += [line(r[c] for c in columns) for r in rows]
    return "\n".join(out)
