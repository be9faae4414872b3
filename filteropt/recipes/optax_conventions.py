"""The recipes as optax writes them: optax's argument names, defaults and order.

Each ``*_optax`` recipe equals the optax optimizer of that name step for
step (``tests/test_optax_adapter.py`` runs both, through
:func:`filteropt.to_optax` and through the Keras classes of
:mod:`filteropt.keras.optax_conventions`). Two conventions separate optax
from Keras:

- **where the learning rate enters.** optax's ``sgd`` is ``chain(trace,
  scale_by_learning_rate)``: the velocity holds the gradients,
  v = m v + g, Delta = -eta v (stages ``("filter", "normalize", "lr")``).
  Keras's SGD (the ``"momentum"`` recipe) puts the rate before the filter,
  v = m v - eta g, Delta = v. The two agree at a constant rate; under a
  schedule optax's step -eta[i] v[i] rescales all the past gradients by
  today's rate, Keras's keeps each gradient with the rate it came with.
- **where Adam's eps sits.** optax's ``adam`` divides by
  sqrt(v^ + eps_root) + eps, eps outside the root of the bias-corrected
  v^; Keras's Adam adds eps to the uncorrected root ("epsilon hat"),
  Delta = -eta m^ sqrt(1 - b2^t) / (sqrt(v) + eps).

The other optax optimizers already have a recipe equal to them, under
Keras's names: ``optax.adagrad`` is ``"adagrad"`` (initial_accumulator_value,
epsilon = optax's eps; both default to 0.1, 1e-7), ``optax.adabelief``
(``nesterov=False``) is ``"adabelief"`` (beta_1, beta_2, epsilon,
epsilon_root = optax's b1, b2, eps, eps_root; optax's defaults),
``optax.lion`` is ``"lion"`` (beta_1, beta_2 = b1, b2) with the weight decay
given to the optimizer (optax defaults to 1e-3, Keras to none), and
``optax.rmsprop`` with ``nesterov=False``, ``initial_scale=0``,
``eps_in_sqrt=True``, ``bias_correction=False`` is Keras's ``"rmsprop"``
(rho = decay, epsilon = eps; optax's eps defaults to 1e-8, Keras's to 1e-7).
:func:`rmsprop_optax` takes optax's whole signature.

Not covered: optax's ``mu_dtype``/``accumulator_dtype`` (moments in another
dtype), ``mask`` and a scheduled ``weight_decay``, and
``adabelief(nesterov=True)``.
"""

from __future__ import annotations

import numbers
from dataclasses import replace

from ..signal import filters as F
from ..signal import normalizers as N
from ..signal.compensation import FilterPath
from .catalogue import _beta, nadam_lti, sgd
from .core import Recipe
from .registry import register

__all__ = ["adam_optax", "adamw_optax", "nadam_optax", "rmsprop_optax", "sgd_optax"]


def _bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return value


def _nonnegative(value, name):
    """A finite number >= 0 (optax's eps, eps_root, initial_scale)."""
    return N._check_epsilon(value, name)


def _velocity(momentum, nesterov):
    """optax's ``trace(decay=momentum, nesterov)`` (None: no trace) as a path:
    v[i] = m v[i-1] + x[i], out = v[i] or, Nesterov, x[i] + m v[i] (the same
    filters as Keras's SGD, :func:`filteropt.recipes.sgd`)."""
    _bool(nesterov, "nesterov")
    return sgd(0.0 if momentum is None else momentum, nesterov).path


def sgd_optax(momentum=None, nesterov=False):
    """optax.sgd: the velocity of the gradients, then the learning rate.

    v[i] = momentum v[i-1] + g[i],  Delta[i] = -eta[i] v[i]
    (Nesterov: Delta[i] = -eta[i] (g[i] + momentum v[i])). ``momentum=None``
    (or 0) is plain SGD. Keras's SGD filters -eta g instead: the same
    trajectory at a constant rate, another one under a schedule.
    """
    return Recipe(
        "sgd_optax",
        _velocity(momentum, nesterov),
        None,
        ("filter", "normalize", "lr"),
        {"momentum": momentum, "nesterov": nesterov},
    )


