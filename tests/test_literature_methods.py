"""The literature's methods as filters, each against its paper or another implementation.

- triple momentum and robust momentum: the papers' worst-case rates
  (1 - 1/sqrt(kappa); rho) from ``analysis.worst_case_rate`` and from the
  Keras optimizers run on quadratics; robust momentum at its fast end is
  triple momentum;
- AdEMAMix: ``optax.contrib.ademamix`` step for step, with and without the
  paper's warm-ups (the paper's closed form of the beta_3 schedule);
- Grokfast-EMA: its DC gain 1 + lambda, its first step (h[1] = g[1]) and its
  frequency response measured on a run;
- PID: one pole and one zero; with K_i = mu, K_d = 0 it is
  ``torch.optim.SGD(nesterov=True)``; DC gain 1 + K_i / (1 - mu).
"""

import math

import numpy as np
import pytest
from helpers import trajectory
from hypothesis import given, settings
from hypothesis import strategies as st
from test_reference_implementations import (
    DTYPES,
    _check,
    _grads,
    _lr,
    optax_trajectory,
    torch_trajectory,
)

import filteropt
from filteropt import recipes as R
from filteropt.analysis import worst_case_rate
from filteropt.analysis.closed_loop import quadratic_rate

SETTINGS = settings(max_examples=10, deadline=None)
kappas = st.floats(2.0, 1e4)


# -- the closed-loop designs ----------------------------------------------------------


@SETTINGS
@given(kappa=kappas)
def test_triple_momentum_reaches_its_rate(kappa):
    """Van Scoy et al.: rho = 1 - 1/sqrt(kappa), from the recipe's own step."""
    rate = worst_case_rate(f"triple_momentum:kappa={kappa!r}", kappa=kappa)
    assert rate == pytest.approx(1.0 - 1.0 / math.sqrt(kappa), rel=1e-9)
    # the two ends of the curvature range are where it is attained
    r = R.triple_momentum(kappa)
    eta = r.hyperparameters["learning_rate"]
    ends = quadratic_rate(r.gradient_filter, np.array([eta / kappa, eta]))
    assert ends == pytest.approx([1.0 - 1.0 / math.sqrt(kappa)] * 2, rel=1e-9)


@SETTINGS
@given(kappa=kappas, where=st.floats(0.0, 1.0), lipschitz=st.floats(0.1, 10.0))
def test_robust_momentum_reaches_the_chosen_rate(kappa, where, lipschitz):
    """Cyrus et al.: the worst-case rate over curvatures [L/kappa, L] is rho."""
    lo, hi = 1.0 - 1.0 / math.sqrt(kappa), 1.0 - 1.0 / kappa
    rho = lo + where * (hi - lo)
    r = R.robust_momentum(kappa, rho, lipschitz)
    # curvatures in [L/kappa, L]: the analysis' range [1/kappa, 1] at step eta L
    eta = r.hyperparameters["learning_rate"] * lipschitz
    assert worst_case_rate(r, eta, kappa) == pytest.approx(rho, rel=1e-7)


def test_robust_momentum_at_its_fast_end_is_triple_momentum():
    for kappa in (4.0, 100.0, 1e4):
        rm, tm = R.robust_momentum(kappa), R.triple_momentum(kappa)
        assert rm.hyperparameters["learning_rate"] == pytest.approx(
            tm.hyperparameters["learning_rate"], rel=1e-12
        )
        np.testing.assert_allclose(rm.gradient_filter.b, tm.gradient_filter.b, rtol=1e-12)
        np.testing.assert_allclose(rm.gradient_filter.a, tm.gradient_filter.a, rtol=1e-12)


