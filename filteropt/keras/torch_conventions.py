"""Keras optimizers that follow torch.optim's: torch's names, defaults and conventions.

Each class runs a recipe of :mod:`filteropt.recipes.torch_conventions` and
equals the torch.optim optimizer it names step for step
(``tests/test_torch_adapter.py``); ``learning_rate`` defaults to torch's
``lr`` default. The arguments are torch's, with torch's meanings, so that
one spec (``"adam_torch:weight_decay=0.01"``) is the same optimizer in
``filteropt.get_optimizer`` and in :func:`filteropt.to_torch`. That holds
for ``weight_decay`` too: in :class:`SGDTorch`, :class:`AdamTorch`,
:class:`RMSpropTorch`, :class:`AdagradTorch` and :class:`NAdamTorch` it is
torch's *coupled* weight decay, the gradient of an L2 penalty added to the
gradient, g + weight_decay * theta, and it takes the place of Keras's base
``weight_decay`` (decoupled), which these classes do not pass to Keras; in
:class:`AdamWTorch` (and :class:`NAdamTorch` with
``decoupled_weight_decay=True``) it is decoupled, and is Keras's own.
Either way ``exclude_from_weight_decay`` exempts variables from it, as
torch's param groups with ``weight_decay=0`` do.
"""

from __future__ import annotations

from keras import ops

from .. import recipes as R
from . import gradients as G
from .composed import Composed, register

__all__ = ["AdagradTorch", "AdamTorch", "AdamWTorch", "NAdamTorch", "RMSpropTorch", "SGDTorch"]

_LR = """learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta (torch's
            ``lr``). Defaults to ``{}``, torch's default."""

_COUPLED = """weight_decay: a float >= 0: torch's coupled weight decay, g + weight_decay
            * theta before the update (an L2 penalty's gradient, not a
            filter); it replaces Keras's decoupled ``weight_decay`` among
            the ``**kwargs`` below, which this class does not take
            (:class:`AdamWTorch` is Adam with decoupled decay). Defaults to ``0.0``."""

_BETAS = """betas: a pair of floats in [0, 1): the poles (beta1, beta2) of the first
            and second moments. Defaults to ``(0.9, 0.999)``."""


def _documented(lr):
    """Registers the class (:func:`register`) and completes its Args."""

    def wrap(cls):
        doc = (cls.__doc__ or "").replace("{lr}", _LR.format(lr)).replace("{coupled}", _COUPLED)
        cls.__doc__ = doc.replace("{betas}", _BETAS)
        return register(cls)

    return wrap


class _TorchConvention(Composed):
    """Composed with torch's weight decay: the recipe's ``hyperparameters["l2"]``
    added to the gradient (coupled), or Keras's ``weight_decay`` (decoupled)."""

    def _torch_init(self, learning_rate, name, kwargs, weight_decay, **hyperparameters):
        recipe = self._recipe_function()(weight_decay=weight_decay, **hyperparameters)
        decoupled = {} if "l2" in recipe.hyperparameters else {"weight_decay": weight_decay}
        Composed.__init__(self, learning_rate=learning_rate, name=name, **decoupled, **kwargs)
        self._torch_weight_decay = weight_decay
        self._hyper_names = tuple(hyperparameters)
        for key, value in hyperparameters.items():
            setattr(self, key, value)
        self._set_recipe(recipe)

    def _l2(self, variable):
        l2 = self._recipe.hyperparameters.get("l2", 0.0)
        return l2 if l2 and self._use_weight_decay(variable) else 0.0

    def _update_dense(self, variable, slots, gradient, step, decay, write_slots=True):
        l2 = self._l2(variable)
        if l2:
            # theta * l2 with l2 a Python float: exact in the variable's dtype
            gradient = ops.cast(gradient, variable.dtype) + ops.convert_to_tensor(variable) * l2
        return super()._update_dense(variable, slots, gradient, step, decay, write_slots)

    def _update_sparse(self, variable, slots, gradient, rows, step, decay):
        if self._l2(variable):  # the penalty's gradient is dense
            return self._update_dense(variable, slots, G.dense(gradient), step, decay)
        return super()._update_sparse(variable, slots, gradient, rows, step, decay)

    def _recipe_config(self):
        config = super()._recipe_config()
        if "betas" in config:
            config["betas"] = list(config["betas"])
        config["weight_decay"] = self._torch_weight_decay
        return config


def _pair(betas):
    return tuple(betas) if isinstance(betas, list) else betas


