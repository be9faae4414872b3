"""The analysis layer: responses, the summary table, the closed loop (rates, noise, decay)."""

import numpy as np
import pytest
from helpers import assert_no_backend_import, relative_error
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import linalg, signal

import filteropt
from filteropt import analysis as A
from filteropt import filters as F
from filteropt import recipes as R
from filteropt.analysis import closed_loop
from filteropt.signal.arma import ARMAFilter
from filteropt.signal.realisation import run
from filteropt.testing import filter_banks, sos_filters, stable_filters


@given(stable_filters())
def test_frequency_response_is_freqz(f):
    r = A.frequency_response(f, 128)
    w, h = signal.freqz(f.b, f.a, worN=128)
    np.testing.assert_allclose(r.nu, w / (2 * np.pi))
    np.testing.assert_allclose(r.h, h)
    assert r.nu[0] == 0.0 and r.nu[-1] < 0.5


@given(stable_filters(max_order=3))
def test_uncompensated_responses_are_scipys(f):
    n = 40
    b, a = f.padded()
    _, (y,) = signal.dimpulse((b, a, 1), n=n)
    np.testing.assert_allclose(
        A.impulse_response(f, n, compensated=False), y[:, 0], rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        A.step_response(f, n, compensated=False),
        signal.lfilter(f.b, f.a, np.ones(n)),
        rtol=1e-9,
        atol=1e-12,
    )
    _nu, gd = A.group_delay(f, 64)
    _w, gd2 = signal.group_delay((f.b, f.a), w=64)
    np.testing.assert_allclose(gd, gd2)


# Not nadam_lti: optax's nadam compensates its two branches one step apart,
# so its step response is 1.47, 1.16, 1.08, ... (tested against optax in
# test_reference_implementations.py), as Keras's Nadam is not flat either.
@pytest.mark.parametrize("spec", ["adam", "adamax", "adabelief", "amsgrad"])
def test_compensated_step_response_is_flat(spec):
    np.testing.assert_allclose(A.step_response(spec, 30), 1.0, rtol=1e-12)


def test_nadam_compensation_follows_kerass_schedule():
    s = A.step_response("nadam", 200)
    t = np.arange(1, 202)
    mu = 0.9 * (1 - 0.5 * 0.96**t)
    prod = np.cumprod(mu)
    m = F.ema(0.9).step_response(200)
    want = mu[1:] / (1 - prod[1:]) * m + (1 - mu[:-1]) / (1 - prod[:-1])
    np.testing.assert_allclose(s, want, rtol=1e-12)
    assert abs(s[-1] - 1.0) < 1e-3  # settles to unit DC gain


def test_effective_learning_rate_couples_momentum_not_adam():
    assert np.isclose(A.effective_learning_rate("momentum:momentum=0.9", 0.01), 0.1)
    assert np.isclose(A.effective_learning_rate("nesterov:momentum=0.9", 0.01), 0.1)
    assert np.isclose(A.effective_learning_rate("adam", 0.01), 0.01)
    assert np.isclose(A.effective_learning_rate("sgd", 0.01), 0.01)


def test_pole_zero_of_nesterov():
    zeros, poles = A.pole_zero("nesterov:momentum=0.8")
    np.testing.assert_allclose(poles, [0.8])
    np.testing.assert_allclose(zeros, [0.8 / 1.8])


# -- the table ------------------------------------------------------------------

LECTURE_CORRECTED = {
    # row: (gradient filtering starts with, normalization, variance filter)
    "SGD": ("none", "none", "n/a"),
    "SGD w/ momentum": ("AR1, unit input gain", "none", "n/a"),
    "SGD w/ Nesterov Momentum": ("ARMA1 (1 pole, 1 zero)", "none", "n/a"),
    "Adagrad": ("none", "yes", "summer"),
    "Adadelta": ("none", "yes", "AR1, unit DC gain"),
    "RMSprop": ("none", "yes", "AR1, unit DC gain"),
    # The lecture's table says "unit input gain" for Adam; the maths says DC.
    "Adam": (
        "AR1, unit DC gain, transient compensation",
        "yes",
        "AR1, unit DC gain, transient compensation",
    ),
    "Nadam (Adam w/ Nesterov)": (
        "ARMA1 (1 pole, 1 zero), unit DC gain, transient compensation",
        "yes",
        "AR1, unit DC gain, transient compensation",
    ),
}


