"""Hypothesis strategies for filters and optimizer configurations.

Used by filteropt's own property tests and offered for yours::

    from hypothesis import given
    from filteropt.testing import stable_filters

    @given(stable_filters(max_order=3))
    def test_dc_gain_is_step_limit(f):
        ...

Importing this module needs ``hypothesis`` (the ``test`` extra).
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from scipy import signal

from .recipes.registry import drop_in_classes
from .signal.arma import ARMAFilter

__all__ = [
    "DROP_IN_NAMES",
    "filter_banks",
    "gradient_sequences",
    "keras_optimizer_configs",
    "literature_configs",
    "monotone_unit_dc_filters",
    "optimizer_configs",
    "sos_filters",
    "stable_filters",
    "unit_dc_filters",
]


def _roots(draw, n, max_radius, min_radius=0.0):
    """n roots closed under conjugation, |root| in [min_radius, max_radius]."""
    roots: list[complex] = []
    while len(roots) < n:
        r = draw(st.floats(min_radius, max_radius))
        if n - len(roots) >= 2 and draw(st.booleans()):
            theta = draw(st.floats(0.05, np.pi - 0.05))
            roots += [r * np.exp(1j * theta), r * np.exp(-1j * theta)]
        else:
            roots.append(r * draw(st.sampled_from([1.0, -1.0])))
    return np.array(roots)


@st.composite
def stable_filters(
    draw, max_order: int = 4, max_pole_radius: float = 0.95, min_order: int = 0
) -> ARMAFilter:
    """Random ARMA filters with every pole inside ``max_pole_radius``.

    Orders ``min_order..max_order``; as many zeros as poles or fewer (zeros
    anywhere within radius 1.5), and a gain in [0.1, 10] of either sign.
    """
    order = draw(st.integers(min_order, max_order))
    poles = _roots(draw, order, max_pole_radius)
    n_zeros = draw(st.integers(0, order))
    zeros = _roots(draw, n_zeros, 1.5)
    gain = draw(st.floats(0.1, 10.0)) * draw(st.sampled_from([1.0, -1.0]))
    b, a = signal.zpk2tf(zeros, poles, gain)
    b, a = np.real(np.atleast_1d(b)), np.real(np.atleast_1d(a))
    return ARMAFilter(b, a)


@st.composite
def unit_dc_filters(draw, max_order: int = 4, max_pole_radius: float = 0.95) -> ARMAFilter:
    """Stable filters scaled to H(1) = 1 whose step response stays clearly
    positive (min s[n] / H(1) > 1e-3), so transient compensation (1 / s[n])
    is well defined.

    A series connection f * g of two such filters need not be: the step
    response of a product can cross zero (compensation then raises
    ValueError). For filters whose products are compensable too, use
    :func:`monotone_unit_dc_filters`.
    """
    from .signal.compensation import step_response_margin

    f = draw(stable_filters(max_order, max_pole_radius, min_order=1))
    dc = f.dc_gain
    assume(np.isfinite(dc) and abs(dc) > 1e-3 and abs(f.input_gain) > 1e-3)
    f = f / dc
    assume(step_response_margin(f) > 1e-3)
    return f


@st.composite
def monotone_unit_dc_filters(
    draw, max_order: int = 3, max_pole_radius: float = 0.95, min_input_gain: float = 0.2
) -> ARMAFilter:
    """Filters with H(1) = 1 and a non-negative impulse response, so that
    their step response rises monotonically from b[0] to 1.

    A cascade of 1..max_order first-order sections

        H_k(z) = (c_k + (1 - p_k - c_k) z^-1) / (1 - p_k z^-1),

    0 <= p_k <= max_pole_radius, min_input_gain <= c_k <= 0.95: each has
    H_k(1) = 1 and the impulse response c_k, (1 - p_k)(1 - c_k) p_k^(n-1),
    all >= 0. Series connections (f * g) of such filters are again such
    filters, with b[0] the product of the c_k, and b[0] is the smallest
    s[n] / H(1): f * g * ... of K sections in all has
    step_response_margin >= min_input_gain^K, and transient compensation is
    well defined for it (it needs > 1e-6: K <= 8 at the default 0.2).
    """
    if not 0.0 < min_input_gain <= 0.95:
        raise ValueError(f"`min_input_gain` must be in (0, 0.95]. Received: {min_input_gain}")
    f = ARMAFilter([1.0], [1.0])
    for _ in range(draw(st.integers(1, max_order))):
        p = draw(st.floats(0.0, max_pole_radius))
        c = draw(st.floats(min_input_gain, 0.95))
        f = f * ARMAFilter([c, 1.0 - p - c], [1.0, -p])
    return f


@st.composite
def sos_filters(draw, max_sections: int = 3, max_pole_radius: float = 0.995) -> ARMAFilter:
    """Cascades of 1..max_sections second-order sections (``form == "sos"``,
    made by :meth:`ARMAFilter.from_zpk`), poles within ``max_pole_radius``
    (by default up to 0.995: near z = 1, where gradient filters put theirs),
    as many zeros as poles within radius 1.5, a gain in [0.1, 10] of either
    sign."""

    def pair(max_radius):
        r = draw(st.floats(0.0, max_radius))
        if draw(st.booleans()):
            theta = draw(st.floats(1e-3, np.pi - 1e-3))
            return [r * np.exp(1j * theta), r * np.exp(-1j * theta)]
        return [r * draw(st.sampled_from([1.0, -1.0])), draw(st.floats(-max_radius, max_radius))]

    n = draw(st.integers(1, max_sections))
    poles = [p for _ in range(n) for p in pair(max_pole_radius)]
    zeros = [z for _ in range(n) for z in pair(1.5)]
    gain = draw(st.floats(0.1, 10.0)) * draw(st.sampled_from([1.0, -1.0]))
    return ARMAFilter.from_zpk(zeros, poles, gain)


@st.composite
def filter_banks(draw, max_branches: int = 3) -> ARMAFilter:
    """Parallel banks (``form == "parallel"``): a direct gain plus
    1..max_branches stable branches of order 1-2, as ``f + g`` makes them."""
    f = draw(st.floats(-1.0, 1.0))
    for _ in range(draw(st.integers(1, max_branches))):
        f = f + draw(stable_filters(max_order=2, min_order=1))
    assume(isinstance(f, ARMAFilter) and f.form == "parallel")
    return f


_unit = st.floats(0.0, 0.999)
_beta = st.floats(0.0, 0.9999)
_eps = st.sampled_from([0.0, 1e-12, 1e-8, 1e-7, 1e-3])
_lr = st.floats(1e-4, 0.1)

#: The filteropt classes that equal a Keras built-in of the same name (from the registry).
DROP_IN_NAMES = drop_in_classes()


def keras_optimizer_configs(name: str):
    """Keyword arguments accepted by both ``keras.optimizers.<name>`` and
    ``filteropt.<name>`` (learning rate included)."""
    eps = st.sampled_from([1e-12, 1e-8, 1e-7, 1e-3])
    common = {"learning_rate": _lr}
    specific = {
        "SGD": {"momentum": _unit, "nesterov": st.booleans()},
        "Adagrad": {"initial_accumulator_value": st.floats(0.0, 1.0), "epsilon": eps},
        "Adadelta": {"rho": st.floats(0.5, 0.999), "epsilon": eps},
        "RMSprop": {
            "rho": st.floats(0.5, 0.999),
            "momentum": _unit,
            "epsilon": eps,
            "centered": st.booleans(),
        },
        "Adam": {"beta_1": _beta, "beta_2": _beta, "epsilon": eps, "amsgrad": st.booleans()},
        "AdamW": {
            "beta_1": _beta,
            "beta_2": _beta,
            "epsilon": eps,
            "weight_decay": st.floats(0.0, 0.1),
        },
        "Nadam": {"beta_1": _beta, "beta_2": _beta, "epsilon": eps},
        "Adamax": {"beta_1": _beta, "beta_2": _beta, "epsilon": eps},
        "Lion": {"beta_1": st.floats(0.01, 1.0), "beta_2": _beta},
    }[name]
    return st.fixed_dictionaries({**common, **specific})


def literature_configs() -> dict:
    """Strategies for the arguments of the classes Keras lacks, by class name
    (``Designed`` aside: each draw would run a design search)."""
    return {
        "QHM": st.fixed_dictionaries({"learning_rate": _lr, "nu": st.floats(0, 1), "beta": _unit}),
        "QHAdam": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "beta_1": _beta,
                "beta_2": _beta,
                "nu_1": st.floats(0, 1),
                "nu_2": st.floats(0, 1),
            }
        ),
        "AggMo": st.fixed_dictionaries(
            {"learning_rate": _lr, "betas": st.lists(_unit, min_size=1, max_size=4)}
        ),
        "ButterworthMomentum": st.fixed_dictionaries(
            {"learning_rate": _lr, "order": st.integers(1, 6), "cutoff": st.floats(0.02, 0.9)}
        ),
        "AdaBelief": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "beta_1": _beta,
                "beta_2": _beta,
                "epsilon_root": st.sampled_from([0.0, 1e-16, 1e-8]),
            }
        ),
        "NadamLTI": st.fixed_dictionaries({"learning_rate": _lr, "beta_1": _beta, "beta_2": _beta}),
        "TripleMomentum": st.fixed_dictionaries({"kappa": st.floats(1.5, 1e4)}),
        "RobustMomentum": st.fixed_dictionaries(
            {"kappa": st.floats(1.5, 1e4), "lipschitz": st.floats(0.1, 10.0)}
        ),
        "Grokfast": st.fixed_dictionaries(
            {"learning_rate": _lr, "alpha": _unit, "lamb": st.floats(0.0, 5.0)}
        ),
        "PID": st.fixed_dictionaries(
            {
                "learning_rate": st.floats(1e-4, 1e-2),
                "momentum": _unit,
                "integral": st.floats(0.0, 5.0),
                "derivative": st.floats(0.0, 10.0),
            }
        ),
        "AdEMAMix": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "beta_1": st.floats(0.01, 0.99),
                "beta_2": _beta,
                "beta_3": st.floats(0.5, 0.9999),
                "alpha": st.floats(0.0, 10.0),
                "alpha_warmup": st.one_of(st.none(), st.integers(1, 200)),
                "beta_3_warmup": st.one_of(st.none(), st.integers(1, 200)),
            }
        ),
        **_optax_configs(),
        **_torch_configs(),
    }


def _optax_configs() -> dict:
    """The optax-convention classes (:mod:`filteropt.keras.optax_conventions`),
    with optax's argument names."""
    momentum = st.one_of(st.none(), _unit)
    adam = {
        "learning_rate": _lr,
        "b1": _beta,
        "b2": _beta,
        "eps": _eps,
        "eps_root": st.sampled_from([0.0, 1e-16, 1e-8]),
    }
    return {
        "SGDOptax": st.fixed_dictionaries(
            {"learning_rate": _lr, "momentum": momentum, "nesterov": st.booleans()}
        ),
        # centred and bias-corrected, the first step's variance is decay
        # initial_scale / (1 - decay), computed as a difference of two
        # numbers the size of g^2: 0 would leave it to rounding
        "RMSpropOptax": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "decay": st.floats(0.5, 0.999),
                "eps": st.sampled_from([1e-12, 1e-8, 1e-3]),
                "initial_scale": st.sampled_from([0.0, 0.1]),
                "eps_in_sqrt": st.booleans(),
                "centered": st.booleans(),
                "momentum": momentum,
                "nesterov": st.booleans(),
                "bias_correction": st.booleans(),
            }
        ).map(
            lambda c: dict(c, initial_scale=1.0) if c["centered"] and c["bias_correction"] else c
        ),
        "AdamOptax": st.fixed_dictionaries({**adam, "nesterov": st.booleans()}),
        "AdamWOptax": st.fixed_dictionaries(
            {**adam, "weight_decay": st.floats(0.0, 0.1), "nesterov": st.booleans()}
        ),
        "NadamOptax": st.fixed_dictionaries(adam),
    }