@_documented("0.001")
class SGDTorch(_TorchConvention):
    """SGD as ``torch.optim.SGD``: the buffer of the gradients, then the rate.

    ::

        g'[i] = g[i] + weight_decay theta[i-1]
        buf[1] = g'[1],  buf[i] = momentum buf[i-1] + (1 - dampening) g'[i]
        Delta[i] = -eta[i] buf[i]   or, with Nesterov,   -eta[i] (g'[i] + momentum buf[i])

    The path is (1 - dampening) trace(momentum) with input gain 1 at the
    first step only (torch starts the buffer at the first gradient), DC gain
    (1 - dampening) / (1 - momentum). The learning rate comes after the
    filter: :class:`SGD` (Keras's, v = m v - eta g) gives the same
    trajectory at a constant rate, another one under a schedule.

    Args:
        {lr}
        momentum: a float in [0, 1]: the buffer's pole. Defaults to ``0.0``.
        dampening: a float in [0, 1): the buffer's input gain is 1 -
            dampening after the first step. Defaults to ``0.0``.
        nesterov: a bool: g' + momentum buf instead of buf (needs a
            momentum and zero dampening, as torch). Defaults to ``False``.
        {coupled}
        {common}
    """

    _recipe_fn = staticmethod(R.sgd_torch)

    def __init__(
        self,
        learning_rate=0.001,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        name=None,
        **kwargs,
    ):
        self._torch_init(
            learning_rate,
            name,
            kwargs,
            weight_decay,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
        )


