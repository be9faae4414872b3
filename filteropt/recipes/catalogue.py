"""The named recipes: the lecture's optimizers and the literature's.

Each function takes Keras's argument names and defaults (the literature's
where Keras has no such optimizer) and returns a :class:`Recipe`; the
registry (:mod:`filteropt.recipes.registry`) lists them once, with the
names they go by and the Keras classes that run them.

``keras_casts=True`` (passed by the Keras drop-ins on TensorFlow) rounds
hyperparameters through float32 where Keras's built-ins do.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..signal import filters as F
from ..signal import normalizers as N
from ..signal.arma import ARMAFilter, check_unit_interval
from ..signal.compensation import FilterPath, NadamSchedule
from .core import Recipe
from .registry import register

__all__ = [
    "adabelief",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "aggmo",
    "butterworth",
    "lion",
    "nadam",
    "nadam_lti",
    "qhadam",
    "qhm",
    "rmsprop",
    "sgd",
]


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
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= float(value) <= 1.0
    ):
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
    return Recipe(
        name,
        FilterPath(f),
        None,
        ("lr", "filter", "normalize"),
        {"momentum": momentum, "nesterov": nesterov},
    )


def adagrad(initial_accumulator_value=0.1, epsilon=1e-7, keras_casts=False):
    """Adagrad: RMS through the summer, epsilon inside the square root."""
    if (
        isinstance(initial_accumulator_value, bool)
        or not isinstance(initial_accumulator_value, numbers.Real)
        or not float(initial_accumulator_value) >= 0
    ):
        raise ValueError(
            "`initial_accumulator_value` must be a number >= 0. "
            f"Received: initial_accumulator_value={initial_accumulator_value!r}"
        )
    norm = N.RMS(
        F.summer(),
        epsilon=epsilon,
        epsilon_mode="inside",
        initial=_f32(float(initial_accumulator_value), keras_casts),
    )
    return Recipe(
        "adagrad",
        FilterPath(F.identity()),
        norm,
        ("filter", "normalize", "lr"),
        {"initial_accumulator_value": initial_accumulator_value, "epsilon": epsilon},
    )


def adadelta(rho=0.95, epsilon=1e-7):
    """Adadelta: update RMS over gradient RMS, both through ema(rho)."""
    norm = N.Adadelta(_beta(rho, "rho"), epsilon)
    return Recipe(
        "adadelta",
        FilterPath(F.identity()),
        norm,
        ("filter", "normalize", "lr"),
        {"rho": rho, "epsilon": epsilon},
    )


def rmsprop(rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    """RMSprop: RMS through ema(rho) (centred on request), then momentum."""
    momentum = _momentum(momentum)
    if not isinstance(centered, bool):
        raise TypeError(f"`centered` must be a bool. Received: centered={centered!r}")
    norm = N.RMS(
        F.ema(_beta(rho, "rho")), epsilon=epsilon, epsilon_mode="inside", centered=centered
    )
    f = (
        F.trace(momentum)
        if 0.0 < momentum < 1.0
        else (F.summer() if momentum == 1.0 else F.identity())
    )
    return Recipe(
        "rmsprop",
        FilterPath(f),
        norm,
        ("normalize", "lr", "filter"),
        {"rho": rho, "momentum": momentum, "epsilon": epsilon, "centered": centered},
    )


def adam(beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, keras_casts=False):
    """Adam: compensated ema(beta_1) over the RMS of compensated ema(beta_2)."""
    if not isinstance(amsgrad, bool):
        raise TypeError(f"`amsgrad` must be a bool. Received: amsgrad={amsgrad!r}")
    b1, b2 = _beta(beta_1, "beta_1"), _beta(beta_2, "beta_2")
    path = FilterPath(F.ema(b1), compensate=True, reference=_ref(b1, keras_casts))
    norm = N.RMS(
        F.ema(b2),
        compensate=True,
        epsilon=epsilon,
        epsilon_mode="hat",
        amsgrad=amsgrad,
        reference=_ref(b2, keras_casts),
    )
    return Recipe(
        "amsgrad" if amsgrad else "adam",
        path,
        norm,
        ("filter", "normalize", "lr"),
        {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon, "amsgrad": amsgrad},
    )


def _ref(beta, keras_casts):
    return F.ema(_f32(beta, True)) if keras_casts else None


def adamw(
    beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=0.004, keras_casts=False
):
    """AdamW: Adam plus decoupled weight decay (Loshchilov & Hutter, ICLR 2019).

    theta[i] = (1 - eta lambda) theta[i-1] - eta m^ / (sqrt(v^) + eps^):
    the decay moves the integrator's pole from 1 to 1 - eta lambda.
    """
    if (
        weight_decay is None
        or isinstance(weight_decay, bool)
        or not isinstance(weight_decay, numbers.Real)
    ):
        raise ValueError(
            f"Argument `weight_decay` must be a float. Received: weight_decay={weight_decay!r}"
        )
    r = adam(beta_1, beta_2, epsilon, amsgrad, keras_casts)
    return Recipe(
        "adamw",
        r.path,
        r.normalizer,
        r.stages,
        dict(r.hyperparameters, weight_decay=weight_decay),
        weight_decay=float(weight_decay),
    )


def nadam(beta_1=0.9, beta_2=0.999, epsilon=1e-7, keras_casts=False):
    """Nadam as Keras 3: ema(beta_1) with Dozat's momentum schedule."""
    beta_1 = _beta(beta_1, "beta_1")
    b1, b2 = _f32(beta_1, keras_casts), _f32(_beta(beta_2, "beta_2"), keras_casts)
    gain = (b1, _f32(0.96, True)) if keras_casts else None
    path = FilterPath(F.ema(b1), schedule=NadamSchedule(beta_1, 0.96, gain))
    norm = N.RMS(F.ema(b2), compensate=True, epsilon=epsilon, epsilon_mode="outside")
    return Recipe(
        "nadam",
        path,
        norm,
        ("filter", "normalize", "lr"),
        {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon},
    )


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
    norm = N.RMS(
        F.ema(_beta(beta_2, "beta_2")), compensate=True, epsilon=epsilon, epsilon_mode="outside"
    )
    return Recipe(
        "nadam_lti",
        path,
        norm,
        ("filter", "normalize", "lr"),
        {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon},
    )


