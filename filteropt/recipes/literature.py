"""Methods from papers, each a filter of a few lines.

- :func:`triple_momentum` and :func:`robust_momentum`: the methods designed
  as closed loops (one pole, one zero, and their own step size), whose
  worst-case rates on strongly convex quadratics
  :func:`filteropt.analysis.worst_case_rate` reproduces;
- :func:`grokfast`: the gradient plus lambda times its moving average
  (DC gain 1 + lambda);
- :func:`pid`: the PID optimizer, which is one pole and one zero;
- :func:`ademamix`: Adam with a second, slow moving average, a parallel
  bank of two paths compensated differently
  (:mod:`filteropt.signal.bank`).

Each recipe that fixes its own step size (the closed-loop designs) carries
it as ``hyperparameters["learning_rate"]``, which the analysis and the
Keras classes use when no learning rate is given.
"""

from __future__ import annotations

import math
import numbers

from ..signal import filters as F
from ..signal import normalizers as N
from ..signal.arma import ARMAFilter, check_unit_interval
from ..signal.bank import PathBank, Warmup, check_steps
from ..signal.compensation import FilterPath
from .core import Recipe
from .registry import register

__all__ = ["ademamix", "grokfast", "pid", "robust_momentum", "triple_momentum"]


def _positive(value, name, minimum=0.0):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(value) and value > minimum)
    ):
        raise ValueError(
            f"`{name}` must be a finite number > {minimum:g}. Received: {name}={value!r}"
        )
    return float(value)


def _lookahead_momentum(name, step, beta, gamma, hyper):
    """x[i+1] = x[i] + beta (x[i] - x[i-1]) - step grad f(y[i]),
    y[i] = x[i] + gamma (x[i] - x[i-1]), seen at the point y where the
    gradient is taken: with d = x[i+1] - x[i],

        d[i] = beta d[i-1] - step g[i],   Delta y[i] = (1 + gamma) d[i] - gamma d[i-1],

    so Delta y = -step H{g}, H(z) = ((1 + gamma) - gamma z^-1) / (1 - beta z^-1):
    one pole (beta) and one zero (gamma / (1 + gamma)). Heavy ball is gamma = 0,
    Nesterov gamma = beta."""
    f = ARMAFilter([1.0 + gamma, -gamma], [1.0, -beta])
    return Recipe(
        name, FilterPath(f), None, ("lr", "filter", "normalize"), {**hyper, "learning_rate": step}
    )


def triple_momentum(kappa=100.0, lipschitz=1.0):
    """Triple momentum (Van Scoy, Freeman & Lynch 2018): rate 1 - 1/sqrt(kappa).

    For m-strongly convex, L-smooth f (kappa = L / m), rho = 1 - 1/sqrt(kappa)::

        alpha = (1 + rho) / L,  beta = rho^2 / (2 - rho),
        gamma = rho^2 / ((1 + rho)(2 - rho))

    and the iteration of :func:`_lookahead_momentum`: H(z) = ((1 + gamma) -
    gamma z^-1) / (1 - beta z^-1) with its own step ``learning_rate`` =
    alpha. The fastest known worst-case rate over the class; on quadratics
    with curvatures in [m, L] the loop's spectral radius is rho at both ends.
    The paper's third sequence (the output x with delta = rho^2 / (1 - rho^2))
    is where the iterate is read, not where the gradient is taken, and does
    not change the loop.
    """
    kappa = _positive(kappa, "kappa", 1.0)
    lipschitz = _positive(lipschitz, "lipschitz")
    rho = 1.0 - 1.0 / math.sqrt(kappa)
    beta = rho**2 / (2.0 - rho)
    gamma = rho**2 / ((1.0 + rho) * (2.0 - rho))
    return _lookahead_momentum(
        "triple_momentum",
        (1.0 + rho) / lipschitz,
        beta,
        gamma,
        {"kappa": kappa, "lipschitz": lipschitz},
    )


