"""Designing the gradient filter: "optimize a second order ARMA filter".

The lecture ends its Nesterov slide with "one could choose any low-pass
filter for this task - i.e., optimize a second order ARMA filter (e.g.,
Butterworth)", and recalls from LMS that a larger step converges faster but
leaves more misadjustment (gradient noise). This module does both halves.

The model is :mod:`filteropt.analysis`'s closed loop on a quadratic with
curvature lambda in [1/kappa, 1] (the largest curvature scaled to 1: divide
the learning rate by your lambda_max, see :mod:`filteropt.keras.curvature`), with
the learning rate before the filter as in SGD::

    g[i] = -eta (lambda theta[i-1] + n[i]),  Delta = H{g},  theta[i] = theta[i-1] + Delta[i]

Two numbers judge a pair (H, eta):

- the worst-case rate, max over lambda of the spectral radius of
  P = A (1 - z^-1) + eta lambda z^-1 B (:func:`analysis.quadratic_rate`);
- the noise gain at the largest curvature lambda = 1. With
  ``noise="gradient"`` (the default) it is the variance of theta per unit
  variance of white noise n in the gradient,
  eta^2 * analysis.noise_gain(H, eta) = analysis.noise_gain(eta H, 1)
  (:func:`analysis.gradient_noise_gain`): LMS's misadjustment, eta/(2 - eta)
  for plain SGD, smaller for a smaller step, and unchanged when H is scaled
  by c and eta by 1/c. With ``noise="update"`` it is
  analysis.noise_gain(H, eta) literally, the disturbance added after the
  learning rate, for the filter scaled to unit input gain b[0] = 1 (that
  number changes with the scaling, so one has to be fixed); its floor is 1,
  the first sample of the impulse response from d to theta.

:func:`design_filter` minimises the first under a bound on the second, over
ARMA filters of a given order with poles and zeros strictly inside the unit
circle; :func:`tradeoff` draws the rate against the noise gain for heavy
ball, Nesterov, Butterworth and designed filters; :func:`designed` wraps a
design as a :class:`filteropt.recipes.Recipe`.

numpy and scipy only.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from .. import analysis as A
from ..signal import filters as F
from ..signal.arma import ARMAFilter

__all__ = [
    "Design", "design_filter", "nesterov_optimum", "Tradeoff", "tradeoff", "FAMILIES",
    "worst_case_rate", "loop_noise_gain", "MAX_ORDER", "NOISE_MODES",
]

MAX_ORDER = 8
NOISE_MODES = ("gradient", "update")
FAMILIES = ("heavy_ball", "nesterov", "butterworth", "designed")

#: Reflection coefficients are kept within this distance of +-1, so poles and
#: zeros stay strictly inside the unit circle.
_K_MAX = 1.0 - 1e-9
_U_MAX = math.atanh(_K_MAX)


# -- the design --------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """A designed gradient filter and learning rate, and how they were found.

    Attributes:
        filter: the :class:`~filteropt.ARMAFilter` H, unit input gain
            (b[0] = 1), poles and zeros strictly inside the unit circle.
        learning_rate: eta, for curvatures scaled so that the largest is 1.
        rate: the worst-case closed-loop rate over lambda in [1/kappa, 1]
            (dense grid plus local maximisation).
        noise_gain: the noise gain at lambda = 1 in the ``noise`` convention
            (see the module docstring).
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


def nesterov_optimum(kappa: float) -> dict:
    """Nesterov's tuning for curvatures in [1/kappa, 1] (Lessard et al. 2016).

    Bengio's filter ``filters.nesterov(momentum)`` with momentum
    (sqrt(3 kappa + 1) - 2)/(sqrt(3 kappa + 1) + 2) and learning rate
    4/(3 + 1/kappa) has the worst-case rate 1 - 2/sqrt(3 kappa + 1).
    """
    kappa = _check_kappa(kappa)
    r = math.sqrt(3.0 * kappa + 1.0)
    return {"momentum": (r - 2.0) / (r + 2.0), "learning_rate": 4.0 / (3.0 + 1.0 / kappa),
            "rate": 1.0 - 2.0 / r}


