"""Registers the Keras optimizers as soon as Keras is imported, not before.

``import filteropt`` must not load Keras (analysis stays backend-free), yet
``keras.models.load_model`` must find ``filteropt>Adam`` after a plain
``import filteropt``: Keras only looks classes up in its registry and never
imports a foreign module named in a saved file. So: if Keras is already
loaded, register now; otherwise wait for Keras's import to finish (a meta
path hook that removes itself) and register then.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys


def _register():
    importlib.import_module("filteropt.keras")
    importlib.import_module("filteropt.keras.schedules")


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            _register()

        spec.loader.exec_module = exec_then_register  # type: ignore[method-assign]  # patches this one loader
        return spec


def install():
    if "keras" in sys.modules:
        _register()
    elif not any(isinstance(f, _AfterKerasImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())
