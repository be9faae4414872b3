"""The stability limit: the step s* = eta lambda at which the loop on a quadratic fails.

The loop is :mod:`~filteropt.analysis.closed_loop`'s: on C = lambda theta^2 / 2,
with step = eta lambda and decay = eta lambda_wd::

    theta[i] = (1 - decay) theta[i-1] + H{-step * theta}[i],

the gradient taken at theta[i-1], so that the characteristic polynomial is
P(z^-1) = A(z^-1) (1 - (1 - decay) z^-1) + step z^-1 B(z^-1). A root of P
crosses the unit circle at z = e^{jw} exactly when

    step = ((1 - decay) - e^{jw}) / H(e^{jw})

is real and positive. :func:`stability_limit` evaluates that along w in
[0, pi] (``scipy.signal.freqz``), refines each sign change of its imaginary
part (``scipy.optimize.brentq``), and keeps the smallest real positive step
that the loop's spectral radius (:func:`~filteropt.analysis.closed_loop.spectral_radii`)
confirms as the edge of the stable range; the arguments are closed_loop's.

numpy and scipy only: nothing here imports a deep-learning backend.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize, signal

from .closed_loop import _loop, _padded, spectral_radii
from .responses import as_recipe

__all__ = ["stability_limit"]

#: Frequencies in [0, pi] (both ends included) on which the crossing condition is scanned.
GRID = 8192
#: The relative distance below and above the limit at which the spectral radius confirms it.
CHECK = 1e-6
#: |radius - 1| within which the spectral radius tells neither side of the circle.
ROUNDING = 1e-12


def _crossing_steps(b, a, decay: float, w) -> tuple[np.ndarray, np.ndarray]:
    """g = ((1 - decay) - e^{jw}) A(e^{jw}) conj B(e^{jw}) and |B(e^{jw})|^2 at ``w``:
    the crossing step is g / |B|^2, real where Im g = 0. B and A are evaluated
    apart (``freqz`` of each polynomial) so that a pole or a zero of H on the
    unit circle costs no division."""
    w = np.atleast_1d(np.asarray(w, dtype=float))
    bw = signal.freqz(b, [1.0], worN=w)[1]
    aw = signal.freqz(a, [1.0], worN=w)[1]
    return ((1.0 - decay) - np.exp(1j * w)) * aw * np.conj(bw), np.abs(bw) ** 2


def _candidates(b, a, decay: float) -> np.ndarray | None:
    """The real positive crossing steps, ascending; None when the step is
    real at every frequency (a root that moves along the unit circle)."""
    w = np.linspace(0.0, np.pi, GRID)
    g, bb = _crossing_steps(b, a, decay, w)
    im = g.imag
    if np.max(np.abs(im)) <= 1e-12 * np.max(np.abs(g)):
        return None
    roots = [
        optimize.brentq(
            lambda t: _crossing_steps(b, a, decay, t)[0][0].imag, w[k], w[k + 1], xtol=1e-15
        )
        for k in np.flatnonzero(np.sign(im[:-1]) * np.sign(im[1:]) < 0)
    ]
    # w = 0 and w = pi: H(e^{jw}) is real there (real coefficients), so is the step
    at = np.r_[0.0, np.pi, w[1:-1][im[1:-1] == 0.0], roots]
    g, bb = _crossing_steps(b, a, decay, at)
    # drop the open loop's own roots on the circle, ((1 - decay) - e^{jw}) A(e^{jw}) = 0 to
    # rounding (a pole of H there, or z = 1 without decay): the step there is 0, and a
    # rounding error's sign would make it a crossing; and the zeros of B (step infinite)
    ok = np.abs(g) > 1e-10 * (1.0 + abs(1.0 - decay)) * np.abs(a).sum() * np.sqrt(bb)
    ok &= bb > 1e-24 * np.abs(b).sum() ** 2
    steps = g.real[ok] / bb[ok]
    return np.unique(steps[steps > 0.0])


def _side(radius) -> np.ndarray:
    """1 where the loop is unstable, -1 where stable, 0 where the radius is
    1 to within ``ROUNDING`` (a slow root: neither side can be told)."""
    return np.where(radius > 1.0 + ROUNDING, 1, np.where(radius < 1.0 - ROUNDING, -1, 0))


def _confirmed(candidates, radius) -> float | None:
    """The first candidate with the loop stable just below it (and on (0, it))
    and unstable just above; 0.0 if unstable from the start; None if the
    spectral radius contradicts the candidates."""
    if not len(candidates):  # unstable at large steps and no crossing: unstable at all
        return 0.0 if (_side(radius(np.geomspace(1e-6, 1e6, 13))) >= 0).all() else None
    for k, s in enumerate(candidates):
        below, above = _side(radius(s * np.array([1.0 - CHECK, 1.0 + CHECK])))
        if k == 0:  # no crossing on (0, s): stable at every step in it, or at none
            start = _side(radius(s * np.geomspace(1e-4, 1.0 - CHECK, 6)))
            if (start > 0).any():
                return 0.0 if (start >= 0).all() else None
        elif below > 0:  # stable just above the previous crossing, no crossing since
            return None
        if above >= 0:
            return float(s)
    return None  # (a root only touched the circle: the real crossing was missed)


def _bisection(radius, hi: float) -> float:
    """The first unstable step by the spectral radius alone: double ``hi``
    until the loop is unstable, scan 2000 log-spaced steps below it, bisect."""
    for _ in range(1100):
        if radius(np.array([hi]))[0] >= 1.0:
            break
        hi *= 2.0
    grid = hi * np.geomspace(1e-12, 1.0, 2000)
    i = int(np.argmax(radius(grid) >= 1.0))
    if i == 0:
        return 0.0
    return float(
        optimize.bisect(
            lambda s: 1.0 if radius(np.array([s]))[0] >= 1.0 else -1.0,
            grid[i - 1],
            grid[i],
            xtol=1e-300,
            rtol=4 * np.finfo(float).eps,
        )
    )


def stability_limit(
    gradient_filter, *, decay: float | None = None, learning_rate: float | None = None
) -> float:
    """The step s* = eta lambda at which the loop on a quadratic first becomes unstable.

    The loop (:mod:`~filteropt.analysis.closed_loop`; ``gradient_filter``,
    ``decay`` and ``learning_rate`` mean what they mean there; a normalised
    optimizer such as Adam is analysed with its normaliser frozen into eta)::

        theta[i] = (1 - decay) theta[i-1] + H{-step * theta}[i],

    P(z^-1) = A(z^-1) (1 - (1 - decay) z^-1) + step z^-1 B(z^-1). It
    converges for 0 < step < s* (spectral radius < 1) and not at s*.

    Crossing condition. At a point z of the unit circle where A(z^-1) != 0,
    dividing P = 0 by z^-1 A(z^-1) gives (z - (1 - decay)) + step H(z) = 0, so
    a root of P lies on the circle at z = e^{jw} exactly when::

        step = s(w) = ((1 - decay) - e^{jw}) / H(e^{jw})
             = ((1 - decay) - e^{jw}) A(e^{jw}) conj B(e^{jw}) / |B(e^{jw})|^2

    is real and positive (where A(e^{jw}) = 0, a pole of H on the circle,
    P(e^{jw}) = step e^{-jw} B(e^{jw}) vanishes only at step = 0). Real
    coefficients give s(-w) = conj s(w), so w in [0, pi] suffices, and s is
    real at both ends: s(0) = -decay / H(1), s(pi) = (2 - decay) / H(-1).
    Roots change sides of the circle only at these steps; between two of
    them the loop is stable throughout or nowhere.

    Method: Im of the numerator above on ``GRID`` frequencies in [0, pi]
    (``scipy.signal.freqz`` of B and of A: no division by a pole or a zero
    on the circle), each sign change refined by ``scipy.optimize.brentq``,
    plus w = 0 and w = pi. The real positive steps s(w) there are the
    candidates (less the open loop's own roots on the circle, where s(w) is 0
    to rounding), and s* is the smallest that the spectral radius
    (:func:`~filteropt.analysis.closed_loop.spectral_radii`) confirms: < 1
    at s* (1 - 1e-6) and at five smaller steps, >= 1 at s* (1 + 1e-6), a
    radius within ``ROUNDING`` of 1 counting for neither side. Should the
    spectral radius contradict the candidates, a RuntimeWarning says so and
    the limit is found by bisection on the spectral radius.

    Returns 0.0 when the loop is unstable for every small step: a filter
    pole outside the unit circle, a negative decay (the integrator's pole
    1 - decay > 1), no positive DC gain H(1) without decay (the pole at
    z = 1 does not move inside), or a root that moves along the circle (the
    summer 1/(1 - z^-1) without decay); so also for a loop stable only on a
    window of steps away from 0 (a double integrator with zeros). The limit
    is finite for every nonzero B: as the step grows one root runs to
    infinity. ``inf`` only for H = 0 with a stable loop.

    Known values (no decay; the first crossing is at w = pi, s* = 2 / H(-1)):

    - plain gradient descent (``"sgd"``, H = 1): 2;
    - Keras momentum (``"momentum:momentum=beta"``, H = 1/(1 - beta z^-1)):
      2 (1 + beta), 3.8 at 0.9;
    - Bengio-Nesterov (``"nesterov:momentum=beta"``, Keras's
      ``SGD(nesterov=True)``, H = ((1 + beta) - beta z^-1)/(1 - beta z^-1)):
      (2 + 2 beta)/(1 + 2 beta), 1.357 at 0.9;
    - Adam (``"adam:beta_1=beta_1"``, the unit-DC-gain ema(beta_1) =
      (1 - beta_1)/(1 - beta_1 z^-1), the normaliser frozen):
      2 (1 + beta_1)/(1 - beta_1), 38 at 0.9.

    With decay, a first-order H = k/(1 - beta z^-1) has s* = (2 - decay)(1 + beta)/k.

    Example:
        >>> from filteropt import analysis
        >>> analysis.stability_limit("sgd"), analysis.stability_limit("momentum:momentum=0.9")
        (2.0, 3.8)
    """
    if isinstance(gradient_filter, str):  # name the argument in a bad spec's message
        try:
            gradient_filter = as_recipe(gradient_filter)
        except ValueError as e:
            raise ValueError(
                f"`gradient_filter`: {e}. Received: gradient_filter={gradient_filter!r}"
            ) from e
    f, decay = _loop(gradient_filter, decay, learning_rate)
    b, a = _padded(f)

    def radius(steps):
        return spectral_radii(b, a, steps, decay)

    at_zero = radius(np.zeros(1))[0]
    if not np.any(b):  # the step changes nothing
        return math.inf if at_zero < 1.0 else 0.0
    if decay < 0.0 or at_zero > 1.0 + 1e-6:  # a root outside the circle at step 0 stays
        return 0.0  # outside for small steps (for decay < 0, the integrator's, 1 - decay)
    if decay == 0.0:  # the root at z = 1 moves to 1 - step H(1): inside iff H(1) > 0
        num, den = b.sum(), a.sum()
        if abs(num) <= 1e-12 * np.abs(b).sum() or (
            abs(den) > 1e-12 * np.abs(a).sum() and num / den < 0
        ):
            return 0.0
    candidates = _candidates(b, a, decay)
    if candidates is None:
        return 0.0
    limit = _confirmed(candidates, radius)
    if limit is None:
        warnings.warn(
            f"stability_limit: the spectral radius contradicts the crossing steps "
            f"{candidates.tolist()} of b={b.tolist()}, a={a.tolist()}, decay={decay!r}; "
            "bisecting on the spectral radius",
            RuntimeWarning,
            stacklevel=2,
        )
        limit = _bisection(radius, float(candidates.max()) if len(candidates) else 1.0)
    return limit
