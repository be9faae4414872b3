"""The speed-noise trade-off: worst-case rate against noise gain, family by family.

Each family's Pareto frontier over all its parameters: for heavy ball,
Nesterov and an order-2 Butterworth low-pass, (momentum or cutoff, learning
rate) together (:mod:`filteropt.design.frontier`); for the designed filters
(:func:`filteropt.design.design_filter`), which optimise filter and learning
rate together, the design under each noise bound. Both numbers are the
design's criteria (:mod:`filteropt.design.problem`): the worst-case rate
over curvatures in [1/kappa, 1] and the noise gain at lambda = 1. The older
view, each momentum (or cutoff) at its fastest learning rate, is
``tradeoff(..., frontier=False)``.

numpy and scipy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize

from ..analysis.closed_loop import (
    check_count,
    check_kappa,
    heavy_ball_optimum,
    nesterov_optimum,
    spectral_radii,
    worst_radius,
)
from ..signal import filters as F
from ..signal.arma import ARMAFilter
from .frontier import CLASSIC_FAMILIES, default_bounds, frontier_points, pareto_mask
from .problem import check_noise, check_order, loop_noise_gain
from .search import design_filter

__all__ = ["FAMILIES", "Tradeoff", "designed_bounds", "tradeoff"]

FAMILIES = ("heavy_ball", "nesterov", "butterworth", "designed")


@dataclass(frozen=True)
class Tradeoff:
    """One family's worst-case rate against its noise gain at lambda = 1.

    Arrays of equal length: ``parameter`` (momentum, cutoff or, for the
    designs, the noise bound), ``learning_rate``, ``rate``, ``noise_gain``;
    ``filters`` the filters. ``parameter_name`` says what the parameter is.
    A frontier (``frontier`` True) holds only points no other setting of the
    family beats, by increasing noise gain (so decreasing rate).
    """

    family: str
    label: str
    parameter_name: str
    parameter: np.ndarray
    learning_rate: np.ndarray
    rate: np.ndarray
    noise_gain: np.ndarray
    kappa: float
    noise: str = "gradient"
    filters: tuple = field(default=(), repr=False)
    frontier: bool = False

    def pareto(self) -> Tradeoff:
        """The points no other point here dominates, by increasing noise gain."""
        keep = np.flatnonzero(pareto_mask(self.noise_gain, self.rate))
        keep = keep[np.argsort(self.noise_gain[keep], kind="stable")]
        return replace(
            self,
            parameter=self.parameter[keep],
            learning_rate=self.learning_rate[keep],
            rate=self.rate[keep],
            noise_gain=self.noise_gain[keep],
            filters=tuple(self.filters[i] for i in keep) if self.filters else (),
            frontier=True,
        )

    def best_rate(self, bound: float) -> float:
        """The least rate among the points with noise gain <= ``bound`` (inf if none)."""
        ok = self.noise_gain <= bound
        return float(self.rate[ok].min()) if ok.any() else math.inf


def _best_learning_rate(f: ARMAFilter, kappa: float, n_curvatures: int = 96) -> tuple[float, float]:
    """(eta, worst-case rate): the smallest eta with the least worst-case rate.

    The largest rate on ``n_curvatures`` log-spaced curvatures, for 500
    log-spaced eta from 1e-4 to 20 (divided by |H(1)|); the left edge of the
    best set by bisection, and a bounded scalar minimisation around it (taken
    if it is better by more than 1e-9). The rate returned is
    :func:`filteropt.analysis.worst_case_rate`'s.
    """
    b, a = (np.asarray(c, float) for c in f.padded())
    lam = np.geomspace(1.0 / kappa, 1.0, n_curvatures) if kappa > 1 else np.ones(1)

    def grid_rate(eta):
        return float(spectral_radii(b, a, eta * lam).max())

    gain = abs(f.dc_gain) if np.isfinite(f.dc_gain) and f.dc_gain != 0 else 1.0
    etas = np.geomspace(1e-4, 20.0, 500) / gain
    rates = spectral_radii(b, a, etas[:, None] * lam[None]).max(axis=-1)
    best = float(rates.min())
    i = int(np.argmax(rates <= best + 1e-9))
    if i > 0:  # the left edge of the optimal set, by bisection
        lo, hi = etas[i - 1], etas[i]
        for _ in range(40):
            mid = math.sqrt(lo * hi)
            if grid_rate(mid) <= best + 1e-9:
                hi = mid
            else:
                lo = mid
        eta = hi
    else:
        eta = etas[0]
    lo, hi = etas[max(i - 1, 0)], etas[min(i + 1, len(etas) - 1)]
    res = optimize.minimize_scalar(
        lambda t: grid_rate(math.exp(t)),
        bounds=(math.log(lo), math.log(hi)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    if float(res.fun) < best - 1e-9:
        eta = math.exp(float(res.x))
    return float(eta), worst_radius(b, a, float(eta), kappa)


def _classic_curve(family, label, name, params, make, kappa, noise):
    """The old sweep: each parameter with its fastest learning rate."""
    lrs, rates, noises, filters_ = [], [], [], []
    for p in params:
        f = make(p)
        eta, rate = _best_learning_rate(f, kappa)
        lrs.append(eta)
        rates.append(rate)
        noises.append(loop_noise_gain(f, eta, noise) if rate < 1 else math.inf)
        filters_.append(f)
    return Tradeoff(
        family,
        label,
        name,
        np.asarray(params, float),
        np.array(lrs),
        np.array(rates),
        np.array(noises),
        kappa,
        noise,
        tuple(filters_),
    )


def _sweep(kappa, family, n_points, noise, parameters):
    """``frontier=False``: the parameter swept, each value at its fastest learning rate."""
    sweep = np.r_[0.0, 1.0 - np.geomspace(0.9, 0.005, n_points - 1)]
    fam = CLASSIC_FAMILIES[family]
    if parameters is None:
        if family == "butterworth":
            parameters = np.geomspace(0.01, 0.9, n_points)
        else:
            optimum = heavy_ball_optimum if family == "heavy_ball" else nesterov_optimum
            parameters = np.union1d(sweep, [optimum(kappa)["momentum"]])
    return _classic_curve(family, fam.label, fam.parameter_name, parameters, fam.make, kappa, noise)


def designed_bounds(kappa: float, n_points: int, noise: str = "gradient") -> np.ndarray:
    """The designs' default noise bounds: ``n_points`` log-spaced from the noise
    gain of heavy ball's optimum (the unbounded design) down by 10^3 (for
    ``noise="update"`` the excess over the floor 1 is so spaced)."""
    hb = heavy_ball_optimum(kappa)
    top = loop_noise_gain(F.trace(hb["momentum"]), hb["learning_rate"], noise)
    low = 1.0 + 1e-3 * (top - 1.0) if noise == "update" else 1e-3 * top
    return default_bounds(top, low, n_points, noise)


def _classic_frontier(kappa, family, n_points, noise, bounds) -> Tradeoff:
    """The family's Pareto frontier over (parameter, learning rate)."""
    fam = CLASSIC_FAMILIES[family]
    lowest = None if bounds is not None else float(designed_bounds(kappa, 2, noise)[-1])
    found = [
        p
        for _, p in frontier_points(kappa, family, bounds, noise, n_points, lowest)
        if p is not None
    ]
    t = Tradeoff(
        family,
        fam.label,
        fam.parameter_name,
        np.array([p[0] for p in found], float),
        np.array([p[1] for p in found], float),
        np.array([p[2] for p in found], float),
        np.array([p[3] for p in found], float),
        kappa,
        noise,
        tuple(p[4] for p in found),
    )
    return t.pareto()


