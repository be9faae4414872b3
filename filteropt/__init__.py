"""filteropt: gradient-descent optimizers seen as filters.

Momentum is an AR1 low-pass filter on the gradient, Nesterov an ARMA1 filter,
Adam a pair of unit-DC-gain AR1 filters with transient compensation followed
by an RMS normalizer. filteropt builds Keras 3 optimizers from exactly those
parts and shows what they do.

``import filteropt`` loads numpy and scipy only; the Keras optimizers
(``filteropt.Adam``, ``filteropt.FilterOptimizer``, ...) import Keras the
first time one of them is touched.
"""

from __future__ import annotations

import importlib

from . import filters, normalizers, recipes
from .compensation import FilterPath, NadamSchedule
from .filters import ARMAFilter

__version__ = "0.1.0"

_KERAS_NAMES = (
    "FilterOptimizer", "RecipeOptimizer",
    "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Nadam", "Adamax", "Lion",
    "QHM", "QHAdam", "AggMo", "ButterworthMomentum", "AdaBelief", "NadamLTI",
    "Designed", "get_optimizer",
)
_LAZY_MODULES = (
    "analysis", "plotting", "testing", "cli", "describe", "compensation", "schedules",
    "schedule_plots", "tasks", "design", "design_plots", "curvature",
)

__all__ = [
    "ARMAFilter", "FilterPath", "NadamSchedule", "filters", "normalizers", "recipes",
    *_KERAS_NAMES,
]


def __getattr__(name):
    if name == "estimate_curvature":
        from .curvature import estimate_curvature

        return estimate_curvature
    if name in _KERAS_NAMES:
        module = importlib.import_module(".keras", __name__)
        value = getattr(module, "get" if name == "get_optimizer" else name)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'filteropt' has no attribute {name!r}")


from . import _registration  # noqa: E402

_registration.install()


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_LAZY_MODULES))
