"""The design problem: its two criteria, the checks of a specification, the objective.

The model is :mod:`filteropt.analysis.closed_loop`'s loop on a quadratic
with curvature lambda in [1/kappa, 1] (the largest curvature scaled to 1:
divide the learning rate by your lambda_max, see
:mod:`filteropt.keras.curvature`), without weight decay, the learning rate
before the filter as in SGD::

    g[i] = lambda theta[i-1] + n[i],  Delta = H{-eta g},  theta[i] = theta[i-1] + Delta[i]

Two numbers judge a pair (H, eta):

- the worst-case rate, max over lambda of the spectral radius of
  P = A (1 - z^-1) + eta lambda z^-1 B (:func:`filteropt.analysis.worst_case_rate`);
- the noise gain at the largest curvature lambda = 1, in one of two
  conventions (:data:`NOISE_MODES`, :func:`loop_noise_gain`). ``"gradient"``
  (the default): the variance of theta per unit variance of white noise n in
  the gradient, eta^2 * noise_gain(H, eta)
  (:func:`filteropt.analysis.gradient_noise_gain`): LMS's misadjustment,
  eta/(2 - eta) for plain SGD, smaller for a smaller step, and unchanged
  when H is scaled by c and eta by 1/c. ``"update"``: noise_gain(H, eta)
  literally (:func:`filteropt.analysis.noise_gain`), the disturbance added
  after the learning rate, for the filter scaled to unit input gain b[0] = 1
  (that number changes with the scaling, so one has to be fixed); its floor
  is 1, the first sample of the impulse response from the disturbance to
  theta.

:class:`Problem` is what :mod:`filteropt.design.search` minimises: the
worst-case rate on a grid of curvatures over the reflection-coefficient
coordinates of :mod:`filteropt.design.lattice`, penalised where the loop is
unstable or the noise bound is broken.

numpy only.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..analysis.closed_loop import gradient_h2, loop_h2, spectral_radii
from ..signal import filters as F
from ..signal.arma import ARMAFilter
from . import lattice

__all__ = ["MAX_ORDER", "NOISE_MODES", "loop_noise_gain"]

MAX_ORDER = 8
NOISE_MODES = ("gradient", "update")


# -- the criteria ------------------------------------------------------------------------


def noise_of(b, a, eta: float, mode: str, stable: bool = False) -> float:
    """The noise gain at lambda = 1 of (B/A, eta) in the convention ``mode``
    (coefficient arrays; ``stable``: the loop is known to be stable)."""
    if mode == "gradient":
        return gradient_h2(b, a, eta, 1.0, 0.0, stable)
    b0 = b[0]
    return loop_h2(np.asarray(b, dtype=float) / b0, a, eta * b0, 0.0, stable)


def loop_noise_gain(
    gradient_filter: ARMAFilter | None, learning_rate: float, noise: str = "gradient"
) -> float:
    """The noise gain at lambda = 1 of (H, eta) in the ``noise`` convention.

    ``"gradient"``: analysis.gradient_noise_gain(H, eta), eta^2 ||B/P||_2^2
    with P = A (1 - z^-1) + eta z^-1 B (invariant to H -> c H, eta -> eta / c).
    ``"update"``: analysis.noise_gain(H / b[0], eta b[0]), the disturbance
    after the learning rate with H scaled to unit input gain. ``inf`` where the
    loop is unstable.

    Raises:
        ValueError: an unknown ``noise``, or ``noise="update"`` with b[0] = 0.
    """
    mode = check_noise(noise)
    f = gradient_filter or F.identity()
    if mode == "update" and f.input_gain == 0.0:
        raise ValueError("noise='update' needs b[0] != 0 (it scales the filter to b[0] = 1)")
    b, a = (np.asarray(c, dtype=float) for c in f.padded())
    return noise_of(b, a, float(learning_rate), mode)


# -- checks --------------------------------------------------------------------------------


def check_order(order) -> int:
    if (
        isinstance(order, bool)
        or not isinstance(order, numbers.Integral)
        or not 1 <= int(order) <= MAX_ORDER
    ):
        raise ValueError(
            f"`order` must be an integer between 1 and {MAX_ORDER}. Received: order={order!r}"
        )
    return int(order)


def check_noise(noise) -> str:
    if noise not in NOISE_MODES:
        raise ValueError(f"`noise` must be one of {list(NOISE_MODES)}. Received: noise={noise!r}")
    return noise


def check_bound(bound, noise):
    """The noise bound as a float, or None for no bound (None or inf)."""
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or math.isnan(bound):
        raise ValueError(
            "`max_noise_gain` must be a positive number or None. "
            f"Received: max_noise_gain={bound!r}"
        )
    bound = float(bound)
    if math.isinf(bound):
        return None
    if noise == "gradient" and not bound > 0.0:
        raise ValueError(
            f"`max_noise_gain` must be > 0: no stable filter reaches max_noise_gain={bound:g}. "
            "With noise='gradient' the noise gain of a converging loop is positive; it tends "
            "to 0 only as the learning rate does (and the rate to 1)."
        )
    return bound


# -- the objective -------------------------------------------------------------------------


class Problem:
    """One design problem over x = [log eta, atanh(k_A), atanh(k_B)] (:mod:`.lattice`).

    ``objective(x)`` is the largest rate on the grid of curvatures ``lam``
    for a feasible point; 1 + rate where the loop is unstable (rate >= 1);
    rate + 1 + log(noise / bound) where the noise bound is broken. Feasible
    points are remembered in ``best`` (grid rate, noise, x); the search adds
    its starts and local optima to ``candidates``.
    """

    def __init__(self, kappa, order, bound, noise, n_curvatures):
        self.kappa, self.order, self.bound, self.noise = kappa, order, bound, noise
        self.best = []  # (grid rate, noise, x) of feasible points seen
        self.candidates = []  # starts and local optima, always re-checked
        self.evaluations = 0
        self.set_grid(n_curvatures)

    def set_grid(self, n):
        """Evaluate on ``n`` log-spaced curvatures (the best points are re-scored)."""
        k = self.kappa
        self.lam = np.geomspace(1.0 / k, 1.0, n) if k > 1 else np.ones(1)
        self.best = [(self.evaluate(x)[0], noise, x) for _, noise, x in self.best]

    def decode(self, x):
        """``(eta, a, b)`` of x."""
        return lattice.decode(x, self.order)

    def encode(self, f: ARMAFilter, eta: float):
        """x for the filter f (padded to the order, scaled to b[0] = 1)."""
        return lattice.encode(f, eta, self.order)

    def evaluate(self, x):
        """(grid rate, noise gain or None)."""
        eta, a, b = self.decode(x)
        rate = float(spectral_radii(b, a, eta * self.lam).max())
        noise = None
        if self.bound is not None and rate < 1.0:
            noise = noise_of(b, a, eta, self.noise, stable=True)  # lam[-1] = 1
        return rate, noise

    def noise_gain(self, x, stable: bool = False) -> float:
        """The noise gain of x at lambda = 1."""
        eta, a, b = self.decode(x)
        return noise_of(b, a, eta, self.noise, stable)

    def objective(self, x):
        self.evaluations += 1
        rate, noise = self.evaluate(x)
        if rate >= 1.0:
            return 1.0 + rate
        if self.bound is None:
            self.best.append((rate, 0.0, np.array(x, dtype=float)))
            return rate
        if noise <= self.bound:
            self.best.append((rate, noise, np.array(x, dtype=float)))
            return rate
        return rate + 1.0 + math.log(noise / self.bound)

    def prune(self, keep=40):
        self.best.sort(key=lambda t: t[0])
        del self.best[keep:]


def sgd_start(problem: Problem):
    """Plain SGD with the largest step the bound allows (always feasible)."""
    kappa, bound = problem.kappa, problem.bound
    eta = 2.0 * kappa / (kappa + 1.0)
    if bound is not None:
        if problem.noise == "gradient":
            eta = min(eta, 2.0 * bound / (1.0 + bound))  # eta/(2 - eta) = bound
        elif bound >= 1.0:
            eta = min(eta, 1.0 + math.sqrt(1.0 - 1.0 / bound))  # 1/(eta (2 - eta)) = bound
        else:
            eta = 1.0
    return problem.encode(F.identity(), eta)


def best_feasible_classic(problem: Problem, family, params, etas):
    """Best feasible (grid rate) point of a classic family over a grid, or None."""
    best = None
    for p in params:
        f = family(p)
        for eta in etas:
            try:
                x = problem.encode(f, eta)
            except ValueError:
                continue
            value = problem.objective(x)
            if value < 1.0 and (best is None or value < best[0]):
                best = (value, x)
    return best
