"""The recipes as torch.optim writes them: torch's argument names and defaults.

Each ``*_torch`` recipe equals the torch.optim optimizer it names step for
step (``tests/test_torch_adapter.py`` runs both, through
:func:`filteropt.to_torch` and through the Keras classes of
:mod:`filteropt.keras.torch_conventions`). Four conventions separate
torch.optim from Keras:

- **where the learning rate enters.** torch's SGD keeps the gradients in
  its buffer and scales the buffer by the rate, buf = m buf + g,
  Delta = -eta[i] buf (stages ``("filter", "normalize", "lr")``); its
  RMSprop likewise scales its momentum buffer of g / rms by the rate
  (``("normalize", "filter", "lr")``). Keras puts the rate before the
  filter (v = m v - eta g): the same trajectory at a constant rate; under
  a schedule torch rescales all the past gradients by today's rate, Keras
  keeps each gradient with the rate it came with.
- **dampening and the first step.** torch's SGD buffer is buf[1] = g[1],
  then buf[i] = m buf[i-1] + (1 - d) g[i]: the filter (1 - d) trace(m)
  (DC gain (1 - d) / (1 - m)) whose input gain is 1 at the first step only
  (:class:`~filteropt.signal.compensation.FilterPath` ``first_gain``).
- **where eps sits.** torch's Adam, AdamW, NAdam, RMSprop and Adagrad all
  divide by sqrt(v) + eps, eps outside the root (of the bias-corrected v^
  for Adam and NAdam); Keras's RMSprop and Adagrad put eps inside the
  root and Keras's Adam adds it to the uncorrected root ("epsilon hat").
- **coupled and decoupled weight decay.** torch's ``weight_decay`` of SGD,
  Adam, RMSprop, Adagrad and NAdam is an L2 penalty's gradient added to the
  gradient before anything else, g + wd theta: not a filter, and not in
  the recipe's filters (the analysis does not see it). These recipes keep
  it as ``hyperparameters["l2"]`` (a coupled recipe always has the key) for
  the adapter (:func:`filteropt.to_torch`) and the Keras classes to apply.
  AdamW's (and NAdam's with ``decoupled_weight_decay=True``) is decoupled,
  theta[i] = (1 - eta wd) theta[i-1] + Delta[i]: :attr:`Recipe.weight_decay`,
  as Keras's ``weight_decay``.

torch's default learning rates are in :data:`TORCH_LEARNING_RATES` (SGD
1e-3, Adam and AdamW 1e-3, RMSprop and Adagrad 1e-2, NAdam 2e-3).

Not covered: ``maximize``, ``foreach``/``fused``/``capturable``/
``differentiable`` (implementation choices), Adagrad's ``lr_decay`` (a
learning-rate schedule: ``LambdaLR(opt, lambda k: 1 / (1 + k * lr_decay))``
is the same), complex parameters, and momentum or dampening outside [0, 1].
"""

from __future__ import annotations

import math
import numbers

from ..signal import filters as F
from ..signal import normalizers as N
from ..signal.arma import ARMAFilter, check_unit_interval
from ..signal.compensation import FilterPath, NadamSchedule
from .core import Recipe
from .registry import register

__all__ = [
    "TORCH_LEARNING_RATES",
    "adagrad_torch",
    "adam_torch",
    "adamw_torch",
    "nadam_torch",
    "rmsprop_torch",
    "sgd_torch",
]

#: torch.optim's default ``lr`` for each recipe (torch 2.x).
TORCH_LEARNING_RATES = {
    "sgd_torch": 1e-3,
    "adam_torch": 1e-3,
    "adamw_torch": 1e-3,
    "rmsprop_torch": 1e-2,
    "adagrad_torch": 1e-2,
    "nadam_torch": 2e-3,
}


def _bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return value


def _nonnegative(value, name):
    """A finite number >= 0 (eps, weight_decay, momentum_decay, ...)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number. Received: {name}={value!r}")
    if not (math.isfinite(value) and float(value) >= 0.0):
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
    return float(value)


def _unit(value, name, closed=False):
    return check_unit_interval(value, name, closed_right=closed)


def _betas(betas):
    """torch's ``betas=(beta1, beta2)``, each in [0, 1)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise ValueError(f"`betas` must be a pair (beta1, beta2). Received: betas={betas!r}")
    return _unit(betas[0], "betas[0]"), _unit(betas[1], "betas[1]")


