"""The closed loop on a quadratic: characteristic polynomial, rates, noise gains, optima.

On the quadratic C = lambda theta^2 / 2 with the learning rate eta, the
optimizer's gradient filter H(z) = B(z)/A(z) sees g[i] = -eta lambda
theta[i-1] and updates theta[i] = theta[i-1] + Delta[i], Delta = H{g}. With
step = eta lambda the loop's characteristic polynomial is

    P(z^-1) = A(z^-1) (1 - z^-1) + step z^-1 B(z^-1),

and the error shrinks like rho^i, rho = the largest |root| (the spectral
radius): :func:`quadratic_rate`. rho < 1 is stability; for heavy-ball
momentum, tuned for curvatures in [1/kappa, 1], the best worst-case rho is
(sqrt(kappa) - 1)/(sqrt(kappa) + 1) (Polyak).

numpy and scipy only: nothing here imports a deep-learning backend.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from scipy import signal

from ..signal import realisation
from ..signal.arma import ARMAFilter
from .responses import filter_of

__all__ = [
    "characteristic_polynomial",
    "quadratic_rate",
    "worst_case_rate",
    "rate_map",
    "optimal_hyperparameters",
    "heavy_ball_optimum",
    "simulate_closed_loop",
    "noise_gain",
    "gradient_noise_gain",
]


# -- the closed loop on a quadratic -------------------------------------------------


def characteristic_polynomial(gradient_filter: ARMAFilter | None, step: float) -> np.ndarray:
    """P(z^-1) = A(z^-1)(1 - z^-1) + step z^-1 B(z^-1), ascending powers."""
    f = gradient_filter or ARMAFilter([1.0])
    b, a = f.padded()
    p = np.convolve(a, [1.0, -1.0])
    p[1:] += float(step) * np.asarray(b)
    return p


def quadratic_rate(gradient_filter, step) -> float | np.ndarray:
    """Worst-case contraction factor of the closed loop on C = lambda theta^2/2.

    theta[i] = theta[i-1] + Delta[i], Delta = H{g}, g[i] = -step theta[i-1],
    step = eta * lambda. Returns the spectral radius (largest |root| of
    :func:`characteristic_polynomial`); < 1 means convergence, and the error
    falls like rate^i. ``step`` may be an array. For normalised optimizers
    (Adam ...) this is the rate of the gradient filter alone, as if the
    normaliser were a fixed gain folded into eta.

    Heavy ball, H = 1/(1 - beta z^-1): z^2 - (1 + beta - step) z + beta.
    """
    f = gradient_filter if isinstance(gradient_filter, ARMAFilter) or gradient_filter is None \
        else filter_of(gradient_filter)
    steps = np.asarray(step, dtype=float)
    flat = [_radius(characteristic_polynomial(f, s)) for s in steps.ravel()]
    out = np.array(flat).reshape(steps.shape)
    return float(out) if out.ndim == 0 else out


def _radius(p) -> float:
    p = np.trim_zeros(np.asarray(p, dtype=float), "b")
    if len(p) <= 1:
        return 0.0
    return float(np.max(np.abs(np.roots(p))))


def worst_case_rate(gradient_filter, learning_rate: float, kappa: float, n: int = 65) -> float:
    """max over curvatures lambda in [1/kappa, 1] of :func:`quadratic_rate`."""
    if not kappa >= 1:
        raise ValueError(f"`kappa` must be >= 1. Received: kappa={kappa}")
    lam = np.geomspace(1.0 / kappa, 1.0, n)
    return float(np.max(quadratic_rate(gradient_filter, learning_rate * lam)))


def rate_map(family: Callable[[float], ARMAFilter], steps, params) -> np.ndarray:
    """Rates over a grid: ``out[i, j] = quadratic_rate(family(params[i]), steps[j])``.

    ``family`` maps a hyperparameter to a filter (``filters.trace`` for
    heavy ball). rate >= 1 marks the unstable region.
    """
    steps = np.asarray(steps, dtype=float)
    return np.array([quadratic_rate(family(p), steps) for p in params])


def heavy_ball_optimum(kappa: float) -> dict:
    """Polyak's optimum for curvatures in [1/kappa, 1] (closed form)."""
    sk = math.sqrt(kappa)
    return {
        "momentum": ((sk - 1) / (sk + 1)) ** 2,
        "learning_rate": 4.0 / (1.0 + 1.0 / sk) ** 2,
        "rate": (sk - 1) / (sk + 1),
    }


