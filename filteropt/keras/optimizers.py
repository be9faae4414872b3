"""Keras 3 optimizers: drop-ins for the built-ins, and what they lack.

Each class is a recipe from :mod:`filteropt.recipes.catalogue` on the
engine (:mod:`filteropt.keras.engine`); the registry
(:mod:`filteropt.recipes.registry`) names the class that runs each named
recipe, and :func:`get` reads it. The drop-ins take the same arguments, with
the same defaults, as ``keras.optimizers.X`` and follow the same trajectory
(the tests compare them step by step); each class documents its arguments,
its difference equation and its source. Keras's base-class arguments
(``clipnorm``, ``weight_decay``, ``use_ema``, ``gradient_accumulation_steps``,
``loss_scale_factor``, ...) pass through ``**kwargs``.
"""

from __future__ import annotations

import inspect

import keras

from .. import recipes as R
from ..design import designed
from .engine import RecipeOptimizer, casts_round_through_float32

#: The classes the registry names (filteropt.recipes.registry), and ``get``.
__all__ = [*dict.fromkeys(e.optimizer for e in R.REGISTRY.values()), "get"]

#: The arguments every optimizer here takes beyond its own, documented once.
_COMMON_ARGS = """name: a string, the optimizer's name; ``None`` takes the class name.
        skip_nonfinite: a bool: skip a step whose gradients hold inf or NaN
            (variables, slots, EMA averages and decay untouched; counted in
            ``nonfinite_steps``). Defaults to ``False``.
        fused: a bool: on TensorFlow, let XLA compile the update where that
            is faster (see :mod:`filteropt.keras.engine`); the trajectory is
            the same either way. Defaults to ``True``.
        **kwargs: Keras's base optimizer arguments, as
            ``keras.optimizers.Optimizer`` takes them: ``weight_decay``
            (decoupled: theta[i] = (1 - eta weight_decay) theta[i-1] +
            Delta[i]), ``clipnorm``, ``clipvalue``, ``global_clipnorm``,
            ``use_ema``, ``ema_momentum``, ``ema_overwrite_frequency``,
            ``loss_scale_factor``, ``gradient_accumulation_steps``."""


def _register(cls):
    """Registers ``cls`` for Keras serialization and completes its Args."""
    cls.__doc__ = cls.__doc__.replace("{common}", _COMMON_ARGS)
    return keras.saving.register_keras_serializable(package="filteropt")(cls)


class _Composed(RecipeOptimizer):
    """A recipe function plus the names of its hyperparameters."""

    _recipe_fn = None

    def _compose(self, **hyperparameters):
        fn = type(self)._recipe_fn
        extra = {}
        if "keras_casts" in inspect.signature(fn).parameters:
            # round where Keras rounds (drop-ins): under TensorFlow only
            extra["keras_casts"] = casts_round_through_float32()
        recipe = fn(**hyperparameters, **extra)
        self._hyper_names = tuple(hyperparameters)
        for key, value in hyperparameters.items():
            setattr(self, key, value)
        self._set_recipe(recipe)

    def _recipe_config(self):
        return {key: getattr(self, key) for key in self._hyper_names}


@_register
class SGD(_Composed):
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
    """

    _recipe_fn = staticmethod(R.sgd)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(momentum=momentum, nesterov=nesterov)


@_register
class Adagrad(_Composed):
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

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(initial_accumulator_value=initial_accumulator_value, epsilon=epsilon)


@_register
class Adadelta(_Composed):
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


@_register
class RMSprop(_Composed):
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

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(rho=rho, momentum=momentum, epsilon=epsilon, centered=centered)


@_register
class Adam(_Composed):
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
    """

    _recipe_fn = staticmethod(R.adam)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad)


@_register
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

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name=None, **kwargs):
        if weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )
        _Composed.__init__(self, learning_rate=learning_rate, name=name,
                           weight_decay=weight_decay, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                      weight_decay=weight_decay)

    def _recipe_config(self):
        config = super()._recipe_config()
        config.pop("weight_decay")  # Keras's base config has it
        return config


@_register
class Nadam(_Composed):
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

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@_register
class Adamax(_Composed):
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

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@_register
class Lion(_Composed):
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


