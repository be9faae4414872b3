"""What the optimizer classes share: a recipe function composed on the engine,
the Keras registration, and the arguments every class takes, documented once."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import ClassVar

import keras

from ..recipes import Recipe
from .engine import COMMON_ARGS, RecipeOptimizer, casts_round_through_float32

__all__ = ["Composed", "register"]


def register(cls):
    """Registers ``cls`` for Keras serialization and completes its Args."""
    cls.__doc__ = (cls.__doc__ or "").replace("{common}", COMMON_ARGS)
    return keras.saving.register_keras_serializable(package="filteropt")(cls)


class Composed(RecipeOptimizer):
    """A recipe function plus the names of its hyperparameters."""

    # Set by each subclass (a staticmethod): the function that builds its Recipe.
    _recipe_fn: ClassVar[Callable[..., Recipe] | None] = None

    @classmethod
    def _recipe_function(cls) -> Callable[..., Recipe]:
        if cls._recipe_fn is None:
            raise TypeError(f"{cls.__name__} sets no recipe function (`_recipe_fn`)")
        return cls._recipe_fn

    def _compose(self, **hyperparameters):
        fn = self._recipe_function()
        extra = {}
        if "keras_casts" in inspect.signature(fn).parameters:
            # round where Keras rounds (drop-ins): under TensorFlow only
            extra["keras_casts"] = casts_round_through_float32()
        recipe = fn(**hyperparameters, **extra)
        self._hyper_names = tuple(hyperparameters)
        for key, value in hyperparameters.items():
            setattr(self, key, value)
        self._set_recipe(recipe)

    def _recipe_config(self):
        return {key: getattr(self, key) for key in self._hyper_names}