# -- fast internals: polynomials from reflection coefficients ---------------------------


def _step_up(k) -> np.ndarray:
    """Monic polynomial (ascending powers of z^-1) from reflection coefficients.

    |k_i| < 1 for all i is equivalent to all roots strictly inside the unit
    circle (the Schur-Cohn / Levinson step-up recursion
    a_m[i] = a_{m-1}[i] + k_m a_{m-1}[m - i]).
    """
    a = [1.0]
    for km in k:
        km = float(km)
        a = [x + km * y for x, y in zip(a + [0.0], [0.0] + a[::-1])]
    return np.array(a)


def _step_down(a) -> np.ndarray:
    """Reflection coefficients of a monic polynomial; ValueError if a root is
    on or outside the unit circle."""
    a = np.asarray(a, dtype=float)
    k = []
    while len(a) > 1:
        km = a[-1]
        if not abs(km) < 1.0:
            raise ValueError("a root lies on or outside the unit circle")
        k.append(km)
        a = (a[:-1] - km * a[:0:-1]) / (1.0 - km * km)
    return np.array(k[::-1])


def _radii(a, b, steps) -> np.ndarray:
    """Spectral radius of P = A (1 - z^-1) + s z^-1 B for each s in ``steps``."""
    return _radii_many(np.asarray(a, float)[None], np.asarray(b, float)[None],
                       np.asarray(steps, float)[None])[0]


def _radii_many(a, b, steps) -> np.ndarray:
    """Batched: ``a``, ``b`` of shape (k, L + 1), ``steps`` (k, m) -> radii (k, m)."""
    k, m = steps.shape
    p0 = np.zeros((k, a.shape[1] + 1))
    p0[:, :-1] += a
    p0[:, 1:] -= a
    n = p0.shape[1] - 1
    p = np.repeat(p0[:, None, :], m, axis=1)
    p[:, :, 1:] += steps[:, :, None] * b[:, None, :]
    comp = np.zeros((k, m, n, n))
    comp[:, :, 0, :] = -p[:, :, 1:]
    if n > 1:
        comp[:, :, np.arange(1, n), np.arange(n - 1)] = 1.0
    return np.abs(np.linalg.eigvals(comp)).max(axis=-1)


def _schur_stable(p) -> bool:
    """All roots of the polynomial p (ascending powers of z^-1, p[0] != 0)
    strictly inside the unit circle: the Schur-Cohn test (step-down)."""
    a = [float(v) / float(p[0]) for v in p]
    while len(a) > 1 and a[-1] == 0.0:
        a.pop()
    while len(a) > 1:
        km = a[-1]
        if not abs(km) < 1.0:
            return False
        d = 1.0 - km * km
        a = [(x - km * y) / d for x, y in zip(a[:-1], a[:0:-1])]
    return True


def _h2(b, a, step, checked=False) -> float:
    """analysis.noise_gain for H = B/A at ``step`` (fast path, same maths);
    ``checked``: the loop is known to be stable."""
    p = np.convolve(a, [1.0, -1.0])
    p[1:] += step * np.asarray(b)
    n = len(p) - 1
    num = np.r_[b, 0.0]
    d = num[0]
    c = (num - d * p)[1:]
    am = np.zeros((n, n))
    am[0, :] = -p[1:]
    if n > 1:
        am[np.arange(1, n), np.arange(n - 1)] = 1.0
    if not checked and not _schur_stable(p):
        return math.inf
    q = np.zeros((n, n))
    q[0, 0] = 1.0
    try:
        x = np.linalg.solve(np.eye(n * n) - np.kron(am, am), q.ravel()).reshape(n, n)
    except np.linalg.LinAlgError:
        return math.inf
    value = float(d * d + c @ x @ c)
    return value if value >= 0 else math.inf