@pytest.mark.parametrize(
    "cls, kwargs, rate",
    [
        ("TripleMomentum", {"kappa": 100.0}, 0.9),
        ("RobustMomentum", {"kappa": 100.0, "rho": 0.95}, 0.95),
    ],
)
def test_the_keras_optimizer_converges_at_the_papers_rate(cls, kwargs, rate):
    """The Keras optimizer on f = sum lambda_j x_j^2 / 2, curvatures spanning
    [1/kappa, 1]: the error shrinks as rate^k, and not faster."""
    import keras

    lam = np.geomspace(1.0 / kwargs["kappa"], 1.0, 7)
    opt = getattr(filteropt, cls)(**kwargs)
    x = keras.Variable(np.ones(7), dtype="float64")
    norms = []
    for _ in range(250):
        g = keras.ops.convert_to_tensor(lam * keras.ops.convert_to_numpy(x))
        opt.apply_gradients([(g, x)])
        norms.append(np.linalg.norm(keras.ops.convert_to_numpy(x)))
    measured = (norms[-1] / norms[99]) ** (1.0 / 150)
    assert measured == pytest.approx(rate, abs=5e-3)


def test_a_method_without_its_own_step_needs_a_learning_rate():
    with pytest.raises(ValueError, match="learning_rate"):
        worst_case_rate("momentum", kappa=10)
    with pytest.raises(ValueError, match="kappa"):
        worst_case_rate("triple_momentum")
    with pytest.raises(ValueError, match="rho"):
        R.robust_momentum(100.0, rho=0.5)
    with pytest.raises(ValueError, match="kappa"):
        R.triple_momentum(1.0)


# -- AdEMAMix -----------------------------------------------------------------------------