@_register
class QHM(_Composed):
    """Quasi-hyperbolic momentum: a mix of the gradient and its moving average.

    ::

        m[i] = beta m[i-1] + (1 - beta) g[i]
        Delta[i] = -eta ((1 - nu) g[i] + nu m[i])

    H(z) = (1 - nu) + nu (1 - beta) / (1 - beta z^-1), a bank of a direct term
    and an ema, unit DC gain (Ma & Yarats, ICLR 2019). Keras has no QHM; the
    tests compare it with the authors' ``qhoptim``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``1.0``.
        nu: a float in [0, 1]: the share of the moving average; 1 is
            :func:`filteropt.filters.ema`, 0 plain SGD. Defaults to ``0.7``.
        beta: a float in [0, 1): the pole of the moving average. Defaults to
            ``0.999``.
        {common}
    """

    _recipe_fn = staticmethod(R.qhm)

    def __init__(self, learning_rate=1.0, nu=0.7, beta=0.999, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(nu=nu, beta=beta)


@_register
class QHAdam(_Composed):
    """QHAdam: quasi-hyperbolic mixing on both of Adam's moments.

    ::

        m^[i] = (1 - nu_1) g[i] + nu_1 m[i] / (1 - beta_1^i)
        v^[i] = (1 - nu_2) g[i]^2 + nu_2 v[i] / (1 - beta_2^i)
        Delta[i] = -eta m^[i] / (sqrt(v^[i]) + epsilon)

    with m, v Adam's moving averages (Ma & Yarats, ICLR 2019). Keras has no
    QHAdam; the tests compare it with the authors' ``qhoptim``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        beta_1: a float in [0, 1): the pole of the first moment. Defaults
            to ``0.9``.
        beta_2: a float in [0, 1): the pole of the second moment. Defaults
            to ``0.999``.
        nu_1: a float in [0, 1]: the share of the first moment's average.
            Defaults to ``0.7``.
        nu_2: a float in [0, 1]: the share of the second moment's average;
            1 is Adam's. Defaults to ``1.0``.
        epsilon: a float >= 0, added to the root (the paper's default). Defaults to ``1e-8``.
        {common}
    """

    _recipe_fn = staticmethod(R.qhadam)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, nu_1=0.7, nu_2=1.0,
                 epsilon=1e-8, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, nu_1=nu_1, nu_2=nu_2, epsilon=epsilon)


