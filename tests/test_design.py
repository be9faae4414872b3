"""The filter designer: noise gain, designs, trade-off, curvature, figure."""

import math

import numpy as np
import pytest

from filteropt import analysis as A
from filteropt import design as D
from filteropt import filters as F
from filteropt.signal.realisation import tdf2_step

# -- noise_gain ------------------------------------------------------------------------


@pytest.mark.parametrize("step", [0.05, 0.3, 1.0, 1.5, 1.9])
def test_noise_gain_of_plain_sgd_closed_form(step):
    # H = 1: theta[i] = (1 - step) theta[i-1] + d[i]
    assert A.noise_gain(None, step) == pytest.approx(1.0 / (1.0 - (1.0 - step) ** 2), rel=1e-10)
    assert A.noise_gain(F.identity(), step) == pytest.approx(1.0 / (1.0 - (1.0 - step) ** 2))
    # noise in the gradient: eta^2 times that, LMS's misadjustment eta / (2 - eta)
    assert A.gradient_noise_gain(None, step) == pytest.approx(step / (2.0 - step), rel=1e-10)


def test_noise_gain_is_infinite_where_the_loop_is_unstable():
    assert A.noise_gain(None, 2.0) == math.inf
    assert A.noise_gain(None, 0.0) == math.inf          # a pole at z = 1
    assert A.noise_gain(F.trace(0.9), 4.0) == math.inf
    assert np.isinf(A.noise_gain("momentum", [0.1, 5.0])[1])


def test_noise_gain_of_heavy_ball_closed_form():
    beta, eta = 0.8, 0.3
    expected = eta * (1 + beta) / ((1 - beta) * (2 * (1 + beta) - eta))
    assert A.gradient_noise_gain(F.trace(beta), eta) == pytest.approx(expected, rel=1e-10)
    # the gradient convention does not see a rescaling H -> c H, eta -> eta / c
    f = F.nesterov(0.7)
    assert A.gradient_noise_gain(2.5 * f, 0.2 / 2.5) == pytest.approx(
        A.gradient_noise_gain(f, 0.2), rel=1e-10)


def _simulate_variance(f, step, rng, chains=4000, burn=300, keep=200, gradient_lr=None):
    """Empirical stationary variance of theta in the loop driven by white noise."""
    b, a = f.padded()
    theta = np.zeros(chains)
    z = [np.zeros(chains) for _ in range(f.order)]
    acc = []
    for i in range(burn + keep):
        d = rng.standard_normal(chains)
        if gradient_lr is None:     # d added at the filter's input
            g = -step * theta + d
        else:                       # noise in the gradient: g = -eta (lambda theta + n)
            g = -gradient_lr * ((step / gradient_lr) * theta + d)
        delta, z = tdf2_step(b, a, g, z)
        theta = theta + delta
        if i >= burn:
            acc.append(np.mean(theta ** 2))
    return float(np.mean(acc))


@pytest.mark.parametrize("f, step", [(F.butterworth(2, 0.3), 0.4), (F.nesterov(0.5), 0.6),
                                     (F.trace(0.6), 1.2)])
def test_noise_gain_matches_a_simulation_of_the_loop(f, step):
    rng = np.random.default_rng(0)
    expected = A.noise_gain(f, step)
    measured = _simulate_variance(f, step, rng)
    # 4000 chains x 200 (correlated) samples: a few per cent at most
    assert measured == pytest.approx(expected, rel=0.06)
    eta = 0.5 * step
    measured = _simulate_variance(f, step, rng, gradient_lr=eta)
    assert measured == pytest.approx(A.gradient_noise_gain(f, eta, step / eta), rel=0.06)


# -- design_filter --------------------------------------------------------------------


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_order_one_reproduces_the_heavy_ball_optimum(kappa):
    d = D.design_filter(kappa, order=1)
    sk = math.sqrt(kappa)
    assert d.rate == pytest.approx((sk - 1) / (sk + 1), abs=1e-3)
    assert d.rate <= D.nesterov_optimum(kappa)["rate"]
    assert d.filter.is_stable and np.all(np.abs(d.filter.zeros) < 1)
    assert d.kappa == kappa and d.order == 1 and d.method and "heavy ball" in d.message
    # the rate is the closed loop's, checked independently
    assert A.worst_case_rate(d.filter, d.learning_rate, kappa, n=257) <= d.rate + 1e-9


def test_nesterov_optimum_formula():
    for kappa in (10.0, 1000.0):
        nv = D.nesterov_optimum(kappa)
        rate = D.worst_case_rate(F.nesterov(nv["momentum"]), nv["learning_rate"], kappa)
        assert rate == pytest.approx(1 - 2 / math.sqrt(3 * kappa + 1), abs=1e-6)


def test_order_two_no_worse_than_order_one_and_bound_respected():
    kappa = 10.0
    free = D.design_filter(kappa, 1)
    bound = 0.05 * free.noise_gain
    d1 = D.design_filter(kappa, 1, bound)
    d2 = D.design_filter(kappa, 2, bound)
    assert d2.rate <= d1.rate + 1e-9
    assert d1.rate > free.rate + 1e-3                   # the bound costs speed
    for d in (d1, d2):
        assert d.noise_gain <= bound
        assert A.gradient_noise_gain(d.filter, d.learning_rate) <= bound * (1 + 1e-9)
        assert D.worst_case_rate(d.filter, d.learning_rate, kappa) == pytest.approx(d.rate,
                                                                                    abs=1e-9)
        assert np.all(np.abs(d.filter.poles) < 1) and np.all(np.abs(d.filter.zeros) < 1)
        assert d.max_noise_gain == bound