def _ademamix_optax(recipe, lr):
    """optax.contrib.ademamix with the recipe's warm-ups as optax schedules
    (of the count before the step, so step i reads the schedule at i)."""
    import jax.numpy as jnp
    import optax

    h = recipe.hyperparameters
    slow = recipe.path.paths[1]
    b3 = (lambda c: slow.pole(jnp, c + 1.0)) if h["beta_3_warmup"] else h["beta_3"]
    alpha = (
        (lambda c: h["alpha"] * jnp.minimum((c + 1.0) / h["alpha_warmup"], 1.0))
        if h["alpha_warmup"]
        else h["alpha"]
    )
    return optax.contrib.ademamix(
        lr, b1=h["beta_1"], b2=h["beta_2"], b3=b3, alpha=alpha, eps=h["epsilon"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=6, deadline=None)
@given(
    data=st.data(),
    b1=st.floats(0.05, 0.99),
    b2=st.floats(0.5, 0.9999),
    b3=st.floats(0.9, 0.9999),
    alpha=st.floats(0.0, 10.0),
    warm=st.sampled_from([(None, None), (20, 40), (1, 80)]),
    lr=st.sampled_from([1e-3, 0.01]),
)
def test_ademamix_is_optax_ademamix(dtype, data, b1, b2, b3, alpha, warm, lr):
    grads = _grads(data, dtype)
    opt = filteropt.AdEMAMix(
        learning_rate=lr,
        beta_1=b1,
        beta_2=b2,
        beta_3=b3,
        alpha=alpha,
        alpha_warmup=warm[0],
        beta_3_warmup=warm[1],
    )
    theirs = optax_trajectory(_ademamix_optax(opt.recipe, _lr(lr)), grads)
    _check(trajectory(opt, grads, dtype), theirs, dtype)


@settings(max_examples=25, deadline=None)
@given(
    start=st.floats(0.01, 0.999),
    end=st.floats(0.01, 0.99999),
    steps=st.integers(1, 500),
    at=st.floats(0.0, 1.5),
)
def test_the_beta_3_warmup_is_the_papers(start, end, steps, at):
    """The paper writes the schedule as beta(t) = exp(ln(b_s) ln(b_e) /
    ((1 - t/T) ln(b_e) + (t/T) ln(b_s))); b_e from t = T on."""
    from filteropt.signal.bank import Warmup

    w = Warmup(end, beta_start=start, beta_warmup=steps)
    t = max(1.0, round(at * steps))
    r = min(t / steps, 1.0)
    paper = math.exp(
        math.log(start) * math.log(end) / ((1 - r) * math.log(end) + r * math.log(start))
    )
    assert float(w.pole(np, t)) == pytest.approx(paper, rel=1e-12)


def test_ademamix_settles_to_a_bank_of_two_averages():
    r = R.ademamix(beta_1=0.9, beta_3=0.999, alpha=5.0)
    assert r.gradient_filter.dc_gain == pytest.approx(6.0)
    assert sorted(np.abs(r.gradient_filter.poles)) == pytest.approx([0.9, 0.999])
    with pytest.raises(ValueError, match="alpha_warmup"):
        R.ademamix(alpha_warmup=0)


# -- Grokfast and PID ---------------------------------------------------------------------


@SETTINGS
@given(alpha=st.floats(0.0, 0.999), lamb=st.floats(0.0, 5.0), lr=st.floats(1e-4, 0.1))
def test_grokfast_amplifies_a_constant_gradient_by_one_plus_lambda(alpha, lamb, lr):
    """h[1] = g[1] (the authors' start), so a constant gradient is moved by
    -eta (1 + lamb) g from the first step on: the DC gain, at once."""
    g = np.full((30, 2), [0.5, -2.0])
    steps = np.diff(R.simulate(R.grokfast(alpha, lamb), g, lr), axis=0, prepend=0.0)
    np.testing.assert_allclose(steps, -lr * (1 + lamb) * g, rtol=1e-12)
    assert R.grokfast(alpha, lamb).gradient_filter.dc_gain == pytest.approx(1 + lamb)


def test_grokfast_passes_the_fast_part_almost_untouched():
    """A sinusoid at frequency nu is moved by |H(e^{j 2 pi nu})|, measured on a run."""
    alpha, lamb, nu, n = 0.98, 2.0, 0.25, 2000
    g = np.cos(2 * np.pi * nu * np.arange(n))[:, None]
    steps = -np.diff(R.simulate(R.grokfast(alpha, lamb), g, 1.0), axis=0, prepend=0.0)[:, 0]
    k = np.arange(n - 200, n)
    basis = np.stack([np.cos(2 * np.pi * nu * k), np.sin(2 * np.pi * nu * k)], axis=1)
    gain = np.linalg.norm(np.linalg.lstsq(basis, steps[-200:], rcond=None)[0])  # amplitude
    h = abs(1 + lamb * (1 - alpha) / (1 - alpha * np.exp(-2j * np.pi * nu)))
    assert gain == pytest.approx(h, rel=1e-3)
    assert h < 1.1 < 1 + lamb


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(data=st.data(), mu=st.floats(0.0, 0.99), lr=st.sampled_from([1e-3, 0.01]))
def test_pid_without_derivative_and_with_ki_mu_is_torch_nesterov(dtype, data, mu, lr):
    """b0 = 1 + K_i + K_d (1 - mu) = 1 + mu, b1 = -mu: torch's Nesterov g + mu buf."""
    import torch

    grads = _grads(data, dtype)
    ours = trajectory(
        filteropt.PID(learning_rate=lr, momentum=mu, integral=mu, derivative=0.0), grads, dtype
    )
    theirs = torch_trajectory(
        lambda p: torch.optim.SGD(p, lr=_lr(lr), momentum=mu, nesterov=mu > 0), grads
    )
    _check(ours, theirs, dtype)


@SETTINGS
@given(mu=st.floats(0.0, 0.99), ki=st.floats(0.0, 5.0), kd=st.floats(0.0, 10.0))
def test_pid_is_one_pole_one_zero_with_the_integral_dc_gain(mu, ki, kd):
    f = R.pid(mu, ki, kd).path.lti()  # (the identity at mu = ki = kd = 0: plain SGD)
    assert f.dc_gain == pytest.approx(1 + ki / (1 - mu), rel=1e-9)
    assert f.order <= 1
    # the derivative passes no DC: K_d does not change H(1)
    assert R.pid(mu, ki, 0.0).path.lti().dc_gain == pytest.approx(f.dc_gain, rel=1e-9)


# -- where the learning rate enters ------------------------------------------------------


def test_the_learning_rate_step_response_is_each_frameworks_own():
    """A tenfold drop of eta halfway, constant gradient 1: Keras's SGD (the rate
    before the filter) glides down with the filter's memory; torch's (after
    the filter) drops at once. ``learning_rate_step_response`` equals each
    framework's own optimizer, run with its own schedule."""
    import keras
    import torch

    from filteropt import analysis as A
    from filteropt.signal.compensation import FilterPath

    n, at, m = 20, 10, 0.9
    keras_sgd = keras.optimizers.SGD(
        learning_rate=keras.optimizers.schedules.PiecewiseConstantDecay([at - 1], [1.0, 0.1]),
        momentum=m,
    )
    x = keras.Variable(np.zeros(1), dtype="float64")
    theta = []
    for _ in range(n):
        keras_sgd.apply_gradients([(keras.ops.ones((1,), dtype="float64"), x)])
        theta.append(float(keras.ops.convert_to_numpy(x)[0]))
    keras_steps = -np.diff(theta, prepend=0.0)
    np.testing.assert_allclose(
        A.learning_rate_step_response(f"momentum:momentum={m}", n, at), keras_steps, rtol=1e-6
    )

    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=1.0, momentum=m)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[at], gamma=0.1)
    theta = []
    for _ in range(n):
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        sched.step()
        theta.append(float(p.detach()[0]))
    torch_steps = -np.diff(theta, prepend=0.0)
    after = R.Recipe(
        "lr_after", FilterPath(filteropt.filters.trace(m)), None, ("filter", "normalize", "lr")
    )
    np.testing.assert_allclose(A.learning_rate_step_response(after, n, at), torch_steps, rtol=1e-12)
    # equal before the drop, different after it: torch drops tenfold at once
    np.testing.assert_allclose(keras_steps[:at], torch_steps[:at], rtol=1e-6)
    buffer = (1 - m ** (at + 1)) / (1 - m)  # the momentum buffer at the drop, sum of m^k
    assert torch_steps[at] == pytest.approx(0.1 * buffer, rel=1e-12)
    assert keras_steps[at] > 5 * torch_steps[at]


