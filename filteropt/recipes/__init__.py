"""Optimizers as recipes: plain data read by the Keras engine and the analysis.

- :mod:`~filteropt.recipes.core`: :class:`Recipe` (gradient path, normalizer,
  the order of the stages, weight decay) and :func:`custom`;
- :mod:`~filteropt.recipes.catalogue`: the named recipes (``sgd``, ``adam``,
  ``qhadam``, ...), with Keras's argument names and defaults;
- :mod:`~filteropt.recipes.literature`: methods from papers (AdEMAMix, Grokfast,
  PID, triple and robust momentum);
- :mod:`~filteropt.recipes.torch_conventions`, :mod:`~filteropt.recipes.optax_conventions`:
  the recipes as torch.optim and optax write them (``sgd_torch``, ``adam_optax``);
- :mod:`~filteropt.recipes.registry`: the one list of names, and :func:`get`
  (``get("nesterov:momentum=0.95")``);
- :mod:`~filteropt.recipes.spec`: the ``name:key=value,...`` form;
- :mod:`~filteropt.recipes.reference`: :func:`simulate`, the numpy reference.

Built on :mod:`filteropt.signal` only: no backend, no analysis.
"""

from . import (  # noqa: F401  (and these)
    catalogue,
    literature,
    optax_conventions,
    torch_conventions,
)
from .catalogue import *  # noqa: F403
from .catalogue import __all__ as _catalogue
from .core import STAGES, Recipe, custom
from .literature import *  # noqa: F403
from .literature import __all__ as _literature
from .optax_conventions import *  # noqa: F403
from .optax_conventions import __all__ as _optax
from .reference import simulate
from .registry import REGISTRY, Entry, drop_in_classes, entry, get, names, register
from .spec import parse
from .torch_conventions import *  # noqa: F403
from .torch_conventions import __all__ as _torch

__all__ = [
    "Recipe",
    "custom",
    "STAGES",
    "REGISTRY",
    "Entry",
    "register",
    "entry",
    "names",
    "get",
    "drop_in_classes",
    "parse",
    "simulate",
    "catalogue",
    *_catalogue,
    *_literature,
    *_torch,
    *_optax,
]
