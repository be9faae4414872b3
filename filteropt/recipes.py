"""Optimizers as recipes: plain data read by the Keras engine and the analysis.

A :class:`Recipe` says which gradient path (filter, compensation), which
normalizer (and so which variance filter), and in which order the three
stages act on the gradient g[i]::

    stages ("lr", "filter", "normalize")     SGD, momentum, Nesterov:
                                             x = -eta g; Delta = H{x}
    stages ("normalize", "lr", "filter")     RMSprop(momentum > 0)
    stages ("filter", "normalize", "lr")     Adam and the rest:
                                             Delta = -eta N(H{g})

and the parameter update is theta[i] = theta[i-1] + Delta[i] (seed:
"General Optimizer Structure"). :meth:`Recipe.step` is the one place where
the stages are chained; the Keras engine calls it with ``keras.ops`` on slot
variables, :func:`simulate` with numpy on arrays.

Named recipes take Keras's argument names and defaults, and
``get("nesterov:momentum=0.95")`` parses the ``name:k=v,...`` form.
"""

from __future__ import annotations

import ast
import numbers
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import filters as F
from . import normalizers as N
from .compensation import FilterPath, NadamSchedule
from .filters import ARMAFilter, check_unit_interval

__all__ = ["Recipe", "custom", "get", "parse", "names", "simulate", "RECIPES"]

STAGES = ("lr", "filter", "normalize")


@dataclass(frozen=True)
class Recipe:
    """An optimizer as data (see the module docstring).

    Attributes:
        name: the recipe's name (``"adam"``).
        path: the gradient :class:`FilterPath`.
        normalizer: a :mod:`filteropt.normalizers` value or None.
        stages: the order of ``"lr"``, ``"filter"`` and ``"normalize"``.
        hyperparameters: the arguments the recipe was made with.
    """

    name: str
    path: FilterPath
    normalizer: N.Normalizer | None = None
    stages: tuple = ("filter", "normalize", "lr")
    hyperparameters: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        stages = tuple(self.stages)
        if sorted(stages) != sorted(STAGES):
            raise ValueError(
                "`stages` must order 'lr', 'filter' and 'normalize', each once. "
                f"Received: stages={list(stages)}"
            )
        object.__setattr__(self, "stages", stages)

    # -- what analysis reads ---------------------------------------------------
    @property
    def gradient_filter(self) -> ARMAFilter | None:
        """The LTI gradient filter (after compensation has settled), or None."""
        return None if self.path.is_identity else self.path.lti()

    @property
    def variance_filter(self) -> ARMAFilter | None:
        return None if self.normalizer is None else self.normalizer.variance_filter

    @property
    def transient_compensation(self) -> bool:
        return self.path.compensate or self.path.schedule is not None

    @property
    def learning_rate_position(self) -> str:
        i = self.stages.index("lr")
        if i == 0:
            return "before the filter (the state holds -eta * gradient)"
        if i == 2:
            return "after the normalizer"
        return "between the normalizer and the filter"

    def describe(self) -> dict:
        """What the optimizer does, in the seed's "Summary of Optimizers" terms."""
        from .describe import describe_recipe

        return describe_recipe(self)

    def filters(self) -> list[tuple[str, ARMAFilter]]:
        """``[(name, filter)]``: every filter the recipe runs."""
        out = [] if self.path.is_identity else [("gradient_filter", self.path.filter)]
        vf = self.variance_filter
        return out + ([] if vf is None else [("variance_filter", vf)])

    # -- what the engine reads --------------------------------------------------
    def zero_gradient_gives_zero_update(self) -> bool:
        """True when a coordinate with g = 0 is not moved (no filter memory)."""
        return self.path.is_identity

    @property
    def updates_in_place(self) -> bool:
        """Whether a compiled step may overwrite the slots in place: not for
        a gradient filter in transposed direct form II, whose update and
        state updates read the old z[0] (through y) that the z[0] update
        overwrites: XLA would copy the states first to order them."""
        return self.path.updates_in_place

    def zero_gradient_keeps_state(self) -> bool:
        """True when g = 0 also leaves that coordinate's state unchanged, so a
        row-sparse gradient needs only its rows (plain SGD, Adagrad)."""
        if not self.zero_gradient_gives_zero_update():
            return False
        norm = self.normalizer
        if norm is None:
            return True
        if isinstance(norm, N.RMS):
            b, a = norm.variance_filter.padded()
            summer = len(a) == 2 and a[1] == -1.0 and b[1] == 0.0
            return (summer and not norm.centered and not norm.belief
                    and not norm.path.compensate and norm.path.direct == 0.0
                    and norm.epsilon_root == 0.0)
        return isinstance(norm, N.Sign)

    def slots(self) -> list[tuple[str, float]]:
        """Per-variable state: ``[(name, initial value)]``."""
        out = [(f"filter_{k}", z) for k, z in enumerate(self.path.initial_state())]
        if self.normalizer is not None:
            out += self.normalizer.slots()
        return out

    def scalar_init(self) -> list[float]:
        n = [] if self.normalizer is None else self.normalizer.scalar_init()
        return list(self.path.scalar_init()) + list(n)

    @property
    def uses_step_count(self) -> bool:
        """Whether :meth:`gains` reads the step count ``t``."""
        return self.path.uses_step_count or (
            self.normalizer is not None and self.normalizer.uses_step_count)

    def _split(self, scalars):
        k = len(self.path.scalar_init())
        return list(scalars[:k]), list(scalars[k:])

    def advance(self, xp, scalars, t):
        """Per-step scalar recursions (compensation), shared by all variables."""
        sp, sn = self._split(scalars)
        out = list(self.path.advance(xp, sp, t))
        if self.normalizer is not None:
            out += list(self.normalizer.advance(xp, sn, t))
        return out

    def gains(self, xp, scalars, t):
        """The step's scalar gains, from the advanced scalar state."""
        sp, sn = self._split(scalars)
        gp = self.path.gains(xp, sp, t)
        gn = () if self.normalizer is None else self.normalizer.gains(xp, sn, t)
        return tuple(gp), tuple(gn)

    def step(self, xp, g, lr, state, gains):
        """One update: returns ``(Delta, new_state)``; theta += Delta.

        ``g`` is the gradient, ``lr`` the learning rate, ``state`` the slot
        values in :meth:`slots` order and ``gains`` from :meth:`gains`. The
        signal is carried as ``k * x`` with ``k`` a scalar, so that scalar
        factors (learning rate, compensation) are multiplied together first
        and applied to the tensor once.
        """
        order = self.path.order
        z_f, z_n = list(state[:order]), list(state[order:])
        g_path, g_norm = gains
        x, k, m = g, 1.0, (g, 1.0)
        for stage in self.stages:
            if stage == "lr":
                k = -lr if _is_one(k) else k * -lr
            elif stage == "filter" and not self.path.is_identity:
                x, k, z_f, raw_gain = self.path.apply(x, k, z_f, g_path)
                m = (x, raw_gain)
            elif stage == "normalize" and self.normalizer is not None:
                x, k, z_n = self.normalizer.apply(xp, x, k, g, m, z_n, g_norm)
        return (x if _is_one(k) else k * x), list(z_f) + list(z_n)


