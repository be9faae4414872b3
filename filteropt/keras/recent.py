"""The recent literature as Keras optimizers, from :mod:`filteropt.recipes.literature`.

Triple momentum and robust momentum (worst-case-optimal steps of their own),
the PID optimizer, Grokfast and AdEMAMix. Each is tested against the authors'
code or the paper's recursion run independently
(``tests/test_literature_methods.py``).
"""

from __future__ import annotations

from .. import recipes as R
from .composed import Composed, register

__all__ = ["PID", "AdEMAMix", "Grokfast", "RobustMomentum", "TripleMomentum"]


class _OwnStep(Composed):
    """A method that fixes its own step size: ``learning_rate=None`` takes it."""

    def _compose_own_step(self, learning_rate, name, kwargs, **hyperparameters):
        recipe = self._recipe_function()(**hyperparameters)
        if learning_rate is None:
            learning_rate = recipe.hyperparameters["learning_rate"]
        Composed.__init__(self, learning_rate=learning_rate, name=name, **kwargs)
        self._compose(**hyperparameters)


@register
class TripleMomentum(_OwnStep):
    """Triple momentum (Van Scoy, Freeman & Lynch 2018): worst-case rate 1 - 1/sqrt(kappa).

    ::

        d[i] = beta d[i-1] - alpha g[i]
        Delta[i] = (1 + gamma) d[i] - gamma d[i-1]

    rho = 1 - 1/sqrt(kappa), alpha = (1 + rho) / L, beta = rho^2 / (2 - rho),
    gamma = rho^2 / ((1 + rho)(2 - rho)): one pole and one zero, the loop on
    a quadratic with curvatures in [L/kappa, L] converging at rate rho (see
    ``filteropt.analysis.worst_case_rate``). The variable is the point where
    the gradient is taken, as in Keras's Nesterov SGD.

    Args:
        learning_rate: a float >= 0, a schedule or a callable: eta; None (the
            default) takes the method's own alpha = (1 + rho) / L.
        kappa: a float > 1: the condition number L / m the method is tuned
            for. Defaults to ``100.0``.
        lipschitz: a float > 0: L, the largest curvature. Defaults to ``1.0``.
        {common}
    """

    _recipe_fn = staticmethod(R.triple_momentum)

    def __init__(self, learning_rate=None, kappa=100.0, lipschitz=1.0, name=None, **kwargs):
        self._compose_own_step(learning_rate, name, kwargs, kappa=kappa, lipschitz=lipschitz)


@register
class RobustMomentum(_OwnStep):
    """Robust momentum (Cyrus, Hu, Van Scoy & Lessard 2018): a chosen rate rho.

    ::

        d[i] = beta d[i-1] - alpha g[i]
        Delta[i] = (1 + gamma) d[i] - gamma d[i-1]

    alpha = kappa (1 - rho)^2 (1 + rho) / L, beta = kappa rho^3 / (kappa - 1),
    gamma = rho^3 / ((kappa - 1)(1 - rho)^2 (1 + rho)), rho in
    [1 - 1/sqrt(kappa), 1 - 1/kappa]: the fast end is triple momentum, a
    slower rho buys robustness to gradient noise.

    Args:
        learning_rate: a float >= 0, a schedule or a callable: eta; None (the
            default) takes the method's own alpha.
        kappa: a float > 1: the condition number. Defaults to ``100.0``.
        rho: a float in [1 - 1/sqrt(kappa), 1 - 1/kappa] or None (the fast
            end): the worst-case rate. Defaults to ``None``.
        lipschitz: a float > 0: L, the largest curvature. Defaults to ``1.0``.
        {common}
    """

    _recipe_fn = staticmethod(R.robust_momentum)

    def __init__(
        self, learning_rate=None, kappa=100.0, rho=None, lipschitz=1.0, name=None, **kwargs
    ):
        self._compose_own_step(
            learning_rate, name, kwargs, kappa=kappa, rho=rho, lipschitz=lipschitz
        )


