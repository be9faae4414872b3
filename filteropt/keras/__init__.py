"""The only part of filteropt that imports Keras: the engine and optimizers."""

from .engine import FilterOptimizer, RecipeOptimizer
from .optimizers import *  # noqa: F401,F403
from .optimizers import __all__ as _optimizers

__all__ = ["FilterOptimizer", "RecipeOptimizer", *_optimizers]
