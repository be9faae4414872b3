"""ARMA filters as immutable values, in scipy.signal's conventions.

A filter's transfer function, in ascending powers of z^-1 with ``a[0] == 1``::

            b[0] + b[1] z^-1 + ... + b[L] z^-L
    H(z) = ------------------------------------
            1    + a[1] z^-1 + ... + a[L] z^-L

that is, the difference equation

    y[n] = sum_{i=0..L} b[i] x[n-i] - sum_{i=1..L} a[i] y[n-i].

A filter keeps the representation it was made in, as scipy.signal users
keep theirs: the pair ``(b, a)`` for the lecture's first-order filters,
second-order sections for designs (:func:`design`, :meth:`ARMAFilter.from_zpk`,
:meth:`ARMAFilter.from_sos`), a parallel bank for sums (:func:`aggmo`,
``f + g``), and it runs as those stages (:mod:`filteropt.realisation`): the
``(b, a)`` pair of a high-order filter loses its poles to rounding (rounded
to float32, butter(8, 0.02)'s largest pole moves from 0.988 to 1.135; even
in float64 butter(10, 0.01)'s leaves the unit circle), its sections do not. Series connection is
``f * g`` (the two cascades joined), parallel connection ``f + g``, and a
number scales the filter (``0.5 * f``); neither multiplies polynomials out.
``f.ba``, ``f.sos`` and ``f.zpk`` convert through scipy.signal.

The filter holds no state: state is passed in and out (``lfilter(x, zi)``
returns ``(y, zf)`` as scipy does), and in an optimizer it lives on the
optimizer's slot variables.

The named filters of the seed lecture ("Review of ARMA LTI filters",
"Review of first order LTI filters") and of the optimizer literature are
functions of this module: :func:`ema`, :func:`trace`, :func:`nesterov`,
:func:`summer`, :func:`qhm`, :func:`aggmo`, :func:`lion`,
:func:`butterworth` and :func:`design`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import signal

__all__ = [
    "ARMAFilter",
    "Section",
    "Bank",
    "series",
    "parallel",
    "identity",
    "ema",
    "trace",
    "nesterov",
    "summer",
    "qhm",
    "aggmo",
    "lion",
    "butterworth",
    "design",
    "tdf2_step",
]

#: Poles at a distance below this from the unit circle count as on it.
STABILITY_MARGIN = 1e-12


def _coefficients(values, name: str) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        if isinstance(values, numbers.Real) and not isinstance(values, bool):
            values = [values]
        else:
            raise TypeError(
                f"`{name}` must be a sequence of real numbers. "
                f"Received: {name}={values!r}"
            )
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a sequence of real numbers. "
            f"Received: {name}={values!r}"
        ) from None
    if arr.ndim != 1:
        raise ValueError(
            f"`{name}` must be one-dimensional. Received shape {arr.shape}."
        )
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"`{name}` must contain only finite numbers. Received: "
            f"{name}={arr.tolist()}"
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

    def scaled(self, c: float) -> "Section":
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

    def scaled(self, c: float) -> "Bank":
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
        sections.append(Section(_trim(tuple(float(v / a0) for v in row[:3])),
                                _trim(tuple(float(v / a0) for v in row[3:]))))
    return tuple(sections)


class ARMAFilter(_Frozen):
    """A linear time-invariant ARMA filter ``H(z) = B(z) / A(z)``.

    Difference equation (scipy's convention, ``a[0] == 1``)::

        y[n] = b[0] x[n] + ... + b[L] x[n-L] - a[1] y[n-1] - ... - a[L] y[n-L]

    A filter keeps the representation it was made in (``form``):

    - ``"ba"``: the polynomial pair, as ``ARMAFilter(b, a)`` gives it (the
      lecture's first-order filters); above order 2 it runs as the
      second-order sections of ``scipy.signal.tf2sos(b, a)``;
    - ``"sos"``: second-order sections (:meth:`from_sos`, :meth:`from_zpk`,
      :func:`design`, and ``f * g`` of such filters), never multiplied out;
    - ``"parallel"``: a bank ``direct + sum of branches`` (``f + g``,
      :func:`aggmo`), each branch run on its own;
    - ``"cascade"``: a series of stages some of which are banks.

    ``stages`` is what runs, one after the other: :class:`Section` values of
    order <= 2 and :class:`Bank` values. Responses, poles, zeros and gains
    are computed from the stages (scipy's ``sosfreqz``/``sosfilt`` way);
    ``b``/``a`` (or ``ba``) multiply them out, for the closed-loop analysis
    and display, and ``sos``/``zpk`` convert through scipy.signal.

    Args:
        b: numerator coefficients, ascending powers of z^-1.
        a: denominator coefficients; ``a[0]`` must be non-zero and both
            ``b`` and ``a`` are divided by it on construction.

    Example:
        >>> from filteropt import ARMAFilter
        >>> momentum = ARMAFilter([1.0], [1.0, -0.9])
        >>> round(momentum.dc_gain, 6)
        10.0
    """

    __slots__ = ("_b", "_a", "_stages", "_form")

    def __init__(self, b: Sequence[float] = (1.0,), a: Sequence[float] = (1.0,)):
        b = _coefficients(b, "b")
        a = _coefficients(a, "a")
        if a[0] == 0.0:
            raise ValueError(
                "`a[0]` must be non-zero: it normalises the filter. "
                f"Received: a={list(a)}"
            )
        a0 = a[0]
        b, a = _trim(tuple(v / a0 for v in b)), _trim(tuple(v / a0 for v in a))
        self._set(b, a, _sections_of_ba(b, a), "ba")

    def _set(self, b, a, stages, form):
        object.__setattr__(self, "_b", b)
        object.__setattr__(self, "_a", a)
        object.__setattr__(self, "_stages", tuple(stages))
        object.__setattr__(self, "_form", form)

    @classmethod
    def _of_stages(cls, stages, form) -> "ARMAFilter":
        b, a = (1.0,), (1.0,)
        for s in stages:
            sb, sa = (s.b, s.a) if isinstance(s, Section) else s.ba()
            b, a = _conv(b, sb), _conv(a, sa)
        f = object.__new__(cls)
        f._set(_trim(b), _trim(a), stages, form)
        return f

    @classmethod
    def from_sos(cls, sos) -> "ARMAFilter":
        """A cascade of second-order sections in scipy's ``sos`` layout
        (rows ``[b0, b1, b2, a0, a1, a2]``), kept as given (each row divided
        by its ``a0``)."""
        try:
            arr = np.atleast_2d(np.asarray(sos, dtype=float))
        except (TypeError, ValueError):
            raise TypeError(f"`sos` must be an array of shape (n, 6). Received: {sos!r}") from None
        if arr.ndim != 2 or arr.shape[1] != 6 or arr.shape[0] == 0:
            raise ValueError(f"`sos` must have shape (n, 6) with n >= 1. Received shape {arr.shape}.")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"`sos` must contain only finite numbers. Received: {arr.tolist()}")
        if np.any(arr[:, 3] == 0.0):
            raise ValueError(f"every section's a0 (column 3 of `sos`) must be non-zero. Received: {arr.tolist()}")
        return cls._of_stages(_rows(arr), "sos")

    @classmethod
    def from_zpk(cls, z, p, k) -> "ARMAFilter":
        """Zeros, poles (in z) and gain, paired into sections by
        ``scipy.signal.zpk2sos`` (``pairing="keep_odd"``: an odd order has one
        first-order section, no state to spare), each section scaled to unit DC gain where
        it has one (the overall gain on the last section)."""
        z, p = np.atleast_1d(np.asarray(z, dtype=complex)), np.atleast_1d(np.asarray(p, dtype=complex))
        if isinstance(k, bool) or not isinstance(k, numbers.Number) or not np.isfinite(k):
            raise TypeError(f"`k` must be a finite real number. Received: k={k!r}")
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(p))):
            raise ValueError("`z` and `p` must contain only finite numbers.")
        if len(p) == 0 and len(z) == 0:
            return cls([float(np.real(k))])
        return cls._of_stages(_unit_dc(_rows(_zpk2sos(z, p, float(np.real(k))))), "sos")

    # -- coefficients -----------------------------------------------------
    @property
    def b(self) -> np.ndarray:
        """Numerator coefficients, multiplied out (a read-only copy)."""
        arr = np.array(self._b)
        arr.flags.writeable = False
        return arr

    @property
    def a(self) -> np.ndarray:
        """Denominator coefficients, ``a[0] == 1``, multiplied out (a read-only copy)."""
        arr = np.array(self._a)
        arr.flags.writeable = False
        return arr

    @property
    def ba(self) -> tuple[np.ndarray, np.ndarray]:
        """``(b, a)``: the transfer function as one polynomial pair."""
        return self.b, self.a

    @property
    def sos(self) -> np.ndarray:
        """Second-order sections, scipy's ``(n, 6)`` layout: the stages
        themselves when every stage is a section, else
        ``scipy.signal.zpk2sos`` of :attr:`zpk`."""
        if all(isinstance(s, Section) for s in self._stages) and self._stages:
            return np.array([s.row() for s in self._stages])
        return _zpk2sos(*self.zpk)

    @property
    def zpk(self):
        """``(zeros, poles, gain)`` in z, from the stages."""
        zeros, poles, gain = [], [], 1.0
        for s in self._stages:
            if isinstance(s, Section):
                z, p, k = _zpk(*s.padded())
            else:
                z, _, k = _zpk(*_pad_pair(*s.ba()))
                p = s.poles
            zeros.append(np.atleast_1d(z))
            poles.append(np.atleast_1d(p))
            gain *= float(np.real(k))
        if not self._stages:
            return np.array([]), np.array([]), 1.0
        return np.concatenate(zeros), np.concatenate(poles), gain

    @property
    def form(self) -> str:
        """How the filter was made: ``"ba"``, ``"sos"``, ``"parallel"`` or
        ``"cascade"`` (see the class docstring)."""
        return self._form

    @property
    def stages(self) -> tuple:
        """What runs, in order: :class:`Section` (order <= 2) and
        :class:`Bank` values."""
        return self._stages

    @property
    def order(self) -> int:
        """L, the number of delays the realisation keeps: the sum of its
        stages' orders (``max(len(b), len(a)) - 1`` for a ``(b, a)`` filter)."""
        return sum(s.order for s in self._stages)

    def padded(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(b, a)`` multiplied out, as tuples of one length."""
        return _pad_pair(self._b, self._a)

    # -- responses (scipy.signal does the maths) ---------------------------
    def lfilter(self, x, zi=None):
        """Filters ``x`` along its last axis (as scipy does).

        A ``(b, a)`` filter of order <= 2 runs ``scipy.signal.lfilter(b, a, x,
        zi=zi)``; any other filter runs its stages (``scipy.signal.sosfilt``
        for sections, the branches of a bank side by side). Returns ``y``,
        or ``(y, zf)`` when ``zi`` is given: scipy's transposed-direct-form-II
        state of the ``(b, a)`` form, ``order`` values (``"ba"`` filters only).
        """
        x = np.asarray(x, dtype=float)
        if zi is not None:
            if self._form != "ba":
                raise ValueError(
                    "`zi` is the state of the (b, a) form (scipy.signal.lfilter); "
                    f"this filter runs as {self._form!r}: filter without `zi`."
                )
            zi = np.asarray(zi, dtype=float)
            n = max(len(self._b), len(self._a)) - 1
            if zi.shape[0] != n:
                raise ValueError(
                    f"`zi` must hold {n} values (max(len(b), len(a)) - 1). "
                    f"Received shape {zi.shape}."
                )
            return signal.lfilter(self._b, self._a, x, zi=zi)
        if self._form == "ba" and len(self._stages) <= 1:
            return signal.lfilter(self._b, self._a, x)
        y, run = x, []
        for s in self._stages + (None,):
            if isinstance(s, Section):
                run.append(s.row())
                continue
            if run:
                y, run = signal.sosfilt(np.array(run), y), []
            if s is not None:
                y = s.direct * y + sum(f.lfilter(y) for f in s.branches)
        return y

    def freqz(self, worN=512, whole: bool = False):
        """``(w, h)`` as ``scipy.signal.freqz`` gives them (w in rad/sample),
        computed from the stages (``scipy.signal.sosfreqz`` for sections)."""
        if self._form == "ba" and len(self._stages) <= 1:
            return signal.freqz(self._b, self._a, worN=worN, whole=whole)
        if isinstance(worN, numbers.Integral):
            w = np.linspace(0.0, 2.0 * np.pi if whole else np.pi, int(worN), endpoint=False)
        else:
            w = np.asarray(worN, dtype=float)
        return w, self._response(w)

    def _response(self, w):
        h = np.ones(np.shape(w), dtype=complex)
        for s in self._stages:
            h = h * s.response(w)
        return h

    def impulse_response(self, n: int) -> np.ndarray:
        """The first ``n`` samples of the response to a unit impulse."""
        n = _count(n, "n")
        x = np.zeros(n)
        if n:
            x[0] = 1.0
        return self.lfilter(x)

    def step_response(self, n: int) -> np.ndarray:
        """The first ``n`` samples of the response to a unit step, s[n]."""
        return self.lfilter(np.ones(_count(n, "n")))

    @property
    def poles(self) -> np.ndarray:
        """The poles in z (not z^-1): ``scipy.signal.tf2zpk``'s for a
        ``(b, a)`` filter, the stages' otherwise."""
        if self._form == "ba":
            return _zpk(*self.padded())[1]
        return self.zpk[1]

    @property
    def zeros(self) -> np.ndarray:
        """The zeros in z: the sections' zeros, and the roots of a bank's
        summed numerator (``tf2zpk``'s for a ``(b, a)`` filter)."""
        if self._form == "ba":
            return _zpk(*self.padded())[0]
        return self.zpk[0]

    @property
    def dc_gain(self) -> float:
        """H(1), the product of the stages' DC gains; ``inf`` for a pole at z = 1."""
        if self._form == "ba" or not self._stages:
            return _dc_gain(self._b, self._a)
        out = 1.0
        for s in self._stages:
            out *= s.dc_gain
        return float(out)

    @property
    def input_gain(self) -> float:
        """b[0]: the weight of the newest input in the newest output."""
        if self._form == "ba" or not self._stages:
            return self._b[0]
        out = 1.0
        for s in self._stages:
            out *= s.input_gain
        return float(out)

    @property
    def is_stable(self) -> bool:
        """True when every pole lies strictly inside the unit circle."""
        p = self.poles
        return bool(np.all(np.abs(p) < 1.0 - STABILITY_MARGIN)) if p.size else True

    @property
    def is_identity(self) -> bool:
        return self._b == (1.0,) and self._a == (1.0,)

    # -- algebra ------------------------------------------------------------
    def __mul__(self, other):
        """Series connection ``f * g`` (a cascade of both filters' stages,
        never multiplied out), or scaling by a number (the last stage)."""
        if isinstance(other, ARMAFilter):
            if self.order == 0:  # a pure gain (the identity among them)
                return other * self.input_gain
            if other.order == 0:
                return self * other.input_gain
            stages = self._stages + other._stages
            form = "sos" if all(isinstance(s, Section) for s in stages) else "cascade"
            return ARMAFilter._of_stages(stages, form)
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            c = float(other)
            if self._form == "ba":
                return ARMAFilter([v * c for v in self._b], self._a)
            if c == 0.0:
                return ARMAFilter([0.0])
            stages = self._stages[:-1] + (self._stages[-1].scaled(c),)
            return ARMAFilter._of_stages(stages, self._form)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            if other == 0:
                raise ZeroDivisionError("cannot scale a filter by 1/0")
            return self * (1.0 / float(other))
        return NotImplemented

    def __neg__(self):
        return self * -1.0

    def __add__(self, other):
        """Parallel connection ``f + g`` (a bank of both filters' branches,
        never multiplied out); a number is a direct gain."""
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            other = ARMAFilter([float(other)])
        if not isinstance(other, ARMAFilter):
            return NotImplemented
        return parallel(self, other)

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)

    def _key(self):
        return (self._form, self._b, self._a, self._stages)

    def __eq__(self, other):
        if not isinstance(other, ARMAFilter):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def isclose(self, other: "ARMAFilter", rtol=1e-9, atol=1e-12) -> bool:
        """Same transfer function up to rounding of the coefficients."""
        (b1, a1), (b2, a2) = self.padded(), other.padded()
        n = max(len(b1), len(b2))
        pad = lambda c: np.r_[c, np.zeros(n - len(c))]  # noqa: E731
        return bool(
            np.allclose(pad(b1), pad(b2), rtol=rtol, atol=atol)
            and np.allclose(pad(a1), pad(a2), rtol=rtol, atol=atol)
        )

    # -- config -------------------------------------------------------------
    def get_config(self) -> dict:
        """A plain JSON-serialisable dict: ``{"b", "a"}``, ``{"sos"}``,
        ``{"parallel", "direct"}`` or ``{"cascade"}`` by :attr:`form`."""
        if self._form == "ba":
            return {"b": list(self._b), "a": list(self._a)}
        if self._form == "sos":
            return {"sos": [s.row() for s in self._stages]}
        if self._form == "parallel":
            (bank,) = self._stages
            return {"parallel": [f.get_config() for f in bank.branches], "direct": bank.direct}
        return {"cascade": [_stage_config(s) for s in self._stages]}

    @classmethod
    def from_config(cls, config: dict) -> "ARMAFilter":
        keys = set(config) if isinstance(config, dict) else None
        if keys is not None and "b" in keys and keys <= {"b", "a"}:
            return cls(config["b"], config.get("a", [1.0]))
        if keys == {"sos"}:
            return cls.from_sos(config["sos"])
        if keys is not None and "parallel" in keys and keys <= {"parallel", "direct"}:
            return parallel(*[cls.from_config(c) for c in config["parallel"]],
                            direct=float(config.get("direct", 0.0)))
        if keys == {"cascade"}:
            parts = [cls.from_config(c) for c in config["cascade"]]
            stages = tuple(s for f in parts for s in f._stages)
            form = "sos" if all(isinstance(s, Section) for s in stages) else "cascade"
            return cls._of_stages(stages, form)
        raise ValueError(
            "A filter config must be a dict with keys 'b' and 'a', 'sos', "
            f"'parallel' (and 'direct') or 'cascade'. Received: {config!r}"
        )

    def __repr__(self):
        fmt = lambda c: "[" + ", ".join(f"{v:.6g}" for v in c) + "]"  # noqa: E731
        if self._form == "ba":
            return f"ARMAFilter(b={fmt(self._b)}, a={fmt(self._a)})"
        if self._form == "sos":
            return "ARMAFilter.from_sos([" + ", ".join(fmt(s.row()) for s in self._stages) + "])"
        if self._form == "parallel":
            (bank,) = self._stages
            inner = ", ".join(map(repr, bank.branches))
            return f"parallel({inner}, direct={bank.direct:.6g})"
        return "series(" + ", ".join(repr(_stage_filter(s)) for s in self._stages) + ")"

    def __reduce__(self):
        return (ARMAFilter.from_config, (self.get_config(),))


def _pad_pair(b, a):
    n = max(len(b), len(a))
    return tuple(b) + (0.0,) * (n - len(b)), tuple(a) + (0.0,) * (n - len(a))


def _stage_filter(stage) -> ARMAFilter:
    if isinstance(stage, Section):
        return ARMAFilter._of_stages((stage,), "sos")
    return ARMAFilter._of_stages((stage,), "parallel")


def _stage_config(stage) -> dict:
    return _stage_filter(stage).get_config()


def series(*filters: ARMAFilter) -> ARMAFilter:
    """The cascade ``f1 * f2 * ...`` (python-control's ``series``)."""
    out = identity()
    for f in filters:
        out = out * _checked(f)
    return out


def parallel(*filters: ARMAFilter, direct: float = 0.0) -> ARMAFilter:
    """The bank ``direct + f1 + f2 + ...``, each branch kept and run on its
    own (python-control's ``parallel``). A number among ``filters`` adds to
    ``direct``; branches with a zero numerator are dropped."""
    branches, total = [], float(direct)
    for f in filters:
        if isinstance(f, numbers.Real) and not isinstance(f, bool):
            total += float(f)
            continue
        f = _checked(f)
        if f.order == 0:
            total += f.input_gain
        elif f._form == "parallel":
            (bank,) = f._stages
            branches += list(bank.branches)
            total += bank.direct
        elif any(f._b):
            branches.append(f)
    if not branches:
        return ARMAFilter([total])
    return ARMAFilter._of_stages((Bank(tuple(branches), total),), "parallel")


def _checked(f):
    if not isinstance(f, ARMAFilter):
        raise TypeError(f"expected a filteropt.ARMAFilter. Received: {f!r} of type {type(f).__name__}")
    return f


def as_filter(value, name: str = "gradient_filter") -> ARMAFilter | None:
    """Accepts an ARMAFilter, its config dict, or None; anything else fails."""
    if value is None or isinstance(value, ARMAFilter):
        return value
    if isinstance(value, dict):
        return ARMAFilter.from_config(value)
    raise TypeError(
        f"`{name}` must be a filteropt.ARMAFilter, a dict "
        f"{{'b': [...], 'a': [...]}} or None. Received: {value!r} "
        f"of type {type(value).__name__}"
    )


def _count(n, name):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {n!r}")
    return int(n)


def check_unit_interval(value, name: str, *, closed_right: bool = False) -> float:
    """Validates a coefficient in [0, 1) (or [0, 1]); returns it as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number. Received: {name}={value!r}")
    value = float(value)
    upper_ok = value <= 1.0 if closed_right else value < 1.0
    if not (value >= 0.0 and upper_ok):
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"`{name}` must be in {interval}. Received: {name}={value}")
    return value


# -- named filters -------------------------------------------------------------


def identity() -> ARMAFilter:
    """H(z) = 1: no filtering (plain SGD)."""
    return ARMAFilter([1.0], [1.0])


def ema(beta: float) -> ARMAFilter:
    """AR1 with unit DC gain (exponential moving average; Adam's moments).

    y[n] = beta y[n-1] + (1 - beta) x[n],  H(z) = (1 - beta) / (1 - beta z^-1).

    H(1) = 1, input gain 1 - beta, step response s[n] = 1 - beta^(n+1)
    (seed: "Unit DC-Gain AR1"). Compare :func:`trace` (unit input gain).
    """
    beta = check_unit_interval(beta, "beta")
    return ARMAFilter([1.0 - beta], [1.0, -beta])


def trace(alpha: float) -> ARMAFilter:
    """AR1 with unit input gain: heavy-ball momentum's velocity.

    v[n] = alpha v[n-1] + x[n],  H(z) = 1 / (1 - alpha z^-1).

    H(1) = 1/(1 - alpha): "your momentum and learning rate are coupled"
    (seed: "Unit input-Gain AR1", "(standard) Momentum").
    """
    alpha = check_unit_interval(alpha, "alpha")
    return ARMAFilter([1.0], [1.0, -alpha])


def nesterov(alpha: float) -> ARMAFilter:
    """Nesterov momentum in Bengio's formulation: one pole, one zero.

    v[n] = alpha v[n-1] + x[n],  y[n] = (1 + alpha) v[n] - alpha v[n-1],

    H(z) = ((1 + alpha) - alpha z^-1) / (1 - alpha z^-1): pole at alpha, zero
    at alpha / (1 + alpha) (seed: "SGD with Nesterov Momentum"; Bengio et al.,
    ICASSP 2013). This is what Keras's ``SGD(nesterov=True)`` computes.
    """
    alpha = check_unit_interval(alpha, "alpha")
    return ARMAFilter([1.0 + alpha, -alpha], [1.0, -alpha])


def summer() -> ARMAFilter:
    """The accumulator y[n] = y[n-1] + x[n], H(z) = 1/(1 - z^-1) (Adagrad).

    A pole on the unit circle: infinite DC gain, not stable, which is why
    it is only used on the (non-negative) squared gradient.
    """
    return ARMAFilter([1.0], [1.0, -1.0])


def qhm(nu: float, beta: float) -> ARMAFilter:
    """Quasi-hyperbolic momentum: y = (1 - nu) x + nu ema_beta(x).

    H(z) = (1 - nu) + nu (1 - beta) / (1 - beta z^-1), unit DC gain
    (Ma & Yarats, "Quasi-hyperbolic momentum and Adam for deep learning",
    ICLR 2019), a bank of the direct term and ``nu * ema(beta)``, whose
    slot is then the scaled moving average. nu = 1 is :func:`ema`, nu = 0
    plain SGD.
    """
    nu = check_unit_interval(nu, "nu", closed_right=True)
    return (1.0 - nu) + nu * ema(beta)


def aggmo(betas: Sequence[float]) -> ARMAFilter:
    """Aggregated momentum: the mean of K heavy-ball velocities.

    H(z) = (1/K) sum_k 1 / (1 - beta_k z^-1), a parallel bank of
    :func:`trace` filters (Lucas et al., "Aggregated momentum", ICLR 2019),
    kept and run as the bank: K velocities, one slot each (a beta of 0 is a
    direct term and keeps none). Multiplied out, the close poles of the
    paper's betas (0, 0.9, 0.99, 0.999) share one denominator whose float32
    rounding moves them (0.2% off in 400 steps).
    """
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__iter__"):
        raise TypeError(f"`betas` must be a sequence of numbers. Received: {betas!r}")
    betas = [check_unit_interval(b, f"betas[{i}]") for i, b in enumerate(betas)]
    if not betas:
        raise ValueError("`betas` must not be empty.")
    total = trace(betas[0])
    for beta in betas[1:]:
        total = total + trace(beta)
    return total / len(betas)


def lion(beta_1: float, beta_2: float) -> ARMAFilter:
    """The filter inside Lion's sign: y[n] = beta_1 m[n-1] + (1 - beta_1) x[n].

    m[n] = beta_2 m[n-1] + (1 - beta_2) x[n], so
    H(z) = ((1 - beta_1) + (beta_1 - beta_2) z^-1) / (1 - beta_2 z^-1),
    unit DC gain (Chen et al., "Symbolic discovery of optimization
    algorithms", 2023). beta_1 may be 1, as in Keras.
    """
    beta_1 = check_unit_interval(beta_1, "beta_1", closed_right=True)
    beta_2 = check_unit_interval(beta_2, "beta_2")
    return ARMAFilter([1.0 - beta_1, beta_1 - beta_2], [1.0, -beta_2])


_DESIGNS = ("butter", "cheby1", "cheby2", "ellip", "bessel")


def design(
    kind: str,
    order: int,
    cutoff: float,
    *,
    ripple: float = 1.0,
    attenuation: float = 40.0,
    gain: str = "dc",
) -> ARMAFilter:
    """A digital IIR low-pass designed by scipy.signal, as a gradient filter.

    Args:
        kind: ``"butter"`` (Butterworth), ``"cheby1"``, ``"cheby2"``,
            ``"ellip"`` or ``"bessel"``.
        order: number of poles, >= 1.
        cutoff: as in ``scipy.signal.butter``: a fraction of the Nyquist
            frequency, 0 < cutoff < 1 (0.5 is a quarter of the sampling rate,
            i.e. 0.25 cycles per step).
        ripple: pass-band ripple in dB (cheby1, ellip).
        attenuation: stop-band attenuation in dB (cheby2, ellip).
        gain: ``"dc"`` scales to H(1) = 1 (like :func:`ema`), ``"input"`` to
            b[0] = 1 (like :func:`trace`), ``"none"`` keeps scipy's scaling.

    The filter is kept in second-order sections (``form == "sos"``, from
    scipy's zeros, poles and gain by ``zpk2sos``), each section at unit DC
    gain, and runs as them: its ``(b, a)`` pair would lose the poles to
    rounding (see the module docstring).

    The seed, on Nesterov: "one could choose any low-pass filter for this
    task - i.e., optimize a second order ARMA filter (e.g., Butterworth)".

    Example:
        >>> from filteropt import filters
        >>> f = filters.design("butter", 8, 0.02)
        >>> f.form, f.order, len(f.stages), round(f.dc_gain, 12)
        ('sos', 8, 4, 1.0)
    """
    if kind not in _DESIGNS:
        raise ValueError(f"`kind` must be one of {list(_DESIGNS)}. Received: kind={kind!r}")
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:
        raise ValueError(f"`order` must be an integer >= 1. Received: order={order!r}")
    if isinstance(cutoff, bool) or not isinstance(cutoff, numbers.Real) or not 0.0 < cutoff < 1.0:
        raise ValueError(f"`cutoff` must be in (0, 1). Received: cutoff={cutoff!r}")
    if gain not in ("dc", "input", "none"):
        raise ValueError(f"`gain` must be 'dc', 'input' or 'none'. Received: gain={gain!r}")
    for value, name in ((ripple, "ripple"), (attenuation, "attenuation")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
            raise ValueError(f"`{name}` must be > 0 dB. Received: {name}={value!r}")
    order, cutoff = int(order), float(cutoff)
    if kind == "butter":
        zpk = signal.butter(order, cutoff, output="zpk")
    elif kind == "cheby1":
        zpk = signal.cheby1(order, ripple, cutoff, output="zpk")
    elif kind == "cheby2":
        zpk = signal.cheby2(order, attenuation, cutoff, output="zpk")
    elif kind == "ellip":
        zpk = signal.ellip(order, ripple, attenuation, cutoff, output="zpk")
    else:
        zpk = signal.bessel(order, cutoff, norm="phase", output="zpk")
    # Kept as scipy designs it: zeros, poles and gain paired into sections
    # (never the (b, a) pair, whose roots a high order loses).
    f = ARMAFilter.from_zpk(*zpk)
    if gain == "dc":
        f = f / f.dc_gain
    elif gain == "input":
        if f.input_gain == 0.0:
            raise ValueError(f"a {kind} design has b[0] = 0 and cannot have unit input gain")
        f = f / f.input_gain
    return f


def butterworth(order: int, cutoff: float, *, gain: str = "dc") -> ARMAFilter:
    """A Butterworth low-pass (``scipy.signal.butter``) with unit DC gain.

    See :func:`design` for the arguments. Order 1 at a low cutoff behaves
    like :func:`ema`; higher orders roll off faster above the cutoff.
    """
    return design("butter", order, cutoff, gain=gain)


# -- the recursion, written once -----------------------------------------------


def tdf2_step(b, a, x, z, gain=1.0):
    """One step of the transposed direct form II (scipy's ``lfilter`` form).

    With ``u = gain * x``::

        y      = b[0] u + z[0]
        z[k]'  = b[k+1] u - a[k+1] y + z[k+1]     (k = 0 .. L-1, z[L] = 0)

    ``b`` and ``a`` are Python floats (folded: a zero coefficient costs no
    operation, a unit one no multiplication) or scalar tensors for
    time-varying filters; ``x`` and ``z`` may be numpy arrays or backend
    tensors, since only ``+``, ``-`` and ``*`` are used. ``gain`` is a
    scalar applied to the input (the learning rate, for one) and folded into
    the coefficients so it costs no pass over ``x``. Returns ``(y, z')``.
    """
    order = len(z)
    y = _axpy(_scaled(b[0], gain), x, z[0] if order else None)
    if y is None:
        y = 0.0 * x
    new_z = []
    for k in range(order):
        nxt = z[k + 1] if k + 1 < order else None
        term = _axpy(_scaled(b[k + 1], gain), x, nxt)
        term = _axpy(_neg(a[k + 1]), y, term)
        new_z.append(term if term is not None else 0.0 * y)
    return y, new_z


def _is_const(c, value):
    return isinstance(c, (int, float)) and c == value


def _scaled(c, gain):
    if _is_const(gain, 1.0):
        return c
    if _is_const(c, 0.0):
        return 0.0
    if _is_const(c, 1.0):
        return gain
    return c * gain


def _neg(c):
    return -c


def _times(c, x):
    """c * x, folding a constant 1 on either side."""
    if _is_const(c, 1.0):
        return x
    if _is_const(x, 1.0):
        return c
    return c * x


def _axpy(c, x, acc):
    """c * x + acc, skipping the multiply for c == 1 and the term for c == 0."""
    if _is_const(c, 0.0):
        return acc
    term = x if _is_const(c, 1.0) else (-x if _is_const(c, -1.0) else c * x)
    return term if acc is None else acc + term