@register
class Grokfast(Composed):
    """Grokfast-EMA (Lee et al. 2024): the gradient plus lamb times its moving average.

    ::

        h[i] = alpha h[i-1] + (1 - alpha) g[i]     (h[1] = g[1])
        Delta[i] = -eta (g[i] + lamb h[i])

    H(z) = 1 + lamb (1 - alpha) / (1 - alpha z^-1): DC gain 1 + lamb, so at
    lamb = 2 the slow part of the gradient moves as with a 3x learning rate,
    the fast part (1 + lamb (1 - alpha) / (1 + alpha) at Nyquist) almost as
    with plain SGD.

    Args:
        learning_rate: a float >= 0, a schedule or a callable: eta. Defaults
            to ``0.01``.
        alpha: a float in [0, 1): the moving average's pole. Defaults to
            ``0.98`` (the paper's).
        lamb: a float: the amplification of the average. Defaults to ``2.0``.
        {common}
    """

    _recipe_fn = staticmethod(R.grokfast)

    def __init__(self, learning_rate=0.01, alpha=0.98, lamb=2.0, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(alpha=alpha, lamb=lamb)


@register
class PID(Composed):
    """The PID optimizer (An et al., CVPR 2018): proportional, integral and derivative terms.

    ::

        I[i] = mu I[i-1] + g[i],  D[i] = mu D[i-1] + (1 - mu)(g[i] - g[i-1])
        Delta[i] = -eta (g[i] + K_i I[i] + K_d D[i])

    one pole mu and one zero: H(z) = (b0 + b1 z^-1) / (1 - mu z^-1), b0 = 1 +
    K_i + K_d (1 - mu), b1 = -(mu + K_d (1 - mu)); DC gain 1 + K_i / (1 - mu).

    Args:
        learning_rate: a float >= 0, a schedule or a callable: eta. Defaults
            to ``0.01``.
        momentum: a float in [0, 1): mu. Defaults to ``0.9``.
        integral: a float: K_i. Defaults to ``5.0`` (the authors' code).
        derivative: a float: K_d. Defaults to ``10.0`` (the authors' code).
        {common}
    """

    _recipe_fn = staticmethod(R.pid)

    def __init__(
        self, learning_rate=0.01, momentum=0.9, integral=5.0, derivative=10.0, name=None, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(momentum=momentum, integral=integral, derivative=derivative)


@register
class AdEMAMix(Composed):
    """AdEMAMix (Pagliardini, Ablin & Grangier 2024): Adam plus a slow moving average.

    ::

        m1[i] = beta_1 m1[i-1] + (1 - beta_1) g[i]
        m2[i] = b3[i] m2[i-1] + (1 - b3[i]) g[i]
        v[i] = beta_2 v[i-1] + (1 - beta_2) g[i]^2
        Delta[i] = -eta (m1[i] / (1 - beta_1^i) + a[i] m2[i])
                   / (sqrt(v[i] / (1 - beta_2^i)) + epsilon)

    with the paper's warm-ups a[i] = alpha min(i / alpha_warmup, 1) and b3[i]
    rising from beta_1 to beta_3 with a half-life linear in i (see
    :class:`filteropt.signal.bank.Warmup`). Equal to ``optax.contrib.ademamix``
    given the same schedules; Keras's base ``weight_decay`` is the paper's
    decoupled lambda.

    Args:
        learning_rate: a float >= 0, a schedule or a callable: eta. Defaults
            to ``0.001``.
        beta_1: a float in [0, 1): the fast average's pole. Defaults to ``0.9``.
        beta_2: a float in [0, 1): the variance filter's pole. Defaults to ``0.999``.
        beta_3: a float in [0, 1): the slow average's pole. Defaults to ``0.9999``.
        alpha: a float >= 0: the slow average's weight. Defaults to ``5.0``.
        epsilon: a float >= 0, added to the corrected root. Defaults to ``1e-8``.
        alpha_warmup: None or an int >= 1: the steps over which alpha rises
            from 0. Defaults to ``None`` (no warm-up).
        beta_3_warmup: None or an int >= 1: the steps over which beta_3 rises
            from beta_1. Defaults to ``None`` (no warm-up).
        {common}
    """

    _recipe_fn = staticmethod(R.ademamix)

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        beta_3=0.9999,
        alpha=5.0,
        epsilon=1e-8,
        alpha_warmup=None,
        beta_3_warmup=None,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self._compose(
            beta_1=beta_1,
            beta_2=beta_2,
            beta_3=beta_3,
            alpha=alpha,
            epsilon=epsilon,
            alpha_warmup=alpha_warmup,
            beta_3_warmup=beta_3_warmup,
        )
