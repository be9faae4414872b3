"""The drop-ins: filteropt's versions of Keras's built-in optimizers.

Each takes the same arguments, with the same defaults, as
``keras.optimizers.X`` and follows the same trajectory: the tests compare
them step by step, and run Keras's own optimizer tests on them
(``tests/test_keras_own_suite.py``). Each class is a recipe from
:mod:`filteropt.recipes.catalogue` on the engine and documents its
arguments, its difference equation and its source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from .. import recipes as R
from .composed import Composed, register

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Lion", "Nadam", "RMSprop"]


@register
class SGD(Composed):
    """SGD with optional momentum (AR1, unit input gain) or Nesterov (ARMA1).

    The learning rate enters first, so the filter's state holds -eta g::

        x[i] = -eta g[i];  v[i] = momentum v[i-1] + x[i]
        Delta[i] = v[i]   or, with Nesterov,   (1 + momentum) v[i] - momentum v[i-1]
        theta[i] = theta[i-1] + Delta[i]

    H(z) = 1 / (1 - momentum z^-1) (heavy ball, DC gain 1/(1 - momentum): the
    momentum and the learning rate are coupled) or, with Nesterov,
    ((1 + momentum) - momentum z^-1) / (1 - momentum z^-1) (the lecture: "SGD with
    Momentum", "SGD with Nesterov Momentum"). Same arguments, defaults and
    trajectory as ``keras.optimizers.SGD``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.01``.
        momentum: a float in [0, 1]: the pole of the velocity filter; 0 is
            plain SGD. Defaults to ``0.0``.
        nesterov: a bool: Nesterov's ARMA1 filter instead of heavy ball.
            Defaults to ``False``.
        {common}

    Example:
        >>> import keras, numpy as np, filteropt
        >>> ours = filteropt.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> theirs = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> w1, w2 = keras.Variable(np.ones(3)), keras.Variable(np.ones(3))
        >>> for g in ([1.0, 2.0, 3.0], [0.5, -1.0, 0.0], [2.0, 0.0, -1.0]):
        ...     _ = ours.apply_gradients([(keras.ops.convert_to_tensor(g), w1)])
        ...     _ = theirs.apply_gradients([(keras.ops.convert_to_tensor(g), w2)])
        >>> np.allclose(w1.numpy(), w2.numpy(), rtol=1e-6)
        True
    """

    _recipe_fn = staticmethod(R.sgd)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(momentum=momentum, nesterov=nesterov)


@register
class Adagrad(Composed):
    """Adagrad: the gradient over the root of the summed squared gradient.

    ::

        v[i] = v[i-1] + g[i]^2,  v[0] = initial_accumulator_value
        Delta[i] = -eta g[i] / sqrt(v[i] + epsilon)

    The variance filter is the summer 1 / (1 - z^-1) (the lecture: "Adagrad").
    Same arguments, defaults and trajectory as ``keras.optimizers.Adagrad``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        initial_accumulator_value: a float >= 0, the summer's starting value
            v[0]. Defaults to ``0.1``.
        epsilon: a float >= 0, added inside the square root. Defaults to ``1e-7``.
        {common}
    """

    _recipe_fn = staticmethod(R.adagrad)

    def __init__(
        self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(initial_accumulator_value=initial_accumulator_value, epsilon=epsilon)


@register
class Adadelta(Composed):
    """Adadelta: the update's RMS over the gradient's RMS, both through ema(rho).

    ::

        v[i] = rho v[i-1] + (1 - rho) g[i]^2
        x[i] = -sqrt(u[i-1] + epsilon) / sqrt(v[i] + epsilon) g[i]
        u[i] = rho u[i-1] + (1 - rho) x[i]^2
        Delta[i] = eta x[i]

    (Zeiler 2012; the lecture: "Adadelta"). Same arguments, defaults and
    trajectory as ``keras.optimizers.Adadelta``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        rho: a float in [0, 1): the pole of both moving averages. Defaults
            to ``0.95``.
        epsilon: a float >= 0, added inside both square roots. Defaults to ``1e-7``.
        {common}
    """

    _recipe_fn = staticmethod(R.adadelta)

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(rho=rho, epsilon=epsilon)


@register
class RMSprop(Composed):
    """RMSprop: the gradient over its RMS through ema(rho), then momentum.

    ::

        v[i] = rho v[i-1] + (1 - rho) g[i]^2
        m[i] = rho m[i-1] + (1 - rho) g[i]              (centered only)
        x[i] = -eta g[i] / sqrt(v[i] - m[i]^2 + epsilon)  (- m^2 only if centered)
        Delta[i] = x[i]   or, with momentum,   s[i] = momentum s[i-1] + x[i], Delta = s

    (Hinton's lecture 6e; the lecture: "RMSprop"). Same arguments, defaults
    and trajectory as ``keras.optimizers.RMSprop``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        rho: a float in [0, 1): the pole of the variance (and mean) filter.
            Defaults to ``0.9``.
        momentum: a float in [0, 1]: heavy-ball momentum on the normalised
            step; 0 is none. Defaults to ``0.0``.
        epsilon: a float >= 0, added inside the square root. Defaults to ``1e-7``.
        centered: a bool: normalise by the variance (v - m^2) instead of the
            second moment. Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.rmsprop)

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(rho=rho, momentum=momentum, epsilon=epsilon, centered=centered)


@register
class Adam(Composed):
    """Adam: two unit-DC-gain AR1 filters with transient compensation, and an RMS normaliser.

    ::

        m[i] = beta_1 m[i-1] + (1 - beta_1) g[i],     m^ = m / (1 - beta_1^i)
        v[i] = beta_2 v[i-1] + (1 - beta_2) g[i]^2,   v^ = v / (1 - beta_2^i)
        Delta[i] = -eta m^[i] / (sqrt(v^[i]) + epsilon / sqrt(1 - beta_2^i))

    (Kingma & Ba, ICLR 2015; the lecture: "Adam"). The epsilon is Keras's
    "epsilon hat": Keras computes -eta sqrt(1 - beta_2^i) / (1 - beta_1^i) m /
    (sqrt(v) + epsilon) on the uncorrected m, v. With ``amsgrad`` the running
    maximum of v normalises. Same arguments, defaults and trajectory as
    ``keras.optimizers.Adam``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        beta_1: a float in [0, 1): the pole of the gradient filter (first
            moment). Defaults to ``0.9``.
        beta_2: a float in [0, 1): the pole of the variance filter (second
            moment). Defaults to ``0.999``.
        epsilon: a float >= 0, added to the uncorrected root (see above). Defaults to ``1e-7``.
        amsgrad: a bool: normalise by the running maximum of v (Reddi et al.,
            ICLR 2018). Defaults to ``False``.
        {common}

    Example:
        Step for step Keras's Adam:

        >>> import keras, numpy as np, filteropt
        >>> ours, theirs = keras.Variable(np.ones(3)), keras.Variable(np.ones(3))
        >>> opt, ref = filteropt.Adam(0.1), keras.optimizers.Adam(0.1)
        >>> for g in ([0.5, -1.0, 2.0], [1e-8, 3.0, -2.0], [0.0, 0.0, 1e4]):
        ...     opt.apply([np.array(g)], [ours])
        ...     ref.apply([np.array(g)], [theirs])
        >>> np.allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=0)
        True
    """

    # Declared as Composed's, so that AdamW's (one argument more) may replace it.
    _recipe_fn: ClassVar[Callable[..., R.Recipe] | None] = staticmethod(R.adam)

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad)


