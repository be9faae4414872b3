"""Pareto frontiers of the classic families over all their parameters.

Heavy ball, Nesterov (Bengio's filter) and the order-2 Butterworth low-pass
each have one filter parameter p (momentum, or cutoff as a fraction of
Nyquist) and the learning rate eta. A family's frontier is the set of
(noise gain at lambda = 1, worst-case rate over [1/kappa, 1]) pairs that no
other (p, eta) beats: none has a lower rate at an equal or lower noise gain.

For each noise bound B the frontier's point is min over (p, eta) of the
worst-case rate subject to noise <= B, found so:

1. a grid: ``n_grid`` values of p (momentum 1 - exp(-v), v uniform, so
   1 - geomspace(1, 1e-4); cutoff geomspace(1e-3, 0.999)) by ``n_eta``
   learning rates geomspace(1e-6, 16), the largest rate over
   ``n_curvatures // 2`` log-spaced curvatures (one batched call of
   :func:`~filteropt.analysis.closed_loop.spectral_radii`) and the noise
   gain at each point;
2. g(p) = min over the feasible learning rates of the rate on
   ``n_curvatures`` curvatures, computed exactly as a one-dimensional
   problem: the feasible learning rates are an interval (the gradient noise
   gain grows with eta; the ``"update"`` one falls, then grows) whose ends
   are found by root finding, and the rate is quasi-convex in eta, so its
   minimum over the interval is the interval's right end while the rate
   still falls there, else a bounded scalar minimisation inside it (then
   the smallest eta within ``FLAT`` of that rate: where heavy ball's rate
   is flat, the same rate for less noise);
3. g on the six grid rows with the best feasible grid rate and their
   neighbours; from the two best local minima among them a bounded scalar
   minimisation of g over p between the row's neighbours, the bracket moved
   on while the minimum sits at its end;
4. the answer is re-scored by :func:`~filteropt.analysis.closed_loop.worst_radius`
   (2049 curvatures and local maximisation), and the best grid point, so
   scored, is kept instead if it is better.

The family's own optimum (no bound) comes first; it is the answer for
every bound at or above its noise gain. :func:`pareto_mask` then keeps the
points no other point dominates.

numpy and scipy only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..analysis.closed_loop import spectral_radii, worst_radius
from ..signal import filters as F
from ..signal.arma import ARMAFilter
from .problem import noise_of

__all__ = ["CLASSIC_FAMILIES", "ClassicFamily", "default_bounds", "frontier_points", "pareto_mask"]

#: log eta beyond which no classic loop is stable at lambda = 1, and below which it is useless.
_LOG_ETA = (math.log(1e-9), math.log(64.0))
#: Rates within this of each other count as equal (eigenvalues near a double root are
#: accurate to about sqrt(machine epsilon)).
FLAT = 1e-9
#: The learning rates searched at one filter: from the largest feasible one down by e^16.
_SPAN = 16.0


@dataclass(frozen=True)
class ClassicFamily:
    """A filter family with one parameter, in a coordinate v for the search.

    ``make(p)`` is the filter; ``parameter(v)`` maps the search coordinate
    to p (momentum = 1 - exp(-v), dense near 1; cutoff = exp(v)); ``grid``
    the (low, high) range of v.
    """

    name: str
    label: str
    parameter_name: str
    make: Callable[[float], ARMAFilter]
    parameter: Callable[[float], float]
    grid: tuple[float, float]
    order: int

    def coefficients(self, v: float) -> tuple[np.ndarray, np.ndarray]:
        """The (b, a) of the filter at the search coordinate v, padded to ``order``."""
        b, a = np.zeros(self.order + 1), np.zeros(self.order + 1)
        fb, fa = self.make(self.parameter(v)).padded()
        b[: len(fb)] = fb
        a[: len(fa)] = fa
        return b, a


def _momentum(v: float) -> float:
    return float(-math.expm1(-v))


CLASSIC_FAMILIES = {
    "heavy_ball": ClassicFamily(
        "heavy_ball", "heavy ball", "momentum", F.trace, _momentum, (0.0, math.log(1e4)), 1
    ),
    "nesterov": ClassicFamily(
        "nesterov", "Nesterov", "momentum", F.nesterov, _momentum, (0.0, math.log(1e4)), 1
    ),
    "butterworth": ClassicFamily(
        "butterworth",
        "Butterworth, order 2",
        "cutoff",
        lambda c: F.butterworth(2, float(c)),
        math.exp,
        (math.log(1e-3), math.log(0.999)),
        2,
    ),
}


class _Slice:
    """One filter of the family (v fixed): rate and noise gain as functions of log eta."""

    def __init__(self, family: ClassicFamily, v: float, lam, mode: str):
        self.v = float(v)
        self.b, self.a = family.coefficients(v)
        self.lam, self.mode = lam, mode

    def rate(self, t: float) -> float:
        """The largest rate on the curvature grid at eta = exp(t)."""
        return float(spectral_radii(self.b, self.a, math.exp(t) * self.lam).max())

    def log_noise(self, t: float) -> float:
        """log of the noise gain at eta = exp(t); inf where the loop is unstable."""
        value = noise_of(self.b, self.a, math.exp(t), self.mode)
        return math.log(value) if value > 0.0 else math.inf

    def feasible(self, log_bound: float | None):
        """(lo, hi) in log eta where noise <= the bound (an interval), or None."""
        lo, hi = _LOG_ETA
        if log_bound is None:  # the stability limit at lambda = 1
            return lo, _edge(
                lambda t: spectral_radii(self.b, self.a, [math.exp(t)])[0] < 1.0, lo, hi
            )
        margin = log_bound - 1e-12  # log rounds: keep noise <= bound itself

        def f(t):  # capped: continuous where the noise gain grows to inf at the edge
            return min(self.log_noise(t) - margin, 5.0)

        if self.mode == "gradient":  # noise grows with eta from 0
            if f(lo) > 0.0:
                return None
            return lo, _root(f, lo, hi)
        res = optimize.minimize_scalar(
            f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
        )
        t0 = float(res.x)  # the update noise falls, then grows
        if f(t0) > 0.0:
            return None
        return _root(f, t0, lo), _root(f, t0, hi)

    def best(self, log_bound: float | None) -> tuple[float, float]:
        """(grid rate, log eta): the least rate over the feasible learning rates.

        Of learning rates within ``FLAT`` of the least rate (where the rate is
        flat, as heavy ball's is between its critical dampings), the smallest:
        the same rate for less noise.
        """
        interval = self.feasible(log_bound)
        if interval is None:
            return 2.0, math.nan
        lo, hi = interval
        lo = max(lo, hi - _SPAN)
        r_hi = self.rate(hi)
        if self.rate(hi - 1e-6) > r_hi + FLAT:  # still falling: the bound is active
            return r_hi, hi
        res = optimize.minimize_scalar(
            self.rate, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
        )
        t, r = float(res.x), float(res.fun)
        if r_hi < r:
            t, r = hi, r_hi
        return r, _root(lambda s: self.rate(s) - r - FLAT, t, lo)


def _root(f, inside: float, outside: float) -> float:
    """The t between ``inside`` (f <= 0) and ``outside`` where f crosses 0, on
    the side where f <= 0; ``outside`` itself if f <= 0 there."""
    if f(outside) <= 0.0:
        return outside
    t = optimize.brentq(f, min(inside, outside), max(inside, outside), xtol=1e-12)
    toward = math.copysign(1.0, inside - t)
    for k in range(30):  # brentq's root may sit a hair on the wrong side
        if f(t) <= 0.0:
            return t
        t += toward * 1e-13 * 2.0**k
    return _edge(lambda s: f(s) <= 0.0, inside, t)


def _edge(ok, inside: float, outside: float) -> float:
    """The last t from ``inside`` towards ``outside`` where ok(t) holds (bisection)."""
    if ok(outside):
        return outside
    while abs(outside - inside) > 1e-12:
        mid = 0.5 * (inside + outside)
        if ok(mid):
            inside = mid
        else:
            outside = mid
    return inside


def pareto_mask(noise_gain, rate) -> np.ndarray:
    """True for the points no other point dominates (equal or lower noise, lower rate).

    Points with an infinite noise gain or a rate >= 1 are never kept; of
    points with equal rate the one with the least noise.
    """
    noise_gain, rate = np.asarray(noise_gain, float), np.asarray(rate, float)
    keep = np.zeros(len(rate), bool)
    best = math.inf
    for i in np.lexsort((rate, noise_gain)):
        if np.isfinite(noise_gain[i]) and rate[i] < 1.0 and rate[i] < best - 1e-13:
            keep[i] = True
            best = rate[i]
    return keep


def _grid(family: ClassicFamily, lam, mode: str, n_grid: int, n_eta: int):
    """(v, log eta, grid rates, noise gains) over the grid."""
    vs = np.linspace(*family.grid, n_grid)
    ts = np.linspace(math.log(1e-6), math.log(16.0), n_eta)
    coeffs = [family.coefficients(v) for v in vs]
    b = np.array([c[0] for c in coeffs])
    a = np.array([c[1] for c in coeffs])
    steps = np.exp(ts)[:, None] * lam[None]
    rates = spectral_radii(b, a, np.broadcast_to(steps.ravel(), (n_grid, steps.size)))
    rates = rates.reshape(n_grid, n_eta, len(lam)).max(axis=-1)
    noises = np.full(rates.shape, math.inf)
    for i, j in zip(*np.nonzero(rates < 1.0)):
        noises[i, j] = noise_of(b[i], a[i], math.exp(ts[j]), mode, stable=True)
    return vs, ts, rates, noises


def _refine(family, lam, mode, vs, row_best, log_bound, n_rows: int = 6):
    """(grid rate, v, log eta) of the best local optimum over v near the best rows.

    g(v) (:meth:`_Slice.best`) on the ``n_rows`` best grid rows and their
    neighbours; from each of the two best local minima among them a bounded
    scalar minimisation between its neighbours, the bracket moved on while
    the optimum sits at its end.
    """
    memo = {}

    def g(v):
        v = float(v)
        if v not in memo:
            memo[v] = _Slice(family, v, lam, mode).best(log_bound)
        return memo[v][0]

    last = len(vs) - 1
    rows = sorted(
        {
            j
            for i in np.argsort(row_best)[:n_rows]
            if row_best[i] < 1.0
            for j in (i - 1, i, i + 1)
            if 0 <= j <= last
        }
    )
    minima = [
        i
        for i in rows
        if g(vs[i]) < 1.0 and all(g(vs[j]) >= g(vs[i]) for j in (i - 1, i + 1) if 0 <= j <= last)
    ]
    minima.sort(key=lambda i: g(vs[i]))
    step = vs[1] - vs[0]
    for i in minima[:2]:
        lo, hi = vs[max(i - 1, 0)], vs[min(i + 1, last)]
        for _ in range(len(vs)):  # walk the bracket while the optimum is at its end
            x = float(
                optimize.minimize_scalar(
                    g, bounds=(lo, hi), method="bounded", options={"xatol": 1e-9}
                ).x
            )
            if g(lo) < g(x) and lo > vs[0]:
                lo, hi = max(lo - step, vs[0]), lo + 0.1 * step
            elif g(hi) < g(x) and hi < vs[-1]:
                lo, hi = hi - 0.1 * step, min(hi + step, vs[-1])
            else:
                break
    if not memo:
        return None
    v = min(memo, key=lambda u: memo[u][0])
    return (memo[v][0], v, memo[v][1]) if memo[v][0] < 1.0 else None


def _score(fam: ClassicFamily, kappa, noise, bound, candidates):
    """The best (parameter, eta, rate, noise gain, filter) of the candidates (v, eta)
    that meet the bound, the rate by worst_radius; None if none does."""
    best = None
    for v, eta in candidates:
        b, a = fam.coefficients(v)
        rate = worst_radius(b, a, eta, kappa)
        gain = noise_of(b, a, eta, noise)
        if (
            rate < 1.0
            and (bound is None or gain <= bound)
            and (best is None or rate < best[2] - 1e-13)
        ):
            p = fam.parameter(v)
            best = (p, eta, rate, gain, fam.make(p))
    return best


def _best_under(fam, kappa, noise, lam, grid, bound):
    """The best point under one bound (None: no bound), or None if no stable loop meets it."""
    vs, ts, rates, noises = grid
    ok = rates < 1.0 if bound is None else noises <= bound
    masked = np.where(ok, rates, 2.0)
    found = _refine(
        fam, lam, noise, vs, masked.min(axis=1), None if bound is None else math.log(bound)
    )
    candidates = [] if found is None else [(found[1], math.exp(found[2]))]
    if np.any(ok):
        i, j = np.unravel_index(int(np.argmin(masked)), masked.shape)
        candidates.append((float(vs[i]), math.exp(ts[j])))
    return _score(fam, kappa, noise, bound, candidates)


def default_bounds(top: float, lowest: float, n_points: int, noise: str) -> np.ndarray:
    """``n_points`` noise bounds log-spaced from ``top`` down to ``lowest`` (for
    ``noise="update"`` the excess over its floor 1 is log-spaced)."""
    if noise == "update":
        return 1.0 + (top - 1.0) * np.geomspace(1.0, (lowest - 1.0) / (top - 1.0), n_points)
    return top * np.geomspace(1.0, lowest / top, n_points)


@functools.lru_cache(maxsize=16)
def _setup(kappa, family, noise, n_curvatures, n_grid, n_eta):
    """(family, curvatures, grid, the unbounded optimum) for one search (cached)."""
    fam = CLASSIC_FAMILIES[family]
    lam = np.geomspace(1.0 / kappa, 1.0, n_curvatures) if kappa > 1 else np.ones(1)
    coarse = np.geomspace(1.0 / kappa, 1.0, max(n_curvatures // 2, 2)) if kappa > 1 else lam
    grid = _grid(fam, coarse, noise, n_grid, n_eta)
    return fam, lam, grid, _best_under(fam, kappa, noise, lam, grid, None)


@functools.lru_cache(maxsize=64)
def _frontier(kappa, family, bounds, noise, n_points, lowest, n_curvatures, n_grid, n_eta):
    """:func:`frontier_points` on hashable arguments (cached)."""
    fam, lam, grid, free = _setup(kappa, family, noise, n_curvatures, n_grid, n_eta)
    if free is None:
        return ()
    if bounds is None:
        top = free[3]
        low = (
            lowest
            if lowest is not None
            else (1.0 + 1e-3 * (top - 1.0) if noise == "update" else 1e-3 * top)
        )
        bounds = tuple(default_bounds(top, min(low, top), n_points, noise)) if low < top else ()
    out = []
    for bound in bounds:
        if bound is None or not math.isfinite(bound) or bound >= free[3]:
            out.append((math.inf if bound is None else float(bound), free))
        else:  # the free optimum is the answer for every bound it meets
            out.append((float(bound), _best_under(fam, kappa, noise, lam, grid, float(bound))))
    return tuple(out) + ((math.inf, free),)


def frontier_points(
    kappa: float,
    family: str,
    bounds=None,
    noise: str = "gradient",
    n_points: int = 12,
    lowest: float | None = None,
    n_curvatures: int = 64,
    n_grid: int = 64,
    n_eta: int = 96,
):
    """The best point of ``family`` under each noise bound, and under none.

    ``bounds``: the noise bounds; None: ``n_points`` of them, log-spaced
    (:func:`default_bounds`) from the noise gain of the family's own optimum
    (no bound) down to ``lowest`` (default 10^-3 of it). Returns a tuple of
    (bound, point), the last (inf, the family's optimum), point = (parameter,
    eta, worst-case rate, noise gain, filter) or None where no stable loop
    of the family meets the bound. The rate is
    :func:`~filteropt.analysis.closed_loop.worst_radius`'s; the search uses
    ``n_curvatures`` curvatures (half as many on the ``n_grid`` by ``n_eta``
    grid). Cached. See the module docstring for the method.
    """
    if family not in CLASSIC_FAMILIES:
        raise ValueError(
            f"`family` must be one of {list(CLASSIC_FAMILIES)}. Received: family={family!r}"
        )
    if bounds is not None:
        bounds = tuple(None if b is None else float(b) for b in bounds)
    return _frontier(
        float(kappa),
        family,
        bounds,
        noise,
        int(n_points),
        None if lowest is None else float(lowest),
        int(n_curvatures),
        int(n_grid),
        int(n_eta),
    )