def adamax(beta_1=0.9, beta_2=0.999, epsilon=1e-7, keras_casts=False):
    """Adamax: compensated ema(beta_1) over the infinity-norm peak detector."""
    b1 = _beta(beta_1, "beta_1")
    path = FilterPath(F.ema(b1), compensate=True, reference=_ref(b1, keras_casts))
    return Recipe(
        "adamax",
        path,
        N.MaxNorm(_beta(beta_2, "beta_2"), epsilon),
        ("filter", "normalize", "lr"),
        {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon},
    )


def lion(beta_1=0.9, beta_2=0.99, keras_casts=False):
    """Lion: the sign of an ARMA1 filter of the gradient."""
    if (
        isinstance(beta_1, bool)
        or not isinstance(beta_1, numbers.Real)
        or not 0 < float(beta_1) <= 1
    ):
        raise ValueError(
            "Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
            f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}."
        )
    f = F.lion(_f32(beta_1, keras_casts), _f32(check_unit_interval(beta_2, "beta_2"), keras_casts))
    return Recipe(
        "lion",
        FilterPath(f),
        N.Sign(),
        ("filter", "normalize", "lr"),
        {"beta_1": beta_1, "beta_2": beta_2},
    )


def qhm(nu=0.7, beta=0.999):
    """Quasi-hyperbolic momentum (Ma & Yarats 2019): (1 - nu) g + nu ema(g)."""
    return Recipe(
        "qhm",
        FilterPath(F.qhm(nu, beta)),
        None,
        ("filter", "normalize", "lr"),
        {"nu": nu, "beta": beta},
    )