def _noise(b, a, eta, mode, checked=False) -> float:
    if mode == "gradient":
        return eta * eta * _h2(b, a, eta, checked)
    b0 = b[0]
    return _h2(np.asarray(b) / b0, a, eta * b0, checked)


def loop_noise_gain(gradient_filter: ARMAFilter | None, learning_rate: float,
                    noise: str = "gradient") -> float:
    """The noise gain at lambda = 1 of (H, eta) in the ``noise`` convention.

    ``"gradient"``: analysis.gradient_noise_gain(H, eta) (invariant to
    H -> c H, eta -> eta / c). ``"update"``: analysis.noise_gain(H / b[0],
    eta b[0]), the disturbance after the learning rate with H scaled to unit
    input gain.
    """
    mode = _check_noise(noise)
    f = gradient_filter or F.identity()
    if mode == "gradient":
        return A.gradient_noise_gain(f, learning_rate, 1.0)
    b0 = f.input_gain
    if b0 == 0.0:
        raise ValueError("noise='update' needs b[0] != 0 (it scales the filter to b[0] = 1)")
    return A.noise_gain(f / b0, learning_rate * b0)


def _refined(b, a, eta, kappa, n=2049) -> float:
    """Worst-case rate: dense log grid, then local maximisation at the peaks."""
    loglam = np.linspace(-math.log(kappa), 0.0, n) if kappa > 1 else np.zeros(1)
    r = _radii(a, b, eta * np.exp(loglam))
    best = float(r.max())
    if n < 3 or kappa <= 1:
        return best
    peaks = [i for i in np.argsort(r)[::-1][:4]]
    for i in peaks:
        lo, hi = loglam[max(i - 1, 0)], loglam[min(i + 1, n - 1)]
        if hi <= lo:
            continue
        res = optimize.minimize_scalar(
            lambda t: -float(_radii(a, b, [eta * math.exp(t)])[0]), bounds=(lo, hi),
            method="bounded", options={"xatol": 1e-10})
        best = max(best, -float(res.fun))
    return best


def worst_case_rate(gradient_filter: ARMAFilter | None, learning_rate: float,
                    kappa: float) -> float:
    """max over lambda in [1/kappa, 1] of the closed-loop rate, accurately.

    Like :func:`analysis.worst_case_rate` (65 grid points) but on 2049 points
    plus a local maximisation around the largest ones, so that a design
    cannot hide a bad curvature between grid points.
    """
    kappa = _check_kappa(kappa)
    f = gradient_filter or F.identity()
    b, a = f.padded()
    return _refined(np.asarray(b), np.asarray(a), float(learning_rate), kappa)


# -- checks --------------------------------------------------------------------------


def _check_kappa(kappa) -> float:
    if isinstance(kappa, bool) or not isinstance(kappa, numbers.Real) or not math.isfinite(kappa):
        raise ValueError(f"`kappa` must be a finite real number >= 1. Received: kappa={kappa!r}")
    if not kappa >= 1.0:
        raise ValueError(
            f"`kappa` must be >= 1 (the ratio of the largest curvature to the smallest). "
            f"Received: kappa={kappa!r}")
    return float(kappa)


def _check_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) \
            or not 1 <= order <= MAX_ORDER:
        raise ValueError(
            f"`order` must be an integer between 1 and {MAX_ORDER}. Received: order={order!r}")
    return int(order)


def _check_noise(noise) -> str:
    if noise not in NOISE_MODES:
        raise ValueError(f"`noise` must be one of {list(NOISE_MODES)}. Received: noise={noise!r}")
    return noise


