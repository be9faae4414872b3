"""What the optimizer classes share: a recipe function composed on the engine,
the Keras registration, and the arguments every class takes, documented once."""

from __future__ import annotations

import inspect

import keras

from .engine import RecipeOptimizer, casts_round_through_float32

__all__ = ["Composed", "register"]

#: The arguments every optimizer here takes beyond its own, documented once.
_COMMON_ARGS = """name: a string, the optimizer's name; ``None`` takes the class name.
        skip_nonfinite: a bool: skip a step whose gradients hold inf or NaN
            (variables, slots, EMA averages and decay untouched; counted in
            ``nonfinite_steps``). Defaults to ``False``.
        fused: a bool: on TensorFlow, let XLA compile the update where that
            is faster (see :mod:`filteropt.keras.engine`); the trajectory is
            the same either way. Defaults to ``True``.
        **kwargs: Keras's base optimizer arguments, as
            ``keras.optimizers.Optimizer`` takes them: ``weight_decay``
            (decoupled: theta[i] = (1 - eta weight_decay) theta[i-1] +
            Delta[i]), ``clipnorm``, ``clipvalue``, ``global_clipnorm``,
            ``use_ema``, ``ema_momentum``, ``ema_overwrite_frequency``,
            ``loss_scale_factor``, ``gradient_accumulation_steps``."""


def register(cls):
    """Registers ``cls`` for Keras serialization and completes its Args."""
    cls.__doc__ = cls.__doc__.replace("{common}", _COMMON_ARGS)
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
