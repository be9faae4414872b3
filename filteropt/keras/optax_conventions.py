"""Keras optimizers that follow optax's: optax's names, defaults and conventions.

Each class runs a recipe of :mod:`filteropt.recipes.optax_conventions` and
equals the optax optimizer it names step for step
(``tests/test_optax_adapter.py``). optax's optimizers take the learning rate
without a default; these default to 0.01 (``SGDOptax``) and 0.001 (the
others), Keras's defaults for its SGD and Adam.
"""

from __future__ import annotations

from .. import recipes as R
from .composed import Composed, register

__all__ = ["AdamOptax", "AdamWOptax", "NadamOptax", "RMSpropOptax", "SGDOptax"]

_LR = """learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta (optax has
            no default). Defaults to ``{}``."""

_ADAM_ARGS = """b1: a float in [0, 1): the pole of the first moment m. Defaults to ``0.9``.
        b2: a float in [0, 1): the pole of the second moment v. Defaults to ``0.999``.
        eps: a float >= 0, added to the root of the bias-corrected v^.
            Defaults to ``1e-8``.
        eps_root: a float >= 0, added to v^ under the root (not kept in the
            state). Defaults to ``0.0``."""


def _documented(lr):
    """Registers the class (:func:`register`) and completes its Args with
    the learning rate's default ``lr`` and, where it has them, Adam's."""

    def wrap(cls):
        cls.__doc__ = (
            (cls.__doc__ or "").replace("{lr}", _LR.format(lr)).replace("{adam}", _ADAM_ARGS)
        )
        return register(cls)

    return wrap