def qhadam(beta_1=0.9, beta_2=0.999, nu_1=0.7, nu_2=1.0, epsilon=1e-8):
    """QHAdam (Ma & Yarats 2019): quasi-hyperbolic mixing on both moments.

    m^ = (1 - nu_1) g + nu_1 m / (1 - beta_1^t),
    v^ = (1 - nu_2) g^2 + nu_2 v / (1 - beta_2^t),
    Delta = -eta m^ / (sqrt(v^) + eps).
    """
    nu_1 = check_unit_interval(nu_1, "nu_1", closed_right=True)
    nu_2 = check_unit_interval(nu_2, "nu_2", closed_right=True)
    path = FilterPath(F.ema(_beta(beta_1, "beta_1")), compensate=True, mix=nu_1, direct=1 - nu_1)
    norm = N.RMS(
        F.ema(_beta(beta_2, "beta_2")),
        compensate=True,
        epsilon=epsilon,
        epsilon_mode="outside",
        mix=nu_2,
        direct=1 - nu_2,
    )
    return Recipe(
        "qhadam",
        path,
        norm,
        ("filter", "normalize", "lr"),
        {"beta_1": beta_1, "beta_2": beta_2, "nu_1": nu_1, "nu_2": nu_2, "epsilon": epsilon},
    )


def aggmo(betas=(0.0, 0.9, 0.99)):
    """Aggregated momentum (Lucas et al. 2019): mean of K velocities."""
    return Recipe(
        "aggmo",
        FilterPath(F.aggmo(betas)),
        None,
        ("lr", "filter", "normalize"),
        {"betas": tuple(betas) if hasattr(betas, "__iter__") else betas},
    )


def butterworth(order=2, cutoff=0.1, momentum_gain="dc"):
    """Momentum through a Butterworth low-pass (the lecture's suggestion).

    ``momentum_gain="dc"`` keeps H(1) = 1, so the learning rate is the
    effective step; ``"input"`` gives b[0] = 1 as heavy-ball momentum does.
    """
    f = F.butterworth(order, cutoff, gain=momentum_gain)
    return Recipe(
        "butterworth",
        FilterPath(f),
        None,
        ("lr", "filter", "normalize"),
        {"order": order, "cutoff": cutoff, "momentum_gain": momentum_gain},
    )


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
    norm = N.RMS(
        F.ema(_beta(beta_2, "beta_2")),
        compensate=True,
        epsilon=epsilon,
        epsilon_mode="outside",
        belief=True,
        epsilon_root=epsilon_root,
    )
    return Recipe(
        "adabelief",
        path,
        norm,
        ("filter", "normalize", "lr"),
        {"beta_1": beta_1, "beta_2": beta_2, "epsilon": epsilon, "epsilon_root": epsilon_root},
    )


# -- the names they go by: recipe, fixed arguments, the Keras class, the built-in

register("sgd", sgd, optimizer="SGD", keras="SGD")
register("momentum", sgd, {"momentum": 0.9}, optimizer="SGD", keras="SGD")
register("nesterov", sgd, {"momentum": 0.9, "nesterov": True}, optimizer="SGD", keras="SGD")
register("adagrad", adagrad, optimizer="Adagrad", keras="Adagrad")
register("adadelta", adadelta, optimizer="Adadelta", keras="Adadelta")
register("rmsprop", rmsprop, optimizer="RMSprop", keras="RMSprop")
register("adam", adam, optimizer="Adam", keras="Adam")
register("amsgrad", adam, {"amsgrad": True}, optimizer="Adam", keras="Adam")
register("adamw", adamw, optimizer="AdamW", keras="AdamW")
register("nadam", nadam, optimizer="Nadam", keras="Nadam")
register("nadam_lti", nadam_lti, optimizer="NadamLTI")
register("adamax", adamax, optimizer="Adamax", keras="Adamax")
register("lion", lion, optimizer="Lion", keras="Lion")
register("qhm", qhm, optimizer="QHM")
register("qhadam", qhadam, optimizer="QHAdam")
register("aggmo", aggmo, optimizer="AggMo")
register("adabelief", adabelief, optimizer="AdaBelief")
register("butterworth", butterworth, optimizer="ButterworthMomentum")