def optimal_hyperparameters(
    family: Callable[..., ARMAFilter],
    kappa: float,
    bounds: Sequence[tuple[float, float]],
    starts: Sequence[Sequence[float]] | None = None,
    lr_bounds: tuple[float, float] = (1e-3, 10.0),
) -> dict:
    """The learning rate and filter hyperparameters with the best worst-case rate.

    Minimises :func:`worst_case_rate` over (eta, *params) with
    ``scipy.optimize`` (a coarse grid, then Nelder-Mead from the best grid
    points and from ``starts``). ``bounds`` bound the filter's parameters.
    Returns ``{"learning_rate", "params", "rate"}``.
    """
    from scipy import optimize

    if not kappa >= 1:
        raise ValueError(f"`kappa` must be >= 1. Received: kappa={kappa}")
    all_bounds = [lr_bounds, *bounds]

    def objective(x):
        if any(not lo <= v <= hi for v, (lo, hi) in zip(x, all_bounds)):
            return 2.0
        try:
            f = family(*x[1:])
        except ValueError:
            return 2.0
        return min(worst_case_rate(f, x[0], kappa, n=41), 2.0)

    grids = [np.geomspace(*lr_bounds, 12)] + [np.linspace(lo, hi, 9)[1:-1] for lo, hi in bounds]
    mesh = np.array(np.meshgrid(*grids, indexing="ij")).reshape(len(grids), -1).T
    values = np.array([objective(x) for x in mesh])
    candidates = [mesh[i] for i in np.argsort(values)[:4]] + [np.asarray(s, float) for s in starts or []]
    best = None
    for x0 in candidates:
        res = optimize.minimize(objective, x0, method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    x = best.x
    return {
        "learning_rate": float(x[0]),
        "params": [float(v) for v in x[1:]],
        "rate": worst_case_rate(family(*x[1:]), x[0], kappa, n=257),
    }


def simulate_closed_loop(gradient_filter: ARMAFilter | None, step: float, n: int,
                         theta0: float = 1.0) -> np.ndarray:
    """theta[0..n] of the loop itself (to check :func:`quadratic_rate`)."""
    f = gradient_filter or ARMAFilter([1.0])
    z = [0.0] * f.order
    theta = [theta0]
    for _ in range(n):
        delta, z = realisation.run(f, -step * theta[-1], z)
        theta.append(theta[-1] + delta)
    return np.array(theta)


# -- noise in the closed loop (appended: the designer's second criterion) ----------


def _loop_filter(gradient_filter) -> ARMAFilter:
    if gradient_filter is None:
        return ARMAFilter([1.0])
    if isinstance(gradient_filter, ARMAFilter):
        return gradient_filter
    return filter_of(gradient_filter) or ARMAFilter([1.0])


def _noise_gain_one(f: ARMAFilter, step: float) -> float:
    from scipy import linalg

    p = characteristic_polynomial(f, step)
    if _radius(p) >= 1.0:
        return float("inf")
    b, _ = f.padded()
    num = np.r_[np.asarray(b, dtype=float), 0.0]          # z^-1 B(z^-1)/z^-1: same length as p
    # T(z) = B(z^-1) / P(z^-1); both have len(p) coefficients, so the same
    # arrays read in descending powers of z give T as a proper rational in z.
    am, bm, cm, dm = signal.tf2ss(num, p)
    if am.size == 0:
        return float(dm[0, 0] ** 2)
    x = linalg.solve_discrete_lyapunov(am, bm @ bm.T)
    return float(dm[0, 0] ** 2 + (cm @ x @ cm.T)[0, 0])


def noise_gain(gradient_filter, step) -> float | np.ndarray:
    """Noise gain of the closed loop on C = lambda theta^2/2: sum of h_d[n]^2.

    The loop of :func:`quadratic_rate` with a disturbance d added to the
    filter's input::

        g[i] = -step theta[i-1] + d[i],   Delta = H{g},   theta[i] = theta[i-1] + Delta[i]

    so Theta (1 - z^-1) = H(z) (D - step z^-1 Theta), and the transfer
    function from d to theta is

        T(z) = B(z^-1) / P(z^-1),   P = A(1 - z^-1) + step z^-1 B

    (P is :func:`characteristic_polynomial`; T(infinity) = b[0]). The noise
    gain is ||T||_2^2 = sum_n h_d[n]^2: for white d of variance sigma^2 the
    stationary variance of theta is noise_gain * sigma^2. It is computed
    exactly, from a state-space realisation (A_s, B_s, C_s, D_s) of T
    (``scipy.signal.tf2ss``) and the discrete Lyapunov equation
    X = A_s X A_s^T + B_s B_s^T (``scipy.linalg.solve_discrete_lyapunov``):
    noise_gain = D_s^2 + C_s X C_s^T. ``inf`` where the loop is unstable
    (:func:`quadratic_rate` >= 1).

    Plain SGD (H = 1): theta[i] = (1 - step) theta[i-1] + d[i], noise gain
    1 / (1 - (1 - step)^2). ``step`` may be an array.

    Here d enters *after* the learning rate (it is in the units of
    -eta * gradient, the filter's input). Noise in the gradient itself,
    n with g = -eta (lambda theta + n), is d = -eta n: see
    :func:`gradient_noise_gain`, which, unlike this number, does not change
    when the filter is scaled by c and the learning rate by 1/c.
    """
    f = _loop_filter(gradient_filter)
    steps = np.asarray(step, dtype=float)
    out = np.array([_noise_gain_one(f, s) for s in steps.ravel()]).reshape(steps.shape)
    return float(out) if out.ndim == 0 else out


def gradient_noise_gain(gradient_filter, learning_rate: float, curvature: float = 1.0) -> float:
    """Variance of theta per unit variance of white noise in the *gradient*.

    With g = -eta (lambda theta + n) (the learning rate before the filter, as
    in SGD), the disturbance at the filter's input is d = -eta n, so this is
    eta^2 * noise_gain(H, eta * lambda) = noise_gain(eta * H, lambda): the
    noise gain of the optimizer's whole gradient-to-update filter eta H at
    step = lambda. It depends on eta and H only through eta H. For plain SGD
    at lambda = 1 it is eta / (2 - eta): the LMS misadjustment, larger for a
    larger step.
    """
    f = _loop_filter(gradient_filter)
    eta = float(learning_rate)
    return float(eta * eta * noise_gain(f, eta * float(curvature)))