@pytest.mark.slow  # describes every registered recipe, the designed one by designing
def test_summary_table_rows_follow_the_lecture_corrected():
    rows = {r["optimizer"]: r for r in A.summary_table(extra=False)}
    assert list(rows) == list(LECTURE_CORRECTED)
    for title, (grad, norm, var) in LECTURE_CORRECTED.items():
        r = rows[title]
        assert r["gradient filtering"].startswith(grad), (title, r)
        assert r["gradient normalization"] == norm
        assert r["grad variance filter"] == var
        assert r["learning rate schedule"] == (
            "separate" if norm == "none" else "separate, but gradient norm does alter"
        )
    # then one row for every registered optimizer the lecture does not list
    lecture = {spec for _, spec in A.LECTURE_TABLE_ROWS}
    extra = {e.name for e in R.REGISTRY.values()} - lecture
    table = A.summary_table()
    assert len(table) == len(LECTURE_CORRECTED) + len(extra)
    text = A.format_table(table)
    assert all(e.optimizer in text for e in R.REGISTRY.values() if e.name in extra)
    rows = {spec: row for (_, spec), row in zip(A.LECTURE_TABLE_ROWS + A.extra_table_rows(), table)}
    assert "weight decay" in rows["adamw"]["gradient filtering"]
    assert "weight decay" not in rows["adam"]["gradient filtering"]


# -- closed loop: the characteristic polynomial, rates, stability ---------------------------

steps_ = st.floats(0.001, 4.0)
decays = st.floats(0.0, 0.5)
any_filters = st.one_of(
    stable_filters(max_order=3), sos_filters(max_sections=2), filter_banks(max_branches=2)
)


def _direct_polynomial(f, step, decay):
    """A (1 - (1 - decay) z^-1) + step z^-1 B, multiplied out by np.convolve."""
    b, a = (np.asarray(c, dtype=float) for c in f.padded())
    return np.convolve(a, [1.0, -(1.0 - decay)]) + step * np.r_[0.0, b]


def _loop_by_hand(f, step, decay, n, theta0=1.0):
    """theta[0..n], written out with realisation.run (not simulate_closed_loop),
    and at each step the largest magnitude the loop holds (theta, x, Delta, state)."""
    z, theta, scale = [0.0] * f.order, [theta0], [abs(theta0)]
    for _ in range(n):
        x = -step * theta[-1]
        delta, z = run(f, x, z)
        theta.append(theta[-1] - decay * theta[-1] + delta)
        scale.append(max([abs(theta[-1]), abs(x), abs(delta)] + [abs(v) for v in z]))
    return np.array(theta), np.array(scale)


@given(any_filters, steps_, decays)
def test_characteristic_polynomial_annihilates_the_simulated_loop(f, step, decay):
    p = A.characteristic_polynomial(f, step, decay=decay)
    np.testing.assert_allclose(p, _direct_polynomial(f, step, decay), rtol=1e-15, atol=1e-15)
    theta = A.simulate_closed_loop(f, step, 60, decay=decay)
    by_hand, scale = _loop_by_hand(f, step, decay, 60)
    np.testing.assert_array_equal(theta, by_hand)
    # sum_k p[k] theta[i - k] = 0 from i = L + 1 on (zero filter state before
    # step 1), to rounding: each of the L + 2 values summed carries a few ulps
    # of what the loop held around it
    L = len(p) - 2
    eps = np.finfo(float).eps
    for i in range(L + 1, len(theta)):
        residual = np.sum(p * theta[i - np.arange(L + 2)])
        assert abs(residual) <= 4 * (L + 2) * eps * np.abs(p).sum() * scale[i - L - 1 : i + 1].max()