def _check_bound(bound, noise):
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or math.isnan(bound):
        raise ValueError(
            "`max_noise_gain` must be a positive number or None. "
            f"Received: max_noise_gain={bound!r}")
    bound = float(bound)
    if math.isinf(bound):
        return None
    if noise == "gradient" and not bound > 0.0:
        raise ValueError(
            f"`max_noise_gain` must be > 0: no stable filter reaches max_noise_gain={bound:g}. "
            "With noise='gradient' the noise gain of a converging loop is positive; it tends "
            "to 0 only as the learning rate does (and the rate to 1).")
    return bound


# -- the search ----------------------------------------------------------------------


class _Problem:
    """Parameters x = [log eta, atanh(k_A), atanh(k_B)] for one order."""

    def __init__(self, kappa, order, bound, noise, n_curvatures):
        self.kappa, self.order, self.bound, self.noise = kappa, order, bound, noise
        self.best = []          # (grid rate, noise, x) of feasible points seen
        self.candidates = []    # starts and local optima, always re-checked
        self.evaluations = 0
        self.set_grid(n_curvatures)

    def set_grid(self, n):
        """Evaluate on ``n`` log-spaced curvatures (the best points are re-scored)."""
        k = self.kappa
        self.lam = np.geomspace(1.0 / k, 1.0, n) if k > 1 else np.ones(1)
        self.best = [(self.evaluate(x)[0], noise, x) for _, noise, x in self.best]

    def decode(self, x):
        x = np.clip(np.asarray(x, dtype=float), -50, 50)
        u = np.clip(x[1:], -_U_MAX, _U_MAX)
        k = np.tanh(u)
        L = self.order
        return math.exp(float(x[0])), _step_up(k[:L]), _step_up(k[L:])

    def encode(self, f: ARMAFilter, eta: float):
        """x for the filter f (padded to the order, scaled to b[0] = 1)."""
        b, a = f.padded()
        b = np.asarray(b, float)
        if b[0] <= 0:
            raise ValueError("a start needs b[0] > 0")
        eta = eta * b[0]
        b = b / b[0]
        L = self.order
        if f.order > L:
            raise ValueError("a start of a higher order than the design")
        a = np.r_[a, np.zeros(L + 1 - len(a))]
        b = np.r_[b, np.zeros(L + 1 - len(b))]
        ka = np.clip(_step_down(a), -_K_MAX, _K_MAX)
        kb = np.clip(_step_down(b), -_K_MAX, _K_MAX)
        return np.r_[math.log(eta), np.arctanh(ka), np.arctanh(kb)]

    def evaluate(self, x):
        """(grid rate, noise gain or None)."""
        eta, a, b = self.decode(x)
        rate = float(_radii(a, b, eta * self.lam).max())
        noise = None
        if self.bound is not None and rate < 1.0:
            noise = _noise(b, a, eta, self.noise, checked=True)     # lam[-1] = 1
        return rate, noise

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


def _best_feasible_classic(problem: _Problem, family, params, etas):
    """Best feasible (grid rate) point of a classic family over a grid."""
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


def _sgd_start(problem: _Problem):
    """Plain SGD with the largest step the bound allows (always feasible)."""
    kappa, bound = problem.kappa, problem.bound
    eta = 2.0 * kappa / (kappa + 1.0)
    if bound is not None:
        if problem.noise == "gradient":
            eta = min(eta, 2.0 * bound / (1.0 + bound))            # eta/(2 - eta) = bound
        elif bound >= 1.0:
            eta = min(eta, 1.0 + math.sqrt(1.0 - 1.0 / bound))      # 1/(eta (2 - eta)) = bound
        else:
            eta = 1.0
    return problem.encode(F.identity(), eta)


def _nelder_mead(problem: _Problem, x0, maxiter, tol, restarts=2):
    x, value = np.asarray(x0, float), problem.objective(x0)
    for _ in range(restarts):           # restarted from where it stopped
        res = optimize.minimize(problem.objective, x, method="Nelder-Mead",
                                options={"maxiter": maxiter, "xatol": tol, "fatol": tol * 1e-3,
                                         "adaptive": True})
        improved = res.fun < value - 1e-12
        if res.fun <= value:
            x, value = res.x, float(res.fun)
        if not improved:
            break
    return x, value