def test_describe_and_plot_answer_the_torch_and_keras_momentum_question(tmp_path, capsys):
    """``describe`` of torch's and Keras's momentum side by side: the DC gain
    (1 - d)/(1 - m) against 1/(1 - m), the first step, where eta enters;
    ``plot --response lrstep`` draws the two under a tenfold drop of eta."""
    from filteropt import cli

    torch_spec, keras_spec = "sgd_torch:momentum=0.9,dampening=0.1", "momentum:momentum=0.9"
    assert cli.main(["describe", torch_spec, keras_spec]) == 0
    torch_part, keras_part = capsys.readouterr().out.split("\n\n")[:2]
    assert "DC gain 9," in torch_part and "DC gain 10," in keras_part
    assert "after the filter" in torch_part and "before the filter" in keras_part
    assert "starting at the first gradient" in torch_part
    png = tmp_path / "lr.png"
    assert (
        cli.main(
            [
                "plot",
                torch_spec,
                keras_spec,
                "--response",
                "lrstep",
                "--steps",
                "30",
                "--out",
                str(png),
            ]
        )
        == 0
    )
    assert png.stat().st_size > 0


@pytest.mark.parametrize("warm", [(None, None), (5, 12)])
def test_ademamix_under_optax_is_optax_ademamix(warm):
    """The same recipe through ``to_optax``, jit-compiled, float64."""
    import jax
    import jax.numpy as jnp
    import optax

    recipe = R.ademamix(
        beta_1=0.8, beta_3=0.995, alpha=3.0, alpha_warmup=warm[0], beta_3_warmup=warm[1]
    )
    grads = _grads(7, "float64")
    ours = filteropt.to_optax(recipe, 0.01)
    theirs = _ademamix_optax(recipe, 0.01)
    out = []
    for tx in (ours, theirs):
        p = jnp.zeros(grads.shape[1:])
        state, update, run = tx.init(p), jax.jit(tx.update), []
        for g in grads:
            u, state = update(jnp.asarray(g), state, p)
            p = optax.apply_updates(p, u)
            run.append(np.asarray(p))
        out.append(np.array(run))
    _check(out[0], out[1], "float64")