def _torch_configs() -> dict:
    """The torch-convention classes (:mod:`filteropt.keras.torch_conventions`),
    with torch.optim's argument names (``learning_rate`` is torch's ``lr``)."""
    betas = st.tuples(_beta, _beta)
    decay = st.floats(0.0, 0.1)

    def torch_nesterov(kwargs):  # torch: Nesterov needs a momentum and no dampening
        if kwargs["nesterov"]:
            return {**kwargs, "momentum": max(kwargs["momentum"], 0.01), "dampening": 0.0}
        return kwargs

    return {
        "SGDTorch": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "momentum": _unit,
                "dampening": st.floats(0.0, 0.99),
                "nesterov": st.booleans(),
                "weight_decay": decay,
            }
        ).map(torch_nesterov),
        "AdamTorch": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "betas": betas,
                "eps": _eps,
                "weight_decay": decay,
                "amsgrad": st.booleans(),
            }
        ),
        "AdamWTorch": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "betas": betas,
                "eps": _eps,
                "weight_decay": decay,
                "amsgrad": st.booleans(),
            }
        ),
        "RMSpropTorch": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "alpha": st.floats(0.5, 0.999),
                "eps": st.sampled_from([1e-12, 1e-8, 1e-3]),
                "weight_decay": decay,
                "momentum": _unit,
                "centered": st.booleans(),
            }
        ),
        "AdagradTorch": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "weight_decay": decay,
                "initial_accumulator_value": st.floats(0.0, 1.0),
                "eps": st.sampled_from([1e-10, 1e-8, 1e-3]),
            }
        ),
        "NAdamTorch": st.fixed_dictionaries(
            {
                "learning_rate": _lr,
                "betas": betas,
                "eps": _eps,
                "weight_decay": decay,
                "momentum_decay": st.floats(0.0, 1.0),
                "decoupled_weight_decay": st.booleans(),
            }
        ),
    }


def optimizer_configs():
    """``(name, kwargs)`` for any filteropt optimizer class, drop-ins and new."""
    options = [st.tuples(st.just(n), keras_optimizer_configs(n)) for n in DROP_IN_NAMES]
    options += [st.tuples(st.just(n), s) for n, s in literature_configs().items()]
    return st.one_of(*options)


@st.composite
def gradient_sequences(
    draw, steps: int = 150, width: int = 6, min_scale: float = 1e-8, max_scale: float = 1e2
) -> np.ndarray:
    """``(steps, width)`` gradients: column j has its own scale in
    [min_scale, max_scale] (log-uniform), a random mean and random noise."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    log_scales = np.linspace(np.log10(min_scale), np.log10(max_scale), width)
    scales = 10.0 ** rng.permutation(log_scales)
    mean = rng.standard_normal(width)
    return (mean + rng.standard_normal((steps, width))) * scales
