"""The filter designer: noise gain, designs, trade-off, curvature, figure."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from filteropt import analysis as A
from filteropt import design as D
from filteropt import filters as F
from filteropt.analysis import closed_loop
from filteropt.design import lattice
from filteropt.signal.arma import ARMAFilter
from filteropt.signal.realisation import tdf2_step
from filteropt.testing import stable_filters

# -- one closed loop: design reads analysis.closed_loop ------------------------------------


def test_design_reexports_the_closed_loop_functions_themselves():
    assert D.worst_case_rate is A.worst_case_rate is closed_loop.worst_case_rate
    assert D.nesterov_optimum is A.nesterov_optimum
    assert "worst_case_rate" not in D.__all__ and "nesterov_optimum" not in D.__all__


def test_noise_gain_of_heavy_ball_closed_form():
    beta, eta = 0.8, 0.3
    expected = eta * (1 + beta) / ((1 - beta) * (2 * (1 + beta) - eta))
    assert A.gradient_noise_gain(F.trace(beta), eta) == pytest.approx(expected, rel=1e-10)
    # the gradient convention does not see a rescaling H -> c H, eta -> eta / c
    f = F.nesterov(0.7)
    assert A.gradient_noise_gain(2.5 * f, 0.2 / 2.5) == pytest.approx(
        A.gradient_noise_gain(f, 0.2), rel=1e-10
    )


@given(stable_filters(max_order=3), st.floats(0.01, 2.0))
def test_loop_noise_gain_is_the_analysis_noise_gain_in_each_convention(f, eta):
    assume(abs(f.input_gain) > 1e-3)
    assert D.loop_noise_gain(f, eta) == A.gradient_noise_gain(f, eta)
    b0 = f.input_gain
    assert D.loop_noise_gain(f, eta, "update") == pytest.approx(
        A.noise_gain(f / b0, eta * b0), rel=1e-12
    )
    assert D.loop_noise_gain(None, eta) == A.gradient_noise_gain(None, eta)


def test_loop_noise_gain_rejects_bad_conventions():
    with pytest.raises(ValueError, match="noise"):
        D.loop_noise_gain(F.trace(0.5), 0.1, "loud")
    with pytest.raises(ValueError, match="noise='update'"):
        D.loop_noise_gain(ARMAFilter([0.0, 1.0], [1.0, -0.5]), 0.1, "update")


# -- the lattice: reflection coefficients ------------------------------------------------------

reflections = st.lists(st.floats(-0.99, 0.99), min_size=0, max_size=6)


@given(reflections)
def test_step_up_and_step_down_invert_each_other(k):
    a = lattice.step_up(k)
    assert a[0] == 1.0 and len(a) == len(k) + 1
    # each stage of the step-down divides by 1 - k_m^2: rounding grows by
    # up to the product of 1 / (1 - k_m^2), a few ulps per stage
    growth = np.prod(1.0 / (1.0 - np.square(k)))
    atol = 64 * (len(k) + 1) * np.finfo(float).eps * growth
    np.testing.assert_allclose(lattice.step_down(a), k, rtol=0, atol=atol)
    # every |k| < 1: every root strictly inside the unit circle (Schur-Cohn)
    if len(k):
        assert np.max(np.abs(np.roots(a))) < 1.0


@given(reflections, st.floats(1.001, 3.0), st.sampled_from([1.0, -1.0]))
def test_step_down_refuses_a_root_outside_the_unit_circle(k, radius, sign):
    roots = np.r_[np.roots(lattice.step_up(k)), sign * radius]  # one root outside
    with pytest.raises(ValueError, match="unit circle"):
        lattice.step_down(np.real(np.poly(roots)))


@given(stable_filters(max_order=3, min_order=1), st.floats(0.01, 3.0))
def test_encode_then_decode_is_the_same_loop(f, eta):
    assume(f.input_gain > 1e-3 and np.all(np.abs(f.zeros) < 0.95))
    order = f.order + 1  # padded by one
    e, a, b = lattice.decode(lattice.encode(f, eta, order), order)
    fb, fa = (np.r_[c, np.zeros(order + 1 - len(c))] for c in f.padded())
    np.testing.assert_allclose(a, fa, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(e * b, eta * fb, rtol=1e-8, atol=1e-8)
    with pytest.raises(ValueError, match="higher order"):
        lattice.encode(f, eta, f.order - 1) if f.order > 1 else lattice.encode(
            f * F.trace(0.5), eta, f.order
        )


def _simulate_variance(f, step, rng, chains=4000, burn=300, keep=200, gradient_lr=None, decay=0.0):
    """Empirical stationary variance of theta in the loop driven by white noise."""
    b, a = f.padded()
    theta = np.zeros(chains)
    z = [np.zeros(chains) for _ in range(f.order)]
    acc = []
    for i in range(burn + keep):
        w = rng.standard_normal(chains)
        if gradient_lr is None:  # w added at the filter's input
            g = -step * theta + w
        else:  # noise in the gradient: g = -eta (lambda theta + n)
            g = -gradient_lr * ((step / gradient_lr) * theta + w)
        delta, z = tdf2_step(b, a, g, z)
        theta = theta - decay * theta + delta
        if i >= burn:
            acc.append(np.mean(theta**2))
    return float(np.mean(acc))


@pytest.mark.parametrize(
    "f, step, decay",
    [
        (F.butterworth(2, 0.3), 0.4, 0.0),
        (F.nesterov(0.5), 0.6, 0.0),
        (F.trace(0.6), 1.2, 0.0),
        (F.trace(0.9), 0.05, 0.05),
    ],
)
def test_noise_gain_matches_a_simulation_of_the_loop(f, step, decay):
    rng = np.random.default_rng(0)
    expected = A.noise_gain(f, step, decay=decay)
    measured = _simulate_variance(f, step, rng, decay=decay)
    # 4000 chains x 200 (correlated) samples: a few per cent at most
    assert measured == pytest.approx(expected, rel=0.06)
    eta = 0.5 * step
    measured = _simulate_variance(f, step, rng, gradient_lr=eta, decay=decay)
    assert measured == pytest.approx(
        A.gradient_noise_gain(f, eta, step / eta, decay=decay), rel=0.06
    )
    if decay:  # and the decay makes a difference the test can see
        assert A.noise_gain(f, step) != pytest.approx(expected, rel=0.2)


# -- design_filter --------------------------------------------------------------------


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_order_one_reproduces_the_heavy_ball_optimum(kappa):
    d = D.design_filter(kappa, order=1)
    sk = math.sqrt(kappa)
    assert d.rate == pytest.approx((sk - 1) / (sk + 1), abs=1e-3)
    assert d.rate <= A.nesterov_optimum(kappa)["rate"]
    assert d.filter.is_stable and np.all(np.abs(d.filter.zeros) < 1)
    assert d.kappa == kappa and d.order == 1 and d.method and "heavy ball" in d.message
    # the rate is the closed loop's: analysis's worst case, and no curvature of
    # a dense grid, by np.roots, does worse
    assert d.rate == pytest.approx(A.worst_case_rate(d.filter, d.learning_rate, kappa), abs=1e-12)
    lam = np.geomspace(1 / kappa, 1, 3001)
    dense = [
        np.max(np.abs(np.roots(A.characteristic_polynomial(d.filter, d.learning_rate * x))))
        for x in lam
    ]
    assert max(dense) <= d.rate + 1e-12


@pytest.mark.slow
def test_order_two_no_worse_than_order_one_and_bound_respected():
    kappa = 10.0
    free = D.design_filter(kappa, 1)
    bound = 0.05 * free.noise_gain
    d1 = D.design_filter(kappa, 1, bound)
    d2 = D.design_filter(kappa, 2, bound)
    assert d2.rate <= d1.rate + 1e-9
    assert d1.rate > free.rate + 1e-3  # the bound costs speed
    for d in (d1, d2):
        assert d.noise_gain <= bound
        assert A.gradient_noise_gain(d.filter, d.learning_rate) <= bound * (1 + 1e-9)
        assert A.worst_case_rate(d.filter, d.learning_rate, kappa) == pytest.approx(
            d.rate, abs=1e-9
        )
        assert np.all(np.abs(d.filter.poles) < 1) and np.all(np.abs(d.filter.zeros) < 1)
        assert d.max_noise_gain == bound


def test_update_noise_convention_uses_noise_gain_literally():
    d = D.design_filter(10.0, 1, 3.0, noise="update")
    assert d.filter.input_gain == pytest.approx(1.0)
    assert A.noise_gain(d.filter, d.learning_rate) <= 3.0 * (1 + 1e-9)
    assert d.noise_gain == pytest.approx(A.noise_gain(d.filter, d.learning_rate))


@pytest.mark.parametrize(
    "kwargs, culprit",
    [
        (dict(kappa=0.5), "kappa"),
        (dict(kappa=float("nan")), "kappa"),
        (dict(kappa=10.0, order=0), "order"),
        (dict(kappa=10.0, order=1.5), "order"),
        (dict(kappa=10.0, order=99), "order"),
        (dict(kappa=10.0, max_noise_gain=0.0), "max_noise_gain"),
        (dict(kappa=10.0, max_noise_gain=-1.0), "max_noise_gain"),
        (dict(kappa=10.0, noise="loud"), "noise"),
    ],
)
def test_bad_specifications_are_rejected(kwargs, culprit):
    with pytest.raises(ValueError, match=culprit):
        D.design_filter(**kwargs)


def test_impossible_noise_bound_reports_the_smallest_found():
    with pytest.raises(
        ValueError,
        match=r"max_noise_gain.*below what any stable filter.*"
        r"smallest noise gain at lambda = 1 found is 1\b",
    ):
        D.design_filter(10.0, 1, 0.5, noise="update")


# -- trade-off, recipe --------------------------------------------------------------------


@pytest.mark.slow
def test_tradeoff_arrays_and_designed_beats_heavy_ball_at_equal_noise():
    kappa = 10.0
    hb = D.tradeoff(kappa, "heavy_ball", n_points=6)
    n = len(hb.parameter)
    assert all(len(v) == n for v in (hb.learning_rate, hb.rate, hb.noise_gain, hb.filters))
    assert hb.parameter_name == "momentum" and hb.frontier
    i = int(np.argmax(hb.parameter > 0.5))  # a heavily filtered point
    d = D.design_filter(kappa, 1, float(hb.noise_gain[i]) * (1 + 1e-9))
    assert d.rate <= hb.rate[i] + 1e-6
    des = D.tradeoff(kappa, "designed", order=1, n_points=2)
    assert des.noise_gain[1] <= des.parameter[1] and des.rate[1] >= des.rate[0]
    assert not des.frontier and des.pareto().frontier
    with pytest.raises(ValueError, match="family"):
        D.tradeoff(kappa, "chebyshev")


# -- the classic families' Pareto frontiers ---------------------------------------------------

CLASSIC = {
    "heavy_ball": F.trace,
    "nesterov": F.nesterov,
    "butterworth": lambda c: F.butterworth(2, c),
}


@pytest.mark.parametrize("family", sorted(CLASSIC))
def test_frontier_is_monotone_and_each_point_is_achievable(family):
    kappa = 10.0
    t = D.tradeoff(kappa, family, n_points=5)
    assert t.frontier and len(t.rate) >= 4
    assert np.all(np.diff(t.noise_gain) > 0) and np.all(np.diff(t.rate) < 0)
    assert t.parameter_name == ("cutoff" if family == "butterworth" else "momentum")
    for p, eta, rate, gain, f in zip(t.parameter, t.learning_rate, t.rate, t.noise_gain, t.filters):
        assert f.isclose(CLASSIC[family](p))
        assert A.worst_case_rate(f, eta, kappa) == pytest.approx(rate, abs=1e-12)
        assert D.loop_noise_gain(f, eta) == pytest.approx(gain, rel=1e-12)


def _brute_force(kappa, family, params, etas, n_curvatures=24):
    """(rate, noise gain) of every (parameter, eta) of a grid, flattened."""
    lam = np.geomspace(1.0 / kappa, 1.0, n_curvatures)
    rates, gains = [], []
    for p in params:
        f = CLASSIC[family](p)
        b, a = (np.asarray(c, float) for c in f.padded())
        r = closed_loop.spectral_radii(b, a, etas[:, None] * lam[None]).max(axis=-1)
        rates.append(r)
        gains.append([D.loop_noise_gain(f, eta) if x < 1 else np.inf for eta, x in zip(etas, r)])
    return np.ravel(rates), np.ravel(gains)


@pytest.mark.parametrize("family", ["heavy_ball", "nesterov"])
def test_no_point_of_a_dense_grid_beats_the_frontier(family):
    kappa = 10.0
    t = D.tradeoff(kappa, family, n_points=6)
    rates, gains = _brute_force(
        kappa, family, np.r_[0.0, 1.0 - np.geomspace(0.99, 1e-3, 79)], np.geomspace(1e-3, 4.0, 120)
    )
    for rate, gain in zip(t.rate, t.noise_gain):
        ok = gains <= gain
        assert rate <= rates[ok].min() + 1e-4
    # and the grid's best under each bound is matched, not just approached, by its frontier
    assert t.best_rate(np.inf) <= rates[np.isfinite(gains)].min() + 1e-9


@pytest.mark.parametrize(
    "family, optimum", [("heavy_ball", A.heavy_ball_optimum), ("nesterov", A.nesterov_optimum)]
)
def test_the_unbounded_end_of_the_frontier_is_the_classical_optimum(family, optimum):
    kappa = 100.0
    best = optimum(kappa)
    t = D.tradeoff(kappa, family, bounds=[])  # the unbounded optimum alone
    assert len(t.rate) == 1
    assert t.rate[0] == pytest.approx(best["rate"], abs=1e-6)
    assert t.parameter[0] == pytest.approx(best["momentum"], abs=1e-5)
    assert t.learning_rate[0] == pytest.approx(best["learning_rate"], rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(CLASSIC))
def test_frontier_is_no_worse_than_the_old_sweep_at_equal_noise(family):
    kappa = 10.0
    old = D.tradeoff(kappa, family, n_points=8, frontier=False)
    assert not old.frontier
    gains = old.noise_gain[np.isfinite(old.noise_gain) & (old.rate < 1)]
    new = D.tradeoff(kappa, family, bounds=gains)
    for rate, gain in zip(old.rate, old.noise_gain):
        if np.isfinite(gain) and rate < 1:
            # 1e-7: near a double root (where heavy ball's best points sit) the
            # eigenvalues, so both rates, are accurate to about sqrt(eps)
            assert new.best_rate(gain) <= rate + 1e-7


@pytest.mark.slow
def test_designed_order_one_is_on_the_heavy_ball_and_nesterov_frontiers():
    # order 1 (one pole, one zero) holds heavy ball (no zero) and Nesterov:
    # under a loose bound both optima coincide with heavy ball's frontier
    kappa = 10.0
    bound = 0.25 * D.tradeoff(kappa, "heavy_ball", bounds=[]).noise_gain[0]
    d = D.design_filter(kappa, 1, bound)
    hb = D.tradeoff(kappa, "heavy_ball", bounds=[bound])
    nv = D.tradeoff(kappa, "nesterov", bounds=[bound])
    assert d.rate == pytest.approx(hb.best_rate(bound), abs=1e-6)
    assert d.rate <= nv.best_rate(bound) + 1e-9


def test_designed_recipe():
    r = D.designed(kappa=10.0, order=1, lambda_max=2.0)
    d = D.design_filter(10.0, 1)
    assert r.name == "designed" and r.stages[0] == "lr"
    assert r.gradient_filter.isclose(d.filter)
    assert r.hyperparameters["learning_rate"] == pytest.approx(d.learning_rate / 2.0)


# -- Keras: curvature and the optimizer ------------------------------------------------------


@pytest.mark.slow
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
    eig = np.linalg.eigvalsh(2.0 * xa.T @ xa / n)  # H of the MSE, bias included
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
        # Keras keeps the learning rate in a float32 variable: the loop it runs
        # is the one at the float32 learning rate, to float64 rounding
        eta = float(np.float32(d.learning_rate))
        expected = A.simulate_closed_loop(d.filter, eta * lam, 40)
        np.testing.assert_allclose(trajectory, expected, rtol=1e-9, atol=1e-12)


# -- the figure -----------------------------------------------------------------------------


@pytest.mark.slow
def test_plot_tradeoff_writes_a_png(tmp_path):
    from filteropt import plotting
    from filteropt.plotting import design as design_plots

    fig = design_plots.plot_tradeoff(
        10.0,
        curves=(("heavy_ball", None), ("nesterov", None), ("butterworth", None), ("designed", 1)),
        n_points=2,
        classic_points=2,
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == "noise gain at lambda = 1" and ax.get_xscale() == "log"
    assert ax.get_ylabel() == "worst-case rate"
    assert "Pareto frontiers over all parameters" in ax.get_title()
    # the legend wraps long labels (filteropt.plotting.wrap_label): joined, they are whole
    labels = [t.get_text().replace("\n", "") for t in ax.get_legend().get_texts()]
    assert {
        "heavy ball (momentum, learning rate)",
        "Nesterov (momentum, learning rate)",
        "Butterworth, order 2 (cutoff, learning rate)",
        "designed, order 1 (filter, learning rate)",
    } <= set(labels)
    for line in ax.get_lines()[:4]:  # each frontier by increasing noise gain
        x, y = line.get_data()
        assert np.all(np.diff(x) > 0) and np.all(np.diff(y) < 0)
    path = tmp_path / "tradeoff.png"
    plotting.save(fig, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