def _velocity(momentum):
    """trace(momentum), the summer at momentum 1, nothing at 0."""
    if momentum == 0.0:
        return F.identity()
    return F.summer() if momentum == 1.0 else F.trace(momentum)


def sgd_torch(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """torch.optim.SGD: the buffer of the gradients, then the learning rate.

    g' = g + weight_decay theta (coupled, torch's), buf[1] = g'[1],
    buf[i] = momentum buf[i-1] + (1 - dampening) g'[i], Delta[i] = -eta[i] buf[i]
    (Nesterov: -eta[i] (g'[i] + momentum buf[i]); needs dampening 0, as
    torch). The path is (1 - dampening) trace(momentum) with input gain 1
    at the first step (DC gain (1 - dampening) / (1 - momentum)); Keras's
    SGD filters -eta g instead (``"momentum"``): equal at a constant rate.
    """
    m = _unit(momentum, "momentum", closed=True)
    d = _unit(dampening, "dampening")
    if _bool(nesterov, "nesterov") and (m == 0.0 or d != 0.0):
        raise ValueError(
            "Nesterov momentum requires a momentum and zero dampening. "
            f"Received: momentum={momentum!r}, dampening={dampening!r}"
        )
    wd = _nonnegative(weight_decay, "weight_decay")
    if nesterov:
        f = F.nesterov(m) if m < 1.0 else ARMAFilter([2.0, -1.0], [1.0, -1.0])
        path = FilterPath(f)
    elif m == 0.0 or d == 0.0:
        path = FilterPath(_velocity(m))
    else:
        path = FilterPath((1.0 - d) * _velocity(m), first_gain=1.0)
    return Recipe(
        "sgd_torch",
        path,
        None,
        ("filter", "normalize", "lr"),
        {"momentum": m, "dampening": d, "nesterov": nesterov, "l2": wd},
    )


def _adam(name, betas, eps, amsgrad, hyper, weight_decay=0.0):
    b1, b2 = _betas(betas)
    norm = N.RMS(
        F.ema(b2),
        compensate=True,
        epsilon=_nonnegative(eps, "eps"),
        epsilon_mode="outside",
        amsgrad=_bool(amsgrad, "amsgrad"),
    )
    return Recipe(
        name,
        FilterPath(F.ema(b1), compensate=True),
        norm,
        ("filter", "normalize", "lr"),
        {"betas": (b1, b2), "eps": eps, "amsgrad": amsgrad, **hyper},
        weight_decay=weight_decay,
    )


def adam_torch(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    """torch.optim.Adam: eps outside the root of the bias-corrected v^.

    g' = g + weight_decay theta (coupled), m = ema(beta1){g'},
    v = ema(beta2){g'^2}, Delta[t] = -eta m[t] / (1 - beta1^t) /
    (sqrt(v[t] / (1 - beta2^t)) + eps); ``amsgrad``: v replaced by its
    running maximum (before the correction). Keras's Adam adds eps to the
    uncorrected root instead (``"adam"``, epsilon hat).
    """
    return _adam(
        "adam_torch", betas, eps, amsgrad, {"l2": _nonnegative(weight_decay, "weight_decay")}
    )


def adamw_torch(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    """torch.optim.AdamW: adam_torch with decoupled weight decay.

    theta[t] = (1 - eta weight_decay) theta[t-1] + Delta[t], Delta as
    :func:`adam_torch` without the coupled term (Loshchilov & Hutter, ICLR
    2019); torch's default weight_decay is 1e-2 (Keras's AdamW: 4e-3).
    """
    wd = _nonnegative(weight_decay, "weight_decay")
    return _adam("adamw_torch", betas, eps, amsgrad, {"weight_decay": wd}, weight_decay=wd)


def rmsprop_torch(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """torch.optim.RMSprop: eps outside the root, the rate after the momentum.

    g' = g + weight_decay theta (coupled), v = ema(alpha){g'^2} (centred:
    minus the square of ema(alpha){g'}), u = g' / (sqrt(v) + eps),
    buf[i] = momentum buf[i-1] + u[i] (buf[0] = 0), Delta[i] = -eta[i] buf[i].
    Keras's RMSprop puts eps inside the root and the rate before its
    momentum (``"rmsprop"``).
    """
    m = _unit(momentum, "momentum", closed=True)
    norm = N.RMS(
        F.ema(_unit(alpha, "alpha")),
        epsilon=_nonnegative(eps, "eps"),
        epsilon_mode="outside",
        centered=_bool(centered, "centered"),
    )
    return Recipe(
        "rmsprop_torch",
        FilterPath(_velocity(m)),
        norm,
        ("normalize", "filter", "lr"),
        {
            "alpha": alpha,
            "eps": eps,
            "momentum": m,
            "centered": centered,
            "l2": _nonnegative(weight_decay, "weight_decay"),
        },
    )


def adagrad_torch(lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    """torch.optim.Adagrad: the summer of g^2, eps outside the root.

    g' = g + weight_decay theta (coupled), s[i] = s[i-1] + g'[i]^2 (s[0] =
    initial_accumulator_value), Delta[i] = -eta g'[i] / (sqrt(s[i]) + eps).
    torch's ``lr_decay`` is a learning-rate schedule, eta / (1 + (i - 1)
    lr_decay): give it as one (``LambdaLR(opt, lambda k: 1 / (1 + k *
    lr_decay))``, or Keras's ``InverseTimeDecay(eta, 1, lr_decay)``); a
    non-zero value here raises ValueError. Keras's Adagrad puts eps inside
    the root (``"adagrad"``).
    """
    if lr_decay != 0:
        raise ValueError(
            "`lr_decay` is a learning-rate schedule, eta / (1 + (i - 1) lr_decay): give it as "
            "one (torch: LambdaLR(opt, lambda k: 1 / (1 + k * lr_decay)); Keras: "
            "InverseTimeDecay(eta, 1, lr_decay)). Only 0 is accepted. "
            f"Received: lr_decay={lr_decay!r}"
        )
    norm = N.RMS(
        F.summer(),
        epsilon=_nonnegative(eps, "eps"),
        epsilon_mode="outside",
        initial=_nonnegative(initial_accumulator_value, "initial_accumulator_value"),
    )
    return Recipe(
        "adagrad_torch",
        FilterPath(F.identity()),
        norm,
        ("filter", "normalize", "lr"),
        {
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "l2": _nonnegative(weight_decay, "weight_decay"),
        },
    )


def nadam_torch(
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
):
    """torch.optim.NAdam: Dozat's momentum schedule, eps outside the root.

    mu[t] = beta1 (1 - 0.5 * 0.96^(t momentum_decay)): Keras's schedule
    (:class:`~filteropt.signal.compensation.NadamSchedule`) with decay =
    0.96^momentum_decay; with P[t] = mu[1] ... mu[t],
    Delta[t] = -eta ((1 - mu[t]) / (1 - P[t]) g'[t] + mu[t+1] / (1 - P[t+1])
    m[t]) / (sqrt(v[t] / (1 - beta2^t)) + eps), m = ema(beta1){g'},
    v = ema(beta2){g'^2}; g' = g + weight_decay theta, or with
    ``decoupled_weight_decay`` theta[t] = (1 - eta weight_decay) theta[t-1] +
    Delta[t] (torch's NAdamW). Keras's Nadam is momentum_decay = 1, eps = 1e-7.
    """
    b1, b2 = _betas(betas)
    md = _nonnegative(momentum_decay, "momentum_decay")
    wd = _nonnegative(weight_decay, "weight_decay")
    path = FilterPath(F.ema(b1), schedule=NadamSchedule(b1, 0.96**md))
    norm = N.RMS(
        F.ema(b2), compensate=True, epsilon=_nonnegative(eps, "eps"), epsilon_mode="outside"
    )
    hyper = {
        "betas": (b1, b2),
        "eps": eps,
        "momentum_decay": md,
        "decoupled_weight_decay": _bool(decoupled_weight_decay, "decoupled_weight_decay"),
    }
    hyper.update({"weight_decay": wd} if decoupled_weight_decay else {"l2": wd})
    return Recipe(
        "nadam_torch",
        path,
        norm,
        ("filter", "normalize", "lr"),
        hyper,
        weight_decay=wd if decoupled_weight_decay else 0.0,
    )


register("sgd_torch", sgd_torch, optimizer="SGDTorch")
register("adam_torch", adam_torch, optimizer="AdamTorch")
register("adamw_torch", adamw_torch, optimizer="AdamWTorch")
register("rmsprop_torch", rmsprop_torch, optimizer="RMSpropTorch")
register("adagrad_torch", adagrad_torch, optimizer="AdagradTorch")
register("nadam_torch", nadam_torch, optimizer="NAdamTorch")
