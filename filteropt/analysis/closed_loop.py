"""The closed loop on a quadratic: characteristic polynomial, rates, noise gains, stability, optima.

On the quadratic C = lambda theta^2 / 2 with the learning rate eta, the
optimizer's gradient filter H(z) = B(z^-1)/A(z^-1) sees x[i] = -eta g[i] =
-eta lambda theta[i-1] (whether eta scales the filter's input or its output
makes no difference to a linear time-invariant loop), and the parameter
follows it, with decoupled weight decay lambda_wd (AdamW's, any Keras
optimizer's ``weight_decay``; see :meth:`filteropt.recipes.Recipe.decayed`)::

    Delta = H{x},   theta[i] = (1 - eta lambda_wd) theta[i-1] + Delta[i].

Two numbers describe the loop: ``step`` = eta lambda and ``decay`` =
eta lambda_wd. From Theta(z) (1 - (1 - decay) z^-1) = -step z^-1 H(z) Theta(z)
the loop's characteristic polynomial is

    P(z^-1) = A(z^-1) (1 - (1 - decay) z^-1) + step z^-1 B(z^-1):

the decay moves the integrator's pole from z = 1 to z = 1 - decay (at
step = 0 the loop's poles are A's and 1 - decay), and decay = 0 is the loop
without weight decay. The error shrinks like rho^i, rho the spectral radius
(the largest |root| in z, :func:`quadratic_rate`); rho < 1 is stability
(:func:`is_stable`). For heavy-ball momentum tuned for curvatures in
[1/kappa, 1] the best worst-case rho is (sqrt(kappa) - 1)/(sqrt(kappa) + 1)
(Polyak; :func:`heavy_ball_optimum`, :func:`nesterov_optimum`).

The arguments mean the same throughout:

- ``gradient_filter``: an :class:`~filteropt.ARMAFilter`, None (plain SGD,
  H = 1), or anything :func:`filteropt.analysis.as_recipe` takes (a name
  spec, a Recipe, a filteropt optimizer), analysed through its LTI gradient
  filter. A normalised optimizer (Adam ...) is analysed as if the normaliser
  were a fixed gain folded into eta, that is into ``step``. The decay is not
  normalised: theta is decayed with the learning rate itself, outside the
  normaliser, so decay = eta lambda_wd with eta the learning rate.
- ``decay``: eta lambda_wd, given explicitly (``decay=0`` analyses AdamW
  without its decay). None, the default, reads it from the recipe:
  decay = eta * recipe.weight_decay, with eta the ``learning_rate``
  argument, or else the optimizer's own learning rate (a filteropt
  optimizer), or else the recipe's ``hyperparameters["learning_rate"]``; 0
  for a bare filter and for a recipe without weight decay. So the analysis
  of ``filteropt.AdamW()`` or ``"adamw"`` differs from Adam's by exactly the
  moved pole. A recipe with weight decay and no learning rate to be found
  raises ValueError naming ``learning_rate``.

The kernels under the public functions (:func:`polynomials`,
:func:`spectral_radii`, :func:`loop_h2`, :func:`gradient_h2`,
:func:`worst_radius`) take coefficient arrays and are vectorised over steps
(and filters); with the argument checks :func:`check_kappa` and
:func:`check_count` they are not re-exported by :mod:`filteropt.analysis`.
The designer (:mod:`filteropt.design`) calls them in its inner loop, so each
formula is written once, here: the module is long because the kernels and
the public functions built on them stay together.

numpy and scipy only: nothing here imports a deep-learning backend.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize

from ..recipes import Recipe
from ..recipes.core import decayed
from ..signal import realisation
from ..signal.arma import ARMAFilter
from .responses import as_recipe

__all__ = [
    "characteristic_polynomial",
    "closed_loop_poles",
    "gradient_noise_gain",
    "heavy_ball_optimum",
    "is_stable",
    "nesterov_optimum",
    "noise_gain",
    "optimal_hyperparameters",
    "quadratic_rate",
    "rate_map",
    "simulate_closed_loop",
    "worst_case_rate",
]

#: Curvatures on the grid of :func:`worst_case_rate` before its local maximisation.
WORST_CASE_GRID = 2049


# -- kernels: coefficient arrays in, arrays out --------------------------------------


def polynomials(b, a, steps, decay: float = 0.0) -> np.ndarray:
    """P(z^-1) = A(z^-1) (1 - (1 - decay) z^-1) + s z^-1 B(z^-1) for each s in ``steps``.

    ``b``, ``a``: padded coefficients of shape (..., L + 1) with a[..., 0] = 1;
    ``steps``: shape (..., m). Returns shape (..., m, L + 2), ascending powers
    of z^-1.
    """
    b, a = np.asarray(b, dtype=float), np.asarray(a, dtype=float)
    steps = np.asarray(steps, dtype=float)
    shape = a.shape[:-1] + (a.shape[-1] + 1,)
    loop = np.zeros(shape)
    loop[..., :-1] = a
    loop[..., 1:] -= (1.0 - decay) * a
    delayed = np.zeros(shape)
    delayed[..., 1:] = b
    return loop[..., None, :] + steps[..., :, None] * delayed[..., None, :]


def _companion(p) -> np.ndarray:
    """The companion matrices of monic polynomials p (..., n + 1): first row
    -p[1:], ones below the diagonal; their eigenvalues are the roots in z."""
    n = p.shape[-1] - 1
    companion = np.zeros(p.shape[:-1] + (n, n))
    companion[..., 0, :] = -p[..., 1:]
    below = np.arange(n - 1)
    companion[..., below + 1, below] = 1.0
    return companion


def _radius(p) -> np.ndarray:
    """max |root| in z of each polynomial p (..., n + 1), p[..., 0] != 0: the
    eigenvalues of the companion matrices, all in one call."""
    p = np.asarray(p, dtype=float)
    return np.abs(np.linalg.eigvals(_companion(p / p[..., :1]))).max(axis=-1)


def spectral_radii(b, a, steps, decay: float = 0.0) -> np.ndarray:
    """The spectral radius of :func:`polynomials` ``(b, a, steps, decay)``: shape (..., m)."""
    return _radius(polynomials(b, a, steps, decay))


def loop_h2(b, a, step: float, decay: float = 0.0, stable: bool = False) -> float:
    """||T||_2^2 for T = B(z^-1)/P(z^-1) at one ``step`` (:func:`noise_gain`'s kernel).

    From a controllable realisation of T (companion A_s with first row
    -p[1:], B_s = e_1, C_s = num[1:] - D_s p[1:], D_s = b[0]; num = [b, 0]
    has P's length) and the discrete Lyapunov equation
    X = A_s X A_s^T + B_s B_s^T, solved as (I - A_s (x) A_s) vec X = vec
    B_s B_s^T: D_s^2 + C_s X C_s^T. ``inf`` where the loop is unstable;
    ``stable=True`` skips that test (the caller knows).
    """
    p = polynomials(b, a, [step], decay)[0]
    if not stable and _radius(p) >= 1.0:
        return math.inf
    n = len(p) - 1
    num = np.r_[np.asarray(b, dtype=float), 0.0]
    d = num[0]
    c = (num - d * p)[1:]
    companion = _companion(p)
    q = np.zeros((n, n))
    q[0, 0] = 1.0
    try:
        x = np.linalg.solve(np.eye(n * n) - np.kron(companion, companion), q.ravel()).reshape(n, n)
    except np.linalg.LinAlgError:
        return math.inf
    value = float(d * d + c @ x @ c)
    return value if value >= 0 else math.inf


def gradient_h2(
    b, a, learning_rate: float, curvature: float = 1.0, decay: float = 0.0, stable: bool = False
) -> float:
    """eta^2 ||T||_2^2 at step eta * curvature (:func:`gradient_noise_gain`'s kernel)."""
    eta = float(learning_rate)
    return eta * eta * loop_h2(b, a, eta * float(curvature), decay, stable)


def worst_radius(
    b, a, learning_rate: float, kappa: float, decay: float = 0.0, n: int = WORST_CASE_GRID
) -> float:
    """max over lambda in [1/kappa, 1] of the spectral radius at step eta * lambda.

    ``n`` log-spaced curvatures, then a bounded scalar maximisation
    (``scipy.optimize.minimize_scalar``) between the neighbours of each of the
    four largest, so that no bad curvature hides between grid points
    (:func:`worst_case_rate`'s kernel).
    """
    eta = float(learning_rate)
    loglam = np.linspace(-math.log(kappa), 0.0, n) if kappa > 1 else np.zeros(1)
    r = spectral_radii(b, a, eta * np.exp(loglam), decay)
    best = float(r.max())
    if len(loglam) < 3:
        return best
    for i in np.argsort(r)[::-1][:4]:
        lo, hi = loglam[max(i - 1, 0)], loglam[min(i + 1, n - 1)]
        res = optimize.minimize_scalar(
            lambda t: -float(spectral_radii(b, a, [eta * math.exp(t)], decay)[0]),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-10},
        )
        best = max(best, -float(res.fun))
    return best


# -- arguments -------------------------------------------------------------------------


def check_kappa(kappa) -> float:
    """kappa as a float; ValueError unless it is a finite real number >= 1."""
    if isinstance(kappa, bool) or not isinstance(kappa, numbers.Real) or not math.isfinite(kappa):
        raise ValueError(f"`kappa` must be a finite real number >= 1. Received: kappa={kappa!r}")
    if not float(kappa) >= 1.0:
        raise ValueError(
            f"`kappa` must be >= 1 (the ratio of the largest curvature to the smallest). "
            f"Received: kappa={kappa!r}"
        )
    return float(kappa)


def _real(
    value: float | np.ndarray, name: str, low: float | None = None, strict: bool = False
) -> float:
    """A finite real scalar (TypeError if not a number), >= low (> low when strict)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (numbers.Real, np.ndarray))
        or np.ndim(value) != 0
    ):
        raise TypeError(f"`{name}` must be a real number. Received: {name}={value!r}")
    v = float(value)
    if not math.isfinite(v) or (low is not None and (v <= low if strict else v < low)):
        bound = "" if low is None else f" {'>' if strict else '>='} {low:g}"
        raise ValueError(f"`{name}` must be a finite number{bound}. Received: {name}={value!r}")
    return v


def _steps(step, name: str = "step") -> np.ndarray:
    try:
        steps = np.asarray(step, dtype=float)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"`{name}` must be a real number or an array of them. Received: {name}={step!r}"
        ) from e
    if not np.all(np.isfinite(steps)):
        raise ValueError(f"`{name}` must be finite. Received: {name}={step!r}")
    return steps


def check_count(value, name: str, low: int) -> int:
    """An integer >= low; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


def _own_learning_rate(obj, recipe) -> float | None:
    """A filteropt optimizer's current learning rate, else the recipe's, else None."""
    if not isinstance(obj, (str, Recipe)) and getattr(obj, "learning_rate", None) is not None:
        try:
            return float(np.asarray(obj.learning_rate))
        except (TypeError, ValueError):
            pass
    lr = recipe.hyperparameters.get("learning_rate")
    return None if lr is None else float(lr)


def _loop(gradient_filter, decay, learning_rate) -> tuple[ARMAFilter, float]:
    """(the gradient filter, the decay eta lambda_wd) of the loop (module docstring)."""
    recipe = None
    if gradient_filter is None:
        f = ARMAFilter([1.0])
    elif isinstance(gradient_filter, ARMAFilter):
        f = gradient_filter
    else:
        try:
            recipe = as_recipe(gradient_filter)
        except TypeError as e:
            raise TypeError(
                "`gradient_filter` must be an ARMAFilter, None (plain SGD), an optimizer name, "
                f"a Recipe or a filteropt optimizer. Received: gradient_filter={gradient_filter!r}"
            ) from e
        f = recipe.gradient_filter or ARMAFilter([1.0])
    if decay is not None:  # any real: a negative decay (as Keras allows) moves the pole past 1
        return f, _real(decay, "decay")
    if recipe is None or recipe.weight_decay == 0.0:
        return f, 0.0
    eta = (
        learning_rate if learning_rate is not None else _own_learning_rate(gradient_filter, recipe)
    )
    if eta is None:
        raise ValueError(
            f"`learning_rate` is needed: {recipe.name!r} carries weight_decay="
            f"{recipe.weight_decay:g}, which puts the integrator's pole at 1 - learning_rate * "
            "weight_decay (or pass `decay` = learning_rate * weight_decay itself)"
        )
    return f, _real(eta, "learning_rate", 0.0, strict=True) * recipe.weight_decay


def _padded(f: ARMAFilter) -> tuple[np.ndarray, np.ndarray]:
    b, a = f.padded()
    return np.asarray(b, dtype=float), np.asarray(a, dtype=float)


# -- the closed loop on a quadratic ------------------------------------------------------


def characteristic_polynomial(
    gradient_filter, step: float, *, decay: float | None = None, learning_rate: float | None = None
) -> np.ndarray:
    """P(z^-1) = A(z^-1) (1 - (1 - decay) z^-1) + step z^-1 B(z^-1), ascending powers.

    ``step`` = eta lambda, ``decay`` = eta lambda_wd (None: the recipe's, see
    the module docstring). Heavy ball, H = 1/(1 - beta z^-1):
    [1, -(1 + beta - decay - step), beta (1 - decay)].
    """
    f, decay = _loop(gradient_filter, decay, learning_rate)
    return polynomials(*_padded(f), [_real(step, "step")], decay)[0]


def closed_loop_poles(
    gradient_filter,
    step: float = 0.0,
    *,
    decay: float | None = None,
    learning_rate: float | None = None,
) -> np.ndarray:
    """The loop's poles: the roots in z of :func:`characteristic_polynomial`.

    At ``step = 0`` (no curvature) they are the gradient filter's poles and
    the integrator's, 1 - decay: 1 for Adam, 1 - eta lambda_wd for AdamW.
    """
    return np.roots(
        characteristic_polynomial(gradient_filter, step, decay=decay, learning_rate=learning_rate)
    )


def quadratic_rate(
    gradient_filter, step, *, decay: float | None = None, learning_rate: float | None = None
) -> float | np.ndarray:
    """Contraction factor of the closed loop on C = lambda theta^2/2: its spectral radius.

    theta[i] = (1 - decay) theta[i-1] + Delta[i], Delta = H{x},
    x[i] = -step theta[i-1]; step = eta lambda, decay = eta lambda_wd (see
    the module docstring). Returns the largest ``|root|`` in z of
    :func:`characteristic_polynomial`; < 1 means convergence, and the error
    falls like rate^i. ``step`` may be an array (one rate each).

    Heavy ball, H = 1/(1 - beta z^-1): z^2 - (1 + beta - decay - step) z + beta (1 - decay).

    Example:
        >>> from filteropt import analysis
        >>> round(analysis.quadratic_rate("momentum:momentum=0.81", 1.0), 6)   # sqrt(beta)
        0.9
    """
    f, decay = _loop(gradient_filter, decay, learning_rate)
    steps = _steps(step)
    out = spectral_radii(*_padded(f), steps.ravel(), decay).reshape(steps.shape)
    return float(out) if out.ndim == 0 else out


def is_stable(
    gradient_filter, step, *, decay: float | None = None, learning_rate: float | None = None
) -> bool | np.ndarray:
    """True where the loop converges: :func:`quadratic_rate` < 1.

    Heavy ball without decay is stable for 0 < step < 2 (1 + beta).
    """
    out = (
        np.asarray(quadratic_rate(gradient_filter, step, decay=decay, learning_rate=learning_rate))
        < 1.0
    )
    return bool(out) if out.ndim == 0 else out


def worst_case_rate(
    gradient_filter,
    learning_rate: float | None = None,
    kappa: float | None = None,
    n: int = WORST_CASE_GRID,
    *,
    decay: float | None = None,
) -> float:
    """max over curvatures lambda in [1/kappa, 1] of :func:`quadratic_rate` at step eta lambda.

    ``n`` log-spaced curvatures, then a local maximisation around the four
    largest rates, so that a bad curvature cannot hide between grid points.
    ``learning_rate`` None takes the optimizer's own (triple momentum's
    alpha: ``worst_case_rate("triple_momentum:kappa=100", kappa=100)`` is
    0.9). ``decay`` = eta lambda_wd (None: eta * the recipe's weight decay).

    Example:
        >>> from filteropt import analysis
        >>> # 1 - 1/sqrt(kappa) at kappa = 100
        >>> round(analysis.worst_case_rate("triple_momentum:kappa=100", kappa=100), 6)
        0.9
    """
    if kappa is None:
        raise ValueError("`kappa` (the condition number, curvatures in [1/kappa, 1]) is required")
    kappa = check_kappa(kappa)
    own = isinstance(gradient_filter, (str, Recipe)) or hasattr(gradient_filter, "learning_rate")
    if learning_rate is None and own:
        learning_rate = _own_learning_rate(gradient_filter, as_recipe(gradient_filter))
    if learning_rate is None:
        raise ValueError(
            "`learning_rate` is needed: the optimizer fixes no step of its own "
            f"(gradient_filter={gradient_filter!r})"
        )
    eta = _real(learning_rate, "learning_rate", 0.0, strict=True)
    f, decay = _loop(gradient_filter, decay, eta)
    return worst_radius(*_padded(f), eta, kappa, decay, check_count(n, "n", 2))


def rate_map(
    family: Callable[[float], ARMAFilter], steps, params, *, decay: float | None = None
) -> np.ndarray:
    """Rates over a grid: ``out[i, j] = quadratic_rate(family(params[i]), steps[j], decay=decay)``.

    ``family`` maps a hyperparameter to a filter (``filters.trace`` for
    heavy ball). rate >= 1 marks the unstable region.
    """
    steps = _steps(steps, "steps")
    return np.array([quadratic_rate(family(p), steps, decay=decay) for p in params])


# -- noise in the closed loop -------------------------------------------------------------


def noise_gain(
    gradient_filter, step, *, decay: float | None = None, learning_rate: float | None = None
) -> float | np.ndarray:
    """Noise gain of the closed loop on C = lambda theta^2/2: sum of h_w[n]^2.

    The loop of :func:`quadratic_rate` with a disturbance w added to the
    filter's input::

        x[i] = -step theta[i-1] + w[i],  Delta = H{x},  theta[i] = (1 - decay) theta[i-1] + Delta[i]

    so Theta (1 - (1 - decay) z^-1) = H(z) (W - step z^-1 Theta), and the
    transfer function from w to theta is

        T(z) = B(z^-1) / P(z^-1),   P = A (1 - (1 - decay) z^-1) + step z^-1 B

    (P is :func:`characteristic_polynomial`; T(infinity) = b[0]). The noise
    gain is ||T||_2^2 = sum_n h_w[n]^2: for white w of variance sigma^2 the
    stationary variance of theta is noise_gain * sigma^2. It is computed
    exactly, from a state-space realisation of T and the discrete Lyapunov
    equation (:func:`loop_h2`); ``inf`` where the loop is unstable
    (:func:`quadratic_rate` >= 1).

    Plain SGD (H = 1): theta[i] = (1 - decay - step) theta[i-1] + w[i], noise
    gain 1 / (1 - (1 - decay - step)^2). ``step`` may be an array.

    Here w enters *after* the learning rate (it is in the units of
    -eta * gradient, the filter's input). Noise in the gradient itself,
    n with x = -eta (lambda theta + n), is w = -eta n: see
    :func:`gradient_noise_gain`.
    """
    f, decay = _loop(gradient_filter, decay, learning_rate)
    b, a = _padded(f)
    steps = _steps(step)
    out = np.array([loop_h2(b, a, s, decay) for s in steps.ravel()]).reshape(steps.shape)
    return float(out) if out.ndim == 0 else out


def gradient_noise_gain(
    gradient_filter, learning_rate: float, curvature: float = 1.0, *, decay: float | None = None
) -> float:
    """Variance of theta per unit variance of white noise in the *gradient*.

    With x = -eta (lambda theta + n) (the learning rate before the filter, as
    in SGD), the disturbance at the filter's input is w = -eta n, so this is
    eta^2 * noise_gain(H, eta * lambda, decay=decay). With decay = 0 it is
    noise_gain(eta * H, lambda): the noise gain of the optimizer's whole
    gradient-to-update filter eta H, unchanged when H is scaled by c and eta
    by 1/c. For plain SGD at lambda = 1 it is eta / (2 - eta): the LMS
    misadjustment, larger for a larger step. ``decay`` None: eta * the
    recipe's weight decay.
    """
    eta = _real(learning_rate, "learning_rate", 0.0, strict=True)
    lam = _real(curvature, "curvature", 0.0)
    f, decay = _loop(gradient_filter, decay, eta)
    return gradient_h2(*_padded(f), eta, lam, decay)


# -- optima ---------------------------------------------------------------------------------


def heavy_ball_optimum(kappa: float) -> dict:
    """Polyak's optimum for curvatures in [1/kappa, 1] (closed form, no decay).

    ``filters.trace(momentum)`` with momentum ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2
    and learning rate 4/(1 + 1/sqrt(kappa))^2 has the worst-case rate
    (sqrt(kappa) - 1)/(sqrt(kappa) + 1).

    Example:
        >>> from filteropt import analysis
        >>> best = analysis.heavy_ball_optimum(100)  # kappa = 100
        >>> # momentum ((sqrt(k) - 1) / (sqrt(k) + 1))^2, rate its square root
        >>> round(best["momentum"], 4), round(best["rate"], 4)
        (0.6694, 0.8182)
    """
    sk = math.sqrt(check_kappa(kappa))
    return {
        "momentum": ((sk - 1) / (sk + 1)) ** 2,
        "learning_rate": 4.0 / (1.0 + 1.0 / sk) ** 2,
        "rate": (sk - 1) / (sk + 1),
    }


def nesterov_optimum(kappa: float) -> dict:
    """Nesterov's tuning for curvatures in [1/kappa, 1] (Lessard et al. 2016; no decay).

    Bengio's filter ``filters.nesterov(momentum)`` with momentum
    (sqrt(3 kappa + 1) - 2)/(sqrt(3 kappa + 1) + 2) and learning rate
    4/(3 + 1/kappa) has the worst-case rate 1 - 2/sqrt(3 kappa + 1).
    """
    kappa = check_kappa(kappa)
    r = math.sqrt(3.0 * kappa + 1.0)
    return {
        "momentum": (r - 2.0) / (r + 2.0),
        "learning_rate": 4.0 / (3.0 + 1.0 / kappa),
        "rate": 1.0 - 2.0 / r,
    }


def optimal_hyperparameters(
    family: Callable[..., ARMAFilter],
    kappa: float,
    bounds: Sequence[tuple[float, float]],
    starts: Sequence[Sequence[float]] | None = None,
    lr_bounds: tuple[float, float] = (1e-3, 10.0),
) -> dict:
    """The learning rate and filter hyperparameters with the best worst-case rate (no decay).

    Minimises the largest rate over 41 log-spaced curvatures in [1/kappa, 1]
    over ``(eta, *params)`` with ``scipy.optimize``: a coarse grid (12 learning
    rates by 7 values per parameter), then Nelder-Mead from the four best grid
    points and from ``starts``. ``bounds`` bound the filter's parameters;
    points outside them, or where ``family`` raises ValueError, score 2.
    Returns ``{"learning_rate", "params", "rate"}``, the rate by
    :func:`worst_case_rate`.
    """
    kappa = check_kappa(kappa)
    all_bounds = [lr_bounds, *bounds]
    lam = np.geomspace(1.0 / kappa, 1.0, 41)

    def objective(x):
        if any(not lo <= v <= hi for v, (lo, hi) in zip(x, all_bounds)):
            return 2.0
        try:
            f = family(*x[1:])
        except ValueError:
            return 2.0
        return min(float(spectral_radii(*_padded(f), x[0] * lam).max()), 2.0)

    grids = [np.geomspace(*lr_bounds, 12)] + [np.linspace(lo, hi, 9)[1:-1] for lo, hi in bounds]
    mesh = np.array(np.meshgrid(*grids, indexing="ij")).reshape(len(grids), -1).T
    values = np.array([objective(x) for x in mesh])
    candidates = [mesh[i] for i in np.argsort(values)[:4]]
    candidates += [np.asarray(s, float) for s in starts or []]
    best = None
    for x0 in candidates:
        res = optimize.minimize(
            objective,
            x0,
            method="Nelder-Mead",
            options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None  # the grid gives at least one candidate
    x = best.x
    return {
        "learning_rate": float(x[0]),
        "params": [float(v) for v in x[1:]],
        "rate": worst_case_rate(family(*x[1:]), float(x[0]), kappa),
    }


def simulate_closed_loop(
    gradient_filter,
    step: float,
    n: int,
    theta0: float = 1.0,
    *,
    decay: float | None = None,
    learning_rate: float | None = None,
) -> np.ndarray:
    """theta[0..n] of the loop itself, to check :func:`quadratic_rate`.

    theta[i] = (1 - decay) theta[i-1] + Delta[i] (:func:`filteropt.recipes.core.decayed`),
    Delta = H{x},
    x[i] = -step theta[i-1], the filter run by
    :func:`filteropt.signal.realisation.run` from zero state.
    """
    f, decay = _loop(gradient_filter, decay, learning_rate)
    s = _real(step, "step")
    z = [0.0] * f.order
    theta = [_real(theta0, "theta0")]
    for _ in range(check_count(n, "n", 0)):
        delta, z = realisation.run(f, -s * theta[-1], z)
        theta.append(decayed(theta[-1], 1.0, decay) + delta)
    return np.array(theta)
