"""The speed-noise trade-off: worst-case rate against noise gain, family by family.

For heavy ball, Nesterov and an order-2 Butterworth low-pass, each value of
the family's parameter gets its best learning rate; the designed filters
(:func:`filteropt.design.design_filter`) sweep the noise bound. Both numbers
are the design's criteria (:mod:`filteropt.design.problem`): the worst-case
rate over curvatures in [1/kappa, 1] and the noise gain at lambda = 1.

numpy and scipy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from ..analysis.closed_loop import (check_count, check_kappa, heavy_ball_optimum,
                                    nesterov_optimum, spectral_radii, worst_radius)
from ..signal import filters as F
from ..signal.arma import ARMAFilter
from .problem import check_noise, check_order, loop_noise_gain
from .search import design_filter

__all__ = ["Tradeoff", "tradeoff", "FAMILIES"]

FAMILIES = ("heavy_ball", "nesterov", "butterworth", "designed")


@dataclass(frozen=True)
class Tradeoff:
    """One family's worst-case rate against its noise gain at lambda = 1.

    Arrays of equal length: ``parameter`` (momentum, cutoff or the noise
    bound), ``learning_rate``, ``rate``, ``noise_gain``; ``filters`` the
    filters. ``parameter_name`` says what the parameter is.
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
    if i > 0:       # the left edge of the optimal set, by bisection
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
    res = optimize.minimize_scalar(lambda t: grid_rate(math.exp(t)),
                                   bounds=(math.log(lo), math.log(hi)), method="bounded",
                                   options={"xatol": 1e-10})
    if float(res.fun) < best - 1e-9:
        eta = math.exp(float(res.x))
    return float(eta), worst_radius(b, a, float(eta), kappa)


def _classic_curve(family, label, name, params, make, kappa, noise):
    lrs, rates, noises, filters_ = [], [], [], []
    for p in params:
        f = make(p)
        eta, rate = _best_learning_rate(f, kappa)
        lrs.append(eta)
        rates.append(rate)
        noises.append(loop_noise_gain(f, eta, noise) if rate < 1 else math.inf)
        filters_.append(f)
    return Tradeoff(family, label, name, np.asarray(params, float), np.array(lrs),
                    np.array(rates), np.array(noises), kappa, noise, tuple(filters_))


def tradeoff(kappa: float, family: str, order: int = 2, n_points: int = 12, *,
             noise: str = "gradient", parameters=None, seed: int = 0,
             n_curvatures: int = 32, n_random: int = 0, maxiter: int = 300) -> Tradeoff:
    """Worst-case rate against noise gain at lambda = 1 along one family.

    ``family``:

    - ``"heavy_ball"``: momentum swept (``parameters``, default 0 and
      ``n_points - 1`` values 1 - geomspace(0.9, 0.005), plus the optimum's),
      each with its best learning rate (the smallest one with the least
      worst-case rate);
    - ``"nesterov"``: the same for Bengio's Nesterov filter;
    - ``"butterworth"``: order-2 Butterworth (unit DC gain), cutoff swept
      (fraction of Nyquist, default ``n_points`` from 0.01 to 0.9), best
      learning rate each;
    - ``"designed"``: :func:`design_filter` of ``order`` with the noise bound
      swept (default: ``n_points`` log-spaced bounds from the noise gain of
      heavy ball's optimum, which is the unbounded design, down by 10^3;
      with ``noise="update"`` the excess over the floor 1 is swept so);
      order L starts from the design of order L - 1 at the same bound
      (cached, so sweeping orders 1 to 4 costs little more than order 4).

    Returns a :class:`Tradeoff` of arrays.
    """
    kappa = check_kappa(kappa)
    noise = check_noise(noise)
    if family not in FAMILIES:
        raise ValueError(f"`family` must be one of {list(FAMILIES)}. Received: family={family!r}")
    check_count(n_points, "n_points", 2)
    sweep = np.r_[0.0, 1.0 - np.geomspace(0.9, 0.005, n_points - 1)]
    if family == "heavy_ball":
        params = parameters if parameters is not None else \
            np.union1d(sweep, [heavy_ball_optimum(kappa)["momentum"]])
        return _classic_curve(family, "heavy ball", "momentum", params, F.trace, kappa, noise)
    if family == "nesterov":
        params = parameters if parameters is not None else \
            np.union1d(sweep, [nesterov_optimum(kappa)["momentum"]])
        return _classic_curve(family, "Nesterov", "momentum", params, F.nesterov, kappa, noise)
    if family == "butterworth":
        params = parameters if parameters is not None else np.geomspace(0.01, 0.9, n_points)
        return _classic_curve(family, "Butterworth, order 2", "cutoff", params,
                              lambda c: F.butterworth(2, float(c)), kappa, noise)
    order = check_order(order)
    if parameters is None:     # from heavy ball's optimum (the unbounded design) down by 10^3
        hb = heavy_ball_optimum(kappa)
        top = loop_noise_gain(F.trace(hb["momentum"]), hb["learning_rate"], noise)
        parameters = top * np.geomspace(1.0, 1e-3, n_points)
        if noise == "update":
            parameters = 1.0 + (top - 1.0) * np.geomspace(1.0, 1e-3, n_points)
    designs = [design_filter(kappa, order, float(bound), n_curvatures, seed, noise=noise,
                             n_random=n_random, maxiter=maxiter) for bound in parameters]
    return Tradeoff(family, f"designed, order {order}", "max_noise_gain",
                    np.asarray(parameters, float), np.array([d.learning_rate for d in designs]),
                    np.array([d.rate for d in designs]), np.array([d.noise_gain for d in designs]),
                    kappa, noise, tuple(d.filter for d in designs))