def _is_one(c):
    return isinstance(c, (int, float)) and c == 1.0


# -- building recipes -------------------------------------------------------------


def custom(
    gradient_filter: ARMAFilter | None = None,
    normalizer: N.Normalizer | None = None,
    transient_compensation: bool = False,
    allow_unstable: bool = False,
    stages=None,
    name: str = "custom",
) -> Recipe:
    """A recipe from a gradient filter and a normalizer (``FilterOptimizer``).

    ``stages=None`` puts the learning rate before the filter when there is
    no normalizer (the seed's g[i] = -eta dC/dtheta, as Keras's SGD) and
    after the normalizer otherwise (as Adam).
    """
    f = F.as_filter(gradient_filter)
    if f is None:
        f = F.identity()
    if not isinstance(transient_compensation, bool):
        raise TypeError(
            f"`transient_compensation` must be a bool. Received: {transient_compensation!r}"
        )
    if not isinstance(allow_unstable, bool):
        raise TypeError(f"`allow_unstable` must be a bool. Received: {allow_unstable!r}")
    if not allow_unstable and not f.is_stable:
        raise ValueError(
            f"`gradient_filter` is unstable: poles {np.round(f.poles, 6).tolist()} "
            "are not strictly inside the unit circle, so the update would grow "
            "without bound. Pass allow_unstable=True to use it anyway."
        )
    normalizer = N.get(normalizer)
    if stages is None:
        stages = ("lr", "filter", "normalize") if normalizer is None else ("filter", "normalize", "lr")
    elif isinstance(stages, str) or not hasattr(stages, "__iter__"):
        raise TypeError(f"`stages` must be a sequence of stage names. Received: {stages!r}")
    return Recipe(
        name,
        FilterPath(f, transient_compensation),
        normalizer,
        tuple(stages),
        {"gradient_filter": f, "normalizer": normalizer},
    )


