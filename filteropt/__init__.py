"""filteropt: gradient-descent optimizers seen as filters.

Momentum is an AR1 low-pass filter on the gradient, Nesterov an ARMA1 filter,
Adam a pair of unit-DC-gain AR1 filters with transient compensation followed
by an RMS normalizer. filteropt builds Keras 3 optimizers from exactly those
parts and shows what they do.

The packages, each built only on those before it:

- :mod:`filteropt.signal`: filters (:class:`ARMAFilter`), how they run,
  transient compensation, normalizers;
- :mod:`filteropt.recipes`: optimizers as plain data, the one registry of
  named optimizers, and the numpy reference ``simulate``;
- :mod:`filteropt.analysis`: responses, the summary table, the closed loop;
- :mod:`filteropt.design`: filters designed on the closed loop;
- :mod:`filteropt.plotting`: matplotlib figures;
- :mod:`filteropt.keras`: the Keras 3 optimizers (the only package that
  imports Keras), schedules and curvature estimates;
- :mod:`filteropt.adapters`: the recipes under optax (:func:`to_optax`) and
  torch.optim (:func:`to_torch`);
- :mod:`filteropt.cli`: the ``filteropt`` command.

``import filteropt`` loads numpy and scipy only; the Keras optimizers
(``filteropt.Adam``, ``filteropt.FilterOptimizer``, ...) import Keras the
first time one of them is touched.

Example:
    >>> import keras, numpy as np, filteropt
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer=filteropt.Adam(learning_rate=0.01), loss="mse")
    >>> history = model.fit(np.ones((16, 4)), np.ones((16, 1)), epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
    >>> filteropt.analysis.describe("adam")["learning_rate"]
    'after the normalizer'
"""

from __future__ import annotations

import importlib
import sys

from . import design, recipes, signal  # design registers the "designed" recipe
from .signal import ARMAFilter, FilterPath, NadamSchedule, filters, normalizers

# The public filter and normalizer namespaces: ``import filteropt.filters`` too.
sys.modules[__name__ + ".filters"] = filters
sys.modules[__name__ + ".normalizers"] = normalizers

__version__ = "0.2.0"

#: The Keras classes, named by the registry (plus the engine's own, the probe and ``get``).
_KERAS_NAMES = tuple(
    dict.fromkeys(
        ["FilterOptimizer", "RecipeOptimizer", "GradientProbe"]
        + [e.optimizer for e in recipes.REGISTRY.values()]
        + ["get_optimizer"]
    )
)
#: Modules loaded on first touch: name -> module path.
_LAZY_MODULES = {
    "analysis": ".analysis",
    "plotting": ".plotting",
    "testing": ".testing",
    "cli": ".cli",
    "schedules": ".keras.schedules",
    "curvature": ".keras.curvature",
}

__all__ = [
    "ARMAFilter",
    "FilterPath",
    "NadamSchedule",
    "filters",
    "normalizers",
    "recipes",
    "signal",
    "design",
    "estimate_curvature",
    "to_optax",
    "to_torch",
    *_KERAS_NAMES,
]


def __getattr__(name):
    if name in ("to_optax", "to_torch"):
        from . import adapters

        return getattr(adapters, name)
    if name == "estimate_curvature":
        from .keras.curvature import estimate_curvature

        return estimate_curvature
    if name in _KERAS_NAMES:
        module = importlib.import_module(".keras", __name__)
        value = getattr(module, "get" if name == "get_optimizer" else name)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:
        return importlib.import_module(_LAZY_MODULES[name], __name__)
    raise AttributeError(f"module 'filteropt' has no attribute {name!r}")


from . import _registration  # noqa: E402

_registration.install()


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_LAZY_MODULES))