def test_update_noise_convention_uses_noise_gain_literally():
    d = D.design_filter(10.0, 1, 3.0, noise="update")
    assert d.filter.input_gain == pytest.approx(1.0)
    assert A.noise_gain(d.filter, d.learning_rate) <= 3.0 * (1 + 1e-9)
    assert d.noise_gain == pytest.approx(A.noise_gain(d.filter, d.learning_rate))


@pytest.mark.parametrize("kwargs, culprit", [
    (dict(kappa=0.5), "kappa"),
    (dict(kappa=float("nan")), "kappa"),
    (dict(kappa=10.0, order=0), "order"),
    (dict(kappa=10.0, order=1.5), "order"),
    (dict(kappa=10.0, order=99), "order"),
    (dict(kappa=10.0, max_noise_gain=0.0), "max_noise_gain"),
    (dict(kappa=10.0, max_noise_gain=-1.0), "max_noise_gain"),
    (dict(kappa=10.0, noise="loud"), "noise"),
])
def test_bad_specifications_are_rejected(kwargs, culprit):
    with pytest.raises(ValueError, match=culprit):
        D.design_filter(**kwargs)


def test_impossible_noise_bound_reports_the_smallest_found():
    with pytest.raises(ValueError, match=r"max_noise_gain.*below what any stable filter.*"
                                         r"smallest noise gain at lambda = 1 found is 1\b"):
        D.design_filter(10.0, 1, 0.5, noise="update")


# -- trade-off, recipe --------------------------------------------------------------------


def test_tradeoff_arrays_and_designed_beats_heavy_ball_at_equal_noise():
    kappa = 10.0
    hb = D.tradeoff(kappa, "heavy_ball", n_points=6)
    n = len(hb.parameter)
    assert all(len(v) == n for v in (hb.learning_rate, hb.rate, hb.noise_gain))
    assert hb.parameter_name == "momentum"
    i = int(np.argmax(hb.parameter > 0.5))              # a heavily filtered point
    d = D.design_filter(kappa, 1, float(hb.noise_gain[i]) * (1 + 1e-9))
    assert d.rate <= hb.rate[i] + 1e-6
    des = D.tradeoff(kappa, "designed", order=1, n_points=2)
    assert des.noise_gain[1] <= des.parameter[1] and des.rate[1] >= des.rate[0]
    with pytest.raises(ValueError, match="family"):
        D.tradeoff(kappa, "chebyshev")


def test_designed_recipe():
    r = D.designed(kappa=10.0, order=1, lambda_max=2.0)
    d = D.design_filter(10.0, 1)
    assert r.name == "designed" and r.stages[0] == "lr"
    assert r.gradient_filter.isclose(d.filter)
    assert r.hyperparameters["learning_rate"] == pytest.approx(d.learning_rate / 2.0)


# -- Keras: curvature and the optimizer ------------------------------------------------------


def test_estimate_curvature_on_linear_regression():
    import keras

    from filteropt.keras.curvature import estimate_curvature

    rng = np.random.default_rng(0)
    n, dim = 256, 4
    x = (rng.standard_normal((n, dim)) * np.array([3.0, 1.5, 0.7, 0.3])).astype("float32")
    y = rng.standard_normal((n, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((dim,)), keras.layers.Dense(1)])
    xa = np.c_[x, np.ones(n)].astype(np.float64)
    eig = np.linalg.eigvalsh(2.0 * xa.T @ xa / n)       # H of the MSE, bias included
    est = estimate_curvature(model, (x, y), loss="mse", iterations=20, batch_size=100)
    assert est.lambda_max == pytest.approx(eig[-1], rel=0.01)
    assert est.lambda_min == pytest.approx(eig[0], rel=0.01)
    assert est.kappa == pytest.approx(eig[-1] / eig[0], rel=0.02)
    assert est.n_samples == n and "power iteration" in est.description
    g = estimate_curvature(model, (x, y), loss="mse", iterations=20, method="gradient")
    assert eig[0] * 0.99 <= g.lambda_min <= eig[-1] * 1.01


def test_designed_filter_in_keras_follows_the_predicted_rate():
    import keras

    import filteropt

    d = D.design_filter(10.0, 2)
    for lam in (0.1, 1.0):
        theta = keras.Variable(np.array([1.0]), dtype="float64")
        opt = filteropt.FilterOptimizer(learning_rate=d.learning_rate, gradient_filter=d.filter)
        trajectory = [1.0]
        for _ in range(40):
            opt.apply_gradients([(keras.ops.convert_to_tensor(lam * theta.numpy()), theta)])
            trajectory.append(float(theta.numpy()[0]))
        expected = A.simulate_closed_loop(d.filter, d.learning_rate * lam, 40)
        # Keras keeps the learning rate in a float32 variable: 1e-7 relative
        np.testing.assert_allclose(trajectory, expected, rtol=1e-5, atol=1e-9)


# -- the figure -----------------------------------------------------------------------------


def test_plot_tradeoff_writes_a_png(tmp_path):
    from filteropt import plotting
    from filteropt.plotting import design as design_plots

    fig = design_plots.plot_tradeoff(
        10.0, curves=(("heavy_ball", None), ("nesterov", None), ("butterworth", None),
                      ("designed", 1)), n_points=2, classic_points=8)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "noise gain at lambda = 1" and ax.get_xscale() == "log"
    assert ax.get_ylabel() == "worst-case rate"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"heavy ball", "Nesterov", "Butterworth, order 2", "designed, order 1"} <= set(labels)
    path = tmp_path / "tradeoff.png"
    plotting.save(fig, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