def _slsqp(problem: _Problem, x0, maxiter):
    """The epigraph form: min t subject to t >= rate(lambda_j), log noise <= log bound.

    SLSQP; the Jacobian of the rates by forward differences, all perturbed
    points and curvatures in one batched eigenvalue call.
    """
    x0 = np.asarray(x0, float)
    n = len(x0)
    h = 1e-7

    def decoded(xs):
        d = [problem.decode(x) for x in xs]
        return (np.array([e for e, _, _ in d]), np.array([a for _, a, _ in d]),
                np.array([b for _, _, b in d]))

    def radii(x):
        eta, a, b = decoded([x])
        return _radii_many(a, b, eta[:, None] * problem.lam[None])[0]

    def radii_jac(x):
        xs = [x] + [x + h * e for e in np.eye(n)]
        eta, a, b = decoded(xs)
        r = _radii_many(a, b, eta[:, None] * problem.lam[None])
        return np.c_[-((r[1:] - r[0]) / h).T, np.ones(len(problem.lam))]

    def log_noise(x):
        eta, a, b = problem.decode(x)
        value = _noise(b, a, eta, problem.noise)
        return math.log(value) if 0 < value < math.inf else 50.0

    def log_noise_jac(x):
        f0 = log_noise(x)
        return np.r_[[-(log_noise(x + h * e) - f0) / h for e in np.eye(n)], 0.0]

    y0 = np.r_[x0, min(float(radii(x0).max()), 2.0)]
    constraints = [{"type": "ineq", "fun": lambda y: y[-1] - radii(y[:-1]),
                    "jac": lambda y: radii_jac(y[:-1])}]
    if problem.bound is not None:
        margin = math.log(problem.bound) - 1e-9
        constraints.append({"type": "ineq", "fun": lambda y: margin - log_noise(y[:-1]),
                            "jac": lambda y: log_noise_jac(y[:-1])[None]})
    bounds = [(-30.0, 5.0)] + [(-_U_MAX, _U_MAX)] * (n - 1) + [(0.0, 3.0)]
    grad = np.r_[np.zeros(n), 1.0]
    try:
        with np.errstate(all="ignore"):
            res = optimize.minimize(lambda y: y[-1], y0, jac=lambda y: grad, method="SLSQP",
                                    bounds=bounds, constraints=constraints,
                                    options={"maxiter": maxiter, "ftol": 1e-12})
    except (ValueError, np.linalg.LinAlgError, OverflowError):
        return x0
    return _repair(problem, res.x[:-1])


def _repair(problem: _Problem, x):
    """Nudges eta until a point that misses the bound by a hair meets it."""
    x = np.array(x, dtype=float)
    if problem.bound is None:
        return x
    for k in range(30):
        rate, noise = problem.evaluate(x)
        if rate < 1.0 and noise <= problem.bound:
            return x
        step = 1e-9 * 2.0 ** k
        for sign in (-1.0, 1.0):
            y = x.copy()
            y[0] += sign * step
            rate, noise = problem.evaluate(y)
            if rate < 1.0 and noise <= problem.bound:
                return y
    return x


