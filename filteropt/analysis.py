"""What an optimizer does, from its recipe: responses, tables, closed-loop rates.

numpy and scipy only: nothing here imports a deep-learning backend. Every
function takes a recipe (or its name, ``"nesterov:momentum=0.95"``), a
filteropt optimizer instance, or a bare :class:`~filteropt.ARMAFilter`.

Frequencies are normalised, in cycles per step (0 to 0.5), as in the
lecture's plots: nu = w / (2 pi) with w in radians per sample.

The closed loop. On the quadratic C = lambda theta^2 / 2 with the learning
rate eta, the optimizer's gradient filter H(z) = B(z)/A(z) sees
g[i] = -eta lambda theta[i-1] and updates theta[i] = theta[i-1] + Delta[i],
Delta = H{g}. With step = eta lambda the loop's characteristic polynomial is

    P(z^-1) = A(z^-1) (1 - z^-1) + step z^-1 B(z^-1),

and the error shrinks like rho^i, rho = the largest |root| (the spectral
radius): :func:`quadratic_rate`. rho < 1 is stability; for heavy-ball
momentum, tuned for curvatures in [1/kappa, 1], the best worst-case rho is
(sqrt(kappa) - 1)/(sqrt(kappa) + 1) (Polyak).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import signal

from . import recipes as R
from .compensation import FilterPath
from .describe import describe_recipe
from . import realisation
from .filters import ARMAFilter, Section

__all__ = [
    "as_recipe",
    "label",
    "frequency_response",
    "path_response",
    "step_response",
    "impulse_response",
    "pole_zero",
    "group_delay",
    "effective_learning_rate",
    "summary_table",
    "format_table",
    "quadratic_rate",
    "worst_case_rate",
    "rate_map",
    "optimal_hyperparameters",
    "heavy_ball_optimum",
    "noise_gain",
    "gradient_noise_gain",
    "SEED_TABLE_ROWS",
]


def as_recipe(obj) -> R.Recipe:
    """A recipe from a name spec, a Recipe, a filteropt optimizer or a filter."""
    if isinstance(obj, R.Recipe):
        return obj
    if isinstance(obj, ARMAFilter):
        return R.custom(obj, allow_unstable=True, name="filter")
    if isinstance(obj, str):
        return R.get(obj)
    recipe = getattr(obj, "recipe", None)
    if isinstance(recipe, R.Recipe):
        return recipe
    raise TypeError(
        "expected an optimizer name, a filteropt Recipe, a filteropt optimizer "
        f"or an ARMAFilter; received {obj!r}"
    )


def label(obj) -> str:
    """``"nesterov (momentum=0.95)"``: the name and its hyperparameters."""
    recipe = as_recipe(obj)
    params = ", ".join(f"{k}={_short(v)}" for k, v in recipe.hyperparameters.items()
                       if not isinstance(v, (ARMAFilter, type(None))) and not hasattr(v, "slots"))
    return f"{recipe.name} ({params})" if params else recipe.name


def _short(v):
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (tuple, list)):
        return "[" + ",".join(_short(x) for x in v) + "]"
    return str(v)


def _filter(obj, which: str = "gradient") -> ARMAFilter | None:
    if isinstance(obj, ARMAFilter):
        return obj
    recipe = as_recipe(obj)
    if which == "gradient":
        return recipe.gradient_filter
    if which == "variance":
        return recipe.variance_filter
    raise ValueError(f"`which` must be 'gradient' or 'variance'. Received: which={which!r}")


# -- responses ---------------------------------------------------------------------


@dataclass(frozen=True)
class FrequencyResponse:
    """``nu`` in cycles per step, complex ``h``, ``magnitude_db``, ``phase`` (rad)."""

    nu: np.ndarray
    h: np.ndarray

    @property
    def magnitude_db(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return 20.0 * np.log10(np.abs(self.h))

    @property
    def phase(self) -> np.ndarray:
        return np.unwrap(np.angle(self.h))


def frequency_response(obj, n: int = 512, which: str = "gradient") -> FrequencyResponse:
    """H(e^{j 2 pi nu}) for nu in [0, 0.5) (``scipy.signal.freqz``).

    ``which="variance"`` gives the variance filter V's response. An optimizer
    without that filter gives H = 1 (no filtering).
    """
    f = _filter(obj, which) or ARMAFilter([1.0])
    w, h = f.freqz(n)
    return FrequencyResponse(w / (2.0 * np.pi), h)


def path_response(path: FilterPath, x) -> np.ndarray:
    """The output of a (compensated, possibly time-varying) path for input x.

    Runs the very formulas the engine runs (the filter's state form and the
    compensation gains), in numpy, one sample at a time.
    """
    x = np.asarray(x, dtype=float)
    z = [0.0 * x[0] + v for v in path.initial_state()] if len(x) else []
    scalars = path.scalar_init()
    out = np.empty_like(x)
    for i, xi in enumerate(x):
        t = float(i + 1)
        scalars = [float(s) for s in path.advance(np, scalars, t)]
        y, k, z, _ = path.apply(xi, 1.0, z, path.gains(np, scalars, t))
        out[i] = float(k) * y
    return out


def _path(obj, compensated: bool) -> FilterPath:
    if isinstance(obj, ARMAFilter):
        return FilterPath(obj, compensate=compensated)
    path = as_recipe(obj).path
    if compensated:
        return path
    return FilterPath(path.lti() if path.schedule is not None else path.filter,
                      mix=1.0 if path.schedule is not None else path.mix,
                      direct=0.0 if path.schedule is not None else path.direct)


def step_response(obj, n: int = 50, compensated: bool = True) -> np.ndarray:
    """The gradient path's response to a unit step, with or without the
    recipe's transient compensation (a bare filter is compensated by
    H(1)/s[n] when ``compensated``)."""
    return path_response(_path(obj, compensated), np.ones(int(n)))


def impulse_response(obj, n: int = 50, compensated: bool = True) -> np.ndarray:
    x = np.zeros(int(n))
    if n:
        x[0] = 1.0
    return path_response(_path(obj, compensated), x)


def pole_zero(obj, which: str = "gradient"):
    """``(zeros, poles)`` of the gradient (or variance) filter, in z."""
    f = _filter(obj, which) or ARMAFilter([1.0])
    return f.zeros, f.poles


def group_delay(obj, n: int = 512, which: str = "gradient"):
    """``(nu, delay in steps)`` via ``scipy.signal.group_delay``."""
    f = _filter(obj, which) or ARMAFilter([1.0])
    if f.form == "ba" or not f.stages:
        w, gd = signal.group_delay((f.b, f.a), w=n)
        return w / (2.0 * np.pi), gd
    # a cascade's delay is the sum of its stages' (each stage's own (b, a))
    parts = [signal.group_delay((s.b, s.a) if isinstance(s, Section) else s.ba(), w=n)
             for s in f.stages]
    return parts[0][0] / (2.0 * np.pi), np.sum([gd for _, gd in parts], axis=0)


def effective_learning_rate(obj, learning_rate: float = 1.0) -> float:
    """eta * H(1): the step a constant gradient finally gets, per unit gradient.

    For SGD with momentum alpha, H(1) = 1/(1 - alpha): "your momentum and
    learning rate are coupled". For Adam H(1) = 1: they are not (and the
    normalizer then scales by 1/RMS, which this number leaves out).
    """
    f = _filter(obj)
    return float(learning_rate) * (1.0 if f is None else f.dc_gain)


# -- the summary table ------------------------------------------------------------

#: The lecture's "Summary of Optimizers" rows: (row label, recipe spec).
SEED_TABLE_ROWS = (
    ("SGD", "sgd"),
    ("SGD w/ momentum", "momentum"),
    ("SGD w/ Nesterov Momentum", "nesterov"),
    ("Adagrad", "adagrad"),
    ("Adadelta", "adadelta"),
    ("RMSprop", "rmsprop"),
    ("Adam", "adam"),
    ("Nadam (Adam w/ Nesterov)", "nadam"),
)

EXTRA_TABLE_ROWS = (
    ("AMSGrad", "amsgrad"),
    ("Adamax", "adamax"),
    ("AdamW", "adamw"),
    ("Nadam, time-invariant", "nadam_lti"),
    ("Lion", "lion"),
    ("QHM", "qhm"),
    ("QHAdam", "qhadam"),
    ("AggMo", "aggmo"),
    ("AdaBelief", "adabelief"),
    ("Butterworth momentum", "butterworth"),
)

TABLE_COLUMNS = ("optimizer", "gradient filtering", "gradient normalization",
                 "grad variance filter", "learning rate schedule")


def _row(title, spec):
    recipe = as_recipe(spec)
    d = describe_recipe(recipe)
    normalized = recipe.normalizer is not None
    return {
        "optimizer": title,
        "gradient filtering": d["gradient_filtering"],
        "gradient normalization": "yes" if normalized else "none",
        "grad variance filter": d["variance_filter_kind"] if normalized else "n/a",
        "learning rate schedule": "separate, but gradient norm does alter" if normalized
        else "separate",
        "normalizer": d["gradient_normalization"],
    }


def summary_table(rows: Sequence | None = None, extra: bool = True) -> list[dict]:
    """The lecture's "Summary of Optimizers", derived from the recipes.

    ``rows`` is a sequence of ``(title, spec)``; by default the lecture's
    eight rows, then (``extra=True``) the optimizers it does not list. The
    words come from :func:`filteropt.describe.filter_kind`, so they follow
    the maths: Adam's filters are "AR1, unit DC gain" (the lecture's own
    table says "unit input gain" there, while its Adam slide and Kingma &
    Ba's algorithm, m = beta_1 m + (1 - beta_1) g, have unit DC gain).
    """
    if rows is None:
        rows = SEED_TABLE_ROWS + (EXTRA_TABLE_ROWS if extra else ())
    return [_row(title, spec) for title, spec in rows]


def format_table(rows: list[dict], columns: Sequence[str] = TABLE_COLUMNS) -> str:
    """Aligned plain-text table."""
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(columns), line("-" * w for w in widths)]
    out += [line(r[c] for c in columns) for r in rows]
    return "\n".join(out)


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
        else _filter(gradient_filter)
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
    return _filter(gradient_filter) or ARMAFilter([1.0])


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