@_documented("0.001")
class AdamTorch(_TorchConvention):
    """Adam as ``torch.optim.Adam``: eps outside the root of the corrected v^.

    ::

        g'[t] = g[t] + weight_decay theta[t-1]
        m[t] = beta1 m[t-1] + (1 - beta1) g'[t],  v[t] = beta2 v[t-1] + (1 - beta2) g'[t]^2
        Delta[t] = -eta m[t] / (1 - beta1^t) / (sqrt(v[t] / (1 - beta2^t)) + eps)

    (``amsgrad``: v[t] replaced by max(v[1..t])). :class:`Adam` (Keras's)
    adds its epsilon to the uncorrected root instead, -eta m^ / (sqrt(v^) +
    epsilon / sqrt(1 - beta2^t)); the two differ where sqrt(v^) is
    comparable to eps.

    Args:
        {lr}
        {betas}
        eps: a float >= 0, added to the root of the corrected v^. Defaults
            to ``1e-8``.
        {coupled}
        amsgrad: a bool: the running maximum of v. Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.adam_torch)

    def __init__(
        self,
        learning_rate=0.001,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        self._torch_init(
            learning_rate, name, kwargs, weight_decay, betas=_pair(betas), eps=eps, amsgrad=amsgrad
        )


@_documented("0.001")
class AdamWTorch(_TorchConvention):
    """AdamW as ``torch.optim.AdamW``: :class:`AdamTorch` with decoupled decay.

    ::

        theta[t] = (1 - eta weight_decay) theta[t-1] + Delta[t],   Delta as AdamTorch (no g')

    (Loshchilov & Hutter, ICLR 2019). ``weight_decay`` is Keras's decoupled
    decay, with torch's default 1e-2 (Keras's AdamW: 4e-3, and epsilon hat).

    Args:
        {lr}
        {betas}
        eps: a float >= 0, added to the root of the corrected v^. Defaults
            to ``1e-8``.
        weight_decay: a float >= 0: the decoupled decay lambda, Keras's
            ``weight_decay``. Defaults to ``0.01``.
        amsgrad: a bool: the running maximum of v. Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.adamw_torch)

    def __init__(
        self,
        learning_rate=0.001,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.01,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        self._torch_init(
            learning_rate, name, kwargs, weight_decay, betas=_pair(betas), eps=eps, amsgrad=amsgrad
        )


@_documented("0.01")
class RMSpropTorch(_TorchConvention):
    """RMSprop as ``torch.optim.RMSprop``: eps outside the root, the rate last.

    ::

        g'[i] = g[i] + weight_decay theta[i-1]
        v[i] = alpha v[i-1] + (1 - alpha) g'[i]^2   (centred: v - ema(alpha){g'}^2)
        buf[i] = momentum buf[i-1] + g'[i] / (sqrt(v[i]) + eps),  buf[0] = 0
        Delta[i] = -eta[i] buf[i]

    :class:`RMSprop` (Keras's) has eps inside the root and the rate before
    its momentum (v = m v - eta g / sqrt(v + eps)): another denominator,
    and another trajectory under a schedule.

    Args:
        {lr}
        alpha: a float in [0, 1): the pole of the variance filter. Defaults
            to ``0.99``.
        eps: a float >= 0, added to the root. Defaults to ``1e-8``.
        {coupled}
        momentum: a float in [0, 1]: the pole of the buffer. Defaults to ``0.0``.
        centered: a bool: divide by the standard deviation (the variance
            minus the squared mean) instead of the RMS. Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.rmsprop_torch)

    def __init__(
        self,
        learning_rate=0.01,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        name=None,
        **kwargs,
    ):
        self._torch_init(
            learning_rate,
            name,
            kwargs,
            weight_decay,
            alpha=alpha,
            eps=eps,
            momentum=momentum,
            centered=centered,
        )


@_documented("0.01")
class AdagradTorch(_TorchConvention):
    """Adagrad as ``torch.optim.Adagrad``: the summer of g^2, eps outside the root.

    ::

        g'[i] = g[i] + weight_decay theta[i-1]
        s[i] = s[i-1] + g'[i]^2,  s[0] = initial_accumulator_value
        Delta[i] = -eta g'[i] / (sqrt(s[i]) + eps)

    :class:`Adagrad` (Keras's) has eps inside the root and s[0] = 0.1.
    torch's ``lr_decay`` is the schedule eta / (1 + (i - 1) lr_decay):
    ``keras.optimizers.schedules.InverseTimeDecay(eta, 1, lr_decay)``.

    Args:
        {lr}
        lr_decay: 0 only: torch's learning-rate decay, given here as a
            schedule (above); any other value raises ValueError. Defaults to ``0.0``.
        {coupled}
        initial_accumulator_value: a float >= 0: s[0]. Defaults to ``0.0``.
        eps: a float >= 0, added to the root. Defaults to ``1e-10``.
        {common}
    """

    _recipe_fn = staticmethod(R.adagrad_torch)

    def __init__(
        self,
        learning_rate=0.01,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        name=None,
        **kwargs,
    ):
        self._torch_init(
            learning_rate,
            name,
            kwargs,
            weight_decay,
            lr_decay=lr_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )


@_documented("0.002")
class NAdamTorch(_TorchConvention):
    """NAdam as ``torch.optim.NAdam``: Dozat's schedule with torch's momentum_decay.

    With mu[t] = beta1 (1 - 0.5 * 0.96^(t momentum_decay)) and P[t] = mu[1] ... mu[t]::

        g'[t] = g[t] + weight_decay theta[t-1]     (coupled; or decoupled, below)
        m[t] = beta1 m[t-1] + (1 - beta1) g'[t],  v[t] = beta2 v[t-1] + (1 - beta2) g'[t]^2
        Delta[t] = -eta ((1 - mu[t]) / (1 - P[t]) g'[t] + mu[t+1] / (1 - P[t+1]) m[t])
                   / (sqrt(v[t] / (1 - beta2^t)) + eps)

    Keras's schedule (:class:`Nadam`) with decay 0.96^momentum_decay: Keras's
    Nadam is momentum_decay = 1 (and epsilon 1e-7). With
    ``decoupled_weight_decay`` (torch's NAdamW) theta[t] = (1 - eta
    weight_decay) theta[t-1] + Delta[t], the gradient unchanged.

    Args:
        {lr}
        {betas}
        eps: a float >= 0, added to the root of the corrected v^. Defaults
            to ``1e-8``.
        weight_decay: a float >= 0: torch's weight decay, coupled (g +
            weight_decay * theta, an L2 penalty's gradient) unless
            ``decoupled_weight_decay``; it replaces Keras's ``weight_decay``
            among the ``**kwargs`` below, which this class does not take.
            Defaults to ``0.0``.
        momentum_decay: a float >= 0: the schedule's rate (psi in torch's
            documentation). Defaults to ``0.004``.
        decoupled_weight_decay: a bool: ``weight_decay`` decoupled (it is
            then Keras's decoupled decay). Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.nadam_torch)

    def __init__(
        self,
        learning_rate=0.002,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum_decay=0.004,
        decoupled_weight_decay=False,
        name=None,
        **kwargs,
    ):
        self._torch_init(
            learning_rate,
            name,
            kwargs,
            weight_decay,
            betas=_pair(betas),
            eps=eps,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
        )