@register
class AdamW(Adam):
    """Adam with decoupled weight decay.

    ::

        theta[i] = (1 - eta weight_decay) theta[i-1] + Delta[i],   Delta as :class:`Adam`

    (Loshchilov & Hutter, ICLR 2019). The decay moves the integrator's pole
    from 1 to 1 - eta weight_decay; the recipe carries it, so the analysis
    (``filteropt.analysis``) sees it. Same arguments, defaults and
    trajectory as ``keras.optimizers.AdamW``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        weight_decay: a float >= 0: lambda above (None is refused, as Keras
            refuses it). Defaults to ``0.004``.
        beta_1: as :class:`Adam`. Defaults to ``0.9``.
        beta_2: as :class:`Adam`. Defaults to ``0.999``.
        epsilon: a float >= 0, as :class:`Adam`. Defaults to ``1e-7``.
        amsgrad: as :class:`Adam`. Defaults to ``False``.
        {common}
    """

    _recipe_fn = staticmethod(R.adamw)

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        Composed.__init__(
            self, learning_rate=learning_rate, name=name, weight_decay=weight_decay, **kwargs
        )
        self._compose(
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
        )

    def _recipe_config(self):
        config = super()._recipe_config()
        config.pop("weight_decay")  # Keras's base config has it
        return config


