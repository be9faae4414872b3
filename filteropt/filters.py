"""ARMA filters as immutable values, in scipy.signal's conventions.

A filter is the pair of coefficient arrays ``(b, a)`` in ascending powers of
z^-1, with ``a[0] == 1``::

            b[0] + b[1] z^-1 + ... + b[L] z^-L
    H(z) = ------------------------------------
            1    + a[1] z^-1 + ... + a[L] z^-L

that is, the difference equation

    y[n] = sum_{i=0..L} b[i] x[n-i] - sum_{i=1..L} a[i] y[n-i].

The filter holds no state: state is passed in and out (``lfilter(x, zi)``
returns ``(y, zf)`` as scipy does), and in an optimizer it lives on the
optimizer's slot variables. Series connection is ``f * g``, parallel
connection ``f + g``, and a number scales the numerator (``0.5 * f``).

The named filters of the seed lecture ("Review of ARMA LTI filters",
"Review of first order LTI filters") and of the optimizer literature are
functions of this module: :func:`ema`, :func:`trace`, :func:`nesterov`,
:func:`summer`, :func:`qhm`, :func:`aggmo`, :func:`lion`,
:func:`butterworth` and :func:`design`.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
from scipy import signal

__all__ = [
    "ARMAFilter",
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


class ARMAFilter(_Frozen):
    """A linear time-invariant ARMA filter ``H(z) = B(z) / A(z)``.

    Difference equation (scipy's convention, ``a[0] == 1``)::

        y[n] = b[0] x[n] + ... + b[L] x[n-L] - a[1] y[n-1] - ... - a[L] y[n-L]

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

    __slots__ = ("_b", "_a")

    def __init__(self, b: Sequence[float] = (1.0,), a: Sequence[float] = (1.0,)):
        b = _coefficients(b, "b")
        a = _coefficients(a, "a")
        if a[0] == 0.0:
            raise ValueError(
                "`a[0]` must be non-zero: it normalises the filter. "
                f"Received: a={list(a)}"
            )
        a0 = a[0]
        object.__setattr__(self, "_b", _trim(tuple(v / a0 for v in b)))
        object.__setattr__(self, "_a", _trim(tuple(v / a0 for v in a)))

    # -- coefficients -----------------------------------------------------
    @property
    def b(self) -> np.ndarray:
        """Numerator coefficients (a read-only copy)."""
        arr = np.array(self._b)
        arr.flags.writeable = False
        return arr

    @property
    def a(self) -> np.ndarray:
        """Denominator coefficients, ``a[0] == 1`` (a read-only copy)."""
        arr = np.array(self._a)
        arr.flags.writeable = False
        return arr

    @property
    def order(self) -> int:
        """L, the number of delays: ``max(len(b), len(a)) - 1``."""
        return max(len(self._b), len(self._a)) - 1

    def padded(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(b, a)`` as tuples both of length ``order + 1``."""
        n = self.order + 1
        return (
            self._b + (0.0,) * (n - len(self._b)),
            self._a + (0.0,) * (n - len(self._a)),
        )

    # -- responses (scipy.signal does the maths) ---------------------------
    def lfilter(self, x, zi=None):
        """Filters ``x`` as ``scipy.signal.lfilter(b, a, x, zi=zi)``.

        Returns ``y``, or ``(y, zf)`` when ``zi`` is given (scipy's
        transposed-direct-form-II state, ``order`` values).
        """
        x = np.asarray(x, dtype=float)
        if zi is None:
            return signal.lfilter(self._b, self._a, x)
        zi = np.asarray(zi, dtype=float)
        if zi.shape[0] != self.order:
            raise ValueError(
                f"`zi` must hold {self.order} values (the filter order). "
                f"Received shape {zi.shape}."
            )
        return signal.lfilter(self._b, self._a, x, zi=zi)

    def freqz(self, worN=512, whole: bool = False):
        """``(w, h)`` exactly as ``scipy.signal.freqz(b, a, worN, whole)``."""
        return signal.freqz(self._b, self._a, worN=worN, whole=whole)

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
        """Roots of A(z) (in z, not z^-1), as ``scipy.signal.tf2zpk``."""
        return self._zpk()[1]

    @property
    def zeros(self) -> np.ndarray:
        """Roots of B(z) (in z), as ``scipy.signal.tf2zpk``."""
        return self._zpk()[0]

    def _zpk(self):
        b, a = self.padded()
        if not any(b):
            return np.array([]), np.roots(a), 0.0
        return signal.tf2zpk(b, a)

    @property
    def dc_gain(self) -> float:
        """H(1) = sum(b) / sum(a); ``inf`` for a pole at z = 1."""
        num, den = sum(self._b), sum(self._a)
        if den == 0.0 or abs(den) < 1e-15 * max(1.0, *map(abs, self._a)):
            return float("inf") if num != 0.0 else float("nan")
        return num / den

    @property
    def input_gain(self) -> float:
        """b[0]: the weight of the newest input in the newest output."""
        return self._b[0]

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
        """Series connection ``f * g`` (H_f H_g), or scaling by a number."""
        if isinstance(other, ARMAFilter):
            return ARMAFilter(
                np.polymul(self._b, other._b), np.polymul(self._a, other._a)
            )
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return ARMAFilter([v * float(other) for v in self._b], self._a)
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
        """Parallel connection ``f + g`` (H_f + H_g); a number is a gain."""
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            other = ARMAFilter([float(other)])
        if not isinstance(other, ARMAFilter):
            return NotImplemented
        b = np.polyadd(
            np.polymul(self._b, other._a)[::-1], np.polymul(other._b, self._a)[::-1]
        )[::-1]
        return ARMAFilter(b, np.polymul(self._a, other._a))

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)

    def __eq__(self, other):
        if not isinstance(other, ARMAFilter):
            return NotImplemented
        return self._b == other._b and self._a == other._a

    def __hash__(self):
        return hash((self._b, self._a))

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
        """A plain dict ``{"b": [...], "a": [...]}`` (JSON-serialisable)."""
        return {"b": list(self._b), "a": list(self._a)}

    @classmethod
    def from_config(cls, config: dict) -> "ARMAFilter":
        if not isinstance(config, dict) or set(config) - {"b", "a"} or "b" not in config:
            raise ValueError(
                "A filter config must be a dict with keys 'b' and 'a'. "
                f"Received: {config!r}"
            )
        return cls(config["b"], config.get("a", [1.0]))

    def __repr__(self):
        fmt = lambda c: "[" + ", ".join(f"{v:.6g}" for v in c) + "]"  # noqa: E731
        return f"ARMAFilter(b={fmt(self._b)}, a={fmt(self._a)})"

    def __reduce__(self):
        return (ARMAFilter, (self._b, self._a))


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
    ICLR 2019). nu = 1 is :func:`ema`, nu = 0 plain SGD.
    """
    nu = check_unit_interval(nu, "nu", closed_right=True)
    return (1.0 - nu) + nu * ema(beta)


def aggmo(betas: Sequence[float]) -> ARMAFilter:
    """Aggregated momentum: the mean of K heavy-ball velocities.

    H(z) = (1/K) sum_k 1 / (1 - beta_k z^-1), a parallel bank of
    :func:`trace` filters (Lucas et al., "Aggregated momentum", ICLR 2019).
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

    The seed, on Nesterov: "one could choose any low-pass filter for this
    task - i.e., optimize a second order ARMA filter (e.g., Butterworth)".
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
        b, a = signal.butter(order, cutoff)
    elif kind == "cheby1":
        b, a = signal.cheby1(order, ripple, cutoff)
    elif kind == "cheby2":
        b, a = signal.cheby2(order, attenuation, cutoff)
    elif kind == "ellip":
        b, a = signal.ellip(order, ripple, attenuation, cutoff)
    else:
        b, a = signal.bessel(order, cutoff, norm="phase")
    f = ARMAFilter(b, a)
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


def _axpy(c, x, acc):
    """c * x + acc, skipping the multiply for c == 1 and the term for c == 0."""
    if _is_const(c, 0.0):
        return acc
    term = x if _is_const(c, 1.0) else (-x if _is_const(c, -1.0) else c * x)
    return term if acc is None else acc + term
