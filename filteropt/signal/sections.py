"""The stages a filter runs as: second-order sections and parallel banks.

A :class:`Section` is ``(b, a)`` of order <= 2 with ``a[0] == 1``; a
:class:`Bank` is ``direct + sum of branches``, each branch an
:class:`~filteropt.signal.arma.ARMAFilter` run on its own. An
``ARMAFilter``'s ``stages`` are these, run one after the other (scipy's
``sosfilt`` for sections). Also here: turning a ``(b, a)`` pair above order
2 into sections (``tf2sos``'s way, with ``pairing="keep_odd"``), scaled so
that every intermediate signal has the input's size.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import signal

#: Poles at a distance below this from the unit circle count as on it.
STABILITY_MARGIN = 1e-12


def _coefficients(values, name: str) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        if isinstance(values, numbers.Real) and not isinstance(values, bool):
            values = [values]
        else:
            raise TypeError(
                f"`{name}` must be a sequence of real numbers. Received: {name}={values!r}"
            )
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a sequence of real numbers. Received: {name}={values!r}"
        ) from None
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional. Received shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"`{name}` must contain only finite numbers. Received: {name}={arr.tolist()}"
        )
    return tuple(float(v) for v in arr)


def _trim(c: tuple[float, ...]) -> tuple[float, ...]:
    """Drops trailing zero coefficients (they add no dynamics)."""
    end = len(c)
    while end > 1 and c[end - 1] == 0.0:
        end -= 1
    return c[:end]


class _Frozen:
    """Base for values that refuse attribute assignment."""

    __slots__ = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")


@dataclass(frozen=True)
class Section:
    """One stage of order <= 2: ``(b, a)``, trimmed, ``a[0] == 1``."""

    b: tuple
    a: tuple

    @property
    def order(self) -> int:
        return max(len(self.b), len(self.a)) - 1

    def padded(self, n=None):
        n = self.order + 1 if n is None else n
        return (self.b + (0.0,) * (n - len(self.b)), self.a + (0.0,) * (n - len(self.a)))

    def scaled(self, c: float) -> Section:
        return Section(_trim(tuple(v * c for v in self.b)), self.a)

    @property
    def poles(self):
        return np.roots(self.padded()[1])

    @property
    def zeros(self):
        b = self.padded()[0]
        return np.roots(b) if any(b) else np.array([])

    @property
    def dc_gain(self):
        return _dc_gain(self.b, self.a)

    @property
    def input_gain(self):
        return self.b[0]

    def response(self, w):
        return signal.freqz(self.b, self.a, worN=w)[1]

    def row(self):
        """The section as a row of scipy's ``sos`` array."""
        b, a = self.padded(3)
        return list(b) + list(a)


@dataclass(frozen=True)
class Bank:
    """A parallel stage: ``direct x + sum of the branches' outputs``."""

    branches: tuple
    direct: float = 0.0

    @property
    def order(self) -> int:
        return sum(f.order for f in self.branches)

    def scaled(self, c: float) -> Bank:
        return Bank(tuple(f * c for f in self.branches), self.direct * c)

    def ba(self):
        b, a = (self.direct,), (1.0,)
        for f in self.branches:
            b = _polyadd(_conv(b, f._a), _conv(f._b, a))
            a = _conv(a, f._a)
        return b, a

    @property
    def poles(self):
        return np.concatenate([f.poles for f in self.branches])

    @property
    def dc_gain(self):
        return self.direct + sum(f.dc_gain for f in self.branches)

    @property
    def input_gain(self):
        return self.direct + sum(f.input_gain for f in self.branches)

    def response(self, w):
        return self.direct + sum(f._response(w) for f in self.branches)


def _conv(p, q) -> tuple:
    return tuple(float(v) for v in np.convolve(p, q))


def _polyadd(p, q) -> tuple:
    n = max(len(p), len(q))
    return tuple(float(u + v) for u, v in zip(p + (0.0,) * (n - len(p)), q + (0.0,) * (n - len(q))))


def _zpk(b, a):
    """``scipy.signal.tf2zpk(b, a)`` for one-length ``b`` and ``a``, without
    its normalisation, which takes a numerator coefficient below 1e-8 for
    zero (a design's gain is 1e-20 at order 10; a branch may be scaled by
    1e-38): roots of each polynomial, the gain the first non-zero numerator
    coefficient."""
    b, a = np.asarray(b, dtype=float), np.asarray(a, dtype=float)
    nonzero = np.flatnonzero(b)
    if not nonzero.size:
        return np.array([]), np.roots(a), 0.0
    return np.roots(b), np.roots(a), float(b[nonzero[0]] / a[0])


def _dc_gain(b, a) -> float:
    num, den = sum(b), sum(a)
    if den == 0.0 or abs(den) < 1e-15 * max(1.0, *map(abs, a)):
        return float("inf") if num != 0.0 else float("nan")
    return num / den


def _unit_dc(sections) -> tuple:
    """Sections each scaled to unit DC gain where it is finite and non-zero,
    the overall gain on the last: every intermediate signal then has the
    size of the input at low frequencies (scipy puts the whole gain on the
    first section, which for a low cutoff is ~1e-13 and leaves the later
    sections' signals 1e13 times larger, or subnormal for small gradients)."""
    out, total = [], 1.0
    for s in sections:
        dc = s.dc_gain
        if np.isfinite(dc) and dc != 0.0:
            s, total = s.scaled(1.0 / dc), total * dc
        out.append(s)
    out[-1] = out[-1].scaled(total)
    return tuple(out)


def _sections_of_ba(b, a) -> tuple:
    """The stages a ``(b, a)`` filter runs as: itself up to order 2, else
    its second-order sections (roots as ``scipy.signal.tf2zpk`` finds them,
    then ``zpk2sos``: what ``tf2sos`` does, with the pairing below)."""
    if b == (1.0,) and a == (1.0,):
        return ()
    if not any(b):
        return (Section((0.0,), (1.0,)),)
    if max(len(b), len(a)) <= 3:
        return (Section(b, a),)
    return _unit_dc(_rows(_zpk2sos(*_zpk(*_pad_pair(b, a)))))


def _zpk2sos(z, p, k):
    """``scipy.signal.zpk2sos`` with ``pairing="keep_odd"`` (an odd order
    gets one first-order section and no state to spare), or scipy's default
    pairing where keep_odd cannot pair (it fails on some real/complex mixes
    of zeros and poles; then an odd order keeps one state more)."""
    try:
        return signal.zpk2sos(z, p, k, pairing="keep_odd")
    except (IndexError, ValueError):
        return signal.zpk2sos(z, p, k)


def _rows(sos) -> tuple:
    sections = []
    for row in np.atleast_2d(np.asarray(sos, dtype=float)):
        a0 = row[3]
        sections.append(
            Section(
                _trim(tuple(float(v / a0) for v in row[:3])),
                _trim(tuple(float(v / a0) for v in row[3:])),
            )
        )
    return tuple(sections)


def _pad_pair(b, a):
    n = max(len(b), len(a))
    return tuple(b) + (0.0,) * (n - len(b)), tuple(a) + (0.0,) * (n - len(a))
