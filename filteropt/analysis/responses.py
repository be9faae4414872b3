"""What an optimizer's filters do: frequency, step, impulse and pole-zero responses.

numpy and scipy only: nothing here imports a deep-learning backend. Every
function takes a recipe (or its name, ``"nesterov:momentum=0.95"``), a
filteropt optimizer instance, or a bare :class:`~filteropt.ARMAFilter`.

Frequencies are normalised, in cycles per step (0 to 0.5), as in the
lecture's plots: nu = w / (2 pi) with w in radians per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from .. import recipes as R
from ..signal.arma import ARMAFilter
from ..signal.bank import PathBank
from ..signal.compensation import FilterPath
from ..signal.sections import Section

__all__ = [
    "as_recipe",
    "effective_learning_rate",
    "filter_of",
    "frequency_response",
    "group_delay",
    "impulse_response",
    "label",
    "learning_rate_step_response",
    "path_response",
    "pole_zero",
    "step_response",
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
    params = ", ".join(f"{k}={v}" for k, v in hyperparameter_text(recipe).items())
    return f"{recipe.name} ({params})" if params else recipe.name


def hyperparameter_text(recipe) -> dict[str, str]:
    """``{name: value as text}`` of ``recipe``'s hyperparameters that read as
    text (numbers, flags, lists of them; not filters, normalizers or None)."""
    return {
        k: _short(v)
        for k, v in recipe.hyperparameters.items()
        if not isinstance(v, (ARMAFilter, type(None))) and not hasattr(v, "slots")
    }


def _short(v):
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (tuple, list)):
        return "[" + ",".join(_short(x) for x in v) + "]"
    return str(v)


def filter_of(obj, which: str = "gradient") -> ARMAFilter | None:
    """The gradient (or variance) filter of a recipe, optimizer or spec; a filter itself."""
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

    Example:
        >>> from filteropt import analysis
        >>> h = analysis.frequency_response("momentum:momentum=0.9")
        >>> round(float(abs(h.h[0])), 6), round(float(abs(h.h[-1])), 4)   # at DC, near Nyquist
        (10.0, 0.5263)
    """
    f = filter_of(obj, which) or ARMAFilter([1.0])
    w, h = f.freqz(n)
    return FrequencyResponse(w / (2.0 * np.pi), h)


def path_response(path: FilterPath | PathBank, x) -> np.ndarray:
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


def _path(obj, compensated: bool) -> FilterPath | PathBank:
    if isinstance(obj, ARMAFilter):
        return FilterPath(obj, compensate=compensated)
    path = as_recipe(obj).path
    if compensated:
        return path
    return FilterPath(
        path.lti() if path.schedule is not None else path.filter,
        mix=1.0 if path.schedule is not None else path.mix,
        direct=0.0 if path.schedule is not None else path.direct,
    )


def step_response(obj, n: int = 50, compensated: bool = True) -> np.ndarray:
    """The gradient path's response to a unit step, with or without the
    recipe's transient compensation (a bare filter is compensated by
    H(1)/s[n] when ``compensated``).

    Example:
        >>> from filteropt import analysis
        >>> analysis.step_response("momentum:momentum=0.9", n=4, compensated=False)
        array([1.   , 1.9  , 2.71 , 3.439])
        >>> analysis.step_response("adam", n=4)              # compensated: 1 from the first step
        array([1., 1., 1., 1.])
    """
    return path_response(_path(obj, compensated), np.ones(int(n)))


def impulse_response(obj, n: int = 50, compensated: bool = True) -> np.ndarray:
    x = np.zeros(int(n))
    if n:
        x[0] = 1.0
    return path_response(_path(obj, compensated), x)


def learning_rate_step_response(
    obj, n: int = 50, at: int | None = None, factor: float = 0.1
) -> np.ndarray:
    """-Delta[i] for a constant unit gradient when eta steps from 1 to ``factor``
    at step ``at`` (default n // 2): where the learning rate enters, seen.

    Before the filter (Keras's SGD: the state holds -eta g) the old rate
    leaves with the filter's memory, so the update glides to its new level;
    after it (torch.optim.SGD, optax.sgd: the state holds g) the whole
    update is rescaled at once. Equal at a constant rate, different here.
    Runs :func:`filteropt.recipes.simulate`, the recipe's own maths.
    """
    recipe = as_recipe(obj)
    n = int(n)
    at = n // 2 if at is None else int(at)
    if not 0 <= at <= n:
        raise ValueError(f"`at` must be in [0, n={n}]. Received: at={at}")
    lr = np.where(np.arange(n) < at, 1.0, float(factor))
    theta = R.simulate(recipe.with_weight_decay(0.0), np.ones((n, 1)), lr)[:, 0]
    return -np.diff(theta, prepend=0.0)


def pole_zero(obj, which: str = "gradient"):
    """``(zeros, poles)`` of the gradient (or variance) filter, in z.

    Example:
        >>> from filteropt import analysis
        >>> analysis.pole_zero("nesterov:momentum=0.9")     # (zeros, poles)
        (array([0.473684]), array([0.9]))
    """
    f = filter_of(obj, which) or ARMAFilter([1.0])
    return f.zeros, f.poles


def group_delay(obj, n: int = 512, which: str = "gradient"):
    """``(nu, delay in steps)`` via ``scipy.signal.group_delay``."""
    f = filter_of(obj, which) or ARMAFilter([1.0])
    if f.form == "ba" or not f.stages:
        w, gd = signal.group_delay((f.b, f.a), w=n)
        return w / (2.0 * np.pi), gd
    # a cascade's delay is the sum of its stages' (each stage's own (b, a))
    parts = [
        signal.group_delay((s.b, s.a) if isinstance(s, Section) else s.ba(), w=n) for s in f.stages
    ]
    return parts[0][0] / (2.0 * np.pi), np.sum([gd for _, gd in parts], axis=0)


def effective_learning_rate(obj, learning_rate: float = 1.0) -> float:
    """eta * H(1): the step a constant gradient finally gets, per unit gradient.

    For SGD with momentum alpha, H(1) = 1/(1 - alpha): "your momentum and
    learning rate are coupled". For Adam H(1) = 1: they are not (and the
    normalizer then scales by 1/RMS, which this number leaves out).
    """
    f = filter_of(obj)
    return float(learning_rate) * (1.0 if f is None else f.dc_gain)
