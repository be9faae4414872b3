"""The ``designed`` recipe: a designed filter run as momentum, registered by name."""

from __future__ import annotations

import math
import numbers

from .. import recipes
from .search import design_filter

__all__ = ["designed"]


def designed(
    kappa: float = 100.0,
    order: int = 2,
    max_noise_gain: float | None = None,
    lambda_max: float = 1.0,
    noise: str = "gradient",
) -> recipes.Recipe:
    """A recipe running :func:`design_filter`'s filter, learning rate first (as SGD).

    The design assumes curvatures in [lambda_max / kappa, lambda_max]; its
    learning rate, design.learning_rate / lambda_max, is stored in
    ``hyperparameters["learning_rate"]`` (the optimizer's to use), with the
    design's rate and noise gain.
    """
    if (
        isinstance(lambda_max, bool)
        or not isinstance(lambda_max, numbers.Real)
        or not math.isfinite(lambda_max)
        or not lambda_max > 0
    ):
        raise ValueError(
            f"`lambda_max` must be a positive number. Received: lambda_max={lambda_max!r}"
        )
    d = design_filter(kappa, order, max_noise_gain, noise=noise)
    r = recipes.custom(gradient_filter=d.filter, name="designed")
    if r.stages != ("lr", "filter", "normalize"):
        r = recipes.Recipe(
            r.name, r.path, r.normalizer, ("lr", "filter", "normalize"), r.hyperparameters
        )
    hyper = {
        "kappa": d.kappa,
        "order": d.order,
        "max_noise_gain": d.max_noise_gain,
        "lambda_max": float(lambda_max),
        "noise": noise,
        "learning_rate": d.learning_rate / float(lambda_max),
        "rate": d.rate,
        "noise_gain": d.noise_gain,
        "gradient_filter": d.filter,
    }
    return recipes.Recipe("designed", r.path, r.normalizer, r.stages, hyper)


recipes.register("designed", designed, optimizer="Designed")