def _f32(value, keras_casts: bool):
    """Keras's ``ops.cast(python_float, dtype)`` rounds through float32.

    Keras 3 casts some hyperparameters that way even for float64 variables
    (SGD's momentum, Adam's bias-correction betas, all of Nadam's and Lion's
    coefficients, Adagrad's initial accumulator) and uses others as exact
    Python floats. The drop-ins pass
    ``keras_casts=True`` so that the same rounding happens in the same
    places and float64 trajectories agree to rounding error.
    """
    return float(np.float32(value)) if keras_casts else value


def _momentum(value, name="momentum"):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be a float between [0, 1]. Received: {name}={value!r}")
    return float(value)


def _beta(value, name):
    """A moment coefficient in [0, 1): 1 would make the compensation 1/0."""
    return check_unit_interval(value, name)


def sgd(momentum=0.0, nesterov=False, keras_casts=False):
    """SGD; momentum = AR1 unit input gain; Nesterov = ARMA1 (Bengio)."""
    momentum = _f32(_momentum(momentum), keras_casts)
    if not isinstance(nesterov, bool):
        raise TypeError(f"`nesterov` must be a bool. Received: nesterov={nesterov!r}")
    if momentum == 1.0:
        f = ARMAFilter([1.0 + nesterov * 1.0, -1.0 * nesterov], [1.0, -1.0])
    elif momentum == 0.0:
        f = F.identity()
    else:
        f = F.nesterov(momentum) if nesterov else F.trace(momentum)
    name = "nesterov" if nesterov else ("momentum" if momentum else "sgd")
    return Recipe(name, FilterPath(f), None, ("lr", "filter", "normalize"),
                  {"momentum": momentum, "nesterov": nesterov})


def adagrad(initial_accumulator_value=0.1, epsilon=1e-7, keras_casts=False):
    """Adagrad: RMS through the summer, epsilon inside the square root."""
    if isinstance(initial_accumulator_value, bool) or not isinstance(
        initial_accumulator_value, numbers.Real
    ) or not initial_accumulator_value >= 0:
        raise ValueError(
            "`initial_accumulator_value` must be a number >= 0. "
            f"Received: initial_accumulator_value={initial_accumulator_value!r}"
        )
    norm = N.RMS(F.summer(), epsilon=epsilon, epsilon_mode="inside",
                 initial=_f32(float(initial_accumulator_value), keras_casts))
    return Recipe("adagrad", FilterPath(F.identity()), norm, ("filter", "normalize", "lr"),
                  {"initial_accumulator_value": initial_accumulator_value, "epsilon": epsilon})


def adadelta(rho=0.95, epsilon=1e-7):
    """Adadelta: update RMS over gradient RMS, both through ema(rho)."""
    norm = N.Adadelta(_beta(rho, "rho"), epsilon)
    return Recipe("adadelta", FilterPath(F.identity()), norm, ("filter", "normalize", "lr"),
                  {"rho": rho, "epsilon": epsilon})


