"""The normaliser's current scale: an adaptive optimizer frozen as a diagonal preconditioner.

An adaptive optimizer's update is Delta = -eta H{g} / P with a per-coordinate
divisor P (Adam's sqrt(v^) + eps, ...). Frozen, it is gradient descent on the
preconditioned loss: the closed loop is stable where eta times the largest
eigenvalue of P^{-1/2} Hess P^{-1/2} stays below the gradient filter's
:func:`filteropt.analysis.stability_limit` (the "adaptive edge of stability"
of Cohen et al., 2022). :func:`diagonal_scale` reads P from the optimizer's
state after its last step:

- filteropt optimizers: their normaliser's own
  :meth:`~filteropt.normalizers.Normalizer.current_scale` on the slots
  (RMS with a first-order variance filter, MaxNorm); None without a
  normaliser;
- Keras's own: ``Adam``/``AdamW`` (amsgrad too): (sqrt(v) + eps) /
  sqrt(1 - beta_2^t); ``Nadam``: sqrt(v / (1 - beta_2^t)) + eps; ``Adamax``:
  u + eps; ``RMSprop``: sqrt(v + eps) (centred: sqrt(v - m^2 + eps));
  ``Adagrad``: sqrt(a + eps); ``SGD``: None.

Any other optimizer raises ValueError naming it. A ``LossScaleOptimizer`` is
read through its inner optimizer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["diagonal_scale", "inner_optimizer"]

_PLAIN = ("SGD",)


def inner_optimizer(optimizer):
    """The optimizer a ``LossScaleOptimizer`` wraps, else ``optimizer``."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def _np(v):
    return np.asarray(v, dtype=np.float64)


def _keras_scale(opt, index, t):
    name = type(opt).__name__
    eps = float(opt.epsilon) if hasattr(opt, "epsilon") else 0.0
    if name in ("Adam", "AdamW"):
        v = _np((opt._velocity_hats if opt.amsgrad else opt._velocities)[index])
        return (np.sqrt(v) + eps) / np.sqrt(1.0 - float(opt.beta_2) ** t)
    if name == "Nadam":
        v = _np(opt._velocities[index])
        return np.sqrt(v / (1.0 - float(opt.beta_2) ** t)) + eps
    if name == "Adamax":
        return _np(opt._u[index]) + eps
    if name == "RMSprop":
        v = _np(opt._velocities[index])
        if opt.centered:
            v = v - _np(opt._average_gradients[index]) ** 2
        return np.sqrt(v + eps)
    if name == "Adagrad":
        return np.sqrt(_np(opt._accumulators[index]) + eps)
    raise ValueError(
        f"the scale of optimizer {name!r} is not known: GradientProbe reads the normaliser of "
        "filteropt's optimizers and of Keras's SGD, Adam, AdamW, Nadam, Adamax, RMSprop and "
        "Adagrad; pass precondition=False to measure the plain Hessian"
    )


def _is_filteropt(opt) -> bool:
    return hasattr(opt, "_recipe")


def is_adaptive(optimizer) -> bool:
    """Whether the optimizer divides by a per-coordinate scale (ValueError
    for an optimizer whose scale is not known)."""
    opt = inner_optimizer(optimizer)
    if _is_filteropt(opt):
        normalizer = opt._recipe.normalizer
        if normalizer is not None and not normalizer.has_scale:
            normalizer.current_scale(np, [], ())  # raises, naming it
        return normalizer is not None
    if type(opt).__name__ in _PLAIN:
        return False
    _keras_scale_known(opt)
    return True


def _keras_scale_known(opt):
    if type(opt).__name__ not in ("Adam", "AdamW", "Nadam", "Adamax", "RMSprop", "Adagrad"):
        _keras_scale(opt, 0, 1)  # raises, naming it


def diagonal_scale(optimizer, variables) -> list | None:
    """[P per variable] (numpy, the variables' shapes) after the optimizer's
    last step, or None for an optimizer without a normaliser."""
    opt = inner_optimizer(optimizer)
    if not is_adaptive(opt):
        return None
    t = max(int(np.asarray(opt.iterations)), 1)
    if _is_filteropt(opt):
        recipe = opt._recipe
        normalizer = recipe.normalizer
        order = recipe.path.order
        scalars = [_np(v) for v in opt._scalar_state]
        _, gains = recipe.gains(np, scalars, float(t))
        out = []
        for v in variables:
            slots = [_np(s) for s in opt._slot_variables(v)][order:]
            out.append(
                np.broadcast_to(normalizer.current_scale(np, slots, gains), tuple(v.shape)).astype(
                    np.float64
                )
            )
        return out
    return [_keras_scale(opt, opt._get_variable_index(v), t) for v in variables]
