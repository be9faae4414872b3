"""Keras 3 optimizers: the drop-ins for the built-ins, and what they lack.

The classes are in :mod:`filteropt.keras.drop_ins` and
:mod:`filteropt.keras.literature` and :mod:`filteropt.keras.recent` (and the
other frameworks' conventions); the registry
(:mod:`filteropt.recipes.registry`) names the class that runs each named
recipe, and :func:`get` reads it. Keras's base-class arguments
(``clipnorm``, ``weight_decay``, ``use_ema``, ``gradient_accumulation_steps``,
``loss_scale_factor``, ...) pass through ``**kwargs``.
"""

from __future__ import annotations

import inspect

import keras

from .. import recipes as R
from .drop_ins import *  # noqa: F403
from .engine import RecipeOptimizer
from .literature import *  # noqa: F403
from .optax_conventions import *  # noqa: F403
from .recent import *  # noqa: F403
from .torch_conventions import *  # noqa: F403

#: The classes the registry names, and ``get``.
__all__ = [*dict.fromkeys(e.optimizer for e in R.REGISTRY.values()), "get"]


def get(spec, **kwargs) -> RecipeOptimizer:
    """A Keras optimizer from a recipe spec: ``get("nesterov:momentum=0.95")``.

    The spec's hyperparameters (``learning_rate`` among them) and ``kwargs``
    (Keras's base arguments, a schedule, ...) go to the optimizer's class;
    ``kwargs`` win. Unknown names and arguments raise ValueError.

    Example:
        >>> opt = get("nesterov:momentum=0.95", learning_rate=0.01)
        >>> type(opt).__name__, opt.momentum, opt.nesterov, float(opt.learning_rate)
        ('SGD', 0.95, True, 0.01)
    """
    name, params = R.parse(spec)
    entry = R.entry(name)
    cls = globals()[entry.optimizer]
    arguments = {**entry.fixed, **params, **kwargs}
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    base = set(inspect.signature(keras.optimizers.Optimizer.__init__).parameters)
    unknown = sorted(set(arguments) - accepted - base)
    if unknown:
        raise ValueError(
            f"optimizer {name!r} has no hyperparameter {unknown[0]!r}; "
            f"it takes {', '.join(sorted(accepted))}"
        )
    return cls(**arguments)