def _search(problem: _Problem, starts, seed, n_random, maxiter):
    rng = np.random.default_rng(seed)
    L = problem.order
    xs = [(name, np.asarray(x, float)) for name, x in starts]
    for i in range(n_random):
        eta = 4.0 * math.exp(rng.normal(0.0, 0.7)) / (1.0 + math.sqrt(problem.kappa))
        u = np.arctanh(rng.uniform(-0.95, 0.95, 2 * L))
        xs.append((f"random {i + 1}", np.r_[math.log(eta), u]))
    results = []
    for name, x0 in xs:         # from every start: SLSQP, then Nelder-Mead from the better
        start_value = problem.objective(x0)
        problem.candidates.append(x0)
        x1 = _slsqp(problem, x0, maxiter // 4)
        v1 = problem.objective(x1)
        x, value = _nelder_mead(problem, x1 if v1 <= start_value else x0, maxiter // 2, 1e-7,
                                restarts=1)
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


def _finish(problem: _Problem):
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


def _score(problem: _Problem, x):
    """(refined rate, eta, a, b, x) for a feasible, stable point, else None."""
    eta, a, b = problem.decode(x)
    if problem.bound is not None and not _noise(b, a, eta, problem.noise) <= problem.bound:
        x = _repair(problem, x)             # a hair over the bound (rounding)?
        eta, a, b = problem.decode(x)
        if not _noise(b, a, eta, problem.noise) <= problem.bound:
            return None
    rate = _refined(b, a, eta, problem.kappa)
    return (rate, eta, a, b, x) if rate < 1.0 else None


@functools.lru_cache(maxsize=256)
def _design(kappa, order, bound, noise, n_curvatures, seed, n_random, maxiter, extra):
    problem = _Problem(kappa, order, bound, noise, n_curvatures)
    hb = A.heavy_ball_optimum(kappa)
    nv = nesterov_optimum(kappa)
    starts = [("Nesterov optimum", problem.encode(F.nesterov(nv["momentum"]), nv["learning_rate"])),
              ("plain SGD", _sgd_start(problem))]
    if order == 1:
        starts.insert(0, ("heavy ball optimum",
                          problem.encode(F.trace(hb["momentum"]), hb["learning_rate"])))
        if bound is not None:
            etas = np.geomspace(1e-3, 4.0, 28)
            moms = np.r_[0.0, 1.0 - np.geomspace(0.9, 2e-3, 20)]
            for name, fam in (("heavy ball", F.trace), ("Nesterov", F.nesterov)):
                found = _best_feasible_classic(problem, fam, moms, etas)
                if found is not None:
                    starts.append((f"best feasible {name} on a grid", found[1]))
    else:       # the lower order's design already started from heavy ball's optimum
        lower = _design(kappa, order - 1, bound, noise, n_curvatures, seed, n_random,
                        maxiter, ())[0]
        if lower is not None:
            starts.insert(0, (f"order-{order - 1} design, padded",
                              problem.encode(lower.filter, lower.learning_rate)))
    for i, (b, a, eta) in enumerate(extra):
        try:
            starts.append((f"given start {i + 1}", problem.encode(ARMAFilter(b, a), eta)))
        except ValueError:
            pass
    results = _search(problem, starts, seed, n_random, maxiter)
    best = _finish(problem)
    if best is None:
        return None, problem, results
    rate, eta, a, b, _ = best
    f = ARMAFilter(b, a)
    noise_value = _noise(b, a, eta, noise)
    winner = min(results, key=lambda t: t[2])
    method = (f"SLSQP (epigraph form) then Nelder-Mead on log(eta) and the reflection "
              f"coefficients of A and B "
              f"(b[0] = 1), {len(results)} starts ({', '.join(r[0] for r in results)}), "
              f"{n_curvatures} curvatures per evaluation, {problem.evaluations} evaluations; "
              f"best from '{winner[0]}'; rate re-checked on 2049 curvatures plus local maxima")
    bound_text = "no noise bound" if bound is None else f"noise gain <= {bound:.6g} ({noise})"
    hb_noise = loop_noise_gain(F.trace(hb["momentum"]), hb["learning_rate"], noise)
    message = (f"order {order}, kappa {kappa:g}, {bound_text}: worst-case rate {rate:.6f} with "
               f"eta {eta:.6g}, noise gain at lambda = 1 {noise_value:.6g}; heavy ball optimum "
               f"{hb['rate']:.6f} (noise {hb_noise:.6g}), Nesterov optimum {nv['rate']:.6f}")
    if f.order < order:
        message += (f"; the optimum found has effective order {f.order} (the extra "
                    "coefficients came out zero)")
    design = Design(f, float(eta), float(rate), float(noise_value), kappa, order, method, message,
                    noise, bound)
    return design, problem, results


def design_filter(kappa: float, order: int = 2, max_noise_gain: float | None = None,
                  n_curvatures: int = 32, seed: int = 0, *, noise: str = "gradient",
                  n_random: int = 2, maxiter: int = 400, starts=()) -> Design:
    """The ARMA gradient filter and learning rate with the best worst-case rate.

    Minimises max over lambda in [1/kappa, 1] of the closed-loop rate
    (``n_curvatures`` log-spaced curvatures while searching, 2049 plus local
    maxima for the answer) over filters H = B/A of the given order with
    b[0] = 1 and poles and zeros strictly inside the unit circle
    (parametrised by the reflection coefficients of A and B, each in
    (-1, 1)) and over eta > 0, subject, when ``max_noise_gain`` is given, to
    the noise gain at lambda = 1 staying under it (``noise``: see the module
    docstring). Nelder-Mead, restarted, from heavy ball's and Nesterov's
    optima, plain SGD, the best feasible heavy ball and Nesterov points of a
    grid (with a bound), the design of order - 1 padded (order > 1), the
    (filter, learning_rate) pairs in ``starts`` and ``n_random`` random
    points (``seed``). Infeasible points are penalised; the answer is the
    best feasible point evaluated.

    Without a bound, order 1 gives Polyak's heavy ball, rate
    (sqrt(kappa) - 1)/(sqrt(kappa) + 1), and no order does better (that is
    the best rate of any stationary linear method on this class); a higher
    order never does worse, since it starts from the lower one padded. With
    a bound the higher orders can trade better.

    Raises:
        ValueError: kappa < 1, order outside 1..8, a bound no stable filter
            reaches (the message gives the smallest noise gain found).
    """
    kappa = _check_kappa(kappa)
    order = _check_order(order)
    noise = _check_noise(noise)
    bound = _check_bound(max_noise_gain, noise)
    for value, name, low in ((n_curvatures, "n_curvatures", 8), (n_random, "n_random", 0),
                             (maxiter, "maxiter", 10)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    extra = []
    for item in starts:
        f, eta = (item.filter, item.learning_rate) if isinstance(item, Design) else item
        extra.append((tuple(f.b), tuple(f.a), float(eta)))
    if bound is not None and noise == "update" and bound < 1.0:
        found = _smallest_noise(kappa, order, noise)
        raise ValueError(
            f"`max_noise_gain`={bound:g} is below what any stable filter can reach: the smallest "
            f"noise gain at lambda = 1 found is {found:.6g} (noise='update': the impulse response "
            "from d to theta starts with b[0] = 1, so the noise gain is at least 1; plain SGD "
            "with eta = 1 reaches it).")
    design, problem, _ = _design(kappa, order, bound, noise, int(n_curvatures), int(seed),
                                 int(n_random), int(maxiter), tuple(extra))
    if design is None:
        found = _smallest_noise(kappa, order, noise)
        raise ValueError(
            f"`max_noise_gain`={bound:g} is below what any stable filter found reaches: the "
            f"smallest noise gain at lambda = 1 found is {found:.6g}.")
    return design


def _smallest_noise(kappa, order, noise) -> float:
    """The smallest noise gain at lambda = 1 over stable loops that were found."""
    problem = _Problem(kappa, order, None, noise, 32)

    def objective(x):
        eta, a, b = problem.decode(x)
        if _radii(a, b, eta * problem.lam).max() >= 1.0:
            return 1e300
        return _noise(b, a, eta, noise)

    best = math.inf
    for eta in (1e-3, 0.5, 1.0):
        x0 = problem.encode(F.identity(), eta)
        res = optimize.minimize(objective, x0, method="Nelder-Mead", options={"maxiter": 2000})
        best = min(best, float(res.fun), objective(x0))
    return best


# -- the trade-off curves ----------------------------------------------------------------


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
    """(eta, worst-case rate): the smallest eta with the least worst-case rate."""
    b, a = (np.asarray(c, float) for c in f.padded())
    lam = np.geomspace(1.0 / kappa, 1.0, n_curvatures) if kappa > 1 else np.ones(1)
    gain = abs(f.dc_gain) if np.isfinite(f.dc_gain) and f.dc_gain != 0 else 1.0
    etas = np.geomspace(1e-4, 20.0, 500) / gain
    rates = np.array([_radii(a, b, eta * lam).max() for eta in etas])
    best = float(rates.min())
    i = int(np.argmax(rates <= best + 1e-9))
    if i > 0:       # the left edge of the optimal set, by bisection
        lo, hi = etas[i - 1], etas[i]
        for _ in range(40):
            mid = math.sqrt(lo * hi)
            if _radii(a, b, mid * lam).max() <= best + 1e-9:
                hi = mid
            else:
                lo = mid
        eta = hi
    else:
        eta = etas[0]
    lo, hi = etas[max(i - 1, 0)], etas[min(i + 1, len(etas) - 1)]
    res = optimize.minimize_scalar(lambda t: _radii(a, b, math.exp(t) * lam).max(),
                                   bounds=(math.log(lo), math.log(hi)), method="bounded",
                                   options={"xatol": 1e-10})
    if float(res.fun) < best - 1e-9:
        eta = math.exp(float(res.x))
    return float(eta), _refined(b, a, float(eta), kappa)


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

    - ``"heavy_ball"``: momentum swept (``parameters``, default 0 to 0.995
      and the optimum's), each with its best learning rate (the smallest one
      with the least worst-case rate);
    - ``"nesterov"``: the same for Bengio's Nesterov filter;
    - ``"butterworth"``: order-2 Butterworth (unit DC gain), cutoff swept
      (fraction of Nyquist, default 0.01 to 0.9), best learning rate each;
    - ``"designed"``: :func:`design_filter` of ``order`` with the noise bound
      swept (default: ``n_points`` log-spaced bounds from the noise gain of
      heavy ball's optimum, which is the unbounded design, down by 10^3);
      order L starts from the design of order L - 1 at the same bound
      (cached, so sweeping orders 1 to 4 costs little more than order 4).

    Returns a :class:`Tradeoff` of arrays.
    """
    kappa = _check_kappa(kappa)
    noise = _check_noise(noise)
    if family not in FAMILIES:
        raise ValueError(f"`family` must be one of {list(FAMILIES)}. Received: family={family!r}")
    if isinstance(n_points, bool) or not isinstance(n_points, numbers.Integral) or n_points < 2:
        raise ValueError(f"`n_points` must be an integer >= 2. Received: n_points={n_points!r}")
    sweep = np.r_[0.0, 1.0 - np.geomspace(0.9, 0.005, n_points - 1)]
    if family == "heavy_ball":
        params = parameters if parameters is not None else \
            np.union1d(sweep, [A.heavy_ball_optimum(kappa)["momentum"]])
        return _classic_curve(family, "heavy ball", "momentum", params, F.trace, kappa, noise)
    if family == "nesterov":
        params = parameters if parameters is not None else \
            np.union1d(sweep, [nesterov_optimum(kappa)["momentum"]])
        return _classic_curve(family, "Nesterov", "momentum", params, F.nesterov, kappa, noise)
    if family == "butterworth":
        params = parameters if parameters is not None else np.geomspace(0.01, 0.9, n_points)
        return _classic_curve(family, "Butterworth, order 2", "cutoff", params,
                              lambda c: F.butterworth(2, float(c)), kappa, noise)
    order = _check_order(order)
    if parameters is None:     # from heavy ball's optimum (the unbounded design) down by 10^3
        hb = A.heavy_ball_optimum(kappa)
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