def robust_momentum(kappa=100.0, rho=None, lipschitz=1.0):
    """Robust momentum (Cyrus, Hu, Van Scoy & Lessard 2018): a rate rho traded for robustness.

    rho in [1 - 1/sqrt(kappa), 1 - 1/kappa] (None: the fast end)::

        alpha = kappa (1 - rho)^2 (1 + rho) / L,  beta = kappa rho^3 / (kappa - 1),
        gamma = rho^3 / ((kappa - 1) (1 - rho)^2 (1 + rho))

    in the iteration of :func:`_lookahead_momentum`, own step ``learning_rate``
    = alpha. rho = 1 - 1/sqrt(kappa) is triple momentum; a larger rho trades
    speed for robustness (a smaller step, a smaller noise gain).
    """
    kappa = _positive(kappa, "kappa", 1.0)
    lipschitz = _positive(lipschitz, "lipschitz")
    lo, hi = 1.0 - 1.0 / math.sqrt(kappa), 1.0 - 1.0 / kappa
    rho = lo if rho is None else rho
    if (
        isinstance(rho, bool)
        or not isinstance(rho, numbers.Real)
        or not (lo - 1e-12 <= float(rho) <= hi + 1e-12)
    ):
        raise ValueError(
            f"`rho` must be in [1 - 1/sqrt(kappa), 1 - 1/kappa] = [{lo:.6g}, {hi:.6g}]. "
            f"Received: rho={rho!r}"
        )
    rho = float(rho)
    step = kappa * (1.0 - rho) ** 2 * (1.0 + rho) / lipschitz
    beta = kappa * rho**3 / (kappa - 1.0)
    gamma = rho**3 / ((kappa - 1.0) * (1.0 - rho) ** 2 * (1.0 + rho))
    return _lookahead_momentum(
        "robust_momentum", step, beta, gamma, {"kappa": kappa, "rho": rho, "lipschitz": lipschitz}
    )


def grokfast(alpha=0.98, lamb=2.0):
    """Grokfast-EMA (Lee et al. 2024): the gradient plus lamb times its moving average.

    ::

        h[i] = alpha h[i-1] + (1 - alpha) g[i]   (h[1] = g[1], as the authors' code)
        Delta[i] = -eta (g[i] + lamb h[i])

    H(z) = 1 + lamb (1 - alpha) / (1 - alpha z^-1): DC gain 1 + lamb (3 at
    the paper's lamb = 2, so slow components move 3x as far as plain SGD
    moves them), and 1 + lamb (1 - alpha) / (1 + alpha) at Nyquist: a
    low-frequency boost. The authors filter the gradient before any base
    optimizer; this recipe is the filter with plain SGD after it.
    """
    alpha = check_unit_interval(alpha, "alpha")
    if isinstance(lamb, bool) or not isinstance(lamb, numbers.Real) or not math.isfinite(lamb):
        raise ValueError(f"`lamb` must be a finite number. Received: lamb={lamb!r}")
    path = FilterPath(F.ema(alpha), mix=float(lamb), direct=1.0, first_gain=1.0)
    return Recipe(
        "grokfast", path, None, ("filter", "normalize", "lr"), {"alpha": alpha, "lamb": float(lamb)}
    )


def pid(momentum=0.9, integral=5.0, derivative=10.0):
    """The PID optimizer (An et al., CVPR 2018): P, I and D terms of the gradient.

    ::

        I[i] = mu I[i-1] + g[i]
        D[i] = mu D[i-1] + (1 - mu) (g[i] - g[i-1])
        Delta[i] = -eta (g[i] + K_i I[i] + K_d D[i])

    All three share the pole mu, so the sum is one pole and one zero::

        H(z) = (b0 + b1 z^-1) / (1 - mu z^-1),
        b0 = 1 + K_i + K_d (1 - mu),  b1 = -(mu + K_d (1 - mu)),

    DC gain 1 + K_i / (1 - mu) (the derivative passes no DC). Nesterov
    momentum is the member with b0 = 1 + mu, b1 = -mu. The state starts at
    rest (g[0] = 0). The authors' published code differs: its derivative
    buffer is scaled by the learning rate and its gradient memory is never
    updated after the first step.
    """
    mu = check_unit_interval(momentum, "momentum")
    for name, value in (("integral", integral), ("derivative", derivative)):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
        ):
            raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    ki, kd = float(integral), float(derivative)
    f = ARMAFilter([1.0 + ki + kd * (1.0 - mu), -(mu + kd * (1.0 - mu))], [1.0, -mu])
    return Recipe(
        "pid",
        FilterPath(f),
        None,
        ("filter", "normalize", "lr"),
        {"momentum": mu, "integral": ki, "derivative": kd},
    )


