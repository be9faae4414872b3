"""Constant folding for updates that are traced.

A coefficient is a Python number when it is known while the update is
traced (a filter's fixed coefficients, a hyperparameter) and a tensor when it
changes per step (transient compensation, a schedule). The helpers here
build ``c * x`` and ``c * x + acc`` so that a constant 0 costs no operation,
a constant 1 no multiplication and -1 a negation: the generic recursion then
costs what a hand-written one does. They use only ``*``, ``+`` and unary
``-``, so ``x`` may be a numpy array or any backend's tensor.
"""

from __future__ import annotations

__all__ = ["axpy", "is_const", "scaled", "times"]


def is_const(c, value) -> bool:
    """Whether ``c`` is a Python number equal to ``value`` (never a tensor)."""
    return isinstance(c, (int, float)) and c == value


def times(c, x):
    """``c * x``, folding a constant 1 on either side."""
    if is_const(c, 1.0):
        return x
    if is_const(x, 1.0):
        return c
    return c * x


def scaled(c, gain):
    """``c * gain`` for coefficients: 0 stays 0, a unit ``c`` or ``gain`` folds."""
    if is_const(gain, 1.0):
        return c
    if is_const(c, 0.0):
        return 0.0
    if is_const(c, 1.0):
        return gain
    return c * gain


def axpy(c, x, acc):
    """``c * x + acc`` (``acc`` None means 0): no term for c == 0, no
    multiplication for c == 1 or -1."""
    if is_const(c, 0.0):
        return acc
    term = x if is_const(c, 1.0) else (-x if is_const(c, -1.0) else c * x)
    return term if acc is None else acc + term