def rmsprop_optax(
    decay=0.9,
    eps=1e-8,
    initial_scale=0.0,
    eps_in_sqrt=True,
    centered=False,
    momentum=None,
    nesterov=False,
    bias_correction=False,
):
    """optax.rmsprop: RMS through ema(decay), the learning rate, then trace.

    nu[i] = decay nu[i-1] + (1 - decay) g[i]^2,  nu[0] = initial_scale
    (centred: minus the square of mu = ema(decay){g}; bias_correction:
    both divided by 1 - decay^i), u[i] = -eta[i] g[i] / sqrt(nu[i] + eps)
    (``eps_in_sqrt=False``: / (sqrt(nu[i]) + eps)), then optax's trace of u
    with ``momentum`` (and ``nesterov``) as in :func:`sgd_optax`.
    """
    decay = _beta(decay, "decay")
    _bool(eps_in_sqrt, "eps_in_sqrt")
    _bool(centered, "centered")
    _bool(bias_correction, "bias_correction")
    norm = N.RMS(
        F.ema(decay),
        compensate=bias_correction,
        epsilon=_nonnegative(eps, "eps"),
        epsilon_mode="inside" if eps_in_sqrt else "outside",
        centered=centered,
        initial=_nonnegative(initial_scale, "initial_scale"),
    )
    return Recipe(
        "rmsprop_optax",
        _velocity(momentum, nesterov),
        norm,
        ("normalize", "lr", "filter"),
        {
            "decay": decay,
            "eps": eps,
            "initial_scale": initial_scale,
            "eps_in_sqrt": eps_in_sqrt,
            "centered": centered,
            "momentum": momentum,
            "nesterov": nesterov,
            "bias_correction": bias_correction,
        },
    )


def adam_optax(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, nesterov=False):
    """optax.adam: Delta = -eta m^ / (sqrt(v^ + eps_root) + eps).

    m^ = ema(b1){g} / (1 - b1^t) (``nesterov=True``: optax's Nesterov m^,
    the path of :func:`filteropt.recipes.nadam_lti`), v^ = ema(b2){g^2} /
    (1 - b2^t); eps outside the root of the corrected v^, eps_root under it
    and not in the state (RMS ``epsilon_inside``). Keras's Adam puts eps on
    the uncorrected root instead (``"adam"``, epsilon hat).
    """
    b1, b2 = _beta(b1, "b1"), _beta(b2, "b2")
    eps, eps_root = _nonnegative(eps, "eps"), _nonnegative(eps_root, "eps_root")
    if _bool(nesterov, "nesterov"):
        path = nadam_lti(b1, b2, eps).path
    else:
        path = FilterPath(F.ema(b1), compensate=True)
    norm = N.RMS(
        F.ema(b2), compensate=True, epsilon=eps, epsilon_mode="outside", epsilon_inside=eps_root
    )
    return Recipe(
        "adam_optax",
        path,
        norm,
        ("filter", "normalize", "lr"),
        {"b1": b1, "b2": b2, "eps": eps, "eps_root": eps_root, "nesterov": nesterov},
    )


def adamw_optax(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, weight_decay=1e-4, nesterov=False):
    """optax.adamw: :func:`adam_optax` plus decoupled weight decay.

    theta[i] = theta[i-1] - eta[i] (m^ / (sqrt(v^ + eps_root) + eps) +
    weight_decay theta[i-1]); ``nesterov=True`` is optax.nadamw.
    """
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, numbers.Real):
        raise ValueError(
            f"`weight_decay` must be a finite number. Received: weight_decay={weight_decay!r}"
        )
    r = adam_optax(b1, b2, eps, eps_root, nesterov)
    return replace(
        r,
        name="adamw_optax",
        weight_decay=weight_decay,
        hyperparameters=dict(r.hyperparameters, weight_decay=weight_decay),
    )


def nadam_optax(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    """optax.nadam: :func:`adam_optax` with ``nesterov=True``.

    m^[t] = b1 m[t] / (1 - b1^(t+1)) + (1 - b1) g[t] / (1 - b1^t),
    Delta[t] = -eta m^[t] / (sqrt(v^[t] + eps_root) + eps). With eps_root = 0
    this is :func:`filteropt.recipes.nadam_lti` (beta_1, beta_2, epsilon =
    b1, b2, eps): the same path and normalizer.
    """
    return replace(adam_optax(b1, b2, eps, eps_root, nesterov=True), name="nadam_optax")


register("sgd_optax", sgd_optax, optimizer="SGDOptax")
register("rmsprop_optax", rmsprop_optax, optimizer="RMSpropOptax")
register("adam_optax", adam_optax, optimizer="AdamOptax")
register("adamw_optax", adamw_optax, optimizer="AdamWOptax")
register("nadam_optax", nadam_optax, optimizer="NadamOptax")
