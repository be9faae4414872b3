"""Reflection coefficients: the designer's coordinates for stable, minimum-phase filters.

A monic polynomial a(z^-1) = 1 + a_1 z^-1 + ... + a_m z^-m and its
reflection coefficients k_1 .. k_m are related by the Levinson (Schur-Cohn)
recursion::

    step up:    a_m[i]     = a_{m-1}[i] + k_m a_{m-1}[m - i]             (a_{m-1}[m] = 0)
    step down:  a_{m-1}[i] = (a_m[i] - k_m a_m[m - i]) / (1 - k_m^2),   k_m = a_m[m]

and every root lies strictly inside the unit circle exactly when every
|k_i| < 1. So the designer searches over unconstrained reals
x = [log eta, atanh(k_A), atanh(k_B)] (:func:`decode`, :func:`encode`):
every x is a filter H = B/A with b[0] = 1 whose poles and zeros lie inside
the unit circle, with a learning rate eta > 0.

numpy only.
"""

from __future__ import annotations

import math

import numpy as np

from ..signal.arma import ARMAFilter

__all__ = ["K_MAX", "U_MAX", "decode", "encode", "step_down", "step_up"]

#: Reflection coefficients are kept within this distance of +-1, so poles and
#: zeros stay strictly inside the unit circle.
K_MAX = 1.0 - 1e-9
U_MAX = math.atanh(K_MAX)


def step_up(k) -> np.ndarray:
    """The monic polynomial (ascending powers of z^-1) with reflection coefficients ``k``."""
    a = [1.0]
    for km in k:
        km = float(km)
        a = [x + km * y for x, y in zip(a + [0.0], [0.0] + a[::-1])]
    return np.array(a)


def step_down(a) -> np.ndarray:
    """The reflection coefficients of a monic polynomial ``a`` (ascending powers of z^-1).

    Raises:
        ValueError: a root lies on or outside the unit circle (some |k_m| >= 1).
    """
    a = np.asarray(a, dtype=float)
    k = []
    while len(a) > 1:
        km = a[-1]
        if not abs(km) < 1.0:
            raise ValueError("a root lies on or outside the unit circle")
        k.append(km)
        a = (a[:-1] - km * a[:0:-1]) / (1.0 - km * km)
    return np.array(k[::-1])


def decode(x, order: int) -> tuple[float, np.ndarray, np.ndarray]:
    """``(eta, a, b)`` for x = [log eta, atanh(k_A) (order values), atanh(k_B) (order values)].

    x is clipped to [-50, 50] and the coefficients to |k| <= K_MAX, so every
    x decodes to a stable, minimum-phase filter.
    """
    x = np.clip(np.asarray(x, dtype=float), -50, 50)
    k = np.tanh(np.clip(x[1:], -U_MAX, U_MAX))
    return math.exp(float(x[0])), step_up(k[:order]), step_up(k[order:])


def encode(f: ARMAFilter, eta: float, order: int) -> np.ndarray:
    """x for the filter ``f`` and learning rate ``eta``: f padded to ``order``, scaled to b[0] = 1.

    The scale goes into eta (eta b[0]), so the loop is unchanged; reflection
    coefficients are clipped to |k| <= K_MAX.

    Raises:
        ValueError: b[0] <= 0, ``f`` of a higher order than ``order``, or a
            pole or zero on or outside the unit circle.
    """
    b, a = (np.asarray(c, dtype=float) for c in f.padded())
    if b[0] <= 0:
        raise ValueError("a start needs b[0] > 0")
    if f.order > order:
        raise ValueError("a start of a higher order than the design")
    eta, b = eta * b[0], b / b[0]
    a = np.r_[a, np.zeros(order + 1 - len(a))]
    b = np.r_[b, np.zeros(order + 1 - len(b))]
    ka = np.clip(step_down(a), -K_MAX, K_MAX)
    kb = np.clip(step_down(b), -K_MAX, K_MAX)
    return np.r_[math.log(eta), np.arctanh(ka), np.arctanh(kb)]
