"""The only part of filteropt that imports Keras.

- :mod:`~filteropt.keras.engine`: :class:`RecipeOptimizer`, a recipe run on
  slot variables; :mod:`~filteropt.keras.fused` its XLA-compiled update,
  :mod:`~filteropt.keras.gradients` sparse and non-finite gradients;
- :mod:`~filteropt.keras.filter_optimizer`: :class:`FilterOptimizer`, any
  filter and normalizer;
- :mod:`~filteropt.keras.drop_ins` and :mod:`~filteropt.keras.literature`: the
  named optimizers (:mod:`~filteropt.keras.composed` their shared base),
  :mod:`~filteropt.keras.optimizers` ``get``;
- :mod:`~filteropt.keras.schedules`, :mod:`~filteropt.keras.schedule_plots`,
  :mod:`~filteropt.keras.curvature`;
- :mod:`~filteropt.keras.probe`: :class:`GradientProbe`, the callback that
  records gradients and updates in training
  (:mod:`~filteropt.keras.preconditioning` the normalisers' scales).
"""

from .engine import RecipeOptimizer
from .filter_optimizer import FilterOptimizer
from .optimizers import *  # noqa: F403
from .optimizers import __all__ as _optimizers
from .probe import GradientProbe

__all__ = ["FilterOptimizer", "RecipeOptimizer", "GradientProbe", *_optimizers]