@given(any_filters, steps_, decays)
def test_rate_is_the_largest_root(f, step, decay):
    p = _direct_polynomial(f, step, decay)
    roots = np.roots(p)
    assert A.quadratic_rate(f, step, decay=decay) == pytest.approx(
        np.max(np.abs(roots)), rel=1e-9, abs=1e-12
    )
    assert A.is_stable(f, step, decay=decay) == bool(np.max(np.abs(roots)) < 1.0)
    np.testing.assert_allclose(
        np.sort_complex(A.closed_loop_poles(f, step, decay=decay)),
        np.sort_complex(roots),
        rtol=1e-9,
        atol=1e-9,
    )
    # arrays of steps give the same numbers, one each
    many = A.quadratic_rate(f, np.array([[step, 2 * step]]), decay=decay)
    assert many.shape == (1, 2)
    assert many[0, 0] == A.quadratic_rate(f, step, decay=decay)
    assert many[0, 1] == A.quadratic_rate(f, 2 * step, decay=decay)


@given(stable_filters(max_order=3), steps_)
def test_no_decay_is_the_loop_without_weight_decay_exactly(f, step):
    b, a = (np.asarray(c, dtype=float) for c in f.padded())
    old = np.convolve(a, [1.0, -1.0])
    old[1:] += step * b
    np.testing.assert_array_equal(A.characteristic_polynomial(f, step), old)
    np.testing.assert_array_equal(A.characteristic_polynomial(f, step, decay=0.0), old)
    assert A.quadratic_rate(f, step, decay=0.0) == A.quadratic_rate(f, step)
    assert A.noise_gain(f, step, decay=0.0) == A.noise_gain(f, step)


@given(beta=st.floats(0.0, 0.99), step=st.floats(0.001, 5.0), decay=decays)
def test_heavy_ball_rate_closed_form(beta, step, decay):
    # z^2 - (1 + beta - decay - step) z + beta (1 - decay)
    c1, c0 = -(1 + beta - decay - step), beta * (1 - decay)
    want = np.max(np.abs(np.roots([1.0, c1, c0])))
    assert np.isclose(A.quadratic_rate(F.trace(beta), step, decay=decay), want, rtol=1e-9)
    if beta > 0 and c1**2 < 4 * c0:  # complex pair: |z|^2 = the product of the roots
        assert np.isclose(A.quadratic_rate(F.trace(beta), step, decay=decay), np.sqrt(c0))


@given(alpha=st.floats(0.0, 0.99), step=st.floats(0.001, 3.0))
def test_nesterov_rate_closed_form(alpha, step):
    # z^2 - (1 + alpha)(1 - step) z + alpha (1 - step)
    want = np.max(np.abs(np.roots([1.0, -(1 + alpha) * (1 - step), alpha * (1 - step)])))
    assert np.isclose(A.quadratic_rate(F.nesterov(alpha), step), want, rtol=1e-9)


@pytest.mark.parametrize(
    "beta, step, decay",
    [
        (0.5, 0.3, 0.0),
        (0.9, 0.05, 0.0),
        (0.0, 1.5, 0.0),
        (0.7, 3.6, 0.0),
        (0.9, 0.05, 0.02),
        (0.5, 0.3, 0.1),
    ],
)
def test_rate_matches_the_simulated_loop(beta, step, decay):
    rate = A.quadratic_rate(F.trace(beta), step, decay=decay)
    theta = A.simulate_closed_loop(F.trace(beta), step, 400, decay=decay)
    p = A.characteristic_polynomial(F.trace(beta), step, decay=decay)
    lo, hi = _rate_bounds(p, theta, 150, 400)
    assert lo <= _measured_rate(theta, 150, 400, len(p) - 1) <= hi
    assert (rate < 1) == (abs(theta[-1]) < abs(theta[0]))


def _state(theta, i, n):
    """(theta[i], theta[i-1], ..., theta[i-n+1])."""
    return theta[i - np.arange(n)]


def _measured_rate(theta, first, last, n):
    """(|s[last]| / |s[first]|)^(1 / (last - first)), s the last n values of theta."""
    return (np.linalg.norm(_state(theta, last, n)) / np.linalg.norm(_state(theta, first, n))) ** (
        1.0 / (last - first)
    )


