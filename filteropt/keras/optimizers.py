"""Keras 3 optimizers: drop-ins for the built-ins, and what they lack.

Each class is a recipe from :mod:`filteropt.recipes` on the engine. The
drop-ins take the same arguments, with the same defaults, as
``keras.optimizers.X`` and follow the same trajectory (the project's tests
compare them step by step). Base-class arguments (``clipnorm``,
``weight_decay``, ``use_ema``, ``gradient_accumulation_steps``,
``loss_scale_factor``, ...) pass through ``**kwargs``.
"""

from __future__ import annotations

import inspect

import keras

from .. import recipes as R
from ..design import designed
from .engine import RecipeOptimizer, casts_round_through_float32

__all__ = [
    "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Nadam", "Adamax",
    "Lion", "QHM", "QHAdam", "AggMo", "ButterworthMomentum", "AdaBelief", "NadamLTI", "Designed",
    "get",
]

_register = keras.saving.register_keras_serializable(package="filteropt")


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

    x[i] = -eta g[i];  v[i] = momentum v[i-1] + x[i];
    Delta[i] = v[i]  or, with Nesterov,  (1 + momentum) v[i] - momentum v[i-1].

    Same arguments and trajectory as ``keras.optimizers.SGD``.
    """

    _recipe_fn = staticmethod(R.sgd)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(momentum=momentum, nesterov=nesterov)


@_register
class Adagrad(_Composed):
    """Adagrad: Delta = -eta g / sqrt(summer{g^2} + eps), the summer starting at
    ``initial_accumulator_value``. As ``keras.optimizers.Adagrad``."""

    _recipe_fn = staticmethod(R.adagrad)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(initial_accumulator_value=initial_accumulator_value, epsilon=epsilon)


@_register
class Adadelta(_Composed):
    """Adadelta: the update's RMS over the gradient's RMS, both through
    ema(rho). As ``keras.optimizers.Adadelta``."""

    _recipe_fn = staticmethod(R.adadelta)

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(rho=rho, epsilon=epsilon)


@_register
class RMSprop(_Composed):
    """RMSprop: x = -eta g / sqrt(ema_rho{g^2} (- ema_rho{g}^2) + eps), then
    momentum on x. As ``keras.optimizers.RMSprop``."""

    _recipe_fn = staticmethod(R.rmsprop)

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(rho=rho, momentum=momentum, epsilon=epsilon, centered=centered)


@_register
class Adam(_Composed):
    """Adam: compensated ema(beta_1) of g over the RMS of compensated
    ema(beta_2) of g^2 (Kingma & Ba 2015; the lecture: "Adam").

    Delta = -eta m^ / (sqrt(v^) + eps / sqrt(1 - beta_2^t)) (Keras's epsilon-hat:
    Keras computes -eta sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + eps)
    on the uncorrected m, v); ``amsgrad`` uses the running maximum of v.
    As ``keras.optimizers.Adam``.
    """

    _recipe_fn = staticmethod(R.adam)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad)


@_register
class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004), as
    ``keras.optimizers.AdamW``: theta[i] = (1 - eta lambda) theta[i-1] + Delta[i]
    (Loshchilov & Hutter, ICLR 2019). The recipe carries the decay, so the
    analysis sees the integrator's pole at 1 - eta lambda."""

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
    """Nadam as Keras 3 computes it: ema(beta_1) with Dozat's momentum schedule
    mu_t = beta_1 (1 - 0.5 * 0.96^t) and its time-varying compensation
    (see :class:`filteropt.compensation.NadamSchedule`), over Adam's RMS.
    As ``keras.optimizers.Nadam``; :class:`NadamLTI` is the schedule-free form.
    """

    _recipe_fn = staticmethod(R.nadam)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@_register
class Adamax(_Composed):
    """Adamax: compensated ema(beta_1) over the peak detector
    u = max(beta_2 u, |g|). As ``keras.optimizers.Adamax``."""

    _recipe_fn = staticmethod(R.adamax)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@_register
class Lion(_Composed):
    """Lion: Delta = -eta sign(H{g}), H = filters.lion(beta_1, beta_2), an
    ARMA1 with unit DC gain. As ``keras.optimizers.Lion``."""

    _recipe_fn = staticmethod(R.lion)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2)


@_register
class QHM(_Composed):
    """Quasi-hyperbolic momentum: Delta = -eta ((1 - nu) g + nu ema_beta{g})
    (Ma & Yarats, ICLR 2019)."""

    _recipe_fn = staticmethod(R.qhm)

    def __init__(self, learning_rate=1.0, nu=0.7, beta=0.999, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(nu=nu, beta=beta)


@_register
class QHAdam(_Composed):
    """QHAdam: quasi-hyperbolic mixing of both of Adam's moments
    (Ma & Yarats, ICLR 2019)."""

    _recipe_fn = staticmethod(R.qhadam)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, nu_1=0.7, nu_2=1.0,
                 epsilon=1e-8, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, nu_1=nu_1, nu_2=nu_2, epsilon=epsilon)


@_register
class AggMo(_Composed):
    """Aggregated momentum: the mean of heavy-ball velocities with the given
    betas, one slot each (Lucas et al., ICLR 2019)."""

    _recipe_fn = staticmethod(R.aggmo)

    def __init__(self, learning_rate=0.1, betas=(0.0, 0.9, 0.99), name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(betas=tuple(betas) if isinstance(betas, list) else betas)

    def _recipe_config(self):
        return {"betas": list(self.betas)}


@_register
class ButterworthMomentum(_Composed):
    """Momentum through a Butterworth low-pass of the given order and cutoff
    (0 < cutoff < 1, as ``scipy.signal.butter``), unit DC gain by default."""

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
