"""What the engine does differently per Keras backend: torch.

The ``xp`` namespace the engine hands the recipes, the operands it hands
them, and the weight decay's rounding.

The recipes (:mod:`filteropt.recipes`, :mod:`filteropt.signal`) compute an
update with ``+``, ``-``, ``*`` and a few functions of a namespace ``xp``
(``sqrt``, ``abs``, ``sign``, ``maximum``, ``power``, ``expm1``): numpy in
:func:`filteropt.recipes.simulate`, ``keras.ops`` in the engine on
TensorFlow and JAX. On Keras's torch backend two conventions of
``keras.ops`` would round a float64 update through float32:

- a Python float meeting a tensor in a binary ``keras.ops`` function (and in
  every operator on a ``keras.Variable``) is first made a tensor of
  ``floatx()``, float32: ``keras.ops.power(0.96, t)`` uses
  ``float32(0.96)`` on a float64 ``t``;
- Keras's type promotion maps float64 to float32 on every backend but
  TensorFlow (``keras.backend.result_type("float64", "float64")`` is
  ``"float32"``), and torch's ``keras.ops.maximum`` casts its operands to
  that type, so the maximum of two float64 tensors is float32.

Keras's own torch optimizers (``keras/src/backend/torch/optimizers``)
compute with torch's functions and Python floats
(``torch._foreach_mul_(m, beta_1)``), which stay exact. So on torch
:func:`namespace` is :data:`TORCH`: the same functions computed by torch, a
Python float taking the dtype of the tensor it meets (as with torch's
operators), a Python number in and a Python number out (folded, as the
recipes fold constants); any other name is ``keras.ops``'s. And the
recipes get the slots' tensors (:func:`operands`), whose operators keep a
Python float exact, not the Keras variables.

Keras's torch optimizers also decay the weights their own way: theta times
the float32 factor ``1 - weight_decay * learning_rate``
(``TorchOptimizer._apply_weight_decay``), where the others compute theta -
theta lambda eta with lambda cast to the variable's dtype;
:func:`decay_factor` gives that factor.
"""

from __future__ import annotations

import contextlib
import math

import keras
from keras import ops

__all__ = ["TORCH", "decay_factor", "namespace", "no_grad", "operands"]


def _torch() -> bool:
    return keras.backend.backend() == "torch"


def namespace():
    """``keras.ops``, or on the torch backend :data:`TORCH`."""
    return TORCH if _torch() else ops


def operands(variables):
    """What the recipe computes on: on torch the variables' tensors (a
    ``keras.Variable``'s operators round a Python float to float32 there;
    the tensor is the variable's storage, so every new value must be
    computed before any is written), elsewhere the variables."""
    return [v.value for v in variables] if _torch() else list(variables)


def decay_factor(weight_decay, learning_rate):
    """On torch, Keras's weight-decay factor f = 1 - lambda eta, computed as
    Keras's torch optimizers compute it (float32); elsewhere None (Keras
    decays theta - theta lambda eta there)."""
    return 1 - weight_decay * learning_rate if _torch() else None


def no_grad():
    """On torch a context in which the update records no autograd graph (a
    model's weights require gradients); elsewhere nothing."""
    if _torch():
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


def _tensor(x):
    return x.value if isinstance(x, keras.Variable) else x


def _number(x) -> bool:
    return isinstance(x, (int, float))


def _unary(torch_name, math_fn):
    def fn(x):
        if _number(x):
            return math_fn(x)
        import torch

        return getattr(torch, torch_name)(_tensor(x))

    fn.__name__ = torch_name
    fn.__doc__ = f"``torch.{torch_name}``; ``{math_fn.__name__}`` of a Python number."
    return fn


def _sign(x):
    return x if math.isnan(x) else (x > 0) - (x < 0) + 0.0


class _TorchOps:
    """``keras.ops`` with the recipes' functions computed by torch (see the
    module docstring)."""

    sqrt = staticmethod(_unary("sqrt", math.sqrt))
    abs = staticmethod(_unary("abs", abs))
    sign = staticmethod(_unary("sign", _sign))
    exp = staticmethod(_unary("exp", math.exp))
    expm1 = staticmethod(_unary("expm1", math.expm1))
    log = staticmethod(_unary("log", math.log))
    log1p = staticmethod(_unary("log1p", math.log1p))
    square = staticmethod(_unary("square", lambda x: x * x))

    @staticmethod
    def maximum(x1, x2):
        """``torch.maximum``, a Python number taking the other's dtype."""
        return _binary("maximum", max, x1, x2)

    @staticmethod
    def minimum(x1, x2):
        """``torch.minimum``, a Python number taking the other's dtype."""
        return _binary("minimum", min, x1, x2)

    @staticmethod
    def power(x1, x2):
        """``torch.pow`` (a Python base or exponent stays exact)."""
        if _number(x1) and _number(x2):
            return x1**x2
        import torch

        return torch.pow(_tensor(x1), _tensor(x2))

    def __getattr__(self, name):
        return getattr(ops, name)


def _binary(name, python_fn, x1, x2):
    if _number(x1) and _number(x2):
        return python_fn(x1, x2)
    import torch

    x1, x2 = _tensor(x1), _tensor(x2)
    if _number(x1):
        x1 = torch.full_like(x2, x1)
    elif _number(x2):
        x2 = torch.full_like(x1, x2)
    return getattr(torch, name)(x1, x2)


#: The namespace on Keras's torch backend.
TORCH = _TorchOps()