def _rate_bounds(p, predicted, first, last):
    """Where :func:`_measured_rate` must lie if theta follows the recursion of p.

    From i = L + 1 on, the state s = (theta[i], ..., theta[i-n+1]) (n = L + 1)
    follows the companion matrix of p, s[i] = V D^(i - i0) V^-1 s[i0]: so
    |s[last]| <= cond(V) rho^gap |s[first]|, and
    |s[last]| >= rho^gap |s[first]| |y_dominant| / (|y| cond(V)), y = V^-1 s[first],
    rho the spectral radius. ``predicted`` is the predicted trajectory (for y).
    """
    roots = np.roots(p)
    n = len(roots)
    rho = np.max(np.abs(roots))
    if n == 1:  # one root: theta[i] = root^i theta[0] exactly
        return rho * (1 - 1e-12), rho * (1 + 1e-12)
    v = np.vander(roots, n, increasing=False).T  # columns (r^(n-1), ..., r, 1)
    cond = np.linalg.cond(v)
    y = np.linalg.solve(v, _state(predicted, first, n))
    dominant = np.abs(np.abs(roots) - rho) <= 1e-12 * rho
    share = np.linalg.norm(y[dominant]) / np.linalg.norm(y)
    gap = last - first
    return rho * (share / cond) ** (1.0 / gap), rho * cond ** (1.0 / gap)


# -- weight decay: what Keras does, predicted ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "lr, momentum, nesterov, wd, lam",
    [
        (0.25, 0.75, False, 0.5, 0.5),  # complex pair
        (0.5, 0.0, False, 0.25, 0.25),  # plain SGD: one root, 1 - decay - step
        (0.125, 0.5, False, 1.0, 2.0),
        (0.5, 0.25, False, 0.5, 0.125),  # two real roots
        (0.25, 0.5, True, 0.25, 1.0),  # Nesterov
    ],
)
def test_keras_sgd_with_weight_decay_contracts_as_predicted(lr, momentum, nesterov, wd, lam):
    """Keras's own SGD on C = lam theta^2 / 2: |theta| shrinks at the predicted rate.

    The values are exact in float32 (Keras keeps the learning rate and the
    decay in float32), so Keras runs the predicted recursion to rounding.
    """
    import keras

    theta = keras.Variable(np.array([1.0]), dtype="float64")
    opt = keras.optimizers.SGD(
        learning_rate=lr, momentum=momentum, nesterov=nesterov, weight_decay=wd
    )
    trajectory = [1.0]
    for _ in range(300):
        opt.apply_gradients([(keras.ops.convert_to_tensor(lam * theta.numpy()), theta)])
        trajectory.append(float(theta.numpy()[0]))
    trajectory = np.array(trajectory)
    recipe = R.get(f"sgd:momentum={momentum},nesterov={nesterov}").with_weight_decay(wd)
    step = lr * lam
    p = A.characteristic_polynomial(recipe, step, learning_rate=lr)
    np.testing.assert_allclose(p, A.characteristic_polynomial(recipe, step, decay=lr * wd))
    predicted = A.simulate_closed_loop(recipe, step, 300, learning_rate=lr)
    lo, hi = _rate_bounds(p, predicted, 50, 300)
    assert lo <= A.quadratic_rate(recipe, step, learning_rate=lr) <= hi
    assert lo <= _measured_rate(trajectory, 50, 300, len(p) - 1) <= hi
    # the decay is visible: without it the predicted rate is outside the bounds
    assert not lo <= A.quadratic_rate(recipe, step, decay=0.0) <= hi
    assert relative_error(trajectory, predicted) <= 1e-12


def test_adamw_analysis_moves_the_integrators_pole():
    opt = filteropt.AdamW(learning_rate=0.01)
    eta, wd = float(opt.learning_rate), opt.weight_decay
    assert wd == R.get("adamw").weight_decay > 0
    assert opt.recipe.weight_decay == wd
    poles = A.closed_loop_poles(opt)  # step 0: no curvature
    assert np.min(np.abs(poles - (1.0 - eta * wd))) < 1e-12
    assert np.min(np.abs(A.closed_loop_poles(filteropt.Adam(learning_rate=0.01)) - 1.0)) < 1e-12
    np.testing.assert_allclose(
        np.sort(poles.real), np.sort(np.r_[F.ema(0.9).poles.real, 1.0 - eta * wd]), atol=1e-12
    )
    # the spec and the instance: Adam's analysis with decay = eta * wd, exactly
    for step in (0.0, 0.003, 0.3):
        want = A.quadratic_rate("adam", step, decay=eta * wd)
        assert A.quadratic_rate(opt, step) == want
        assert A.quadratic_rate("adamw", step, learning_rate=eta) == want
        assert A.noise_gain("adamw", step + 0.01, learning_rate=eta) == A.noise_gain(
            "adam", step + 0.01, decay=eta * wd
        )
    kappa = 100.0
    assert A.worst_case_rate("adamw", eta, kappa) == A.worst_case_rate(
        "adam", eta, kappa, decay=eta * wd
    )
    assert A.worst_case_rate("adamw", 1.0, kappa) < A.worst_case_rate("adam", 1.0, kappa)
    assert A.gradient_noise_gain("adamw", eta) == A.gradient_noise_gain("adam", eta, decay=eta * wd)
    # decay=0 analyses AdamW without its decay
    np.testing.assert_array_equal(
        A.closed_loop_poles(opt, 0.3, decay=0.0), A.closed_loop_poles("adam", 0.3)
    )


