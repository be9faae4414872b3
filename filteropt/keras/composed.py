"""What the optimizer classes share: a recipe function composed on the engine,
the Keras registration, and the arguments every class takes, documented once."""

from __future__ import annotations

import inspect

import keras

from .engine import COMMON_ARGS, RecipeOptimizer, casts_round_through_float32

__all__ = ["Composed", "register"]


def register(cls):
    """Registers ``cls`` for Keras serialization and completes its Args."""
    cls.__doc__ = cls.__doc__.replace("{common}", COMMON_ARGS)
    return keras.saving.register_keras_serializable(package="filteropt")(cls)


class Composed(RecipeOptimizer):
    """A recipe function plus the names of its hyperparameters."""

    _recipe_fn = None

    def _compose(self, **hyperparameters):
        fn = type(self)._recipe_fn
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