@_register
class AggMo(_Composed):
    """Aggregated momentum: the mean of several heavy-ball velocities.

    ::

        v_k[i] = beta_k v_k[i-1] - eta g[i]    (k = 1 .. K)
        Delta[i] = (1/K) sum_k v_k[i]

    H(z) = (1/K) sum_k 1 / (1 - beta_k z^-1), run as a parallel bank, one
    slot per non-zero beta (Lucas, Sun, Zemel & Grosse, ICLR 2019). Keras has
    no AggMo; the tests compare it with ``torch-optimizer``'s.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.1``.
        betas: a sequence of floats in [0, 1): the velocities' poles.
            Defaults to ``(0.0, 0.9, 0.99)``.
        {common}
    """

    _recipe_fn = staticmethod(R.aggmo)

    def __init__(self, learning_rate=0.1, betas=(0.0, 0.9, 0.99), name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(betas=tuple(betas) if isinstance(betas, list) else betas)

    def _recipe_config(self):
        return {"betas": list(self.betas)}


@_register
class ButterworthMomentum(_Composed):
    """Momentum through a Butterworth low-pass filter.

    ::

        x[i] = -eta g[i];  Delta = H{x},  H = filters.butterworth(order, cutoff)

    run in second-order sections (the lecture, on Nesterov: "optimize a
    second order ARMA filter (e.g., Butterworth)").

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.01``.
        order: an int >= 1: the number of poles. Defaults to ``2``.
        cutoff: a float in (0, 1): the cutoff as a fraction of the Nyquist
            frequency, as ``scipy.signal.butter`` takes it. Defaults to
            ``0.1``.
        momentum_gain: ``"dc"`` scales the filter to H(1) = 1 (the learning
            rate is then the effective step), ``"input"`` to b[0] = 1 as
            heavy-ball momentum has, ``"none"`` keeps scipy's scaling.
            Defaults to ``"dc"``.
        {common}
    """

    _recipe_fn = staticmethod(R.butterworth)

    def __init__(self, learning_rate=0.01, order=2, cutoff=0.1, momentum_gain="dc", name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(order=order, cutoff=cutoff, momentum_gain=momentum_gain)


@_register
class AdaBelief(_Composed):
    """AdaBelief: Adam with the RMS of g - m in place of the RMS of g
    (Zhuang et al., NeurIPS 2020, Algorithm 1)::

        m[t] = beta_1 m[t-1] + (1 - beta_1) g[t]
        s[t] = beta_2 s[t-1] + (1 - beta_2) (g[t] - m[t])^2 + epsilon_root
        Delta[t] = -eta m^[t] / (sqrt(s^[t]) + epsilon),
        m^ = m / (1 - beta_1^t),  s^ = s / (1 - beta_2^t).

    The paper has one eps in both places; ``epsilon_root`` is the one in
    s (optax's ``eps_root``). The defaults (1e-16 both) are optax's
    ``adabelief`` and the authors' ``adabelief-pytorch`` (one ``eps`` for
    both, 1e-16 since 0.1.0; 0.0.5 had 1e-8, which its change log still
    recommends where SGD beats Adam). With ``rectify=False`` the authors'
    code computes Delta = -eta / (1 - beta_1^t) m / (sqrt(s) / sqrt(1 -
    beta_2^t) + eps), the same update. Its default ``rectify=True`` is
    RAdam's rectification, which this optimizer does not do: with
    rho_inf = 2 / (1 - beta_2) - 1, rho_t = rho_inf - 2 t beta_2^t / (1 -
    beta_2^t),

        Delta = -eta r_t m^ / (sqrt(s^) + eps / sqrt(1 - beta_2^t)),
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

    (eps then on the uncorrected sqrt(s)) where rho_t >= 5, else
    Delta = -eta m^ (SGD with momentum). Its ``weight_decouple=True``
    (theta *= 1 - eta wd before the step) is Keras's ``weight_decay``.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        beta_1: a float in [0, 1): the pole of the first moment. Defaults
            to ``0.9``.
        beta_2: a float in [0, 1): the pole of the belief (s). Defaults to
            ``0.999``.
        epsilon: a float >= 0, added to the corrected root. Defaults to
            ``1e-16``.
        epsilon_root: a float >= 0, added to s at every step (kept in the
            state). Defaults to ``1e-16``.
        {common}
    """

    _recipe_fn = staticmethod(R.adabelief)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-16,
                 epsilon_root=1e-16, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, epsilon_root=epsilon_root)


@_register
class NadamLTI(_Composed):
    """Nadam as optax's ``nadam``: a constant momentum beta_1, Adam's RMS::

        m[t] = beta_1 m[t-1] + (1 - beta_1) g[t],  v[t] = ema(beta_2){g^2}[t]
        m^[t] = beta_1 m[t] / (1 - beta_1^(t+1)) + (1 - beta_1) g[t] / (1 - beta_1^t)
        Delta[t] = -eta m^[t] / (sqrt(v[t] / (1 - beta_2^t)) + epsilon)

    It tends to the LTI filter beta_1 ema(beta_1) + (1 - beta_1) once the
    compensation has settled, but is not that filter compensated by its own
    step response, (beta_1 m[t] + (1 - beta_1) g[t]) / (1 - beta_1^(t+1)),
    which steps a constant gradient by exactly -eta from the first step
    where optax (and this) step -1.474 eta, -1.157 eta, -1.078 eta, ...
    (beta_1 = 0.9). Defaults are optax's: ``epsilon=1e-8`` (Keras's
    ``Nadam`` has 1e-7) and no eps inside the root (optax's eps_root = 0).
    :class:`Nadam` is Keras's, with Dozat's momentum schedule.

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``,
            or a callable of no arguments returning the value: eta. Defaults to ``0.001``.
        beta_1: a float in [0, 1): the constant momentum. Defaults to ``0.9``.
        beta_2: a float in [0, 1): the pole of the variance filter.
            Defaults to ``0.999``.
        epsilon: a float >= 0, added to the corrected root. Defaults to
            ``1e-8``.
        {common}
    """

    _recipe_fn = staticmethod(R.nadam_lti)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@_register
class Designed(_Composed):
    """Momentum through a filter designed for curvatures in
    [lambda_max/kappa, lambda_max]: the ARMA filter of the given order and the
    learning rate with the best worst-case convergence rate on a quadratic,
    optionally under a bound on the noise gain (see
    :func:`filteropt.design.design_filter`). ``learning_rate=None`` takes the
    designed one. ``filteropt.estimate_curvature`` measures lambda_max (and
    roughly kappa) on a real model.

    Args:
        learning_rate: a float >= 0, a schedule or a callable, as the other
            optimizers take it; None (the default) takes the designed one,
            divided by ``lambda_max``.
        kappa: a float >= 1: the condition number lambda_max / lambda_min the
            design assumes. Defaults to ``100.0``.
        order: an int in [1, 8]: the order of the designed ARMA filter.
            Defaults to ``2``.
        max_noise_gain: a float or None: the bound on the closed loop's
            gradient-noise gain (None: no bound, the fastest design).
            Defaults to ``None``.
        lambda_max: a float > 0: the largest curvature. Defaults to ``1.0``.
        {common}
    """

    _recipe_fn = staticmethod(designed)

    def __init__(self, learning_rate=None, kappa=100.0, order=2, max_noise_gain=None,
                 lambda_max=1.0, name=None, **kwargs):
        recipe = designed(kappa=kappa, order=order, max_noise_gain=max_noise_gain,
                            lambda_max=lambda_max)
        if learning_rate is None:
            learning_rate = recipe.hyperparameters["learning_rate"]
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._hyper_names = ("kappa", "order", "max_noise_gain", "lambda_max")
        self.kappa, self.order, self.max_noise_gain, self.lambda_max = (
            kappa, order, max_noise_gain, lambda_max)
        self._set_recipe(recipe)


def get(spec, **kwargs) -> RecipeOptimizer:
    """A Keras optimizer from a recipe spec: ``get("nesterov:momentum=0.95")``.

    The spec's hyperparameters (``learning_rate`` among them) and ``kwargs``
    (Keras's base arguments, a schedule, ...) go to the optimizer's class;
    ``kwargs`` win. Unknown names and arguments raise ValueError.
    """
    name, params = R.parse(spec)
    entry = R.entry(name)
    cls = globals()[entry.optimizer]
    arguments = {**entry.fixed, **params, **kwargs}
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    base = set(inspect.signature(keras.optimizers.Optimizer.__init__).parameters)
    unknown = sorted(set(arguments) - accepted - base)
    if unknown:
        raise ValueError(
            f"optimizer {name!r} has no hyperparameter {unknown[0]!r}; "
            f"it takes {', '.join(sorted(accepted))}"
        )
    return cls(**arguments)