def test_any_optimizer_with_weight_decay_is_analysed_with_it():
    opt = filteropt.SGD(learning_rate=0.25, momentum=0.5, weight_decay=0.5)
    assert opt.recipe.weight_decay == 0.5
    want = A.characteristic_polynomial(F.trace(0.5), 0.1, decay=0.25 * 0.5)
    np.testing.assert_array_equal(A.characteristic_polynomial(opt, 0.1), want)
    np.testing.assert_array_equal(
        A.characteristic_polynomial(filteropt.SGD(learning_rate=0.25, momentum=0.5), 0.1),
        A.characteristic_polynomial(F.trace(0.5), 0.1),
    )


# -- worst case over curvatures, optima ---------------------------------------------------------


@pytest.mark.slow
@given(stable_filters(max_order=2), st.floats(0.05, 3.0), st.floats(1.0, 1e3), decays)
def test_worst_case_rate_is_the_maximum_over_curvatures(f, eta, kappa, decay):
    worst = A.worst_case_rate(f, eta, kappa, decay=decay)
    lam = np.geomspace(1.0 / kappa, 1.0, 4001)
    dense = np.array([np.max(np.abs(np.roots(_direct_polynomial(f, eta * x, decay)))) for x in lam])
    # never below a curvature it did not look at, and no higher than the
    # supremum: within the largest jump between neighbouring dense points
    assert worst >= dense.max() - 1e-9
    assert worst <= dense.max() + np.max(np.abs(np.diff(dense))) + 1e-9


@pytest.fixture(scope="module")
def interior_peak():
    """An order-2 filter whose rate peaks sharply inside [1/kappa, 1], where
    roots collide, and its rates on a dense grid (np.roots)."""
    f, eta, kappa = ARMAFilter([0.5743, 0.3567, 0.2801], [1.0, 0.5325, 0.5767]), 4.0, 9.44
    lam = np.geomspace(1.0 / kappa, 1.0, 20001)
    dense = np.array([np.max(np.abs(np.roots(_direct_polynomial(f, eta * x, 0.0)))) for x in lam])
    assert 0 < np.argmax(dense) < len(lam) - 1  # the peak is inside
    return f, eta, kappa, dense


@pytest.mark.parametrize("n", [5, 9, 65, closed_loop.WORST_CASE_GRID])
def test_worst_case_rate_finds_a_peak_between_grid_points(interior_peak, n):
    # a grid alone misses the peak; the local maximisation does not
    f, eta, kappa, dense = interior_peak
    grid_only = max(A.quadratic_rate(f, eta * np.geomspace(1.0 / kappa, 1.0, n)))
    worst = A.worst_case_rate(f, eta, kappa, n)
    assert worst >= dense.max() - 1e-12
    assert worst <= dense.max() + np.max(np.abs(np.diff(dense))) + 1e-12
    if n < 100:
        assert grid_only < dense.max() - 1e-5