@register
class Nadam(Composed):
    """Nadam as Keras 3 computes it: Dozat's momentum schedule over Adam's RMS.

    With mu[i] = beta_1 (1 - 0.5 * 0.96^i) and S[i] = mu[1] ... mu[i]::

        m[i] = beta_1 m[i-1] + (1 - beta_1) g[i]
        m^[i] = mu[i+1] m[i] / (1 - S[i+1]) + (1 - mu[i]) g[i] / (1 - S[i])
        Delta[i] = -eta m^[i] / (sqrt(v[i] / (1 - beta_2^i)) + epsilon)

    (Dozat, ICLR 2016 workshop; the lecture: "Nadam"; a time-varying
    transient compensation, :class:`filteropt.signal.compensation.NadamSchedule`).
    Same arguments, defaults and trajectory as ``keras.optimizers.Nadam``;
    :class:`NadamLTI` is the schedule-free form (optax's ``nadam``).

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        beta_1: a float in [0, 1): the pole of the gradient filter and the
            scale of the momentum schedule. Defaults to ``0.9``.
        beta_2: a float in [0, 1): the pole of the variance filter.
            Defaults to ``0.999``.
        epsilon: a float >= 0, added to the corrected root. Defaults to ``1e-7``.
        {common}
    """

    _recipe_fn = staticmethod(R.nadam)

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@register
class Adamax(Composed):
    """Adamax: Adam's compensated gradient filter over a peak detector.

    ::

        m[i] = beta_1 m[i-1] + (1 - beta_1) g[i]
        u[i] = max(beta_2 u[i-1], |g[i]|)
        Delta[i] = -eta m[i] / ((1 - beta_1^i) (u[i] + epsilon))

    (Kingma & Ba, ICLR 2015, section 7). Same arguments, defaults and
    trajectory as ``keras.optimizers.Adamax``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        beta_1: a float in [0, 1): the pole of the gradient filter.
            Defaults to ``0.9``.
        beta_2: a float in [0, 1): the decay of the peak detector.
            Defaults to ``0.999``.
        epsilon: a float >= 0, added to the peak. Defaults to ``1e-7``.
        {common}
    """

    _recipe_fn = staticmethod(R.adamax)

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@register
class Lion(Composed):
    """Lion: the sign of an ARMA1 filter of the gradient.

    ::

        Delta[i] = -eta sign(beta_1 m[i-1] + (1 - beta_1) g[i])
        m[i] = beta_2 m[i-1] + (1 - beta_2) g[i]

    H(z) = ((1 - beta_1) + (beta_1 - beta_2) z^-1) / (1 - beta_2 z^-1), unit DC
    gain (Chen et al., "Symbolic discovery of optimization algorithms",
    2023). Same arguments, defaults and trajectory as
    ``keras.optimizers.Lion``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        beta_1: a float in (0, 1]: the mix of the old average and the new
            gradient inside the sign. Defaults to ``0.9``.
        beta_2: a float in [0, 1): the pole of the moving average.
            Defaults to ``0.99``.
        {common}
    """

    _recipe_fn = staticmethod(R.lion)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2)
