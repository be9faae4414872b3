"""The one list of named optimizers.

Each name maps to an :class:`Entry`: the recipe function, the arguments the
name fixes (``"nesterov"`` is ``sgd(momentum=0.9, nesterov=True)``), the
Keras class in :mod:`filteropt.keras` that runs it, and the Keras built-in
it equals, if there is one. The recipe specs (:func:`get`), the Keras
classes' ``filteropt.get_optimizer``, the command line's ``list``,
:mod:`filteropt.testing` and the tests all read this registry, and nothing
else lists the names. :mod:`filteropt.recipes.catalogue` registers the
lecture's and the literature's optimizers; :mod:`filteropt.design`
registers ``"designed"`` (it is built on the analysis, which is built on
recipes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .core import Recipe
from .spec import parse

__all__ = ["REGISTRY", "Entry", "drop_in_classes", "entry", "get", "names", "register"]


@dataclass(frozen=True)
class Entry:
    """A named optimizer.

    Attributes:
        name: the name (``"nesterov"``).
        recipe: the recipe function, of keyword hyperparameters.
        fixed: the arguments the name fixes; a spec's own arguments win.
        optimizer: the class in :mod:`filteropt.keras` that runs it.
        keras: the name of the ``keras.optimizers`` built-in it equals step
            for step, or None.
    """

    name: str
    recipe: Callable[..., Recipe]
    fixed: Mapping = field(default_factory=dict)
    optimizer: str = "FilterOptimizer"
    keras: str | None = None

    @property
    def summary(self) -> str:
        """The first line of the recipe function's docstring."""
        lines = (self.recipe.__doc__ or "").strip().splitlines()
        return lines[0] if lines else ""

    def make(self, **hyperparameters) -> Recipe:
        """The recipe; a name that fixes arguments also names the recipe
        (``"nesterov:momentum=0.95"`` is a ``"nesterov"`` recipe)."""
        r = self.recipe(**{**self.fixed, **hyperparameters})
        return replace(r, name=self.name) if self.fixed and r.name != self.name else r


_ENTRIES: dict[str, Entry] = {}
#: name -> :class:`Entry`, in registration order (read-only).
REGISTRY: Mapping[str, Entry] = MappingProxyType(_ENTRIES)


def register(
    name: str,
    recipe: Callable[..., Recipe],
    fixed: Mapping | None = None,
    *,
    optimizer: str,
    keras: str | None = None,
) -> Entry:
    """Adds a named optimizer; a name is registered once."""
    if name in _ENTRIES:
        raise ValueError(f"optimizer name {name!r} is already registered")
    made = Entry(name, recipe, MappingProxyType(dict(fixed or {})), optimizer, keras)
    _ENTRIES[name] = made
    return made


def names() -> list[str]:
    """The registered names, in registration order."""
    return list(_ENTRIES)


def entry(name: str) -> Entry:
    """The entry of ``name``; ValueError naming the known ones otherwise."""
    if name not in _ENTRIES:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(_ENTRIES)}")
    return _ENTRIES[name]


def drop_in_classes() -> tuple[str, ...]:
    """The filteropt classes that equal a Keras built-in of the same name."""
    out = []
    for e in _ENTRIES.values():
        if e.keras is not None and e.optimizer not in out:
            out.append(e.optimizer)
    return tuple(out)


def get(spec) -> Recipe:
    """A recipe from a name with optional hyperparameters, or a Recipe.

    ``get("nesterov:momentum=0.95")``. A ``learning_rate`` in the spec is
    checked and set aside: it belongs to the optimizer (see
    ``filteropt.get_optimizer``), not to its filters.

    Example:
        >>> from filteropt import recipes
        >>> r = recipes.get("momentum:momentum=0.9")
        >>> r.stages, r.path.filter
        (('lr', 'filter', 'normalize'), ARMAFilter(b=[1], a=[1, -0.9]))
    """
    if isinstance(spec, Recipe):
        return spec
    name, kwargs = parse(spec)
    lr = kwargs.pop("learning_rate", None)  # the optimizer's, not the recipe's
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < 0):
        raise ValueError(f"`learning_rate` must be a number >= 0. Received: learning_rate={lr!r}")
    found = entry(name)
    try:
        return found.make(**kwargs)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            bad = str(exc).split("'")[1] if "'" in str(exc) else str(exc)
            raise ValueError(f"optimizer {name!r} has no hyperparameter {bad!r}") from None
        raise
