"""Recipes run by other frameworks: optax and torch.optim.

- :func:`to_optax` (:mod:`filteropt.adapters.optax`): an
  ``optax.GradientTransformation`` running a recipe in ``jax.numpy``;
- :func:`to_torch` (:mod:`filteropt.adapters.torch`): a
  ``torch.optim.Optimizer`` running a recipe on torch tensors.

Each module imports only its own framework, and only when it is used:
``import filteropt.adapters`` loads neither.
"""

from __future__ import annotations

import importlib

__all__ = ["to_optax", "to_torch"]

_MODULES = {"to_optax": ".optax", "to_torch": ".torch"}


def __getattr__(name):
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name], __name__), name)
    raise AttributeError(f"module 'filteropt.adapters' has no attribute {name!r}")