@_documented("0.01")
class SGDOptax(Composed):
    """SGD as ``optax.sgd``: the velocity of the gradients, then the rate.

    ::

        v[i] = momentum v[i-1] + g[i]
        Delta[i] = -eta[i] v[i]   or, with Nesterov,   -eta[i] (g[i] + momentum v[i])

    optax's ``chain(trace(momentum, nesterov), scale_by_learning_rate)``:
    the learning rate after the filter (:class:`SGD`, as Keras, puts it
    before: v = m v - eta g). The same trajectory at a constant rate; under
    a schedule this one rescales the whole velocity by today's rate.

    Args:
        {lr}
        momentum: None, or a float in [0, 1]: the pole of the velocity
            filter; None (as 0) is plain SGD. Defaults to ``None``.
        nesterov: a bool: Nesterov's filter (g + momentum v) instead of
            heavy ball. Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.sgd_optax)

    def __init__(self, learning_rate=0.01, momentum=None, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(momentum=momentum, nesterov=nesterov)


@_documented("0.001")
class RMSpropOptax(Composed):
    """RMSprop as ``optax.rmsprop``: RMS, the rate, then optax's trace.

    ::

        nu[i] = decay nu[i-1] + (1 - decay) g[i]^2,  nu[0] = initial_scale
        u[i] = -eta g[i] / sqrt(nu[i] + eps)      (eps_in_sqrt=False: / (sqrt(nu[i]) + eps))
        v[i] = momentum v[i-1] + u[i],  Delta[i] = v[i]  (Nesterov: u[i] + momentum v[i])

    centred: nu[i] minus the square of mu = ema(decay){g}; with
    ``bias_correction`` nu and mu are divided by 1 - decay^i. With
    ``nesterov=False``, ``initial_scale=0``, ``eps_in_sqrt=True`` and no bias
    correction it is :class:`RMSprop` (rho = decay, epsilon = eps).

    Args:
        {lr}
        decay: a float in [0, 1): the pole of the variance filter. Defaults to ``0.9``.
        eps: a float >= 0. Defaults to ``1e-8``.
        initial_scale: a float >= 0: nu before the first step. Defaults to ``0.0``.
        eps_in_sqrt: a bool: eps inside the square root (else outside it).
            Defaults to ``True``.
        centered: a bool: divide by the standard deviation instead of the
            RMS. Defaults to ``False``.
        momentum: None, or a float in [0, 1]: the trace's pole; None (as 0)
            is no trace. Defaults to ``None``.
        nesterov: a bool: Nesterov's trace. Defaults to ``False``.
        bias_correction: a bool: divide nu (and mu) by 1 - decay^i. Defaults
            to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.rmsprop_optax)

    def __init__(
        self,
        learning_rate=0.001,
        decay=0.9,
        eps=1e-8,
        initial_scale=0.0,
        eps_in_sqrt=True,
        centered=False,
        momentum=None,
        nesterov=False,
        bias_correction=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(
            decay=decay,
            eps=eps,
            initial_scale=initial_scale,
            eps_in_sqrt=eps_in_sqrt,
            centered=centered,
            momentum=momentum,
            nesterov=nesterov,
            bias_correction=bias_correction,
        )


@_documented("0.001")
class AdamOptax(Composed):
    """Adam as ``optax.adam``: eps outside the root of the corrected v^.

    ::

        m[t] = b1 m[t-1] + (1 - b1) g[t],  v[t] = b2 v[t-1] + (1 - b2) g[t]^2
        m^ = m / (1 - b1^t),  v^ = v / (1 - b2^t)
        Delta[t] = -eta m^[t] / (sqrt(v^[t] + eps_root) + eps)

    (``nesterov=True``: m^ as :class:`NadamOptax`.) :class:`Adam`, as Keras,
    adds its epsilon to the uncorrected root instead, Delta = -eta m^
    sqrt(1 - b2^t) / (sqrt(v) + eps) ("epsilon hat"), and defaults to 1e-7.

    Args:
        {lr}
        {adam}
        nesterov: a bool: optax's Nesterov momentum (``optax.nadam``).
            Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.adam_optax)

    def __init__(
        self,
        learning_rate=0.001,
        b1=0.9,
        b2=0.999,
        eps=1e-8,
        eps_root=0.0,
        nesterov=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(b1=b1, b2=b2, eps=eps, eps_root=eps_root, nesterov=nesterov)


@_documented("0.001")
class AdamWOptax(Composed):
    """AdamW as ``optax.adamw``: :class:`AdamOptax` with decoupled weight decay.

    ::

        theta[t] = theta[t-1] - eta (m^[t] / (sqrt(v^[t] + eps_root) + eps)
                                     + weight_decay theta[t-1])

    optax adds ``weight_decay * theta`` to the update before the learning
    rate (``add_decayed_weights``); Keras's ``weight_decay`` is the same
    decay, theta - eta lambda theta. ``nesterov=True`` is ``optax.nadamw``.
    optax's ``mask`` is Keras's ``exclude_from_weight_decay``.

    Args:
        {lr}
        {adam}
        weight_decay: a float: lambda above. Defaults to ``1e-4``.
        nesterov: a bool: optax's Nesterov momentum (``optax.nadamw``).
            Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.adamw_optax)

    def __init__(
        self,
        learning_rate=0.001,
        b1=0.9,
        b2=0.999,
        eps=1e-8,
        eps_root=0.0,
        weight_decay=1e-4,
        nesterov=False,
        name=None,
        **kwargs,
    ):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(
            learning_rate=learning_rate, name=name, weight_decay=weight_decay, **kwargs
        )
        self._compose(
            b1=b1, b2=b2, eps=eps, eps_root=eps_root, weight_decay=weight_decay, nesterov=nesterov
        )

    def _recipe_config(self):
        config = super()._recipe_config()
        config.pop("weight_decay")  # Keras's base config has it
        return config


@_documented("0.001")
class NadamOptax(Composed):
    """Nadam as ``optax.nadam``: Adam with optax's Nesterov momentum.

    ::

        m^[t] = b1 m[t] / (1 - b1^(t+1)) + (1 - b1) g[t] / (1 - b1^t)
        Delta[t] = -eta m^[t] / (sqrt(v^[t] + eps_root) + eps)

    m, v and v^ as :class:`AdamOptax`. With ``eps_root=0`` it is
    :class:`NadamLTI` (beta_1, beta_2, epsilon = b1, b2, eps); :class:`Nadam`
    is Keras's, with Dozat's momentum schedule.

    Args:
        {lr}
        {adam}
        {common}
    """

    _recipe_fn = staticmethod(R.nadam_optax)

    def __init__(
        self, learning_rate=0.001, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(b1=b1, b2=b2, eps=eps, eps_root=eps_root)