def ademamix(
    beta_1=0.9,
    beta_2=0.999,
    beta_3=0.9999,
    alpha=5.0,
    epsilon=1e-8,
    alpha_warmup=None,
    beta_3_warmup=None,
):
    """AdEMAMix (Pagliardini, Ablin & Grangier 2024): Adam plus a slow moving average.

    ::

        m1[i] = beta_1 m1[i-1] + (1 - beta_1) g[i]       (compensated)
        m2[i] = b3[i] m2[i-1] + (1 - b3[i]) g[i]         (not compensated)
        v[i]  = beta_2 v[i-1] + (1 - beta_2) g[i]^2      (compensated)
        Delta[i] = -eta (m1[i] / (1 - beta_1^i) + a[i] m2[i]) / (sqrt(v^[i]) + eps)

    a parallel bank of two paths (:class:`filteropt.signal.bank.PathBank`)
    over Adam's RMS normaliser (epsilon outside the root, as the paper and
    optax). The warm-ups (the authors' schedulers, at step i = 1, 2, ...):
    a[i] = alpha min(i / T_alpha, 1); b3 rises from beta_1 to beta_3 with its
    half-life t_half(b) = ln(0.5) / ln(b) - 1 linear in i over T_beta3. Once
    warmed up, H(z) = (1 - beta_1) / (1 - beta_1 z^-1) + alpha (1 - beta_3) /
    (1 - beta_3 z^-1): DC gain 1 + alpha.
    """
    b1 = check_unit_interval(beta_1, "beta_1")
    b3 = check_unit_interval(beta_3, "beta_3")
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, numbers.Real)
        or not (math.isfinite(alpha) and float(alpha) >= 0)
    ):
        raise ValueError(f"`alpha` must be a finite number >= 0. Received: alpha={alpha!r}")
    alpha_warmup = check_steps(alpha_warmup, "alpha_warmup")
    beta_3_warmup = check_steps(beta_3_warmup, "beta_3_warmup")
    if beta_3_warmup is not None and (b1 == 0.0 or b3 == 0.0):
        raise ValueError(
            "`beta_3_warmup` interpolates half-lives from beta_1 to beta_3: "
            f"both must be > 0. Received: beta_1={b1}, beta_3={b3}"
        )
    fast = FilterPath(F.ema(b1), compensate=True)
    slow = Warmup(
        b3, float(alpha), beta_start=b1, beta_warmup=beta_3_warmup, mix_warmup=alpha_warmup
    )
    norm = N.RMS(
        F.ema(check_unit_interval(beta_2, "beta_2")),
        compensate=True,
        epsilon=epsilon,
        epsilon_mode="outside",
    )
    return Recipe(
        "ademamix",
        PathBank((fast, slow)),
        norm,
        ("filter", "normalize", "lr"),
        {
            "beta_1": beta_1,
            "beta_2": beta_2,
            "beta_3": beta_3,
            "alpha": alpha,
            "epsilon": epsilon,
            "alpha_warmup": alpha_warmup,
            "beta_3_warmup": beta_3_warmup,
        },
    )


register("triple_momentum", triple_momentum, optimizer="TripleMomentum")
register("robust_momentum", robust_momentum, optimizer="RobustMomentum")
register("grokfast", grokfast, optimizer="Grokfast")
register("pid", pid, optimizer="PID")
register("ademamix", ademamix, optimizer="AdEMAMix")