# Both optima put double roots at the ends of the curvature range, where an
# eigenvalue is accurate to about sqrt(machine epsilon) only.
DOUBLE_ROOT = 2 * np.sqrt(np.finfo(float).eps)


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_heavy_ball_optimum_is_polyaks(kappa):
    best = A.optimal_hyperparameters(F.trace, kappa, [(0.0, 0.999)])
    want = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    assert best["rate"] == pytest.approx(want, abs=2e-3)
    assert best["rate"] >= want - 1e-9  # nothing beats the optimum
    closed = A.heavy_ball_optimum(kappa)
    assert closed["rate"] == want
    assert A.worst_case_rate(
        F.trace(closed["momentum"]), closed["learning_rate"], kappa
    ) == pytest.approx(want, abs=DOUBLE_ROOT)


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_nesterov_optimum_is_lessards(kappa):
    nv = A.nesterov_optimum(kappa)
    assert nv["rate"] == 1 - 2 / np.sqrt(3 * kappa + 1)
    assert A.worst_case_rate(
        F.nesterov(nv["momentum"]), nv["learning_rate"], kappa
    ) == pytest.approx(nv["rate"], abs=DOUBLE_ROOT)
    if kappa == 100.0:
        best = A.optimal_hyperparameters(F.nesterov, kappa, [(0.0, 0.999)])
        assert best["rate"] == pytest.approx(nv["rate"], abs=2e-3)


def test_rate_map_marks_the_stability_boundary():
    steps = np.array([1.0, 2.5, 3.9])
    params = [0.0, 0.5, 0.99]
    rates = A.rate_map(F.trace, steps, params)
    assert rates.shape == (3, 3)
    # heavy ball is stable for 0 < step < 2 (1 + beta)
    np.testing.assert_array_equal(rates < 1, steps[None, :] < 2 * (1 + np.array(params))[:, None])
    np.testing.assert_array_equal(rates < 1, [A.is_stable(F.trace(b), steps) for b in params])
    with_decay = A.rate_map(F.trace, steps, params, decay=0.1)
    np.testing.assert_array_equal(
        with_decay, [A.quadratic_rate(F.trace(b), steps, decay=0.1) for b in params]
    )


# -- noise gains -------------------------------------------------------------------------------


def _impulse_noise_gain(f, step, decay, rho):
    """sum h[n]^2 of B/P from its impulse response, long enough that rho^n < 1e-14."""
    b, _ = f.padded()
    n = int(np.log(1e-14) / np.log(max(rho, 1e-3))) + 200
    x = np.zeros(n)
    x[0] = 1.0
    h = signal.lfilter(np.r_[b, 0.0], _direct_polynomial(f, step, decay), x)
    return float(np.sum(h * h))


@given(any_filters, steps_, decays)
def test_noise_gain_is_the_impulse_responses_energy(f, step, decay):
    rho = A.quadratic_rate(f, step, decay=decay)
    gain = A.noise_gain(f, step, decay=decay)
    if rho >= 1.0:
        assert gain == np.inf
        return
    assume(rho < 0.995)
    assert gain == pytest.approx(_impulse_noise_gain(f, step, decay, rho), rel=1e-7)
    # and the Lyapunov equation solved by scipy on scipy's own realisation
    am, bm, cm, dm = signal.tf2ss(np.r_[f.padded()[0], 0.0], _direct_polynomial(f, step, decay))
    x = linalg.solve_discrete_lyapunov(am, bm @ bm.T)
    assert gain == pytest.approx(float(dm[0, 0] ** 2 + (cm @ x @ cm.T)[0, 0]), rel=1e-7)
    eta = 0.5
    assert A.gradient_noise_gain(f, eta, step / eta, decay=decay) == pytest.approx(
        eta * eta * gain, rel=1e-12
    )


@pytest.mark.parametrize(
    "step, decay", [(0.05, 0.0), (0.3, 0.0), (1.9, 0.0), (0.3, 0.2), (1.5, 0.4)]
)
def test_noise_gain_of_plain_sgd_closed_form(step, decay):
    # theta[i] = (1 - decay - step) theta[i-1] + w[i]
    want = 1.0 / (1.0 - (1.0 - decay - step) ** 2)
    assert A.noise_gain(None, step, decay=decay) == pytest.approx(want, rel=1e-10)
    assert A.noise_gain(F.identity(), step, decay=decay) == pytest.approx(want, rel=1e-10)
    # noise in the gradient: eta^2 times that; without decay LMS's misadjustment eta / (2 - eta)
    assert A.gradient_noise_gain(None, step, decay=decay) == pytest.approx(
        step * step * want, rel=1e-10
    )
    if decay == 0.0:
        assert A.gradient_noise_gain(None, step) == pytest.approx(step / (2.0 - step), rel=1e-10)


