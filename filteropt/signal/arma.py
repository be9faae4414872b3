"""ARMA filters as immutable values, in scipy.signal's conventions.

A filter's transfer function, in ascending powers of z^-1 with ``a[0] == 1``::

            b[0] + b[1] z^-1 + ... + b[L] z^-L
    H(z) = ------------------------------------
            1    + a[1] z^-1 + ... + a[L] z^-L

that is, the difference equation

    y[n] = sum_{i=0..L} b[i] x[n-i] - sum_{i=1..L} a[i] y[n-i].

A filter keeps the representation it was made in, as scipy.signal users
keep theirs: the pair ``(b, a)`` for the lecture's first-order filters,
second-order sections for designs (:func:`~filteropt.signal.filters.lowpass`,
:meth:`ARMAFilter.from_zpk`, :meth:`ARMAFilter.from_sos`), a parallel bank for sums (:func:`aggmo`,
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

The named filters of the lecture ("Review of ARMA LTI filters", "Review
of first order LTI filters") and of the optimizer literature are in
:mod:`filteropt.signal.filters`; the stages in :mod:`filteropt.signal.sections`.

The module is long because :class:`ARMAFilter` is one value: its forms,
conversions, responses, algebra and serialisation belong together.
"""

from __future__ import annotations

import numbers
from typing import cast

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from .sections import (
    STABILITY_MARGIN,
    Bank,
    Section,
    _coefficients,
    _conv,
    _dc_gain,
    _Frozen,
    _pad_pair,
    _rows,
    _sections_of_ba,
    _trim,
    _unit_dc,
    _zpk,
    _zpk2sos,
)

__all__ = ["ARMAFilter", "as_filter", "check_unit_interval", "parallel", "series"]


