"""FilterOptimizer: any ARMA gradient filter and normalizer on the engine."""

from __future__ import annotations

import keras

from .. import recipes as R
from ..signal import normalizers as N
from .engine import COMMON_ARGS, RecipeOptimizer

__all__ = ["FilterOptimizer"]


@keras.saving.register_keras_serializable(package="filteropt")
class FilterOptimizer(RecipeOptimizer):
    """Any ARMA gradient filter and normalizer as a Keras 3 optimizer.

    With the default stages (the learning rate first without a normalizer,
    last with one)::

        Delta[i] = H{-eta g}[i]                  (no normalizer, as Keras's SGD)
        Delta[i] = -eta N(c[i] H{g}, g)[i]       (with one, as Adam)
        theta[i] = (1 - eta lambda) theta[i-1] + Delta[i]   (lambda: weight_decay, else 0)

    H runs as its stages (:mod:`filteropt.signal.realisation`: first-order
    sections in Keras's state forms, second-order sections in the delta
    form, banks branch by branch), on ``gradient_filter.order`` slots per
    variable; c[i] = H(1)/s[i] with transient compensation (s: H's step
    response), else 1; N is a normalizer (:mod:`filteropt.normalizers`),
    with its own slots. ``build`` judges each filter as it will run in the
    variables' dtype: an unstable realisation raises ValueError, a badly
    conditioned one warns.

    Args:
        learning_rate: a float >= 0, a
            ``keras.optimizers.schedules.LearningRateSchedule``, or a callable
            of no arguments returning the value: eta. Defaults to ``0.01``.
        gradient_filter: the gradient filter H: an
            :class:`~filteropt.ARMAFilter` (``filteropt.filters.ema(0.9)``,
            ``butterworth(2, 0.2)``, a series or parallel combination, ...)
            or its config dict; ``None`` passes the gradient unfiltered.
            Defaults to ``None``.
        normalizer: N: ``filteropt.normalizers.RMS(...)``, ``MaxNorm``,
            ``Sign`` or ``Adadelta``, a name (``"rms"``, ``"max"``,
            ``"sign"``, ``"adadelta"``), its serialized dict, or ``None``
            (no normalization). Defaults to ``None``.
        transient_compensation: a bool: scale H's output by H(1)/s[i] so
            that a constant gradient gets H's DC response from the first
            step (the lecture: "Transient Compensation"; Adam's bias
            correction for ``ema``). Defaults to ``False``.
        allow_unstable: a bool: accept a gradient filter with poles on or
            outside the unit circle (refused with a ValueError otherwise).
            Defaults to ``False``.
        stages: the order of ``"lr"``, ``"filter"`` and ``"normalize"``
            (a sequence of the three names, each once); ``None`` takes the
            default above. Defaults to ``None``.
        {common}

    Example:
        >>> import filteropt
        >>> opt = filteropt.FilterOptimizer(
        ...     learning_rate=0.01,
        ...     gradient_filter=filteropt.filters.butterworth(2, 0.2))
    """

    def __init__(
        self,
        learning_rate=0.01,
        gradient_filter=None,
        normalizer=None,
        transient_compensation=False,
        allow_unstable=False,
        stages=None,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        recipe = R.custom(
            gradient_filter,
            normalizer,
            transient_compensation,
            allow_unstable,
            tuple(stages) if isinstance(stages, list) else stages,
        )
        self._set_recipe(recipe)
        self.transient_compensation = transient_compensation
        self.allow_unstable = allow_unstable

    def _recipe_config(self):
        f = self._recipe.path.filter
        return {
            "gradient_filter": None if f.is_identity else f.get_config(),
            "normalizer": N.serialize(self._recipe.normalizer),
            "transient_compensation": self.transient_compensation,
            "allow_unstable": self.allow_unstable,
            "stages": list(self._recipe.stages),
        }


FilterOptimizer.__doc__ = (FilterOptimizer.__doc__ or "").replace("{common}", COMMON_ARGS)
