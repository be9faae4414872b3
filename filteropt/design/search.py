"""Designing the gradient filter: "optimize a second order ARMA filter".

The lecture ends its Nesterov slide with "one could choose any low-pass
filter for this task - i.e., optimize a second order ARMA filter (e.g.,
Butterworth)", and recalls from LMS that a larger step converges faster but
leaves more misadjustment (gradient noise). :func:`design_filter` does both
halves: it minimises the worst-case closed-loop rate over curvatures in
[1/kappa, 1], optionally under a bound on the noise gain at lambda = 1 (the
criteria: :mod:`filteropt.design.problem`), over ARMA filters of a given
order with b[0] = 1 and poles and zeros strictly inside the unit circle
(the coordinates: :mod:`filteropt.design.lattice`), and over the learning
rate. :class:`Design` is its answer.

numpy and scipy only.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..analysis.closed_loop import (
    WORST_CASE_GRID,
    check_count,
    check_kappa,
    heavy_ball_optimum,
    nesterov_optimum,
    spectral_radii,
    worst_radius,
)
from ..signal import filters as F
from ..signal.arma import ARMAFilter
from .lattice import U_MAX
from .problem import (
    Problem,
    best_feasible_classic,
    check_bound,
    check_noise,
    check_order,
    loop_noise_gain,
    noise_of,
    sgd_start,
)

__all__ = ["Design", "design_filter"]


@dataclass(frozen=True)
class Design:
    """A designed gradient filter and learning rate, and how they were found.

    Attributes:
        filter: the :class:`~filteropt.ARMAFilter` H, unit input gain
            (b[0] = 1), poles and zeros strictly inside the unit circle.
        learning_rate: eta, for curvatures scaled so that the largest is 1.
        rate: the worst-case closed-loop rate over lambda in [1/kappa, 1]
            (:func:`filteropt.analysis.worst_case_rate`: dense grid plus local
            maximisation).
        noise_gain: the noise gain at lambda = 1 in the ``noise`` convention
            (:func:`filteropt.design.loop_noise_gain`).
        kappa, order: the specification.
        method: how the optimum was searched for.
        message: what was found, against heavy ball and Nesterov.
        noise: ``"gradient"`` or ``"update"``.
        max_noise_gain: the bound, or None.
    """

    filter: ARMAFilter
    learning_rate: float
    rate: float
    noise_gain: float
    kappa: float
    order: int
    method: str
    message: str
    noise: str = "gradient"
    max_noise_gain: float | None = None

    @property
    def poles(self) -> np.ndarray:
        return self.filter.poles

    @property
    def zeros(self) -> np.ndarray:
        return self.filter.zeros


# -- local optimisers ---------------------------------------------------------------------


def _nelder_mead(problem: Problem, x0, maxiter, tol, restarts=2):
    """Nelder-Mead (adaptive), restarted from where it stopped while it improves."""
    x, value = np.asarray(x0, float), problem.objective(x0)
    for _ in range(restarts):
        res = optimize.minimize(
            problem.objective,
            x,
            method="Nelder-Mead",
            options={"maxiter": maxiter, "xatol": tol, "fatol": tol * 1e-3, "adaptive": True},
        )
        improved = res.fun < value - 1e-12
        if res.fun <= value:
            x, value = res.x, float(res.fun)
        if not improved:
            break
    return x, value


def _slsqp(problem: Problem, x0, maxiter):
    """The epigraph form: min t subject to t >= rate(lambda_j), log noise <= log bound.

    SLSQP; the Jacobian of the rates by forward differences, all perturbed
    points and curvatures in one batched eigenvalue call.
    """
    x0 = np.asarray(x0, float)
    n = len(x0)
    h = 1e-7

    def radii(xs):
        d = [problem.decode(x) for x in xs]
        eta = np.array([e for e, _, _ in d])
        a, b = np.array([a for _, a, _ in d]), np.array([b for _, _, b in d])
        return spectral_radii(b, a, eta[:, None] * problem.lam[None])

    def radii_jac(x):
        r = radii([x] + [x + h * e for e in np.eye(n)])
        return np.c_[-((r[1:] - r[0]) / h).T, np.ones(len(problem.lam))]

    def log_noise(x):
        value = problem.noise_gain(x)
        return math.log(value) if 0 < value < math.inf else 50.0

    def log_noise_jac(x):
        f0 = log_noise(x)
        return np.r_[[-(log_noise(x + h * e) - f0) / h for e in np.eye(n)], 0.0]

    y0 = np.r_[x0, min(float(radii([x0]).max()), 2.0)]
    constraints = [
        {
            "type": "ineq",
            "fun": lambda y: y[-1] - radii([y[:-1]])[0],
            "jac": lambda y: radii_jac(y[:-1]),
        }
    ]
    if problem.bound is not None:
        margin = math.log(problem.bound) - 1e-9
        constraints.append(
            {
                "type": "ineq",
                "fun": lambda y: margin - log_noise(y[:-1]),
                "jac": lambda y: log_noise_jac(y[:-1])[None],
            }
        )
    bounds = [(-30.0, 5.0)] + [(-U_MAX, U_MAX)] * (n - 1) + [(0.0, 3.0)]
    grad = np.r_[np.zeros(n), 1.0]
    try:
        with np.errstate(all="ignore"):
            res = optimize.minimize(
                lambda y: y[-1],
                y0,
                jac=lambda y: grad,
                method="SLSQP",
                bounds=bounds,
                constraints=constraints,
                options={"maxiter": maxiter, "ftol": 1e-12},
            )
    except (ValueError, np.linalg.LinAlgError, OverflowError):
        return x0
    return _repair(problem, res.x[:-1])


def _repair(problem: Problem, x):
    """Nudges log eta (by 1e-9 doubling, either way) until a point that misses
    the bound by a hair meets it; x itself if none of 30 nudges does."""
    x = np.array(x, dtype=float)
    if problem.bound is None:
        return x
    for k in range(30):
        rate, noise = problem.evaluate(x)
        if rate < 1.0 and noise <= problem.bound:
            return x
        step = 1e-9 * 2.0**k
        for sign in (-1.0, 1.0):
            y = x.copy()
            y[0] += sign * step
            rate, noise = problem.evaluate(y)
            if rate < 1.0 and noise <= problem.bound:
                return y
    return x


# -- the search -----------------------------------------------------------------------------


def _search(problem: Problem, starts, seed, n_random, maxiter):
    """From every start and ``n_random`` random points: SLSQP, then Nelder-Mead;
    then both again on twice the curvatures for the two best. Returns
    ``[(start name, start objective, best objective)]``."""
    rng = np.random.default_rng(seed)
    L = problem.order
    xs = [(name, np.asarray(x, float)) for name, x in starts]
    for i in range(n_random):
        eta = 4.0 * math.exp(rng.normal(0.0, 0.7)) / (1.0 + math.sqrt(problem.kappa))
        u = np.arctanh(rng.uniform(-0.95, 0.95, 2 * L))
        xs.append((f"random {i + 1}", np.r_[math.log(eta), u]))
    results = []
    for name, x0 in xs:  # from every start: SLSQP, then Nelder-Mead from the better
        start_value = problem.objective(x0)
        problem.candidates.append(x0)
        x1 = _slsqp(problem, x0, maxiter // 4)
        v1 = problem.objective(x1)
        x, value = _nelder_mead(
            problem, x1 if v1 <= start_value else x0, maxiter // 2, 1e-7, restarts=1
        )
        problem.candidates += [x1, x]
        results.append([name, start_value, value, x])
        problem.prune()
    # then polish the two best on twice as many curvatures
    problem.set_grid(2 * len(problem.lam))
    results.sort(key=lambda r: r[2])
    for r in results[:2]:
        x = _slsqp(problem, r[3], maxiter // 2)
        x, value = _nelder_mead(problem, x, maxiter, 1e-9)
        problem.candidates.append(x)
        r[2] = min(r[2], value)
    problem.prune()
    return [tuple(r[:3]) for r in results]


def _finish(problem: Problem):
    """The feasible point with the best refined worst-case rate, among the
    best points evaluated and every start and local optimum; reflection
    coefficients below 1e-8 are then set to 0 where that costs nothing."""
    best = None
    seen = set()
    top = [x for _, _, x in sorted(problem.best, key=lambda t: t[0])[:12]]
    for x in top + list(problem.candidates):
        key = tuple(np.round(x, 12))
        if key in seen:
            continue
        seen.add(key)
        found = _score(problem, x)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    if best is not None:
        x = np.array(best[-1])
        small = np.abs(np.tanh(x[1:])) < 1e-8
        if small.any():
            x[1:][small] = 0.0
            found = _score(problem, x)
            if found is not None and found[0] <= best[0] + 1e-10:
                best = found
    return best


def _score(problem: Problem, x):
    """(refined rate, eta, a, b, x) for a feasible, stable point, else None."""
    if problem.bound is not None and not problem.noise_gain(x) <= problem.bound:
        x = _repair(problem, x)  # a hair over the bound (rounding)?
        if not problem.noise_gain(x) <= problem.bound:
            return None
    eta, a, b = problem.decode(x)
    rate = worst_radius(b, a, eta, problem.kappa)
    return (rate, eta, a, b, x) if rate < 1.0 else None


def _starts(
    problem: Problem, kappa, order, bound, noise, n_curvatures, seed, n_random, maxiter, extra
):
    """The named starting points of the search (see :func:`design_filter`)."""
    nv = nesterov_optimum(kappa)
    starts = [
        ("Nesterov optimum", problem.encode(F.nesterov(nv["momentum"]), nv["learning_rate"])),
        ("plain SGD", sgd_start(problem)),
    ]
    if order == 1:
        hb = heavy_ball_optimum(kappa)
        starts.insert(
            0, ("heavy ball optimum", problem.encode(F.trace(hb["momentum"]), hb["learning_rate"]))
        )
        if bound is not None:
            etas = np.geomspace(1e-3, 4.0, 28)
            moms = np.r_[0.0, 1.0 - np.geomspace(0.9, 2e-3, 20)]
            for name, fam in (("heavy ball", F.trace), ("Nesterov", F.nesterov)):
                found = best_feasible_classic(problem, fam, moms, etas)
                if found is not None:
                    starts.append((f"best feasible {name} on a grid", found[1]))
    else:  # the lower order's design already started from heavy ball's optimum
        lower = _design(kappa, order - 1, bound, noise, n_curvatures, seed, n_random, maxiter, ())[
            0
        ]
        if lower is not None:
            starts.insert(
                0,
                (
                    f"order-{order - 1} design, padded",
                    problem.encode(lower.filter, lower.learning_rate),
                ),
            )
    for i, (b, a, eta) in enumerate(extra):
        with contextlib.suppress(ValueError):
            starts.append((f"given start {i + 1}", problem.encode(ARMAFilter(b, a), eta)))
    return starts


@functools.lru_cache(maxsize=256)
def _design(kappa, order, bound, noise, n_curvatures, seed, n_random, maxiter, extra):
    problem = Problem(kappa, order, bound, noise, n_curvatures)
    starts = _starts(
        problem, kappa, order, bound, noise, n_curvatures, seed, n_random, maxiter, extra
    )
    results = _search(problem, starts, seed, n_random, maxiter)
    best = _finish(problem)
    if best is None:
        return None, problem, results
    rate, eta, a, b, _ = best
    f = ARMAFilter(b, a)
    noise_value = noise_of(b, a, eta, noise)
    winner = min(results, key=lambda t: t[2])
    method = (
        f"SLSQP (epigraph form) then Nelder-Mead on log(eta) and the reflection "
        f"coefficients of A and B "
        f"(b[0] = 1), {len(results)} starts ({', '.join(r[0] for r in results)}), "
        f"{n_curvatures} curvatures per evaluation, {problem.evaluations} evaluations; "
        f"best from '{winner[0]}'; rate re-checked on {WORST_CASE_GRID} curvatures "
        f"plus local maxima"
    )
    bound_text = "no noise bound" if bound is None else f"noise gain <= {bound:.6g} ({noise})"
    hb, nv = heavy_ball_optimum(kappa), nesterov_optimum(kappa)
    hb_noise = loop_noise_gain(F.trace(hb["momentum"]), hb["learning_rate"], noise)
    message = (
        f"order {order}, kappa {kappa:g}, {bound_text}: worst-case rate {rate:.6f} with "
        f"eta {eta:.6g}, noise gain at lambda = 1 {noise_value:.6g}; heavy ball optimum "
        f"{hb['rate']:.6f} (noise {hb_noise:.6g}), Nesterov optimum {nv['rate']:.6f}"
    )
    if f.order < order:
        message += (
            f"; the optimum found has effective order {f.order} (the extra "
            "coefficients came out zero)"
        )
    design = Design(
        f, float(eta), float(rate), float(noise_value), kappa, order, method, message, noise, bound
    )
    return design, problem, results


def design_filter(
    kappa: float,
    order: int = 2,
    max_noise_gain: float | None = None,
    n_curvatures: int = 32,
    seed: int = 0,
    *,
    noise: str = "gradient",
    n_random: int = 2,
    maxiter: int = 400,
    starts=(),
) -> Design:
    """The ARMA gradient filter and learning rate with the best worst-case rate.

    Minimises max over lambda in [1/kappa, 1] of the closed-loop rate, the
    spectral radius of P = A (1 - z^-1) + eta lambda z^-1 B, over filters
    H = B/A of the given order with b[0] = 1 and poles and zeros strictly
    inside the unit circle (coordinates: log eta and atanh of the reflection
    coefficients of A and B, :mod:`filteropt.design.lattice`), subject, when
    ``max_noise_gain`` is given, to the noise gain at lambda = 1 staying
    under it (``noise``: :func:`filteropt.design.loop_noise_gain`).

    The search, from each start in turn: SLSQP on the epigraph form (min t
    with t >= the rate at each of ``n_curvatures`` log-spaced curvatures and
    log noise <= log bound; ``maxiter // 4`` iterations), then Nelder-Mead
    (``maxiter // 2``) from the better of the start and SLSQP's point, on
    the objective of :class:`filteropt.design.problem.Problem` (the largest
    grid rate, penalised where the loop is unstable or the bound broken).
    Then the two best are polished on twice as many curvatures (SLSQP,
    ``maxiter // 2``, and restarted Nelder-Mead, ``maxiter``). The starts:
    for order 1, heavy ball's optimum and, with a bound, the best feasible
    heavy-ball and Nesterov points of a grid; for a higher order, the design
    of order - 1 (same bound, cached) padded; always Nesterov's optimum,
    plain SGD with the largest step the bound allows, the (filter,
    learning_rate) pairs or designs in ``starts``, and ``n_random`` random
    points (``seed``). The answer is, among the 12 best feasible points
    evaluated and every start and local optimum, the feasible one with the
    best worst-case rate on 2049 curvatures plus local maximisation
    (:func:`filteropt.analysis.worst_case_rate`), reflection coefficients
    below 1e-8 then set to 0 where that costs nothing.

    Without a bound, order 1 gives Polyak's heavy ball, rate
    (sqrt(kappa) - 1)/(sqrt(kappa) + 1), and no order does better (that is
    the best rate of any stationary linear method on this class); a higher
    order never does worse, since the lower order's design is one of its
    starts. With a bound the higher orders can trade better.

    Raises:
        ValueError: kappa < 1, order outside 1..8, a bound no stable filter
            reaches (the message gives the smallest noise gain found), a bad
            ``n_curvatures``, ``n_random`` or ``maxiter``.

    Example:
        >>> from filteropt import design
        >>> d = design.design_filter(kappa=100, order=1)  # no noise bound: heavy ball
        >>> # rate (sqrt(k) - 1)/(sqrt(k) + 1), learning rate 4/(1 + 1/sqrt(k))^2
        >>> round(d.rate, 4), round(d.learning_rate, 3)
        (0.8182, 3.306)
        >>> d.filter
        ARMAFilter(b=[1], a=[1, -0.669421])
    """
    kappa = check_kappa(kappa)
    order = check_order(order)
    noise = check_noise(noise)
    bound = check_bound(max_noise_gain, noise)
    for value, name, low in (
        (n_curvatures, "n_curvatures", 8),
        (n_random, "n_random", 0),
        (maxiter, "maxiter", 10),
    ):
        check_count(value, name, low)
    extra = []
    for item in starts:
        f, eta = (item.filter, item.learning_rate) if isinstance(item, Design) else item
        extra.append((tuple(f.b), tuple(f.a), float(eta)))
    if bound is not None and noise == "update" and bound < 1.0:
        found = _smallest_noise(kappa, order, noise)
        raise ValueError(
            f"`max_noise_gain`={bound:g} is below what any stable filter can reach: the smallest "
            f"noise gain at lambda = 1 found is {found:.6g} (noise='update': the impulse response "
            "from the disturbance to theta starts with b[0] = 1, so the noise gain is at least "
            "1; plain SGD with eta = 1 reaches it)."
        )
    design, _problem, _ = _design(
        kappa,
        order,
        bound,
        noise,
        int(n_curvatures),
        int(seed),
        int(n_random),
        int(maxiter),
        tuple(extra),
    )
    if design is None:
        found = _smallest_noise(kappa, order, noise)
        raise ValueError(
            f"`max_noise_gain`={bound:g} is below what any stable filter found reaches: the "
            f"smallest noise gain at lambda = 1 found is {found:.6g}."
        )
    return design


def _smallest_noise(kappa, order, noise) -> float:
    """The smallest noise gain at lambda = 1 over stable loops that were found
    (Nelder-Mead from plain SGD at three learning rates)."""
    problem = Problem(kappa, order, None, noise, 32)

    def objective(x):
        if problem.evaluate(x)[0] >= 1.0:
            return 1e300
        return problem.noise_gain(x)

    best = math.inf
    for eta in (1e-3, 0.5, 1.0):
        x0 = problem.encode(F.identity(), eta)
        res = optimize.minimize(objective, x0, method="Nelder-Mead", options={"maxiter": 2000})
        best = min(best, float(res.fun), objective(x0))
    return best