def tradeoff(
    kappa: float,
    family: str,
    order: int = 2,
    n_points: int = 12,
    *,
    noise: str = "gradient",
    bounds=None,
    frontier: bool = True,
    parameters=None,
    seed: int = 0,
    n_curvatures: int = 32,
    n_random: int = 0,
    maxiter: int = 300,
) -> Tradeoff:
    """Worst-case rate against noise gain at lambda = 1 for one family.

    ``family``:

    - ``"heavy_ball"``, ``"nesterov"`` (Bengio's filter), ``"butterworth"``
      (order 2): the family's Pareto frontier over its filter parameter
      (momentum, or cutoff as a fraction of Nyquist) and the learning rate
      together (:func:`filteropt.design.frontier.frontier_points`): the best
      point under each noise bound in ``bounds`` (default: ``n_points``
      bounds log-spaced from the noise gain of the family's own optimum down
      to the lowest of :func:`designed_bounds`) and under none, reduced to
      those no other point dominates, by increasing noise gain. ``parameter``
      is each point's momentum or cutoff.
      With ``frontier=False`` instead the old sweep: the parameter swept
      (``parameters``; default momentum 0 and ``n_points - 1`` values
      1 - geomspace(0.9, 0.005) plus the optimum's, or ``n_points`` cutoffs
      from 0.01 to 0.9), each value at its fastest learning rate (the
      smallest one with the least worst-case rate): not a frontier, it
      doubles back.
    - ``"designed"``: :func:`design_filter` of ``order`` under each noise
      bound (``bounds``, or ``parameters``; default :func:`designed_bounds`
      with ``n_points``), in that order; ``parameter`` is the bound. Order L
      starts from the design of order L - 1 at the same bound (cached, so
      sweeping orders 1 to 4 costs little more than order 4).
      :meth:`Tradeoff.pareto` keeps its undominated points.

    Returns a :class:`Tradeoff` of arrays.
    """
    kappa = check_kappa(kappa)
    noise = check_noise(noise)
    if family not in FAMILIES:
        raise ValueError(f"`family` must be one of {list(FAMILIES)}. Received: family={family!r}")
    check_count(n_points, "n_points", 2)
    if family != "designed":
        if not frontier:
            return _sweep(kappa, family, n_points, noise, parameters)
        return _classic_frontier(kappa, family, n_points, noise, bounds)
    order = check_order(order)
    if bounds is None:
        bounds = parameters if parameters is not None else designed_bounds(kappa, n_points, noise)
    designs = [
        design_filter(
            kappa,
            order,
            float(bound),
            n_curvatures,
            seed,
            noise=noise,
            n_random=n_random,
            maxiter=maxiter,
        )
        for bound in bounds
    ]
    return Tradeoff(
        family,
        f"designed, order {order}",
        "max_noise_gain",
        np.asarray(bounds, float),
        np.array([d.learning_rate for d in designs]),
        np.array([d.rate for d in designs]),
        np.array([d.noise_gain for d in designs]),
        kappa,
        noise,
        tuple(d.filter for d in designs),
    )
