"""Optimizers Keras lacks: the literature's, the lecture's suggestion, designs.

(The methods whose recipes are in :mod:`filteropt.recipes.literature`, triple
and robust momentum, PID, Grokfast and AdEMAMix, are in
:mod:`filteropt.keras.recent`.)

Each is tested against its authors' or another project's implementation
(``tests/test_reference_implementations.py``: qhoptim, torch-optimizer,
adabelief-pytorch, optax) and documents its arguments, its difference
equation and its source.
"""

from __future__ import annotations

from .. import recipes as R
from ..design import design_from_record, designed
from .composed import Composed, register

__all__ = [
    "QHM",
    "AdaBelief",
    "AggMo",
    "ButterworthMomentum",
    "Designed",
    "NadamLTI",
    "QHAdam",
]


@register
class QHM(Composed):
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


@register
class QHAdam(Composed):
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

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        nu_1=0.7,
        nu_2=1.0,
        epsilon=1e-8,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, nu_1=nu_1, nu_2=nu_2, epsilon=epsilon)


@register
class AggMo(Composed):
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


@register
class ButterworthMomentum(Composed):
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

    def __init__(
        self, learning_rate=0.01, order=2, cutoff=0.1, momentum_gain="dc", name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(order=order, cutoff=cutoff, momentum_gain=momentum_gain)


@register
class AdaBelief(Composed):
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
    beta_2^t)::

        Delta = -eta r_t m^ / (sqrt(s^) + eps / sqrt(1 - beta_2^t)),
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

    (eps then on the uncorrected sqrt(s)) where rho_t >= 5, else
    Delta = -eta m^ (SGD with momentum). Its ``weight_decouple=True``
    (``theta *= 1 - eta wd`` before the step) is Keras's ``weight_decay``.

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

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-16,
        epsilon_root=1e-16,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, epsilon_root=epsilon_root)


@register
class NadamLTI(Composed):
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

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


@register
class Designed(Composed):
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

    def __init__(
        self,
        learning_rate=None,
        kappa=100.0,
        order=2,
        max_noise_gain=None,
        lambda_max=1.0,
        name=None,
        **kwargs,
    ):
        recipe = designed(
            kappa=kappa, order=order, max_noise_gain=max_noise_gain, lambda_max=lambda_max
        )
        if learning_rate is None:
            learning_rate = recipe.hyperparameters["learning_rate"]
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._hyper_names = ("kappa", "order", "max_noise_gain", "lambda_max")
        self.kappa, self.order, self.max_noise_gain, self.lambda_max = (
            kappa,
            order,
            max_noise_gain,
            lambda_max,
        )
        self._set_recipe(recipe)

    @classmethod
    def from_probe(cls, probe, order=2, misadjustment=0.1, **kwargs):
        """The design for what a :class:`~filteropt.GradientProbe` measured:
        kappa and lambda_max from its sharpness, the noise bound
        ``misadjustment`` / q from the gradient's spectrum
        (:func:`filteropt.design.design_from_record`; ``probe`` may also be
        its record). The learning rate is the design's; ``kwargs`` go to the
        constructor. What was measured and chosen is kept in :attr:`measured`."""
        found = design_from_record(probe, order=order, misadjustment=misadjustment)
        out = cls(
            kappa=found.kappa,
            order=order,
            max_noise_gain=found.max_noise_gain,
            lambda_max=found.lambda_max,
            **kwargs,
        )
        out.measured = found
        return out