class ARMAFilter(_Frozen):
    """A linear time-invariant ARMA filter ``H(z) = B(z) / A(z)``.

    Difference equation (scipy's convention, ``a[0] == 1``)::

        y[n] = b[0] x[n] + ... + b[L] x[n-L] - a[1] y[n-1] - ... - a[L] y[n-L]

    A filter keeps the representation it was made in (``form``):

    - ``"ba"``: the polynomial pair, as ``ARMAFilter(b, a)`` gives it (the
      lecture's first-order filters); above order 2 it runs as the
      second-order sections of ``scipy.signal.tf2sos(b, a)``;
    - ``"sos"``: second-order sections (:meth:`from_sos`, :meth:`from_zpk`,
      :func:`~filteropt.signal.filters.lowpass`, and ``f * g`` of such filters), never
      multiplied out;
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

    __slots__ = ("_a", "_b", "_form", "_stages")
    _b: tuple[float, ...]
    _a: tuple[float, ...]
    _stages: tuple[Section | Bank, ...]
    _form: str

    def __init__(self, b: ArrayLike = (1.0,), a: ArrayLike = (1.0,)):
        b = _coefficients(b, "b")
        a = _coefficients(a, "a")
        if a[0] == 0.0:
            raise ValueError(
                f"`a[0]` must be non-zero: it normalises the filter. Received: a={list(a)}"
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
    def _of_stages(cls, stages, form) -> ARMAFilter:
        b, a = (1.0,), (1.0,)
        for s in stages:
            sb, sa = (s.b, s.a) if isinstance(s, Section) else s.ba()
            b, a = _conv(b, sb), _conv(a, sa)
        f = object.__new__(cls)
        f._set(_trim(b), _trim(a), stages, form)
        return f

    @classmethod
    def from_sos(cls, sos) -> ARMAFilter:
        """A cascade of second-order sections in scipy's ``sos`` layout
        (rows ``[b0, b1, b2, a0, a1, a2]``), kept as given (each row divided
        by its ``a0``)."""
        try:
            arr = np.atleast_2d(np.asarray(sos, dtype=float))
        except (TypeError, ValueError):
            raise TypeError(f"`sos` must be an array of shape (n, 6). Received: {sos!r}") from None
        if arr.ndim != 2 or arr.shape[1] != 6 or arr.shape[0] == 0:
            raise ValueError(
                f"`sos` must have shape (n, 6) with n >= 1. Received shape {arr.shape}."
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"`sos` must contain only finite numbers. Received: {arr.tolist()}")
        if np.any(arr[:, 3] == 0.0):
            raise ValueError(
                f"every section's a0 (column 3 of `sos`) must be non-zero. Received: {arr.tolist()}"
            )
        return cls._of_stages(_rows(arr), "sos")

    @classmethod
    def from_zpk(cls, z, p, k: float) -> ARMAFilter:
        """Zeros, poles (in z) and gain, paired into sections by
        ``scipy.signal.zpk2sos`` (``pairing="keep_odd"``: an odd order has one
        first-order section, no state to spare), each section scaled to unit DC gain where
        it has one (the overall gain on the last section)."""
        z, p = (
            np.atleast_1d(np.asarray(z, dtype=complex)),
            np.atleast_1d(np.asarray(p, dtype=complex)),
        )
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
        sections = [s for s in self._stages if isinstance(s, Section)]
        if sections and len(sections) == len(self._stages):
            return np.array([s.row() for s in sections])
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

    def _sections(self) -> tuple[Section, ...]:
        # Every stage of a "sos" filter is a section (from_sos, from_zpk and
        # series of such filters make it so).
        return cast("tuple[Section, ...]", self._stages)

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

    def isclose(self, other: ARMAFilter, rtol=1e-9, atol=1e-12) -> bool:
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
            return {"sos": [s.row() for s in self._sections()]}
        if self._form == "parallel":
            (bank,) = self._stages
            assert isinstance(bank, Bank)  # a "parallel" filter is one bank
            return {"parallel": [f.get_config() for f in bank.branches], "direct": bank.direct}
        return {"cascade": [_stage_config(s) for s in self._stages]}

    @classmethod
    def from_config(cls, config: dict) -> ARMAFilter:
        keys = set(config) if isinstance(config, dict) else None
        if keys is not None and "b" in keys and keys <= {"b", "a"}:
            return cls(config["b"], config.get("a", [1.0]))
        if keys == {"sos"}:
            return cls.from_sos(config["sos"])
        if keys is not None and "parallel" in keys and keys <= {"parallel", "direct"}:
            return parallel(
                *[cls.from_config(c) for c in config["parallel"]],
                direct=float(config.get("direct", 0.0)),
            )
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
            return (
                "ARMAFilter.from_sos([" + ", ".join(fmt(s.row()) for s in self._sections()) + "])"
            )
        if self._form == "parallel":
            (bank,) = self._stages
            assert isinstance(bank, Bank)  # a "parallel" filter is one bank
            inner = ", ".join(map(repr, bank.branches))
            return f"parallel({inner}, direct={bank.direct:.6g})"
        return "series(" + ", ".join(repr(_stage_filter(s)) for s in self._stages) + ")"

    def __reduce__(self):
        return (ARMAFilter.from_config, (self.get_config(),))


def _stage_filter(stage) -> ARMAFilter:
    if isinstance(stage, Section):
        return ARMAFilter._of_stages((stage,), "sos")
    return ARMAFilter._of_stages((stage,), "parallel")


def _stage_config(stage) -> dict:
    return _stage_filter(stage).get_config()


def series(*filters: ARMAFilter) -> ARMAFilter:
    """The cascade ``f1 * f2 * ...`` (python-control's ``series``).

    Example:
        >>> from filteropt import filters
        >>> f = filters.series(filters.ema(0.9), filters.ema(0.5))  # two poles
        >>> f.order, round(f.dc_gain, 12)
        (2, 1.0)
    """
    out = ARMAFilter([1.0], [1.0])
    for f in filters:
        out = out * _checked(f)
    return out


def parallel(*filters: ARMAFilter, direct: float = 0.0) -> ARMAFilter:
    """The bank ``direct + f1 + f2 + ...``, each branch kept and run on its
    own (python-control's ``parallel``). A number among ``filters`` adds to
    ``direct``; branches with a zero numerator are dropped.

    Example:
        >>> from filteropt import filters
        >>> bank = filters.parallel(filters.ema(0.9), filters.ema(0.99), direct=0.5)
        >>> round(bank.dc_gain, 12)  # 0.5 + 1 + 1
        2.5
    """
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
        raise TypeError(
            f"expected a filteropt.ARMAFilter. Received: {f!r} of type {type(f).__name__}"
        )
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