def rmsprop(rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    """RMSprop: RMS through ema(rho) (centred on request), then momentum."""
    momentum = _momentum(momentum)
    if not isinstance(centered, bool):
        raise TypeError(f"`centered` must be a bool. Received: centered={centered!r}")
    norm = N.RMS(F.ema(_beta(rho, "rho")), epsilon=epsilon, epsilon_mode="inside", centered=centered)
    f = F.trace(momentum) if 0.0 < momentum < 1.0 else (
        F.summer() if momentum == 1.0 else F.identity())
    return Recipe("rmsprop", FilterPath(f), norm, ("normalize", "lr", "filter"),
                  {"rho": rho, "momentum": momentum, "epsilon": epsilon, "centered": centered})


def adam(beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, keras_casts=False):
    """Adam: compensated ema(beta_1) over the RMS of compensated ema(beta_2)."""
    if not isinstance(amsgrad, bool):
        raise TypeError(f"`amsgrad` must be a bool. Received: amsgrad={amsgrad!r}")
    b1, b2 = _beta(beta_1, "beta_1"), _beta(beta_2, "beta_2")
    path = FilterPath(F.ema(b1), compensate=True, reference=_ref(b1, keras_casts))
    norm = N.RMS(F.ema(b2), compensate=True, epsilon=epsilon, epsilon_mode="hat",
                 amsgrad=amsgrad, reference=_ref(b2, keras_casts))
    return Recipe("amsgrad" if amsgrad else "adam", path, norm, ("filter", "normalize", "lr"),
                  {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon, "amsgrad": amsgrad})


def _ref(beta, keras_casts):
    return F.ema(_f32(beta, True)) if keras_casts else None


def adamw(beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=0.004,
          keras_casts=False):
    """AdamW: Adam plus decoupled weight decay (applied by Keras's base class)."""
    r = adam(beta_1, beta_2, epsilon, amsgrad, keras_casts)
    return Recipe("adamw", r.path, r.normalizer, r.stages,
                  dict(r.hyperparameters, weight_decay=weight_decay))


def nadam(beta_1=0.9, beta_2=0.999, epsilon=1e-7, keras_casts=False):
    """Nadam as Keras 3: ema(beta_1) with Dozat's momentum schedule."""
    beta_1 = _beta(beta_1, "beta_1")
    b1, b2 = _f32(beta_1, keras_casts), _f32(_beta(beta_2, "beta_2"), keras_casts)
    gain = (b1, _f32(0.96, True)) if keras_casts else None
    path = FilterPath(F.ema(b1), schedule=NadamSchedule(beta_1, 0.96, gain))
    norm = N.RMS(F.ema(b2), compensate=True, epsilon=epsilon, epsilon_mode="outside")
    return Recipe("nadam", path, norm, ("filter", "normalize", "lr"),
                  {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon})


def nadam_lti(beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """Nadam as optax's ``nadam``: ema(beta_1) with a constant momentum.

    optax (``scale_by_adam(nesterov=True)``), with m[t] = ema(beta_1){g}[t],
    v[t] = ema(beta_2){g^2}[t], t = 1, 2, ...::

        m^[t] = beta_1 m[t] / (1 - beta_1^(t+1)) + (1 - beta_1) g[t] / (1 - beta_1^t)
        v^[t] = v[t] / (1 - beta_2^t)
        Delta[t] = -eta m^[t] / (sqrt(v^[t]) + eps)

    The two branches are compensated one step apart: this is
    :class:`~filteropt.compensation.NadamSchedule` with ``decay = 0``
    (mu[t] = beta_1, S[t] = 1 - beta_1^t, out = mu / S[t+1] m + (1 - mu) /
    S[t] g), not the step response of the sum: the compensated ARMA1 filter
    H = beta_1 ema(beta_1) + (1 - beta_1), (beta_1 m[t] + (1 - beta_1) g[t]) /
    (1 - beta_1^(t+1)), gives a constant gradient a constant step -eta
    where optax steps -1.474 eta, -1.157 eta, -1.078 eta, ... (beta_1 = 0.9).
    Both tend to H once compensation has settled. Defaults are optax's
    (eps = 1e-8, eps_root = 0; Keras's Nadam has eps = 1e-7).
    """
    beta_1 = _beta(beta_1, "beta_1")
    path = FilterPath(F.ema(beta_1), schedule=NadamSchedule(beta_1, 0.0))
    norm = N.RMS(F.ema(_beta(beta_2, "beta_2")), compensate=True, epsilon=epsilon,
                 epsilon_mode="outside")
    return Recipe("nadam_lti", path, norm, ("filter", "normalize", "lr"),
                  {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon})


def adamax(beta_1=0.9, beta_2=0.999, epsilon=1e-7, keras_casts=False):
    """Adamax: compensated ema(beta_1) over the infinity-norm peak detector."""
    b1 = _beta(beta_1, "beta_1")
    path = FilterPath(F.ema(b1), compensate=True, reference=_ref(b1, keras_casts))
    return Recipe("adamax", path, N.MaxNorm(_beta(beta_2, "beta_2"), epsilon),
                  ("filter", "normalize", "lr"),
                  {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon})


def lion(beta_1=0.9, beta_2=0.99, keras_casts=False):
    """Lion: the sign of an ARMA1 filter of the gradient."""
    if isinstance(beta_1, bool) or not isinstance(beta_1, numbers.Real) or not 0 < beta_1 <= 1:
        raise ValueError(
            "Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
            f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}."
        )
    f = F.lion(_f32(beta_1, keras_casts), _f32(check_unit_interval(beta_2, "beta_2"), keras_casts))
    return Recipe("lion", FilterPath(f), N.Sign(),
                  ("filter", "normalize", "lr"), {"beta_1": beta_1, "beta_2": beta_2})


def qhm(nu=0.7, beta=0.999):
    """Quasi-hyperbolic momentum (Ma & Yarats 2019): (1 - nu) g + nu ema(g)."""
    return Recipe("qhm", FilterPath(F.qhm(nu, beta)), None, ("filter", "normalize", "lr"),
                  {"nu": nu, "beta": beta})


def qhadam(beta_1=0.9, beta_2=0.999, nu_1=0.7, nu_2=1.0, epsilon=1e-8):
    """QHAdam (Ma & Yarats 2019): quasi-hyperbolic mixing on both moments.

    m^ = (1 - nu_1) g + nu_1 m / (1 - beta_1^t),
    v^ = (1 - nu_2) g^2 + nu_2 v / (1 - beta_2^t),
    Delta = -eta m^ / (sqrt(v^) + eps).
    """
    nu_1 = check_unit_interval(nu_1, "nu_1", closed_right=True)
    nu_2 = check_unit_interval(nu_2, "nu_2", closed_right=True)
    path = FilterPath(F.ema(_beta(beta_1, "beta_1")), compensate=True, mix=nu_1, direct=1 - nu_1)
    norm = N.RMS(F.ema(_beta(beta_2, "beta_2")), compensate=True, epsilon=epsilon,
                 epsilon_mode="outside", mix=nu_2, direct=1 - nu_2)
    return Recipe("qhadam", path, norm, ("filter", "normalize", "lr"),
                  {"beta_1": beta_1, "beta_2": beta_2, "nu_1": nu_1, "nu_2": nu_2,
                   "epsilon": epsilon})


def aggmo(betas=(0.0, 0.9, 0.99)):
    """Aggregated momentum (Lucas et al. 2019): mean of K velocities."""
    return Recipe("aggmo", FilterPath(F.aggmo(betas)), None, ("lr", "filter", "normalize"),
                  {"betas": tuple(betas) if hasattr(betas, "__iter__") else betas})


def butterworth(order=2, cutoff=0.1, momentum_gain="dc"):
    """Momentum through a Butterworth low-pass (the seed's suggestion).

    ``momentum_gain="dc"`` keeps H(1) = 1, so the learning rate is the
    effective step; ``"input"`` gives b[0] = 1 as heavy-ball momentum does.
    """
    f = F.butterworth(order, cutoff, gain=momentum_gain)
    return Recipe("butterworth", FilterPath(f), None, ("lr", "filter", "normalize"),
                  {"order": order, "cutoff": cutoff, "momentum_gain": momentum_gain})


def adabelief(beta_1=0.9, beta_2=0.999, epsilon=1e-16, epsilon_root=1e-16):
    """AdaBelief (Zhuang et al. 2020, Algorithm 1): RMS of g - m instead of g.

    m[t] = beta_1 m[t-1] + (1 - beta_1) g[t]
    s[t] = beta_2 s[t-1] + (1 - beta_2) (g[t] - m[t])^2 + epsilon_root
    Delta[t] = -eta m^[t] / (sqrt(s^[t]) + epsilon),
    m^ = m / (1 - beta_1^t), s^ = s / (1 - beta_2^t).

    The paper adds one eps in both places; ``epsilon_root`` is optax's
    ``eps_root`` (the eps inside s, kept in the state). Defaults are
    optax's (eps = eps_root = 1e-16) and the authors' (adabelief-pytorch
    >= 0.1.0: eps = 1e-16 in both places; 0.0.5 had 1e-8); the authors' code
    also rectifies the step as RAdam does by default (``rectify=True``),
    which this recipe does not.
    """
    path = FilterPath(F.ema(_beta(beta_1, "beta_1")), compensate=True)
    norm = N.RMS(F.ema(_beta(beta_2, "beta_2")), compensate=True, epsilon=epsilon,
                 epsilon_mode="outside", belief=True, epsilon_root=epsilon_root)
    return Recipe("adabelief", path, norm, ("filter", "normalize", "lr"),
                  {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon,
                   "epsilon_root": epsilon_root})


def _with(fn, name, **fixed):
    def make(**kwargs):
        r = fn(**{**fixed, **kwargs})
        return Recipe(name, r.path, r.normalizer, r.stages, r.hyperparameters)

    make.__doc__ = fn.__doc__
    make.__name__ = name
    return make


def designed(kappa=100.0, order=2, max_noise_gain=None, lambda_max=1.0):
    """A gradient filter designed for curvatures in [lambda_max/kappa, lambda_max]
    (best worst-case rate on a quadratic, optionally under a noise bound);
    see :func:`filteropt.design.design_filter`."""
    from .design import designed as make

    return make(kappa=kappa, order=order, max_noise_gain=max_noise_gain, lambda_max=lambda_max)


#: Named recipes: name -> function of keyword hyperparameters.
RECIPES: dict[str, Callable[..., Recipe]] = {
    "sgd": sgd,
    "momentum": _with(sgd, "momentum", momentum=0.9),
    "nesterov": _with(sgd, "nesterov", momentum=0.9, nesterov=True),
    "adagrad": adagrad,
    "adadelta": adadelta,
    "rmsprop": rmsprop,
    "adam": adam,
    "nadam": nadam,
    "nadam_lti": nadam_lti,
    "adamax": adamax,
    "adamw": adamw,
    "amsgrad": _with(adam, "amsgrad", amsgrad=True),
    "lion": lion,
    "qhm": qhm,
    "qhadam": qhadam,
    "aggmo": aggmo,
    "adabelief": adabelief,
    "butterworth": butterworth,
    "designed": designed,
}


def names() -> list[str]:
    return list(RECIPES)


def parse(spec: str) -> tuple[str, dict]:
    """``"nesterov:momentum=0.95"`` -> ``("nesterov", {"momentum": 0.95})``."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"an optimizer spec must be a non-empty string. Received: {spec!r}")
    name, _, rest = spec.strip().partition(":")
    name = name.strip().lower()
    kwargs = {}
    if rest.strip():
        for item in _split_items(rest):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"hyperparameter {item!r} in {spec!r} must look like key=value")
            kwargs[key.strip()] = _literal(value.strip())
    return name, kwargs


def _split_items(text):
    items, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "([" 
        depth -= ch in ")]"
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [i for i in items if i.strip()]


def _literal(value: str):
    try:
        out = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        low = value.lower()
        if low in ("true", "false"):
            return low == "true"
        return value
    return out


def get(spec) -> Recipe:
    """A recipe from a name with optional hyperparameters, or a Recipe.

    A ``learning_rate`` in the spec is checked and set aside: it belongs to
    the optimizer (see ``filteropt.get_optimizer``), not to its filters.
    """
    if isinstance(spec, Recipe):
        return spec
    name, kwargs = parse(spec)
    lr = kwargs.pop("learning_rate", None)  # the optimizer's, not the recipe's
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < 0):
        raise ValueError(f"`learning_rate` must be a number >= 0. Received: learning_rate={lr!r}")
    if name not in RECIPES:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(names())}")
    try:
        return RECIPES[name](**kwargs)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            bad = str(exc).split("'")[1] if "'" in str(exc) else str(exc)
            raise ValueError(f"optimizer {name!r} has no hyperparameter {bad!r}") from None
        raise


# -- the numpy reference ----------------------------------------------------------


def simulate(recipe: Recipe, gradients, learning_rate=1e-3, theta0=0.0, dtype="float64"):
    """Runs a recipe with numpy on a gradient sequence (no backend).

    ``gradients`` has shape ``(n_steps, ...)``; ``learning_rate`` is a number,
    a sequence of n_steps numbers, or a callable of the step index. Returns
    the parameter trajectory theta[1..n] (the gradients are taken as given,
    not recomputed at theta: an open-loop run). ``dtype`` is the precision
    the parameters, slots and gradients are kept in ("float32" rounds as a
    float32 model's optimizer does; the per-step scalars stay float64 and
    are rounded where they meet the arrays, as in the engine); the
    trajectory comes back in float64.
    """
    recipe = get(recipe)
    dtype = np.dtype(dtype)
    grads = np.asarray(gradients, dtype=float).astype(dtype)
    theta = np.zeros(grads.shape[1:], dtype=dtype) + dtype.type(theta0)
    state = [np.zeros(grads.shape[1:], dtype=dtype) + dtype.type(init) for _, init in recipe.slots()]
    scalars = [float(s) for s in recipe.scalar_init()]
    out = []
    for i, g in enumerate(grads):
        t = float(i + 1)
        scalars = [float(s) for s in recipe.advance(np, scalars, t)]
        lr = learning_rate(i) if callable(learning_rate) else (
            learning_rate[i] if np.ndim(learning_rate) else learning_rate)
        gains = tuple(tuple(float(c) for c in part) for part in recipe.gains(np, scalars, t))
        delta, state = recipe.step(np, g, float(lr), state, gains)
        theta = (theta + delta).astype(dtype)
        out.append(theta.astype(float))
    return np.array(out)
