"""The named filters of the lecture and of the optimizer literature.

The lecture's first-order filters ("Review of first order LTI filters"):
:func:`ema` (unit DC gain), :func:`trace` (unit input gain), :func:`summer`;
Nesterov's ARMA1 (:func:`nesterov`); the literature's :func:`qhm`,
:func:`aggmo` (a parallel bank) and :func:`lion`; and scipy.signal's IIR
designs (:func:`lowpass`, :func:`butterworth`), kept in second-order
sections. This module is also the public filter namespace
(``filteropt.filters``): :class:`ARMAFilter`, :func:`series` and
:func:`parallel` come with it.

Example:
    >>> from filteropt import filters
    >>> momentum = filters.trace(0.9)
    >>> round(momentum.dc_gain, 6), momentum.input_gain
    (10.0, 1.0)
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from scipy import signal

from .arma import ARMAFilter, as_filter, check_unit_interval, parallel, series
from .sections import Bank, Section

__all__ = [
    "ARMAFilter",
    "Bank",
    "Section",
    "aggmo",
    "as_filter",
    "butterworth",
    "check_unit_interval",
    "ema",
    "identity",
    "lion",
    "lowpass",
    "nesterov",
    "parallel",
    "qhm",
    "series",
    "summer",
    "trace",
]


def identity() -> ARMAFilter:
    """H(z) = 1: no filtering (plain SGD)."""
    return ARMAFilter([1.0], [1.0])


def ema(beta: float) -> ARMAFilter:
    """AR1 with unit DC gain (exponential moving average; Adam's moments).

    y[n] = beta y[n-1] + (1 - beta) x[n],  H(z) = (1 - beta) / (1 - beta z^-1).

    H(1) = 1, input gain 1 - beta, step response s[n] = 1 - beta^(n+1)
    (the lecture: "Unit DC-Gain AR1"). Compare :func:`trace` (unit input gain).

    Example:
        >>> from filteropt import filters
        >>> f = filters.ema(0.9)            # y[n] = 0.9 y[n-1] + 0.1 x[n]
        >>> f.dc_gain, f.step_response(3)
        (1.0, array([0.1  , 0.19 , 0.271]))
    """
    beta = check_unit_interval(beta, "beta")
    return ARMAFilter([1.0 - beta], [1.0, -beta])


def trace(alpha: float) -> ARMAFilter:
    """AR1 with unit input gain: heavy-ball momentum's velocity.

    v[n] = alpha v[n-1] + x[n],  H(z) = 1 / (1 - alpha z^-1).

    H(1) = 1/(1 - alpha): "your momentum and learning rate are coupled"
    (the lecture: "Unit input-Gain AR1", "(standard) Momentum").

    Example:
        >>> from filteropt import filters
        >>> f = filters.trace(0.9)          # y[n] = 0.9 y[n-1] + x[n]: Keras's momentum buffer
        >>> round(f.dc_gain, 6), f.input_gain
        (10.0, 1.0)
    """
    alpha = check_unit_interval(alpha, "alpha")
    return ARMAFilter([1.0], [1.0, -alpha])


def nesterov(alpha: float) -> ARMAFilter:
    """Nesterov momentum in Bengio's formulation: one pole, one zero.

    v[n] = alpha v[n-1] + x[n],  y[n] = (1 + alpha) v[n] - alpha v[n-1],

    H(z) = ((1 + alpha) - alpha z^-1) / (1 - alpha z^-1): pole at alpha, zero
    at alpha / (1 + alpha) (the lecture: "SGD with Nesterov Momentum"; Bengio et al.,
    ICASSP 2013). This is what Keras's ``SGD(nesterov=True)`` computes.

    Example:
        >>> from filteropt import filters
        >>> f = filters.nesterov(0.9)       # one pole at 0.9, one zero at 0.9 / 1.9
        >>> f
        ARMAFilter(b=[1.9, -0.9], a=[1, -0.9])
        >>> round(f.dc_gain, 6)
        10.0
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


def lowpass(
    kind: str,
    order: int,
    cutoff: float,
    *,
    ripple: float = 1.0,
    attenuation: float = 40.0,
    gain: str = "dc",
) -> ARMAFilter:
    """A digital IIR low-pass designed by scipy.signal, as a gradient filter.

    (Named for what it returns; :mod:`filteropt.design` designs filters on the
    optimizer's closed loop instead.)

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

    The lecture, on Nesterov: "one could choose any low-pass filter for this
    task - i.e., optimize a second order ARMA filter (e.g., Butterworth)".

    Example:
        >>> from filteropt import filters
        >>> f = filters.lowpass("butter", 8, 0.02)
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

    See :func:`lowpass` for the arguments. Order 1 at a low cutoff behaves
    like :func:`ema`; higher orders roll off faster above the cutoff.

    Example:
        >>> from filteropt import filters
        >>> f = filters.butterworth(4, 0.05)   # cutoff in cycles per step
        >>> f.form, f.order, len(f.stages), round(f.dc_gain, 12)
        ('sos', 4, 2, 1.0)
    """
    return lowpass("butter", order, cutoff, gain=gain)