def test_noise_gain_is_infinite_where_the_loop_is_unstable():
    assert A.noise_gain(None, 2.0) == np.inf
    assert A.noise_gain(None, 0.0) == np.inf  # a pole at z = 1 ...
    assert np.isfinite(A.noise_gain(None, 0.0, decay=0.1))  # ... moved by the decay
    assert A.noise_gain(F.trace(0.9), 4.0) == np.inf
    assert np.isinf(A.noise_gain("momentum", [0.1, 5.0])[1])


# -- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, culprit",
    [
        (lambda: A.worst_case_rate(F.trace(0.5), 1.0, 0.5), ValueError, "kappa"),
        (lambda: A.worst_case_rate(F.trace(0.5), 1.0, float("nan")), ValueError, "kappa"),
        (lambda: A.heavy_ball_optimum(0.5), ValueError, "kappa"),
        (lambda: A.nesterov_optimum("100"), ValueError, "kappa"),
        (lambda: A.worst_case_rate(F.trace(0.5), 0.0, 10.0), ValueError, "learning_rate"),
        (lambda: A.worst_case_rate(F.trace(0.5), 1.0, 10.0, n=1), ValueError, "`n`"),
        (lambda: A.quadratic_rate(F.trace(0.5), 0.1, decay=float("inf")), ValueError, "decay"),
        (lambda: A.quadratic_rate(F.trace(0.5), 0.1, decay="0.1"), TypeError, "decay"),
        (lambda: A.quadratic_rate(F.trace(0.5), 0.1, decay=True), TypeError, "decay"),
        (lambda: A.quadratic_rate(F.trace(0.5), float("nan")), ValueError, "step"),
        (lambda: A.quadratic_rate(F.trace(0.5), "fast"), TypeError, "step"),
        (lambda: A.quadratic_rate(3.0, 0.1), TypeError, "gradient_filter"),
        (lambda: A.quadratic_rate("adamw", 0.1), ValueError, "learning_rate"),
        (lambda: A.quadratic_rate("adamw", 0.1, learning_rate=-1.0), ValueError, "learning_rate"),
        (lambda: A.noise_gain("adamw", 0.1), ValueError, "learning_rate"),
        (lambda: A.gradient_noise_gain(None, 0.1, curvature=-1.0), ValueError, "curvature"),
        (lambda: A.simulate_closed_loop(None, 0.1, -1), ValueError, "`n`"),
        (lambda: A.rate_map(F.trace, [0.1, np.inf], [0.5]), ValueError, "steps"),
    ],
)
def test_bad_closed_loop_arguments_name_the_culprit(call, error, culprit):
    with pytest.raises(error, match=culprit):
        call()


def test_bad_inputs():
    with pytest.raises(TypeError):
        A.as_recipe(3.0)
    with pytest.raises(ValueError, match="which"):
        A.frequency_response("adam", which="both")
    with pytest.raises(ValueError, match="unknown optimizer"):
        A.step_response("adamm")


@pytest.mark.slow
def test_analysis_never_imports_a_backend():
    assert_no_backend_import(
        "import filteropt.analysis as A, filteropt.plotting as P;"
        "A.summary_table(); P.plot_frequency(['adam', 'nesterov'])"
    )


def test_optimizer_instances_are_analysed_like_their_names():
    opt = filteropt.SGD(momentum=0.5, nesterov=True)
    np.testing.assert_allclose(
        A.frequency_response(opt).h, A.frequency_response("nesterov:momentum=0.5").h, rtol=1e-6
    )


def test_a_negative_decay_puts_the_integrators_pole_past_one():
    """Keras takes any weight decay; a negative one grows theta: the pole
    1 - decay > 1, and with no curvature the loop is unstable."""
    poles = A.closed_loop_poles(F.trace(0.5), 0.0, decay=-0.1)
    assert np.max(np.abs(poles)) == pytest.approx(1.1, rel=1e-12)
    assert not A.is_stable(F.trace(0.5), 1e-9, decay=-0.1)
    theta = A.simulate_closed_loop(None, 0.0, 5, decay=-0.1)
    assert np.allclose(theta, 1.1 ** np.arange(6), rtol=1e-14)
