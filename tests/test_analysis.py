"""The analysis layer: responses, the summary table, closed-loop rates."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import signal

import filteropt
from filteropt import analysis as A
from filteropt import filters as F
from filteropt.testing import stable_filters

from helpers import assert_no_backend_import


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
    np.testing.assert_allclose(A.impulse_response(f, n, compensated=False), y[:, 0],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(A.step_response(f, n, compensated=False),
                               signal.lfilter(f.b, f.a, np.ones(n)), rtol=1e-9, atol=1e-12)
    nu, gd = A.group_delay(f, 64)
    w, gd2 = signal.group_delay((f.b, f.a), w=64)
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
    mu = 0.9 * (1 - 0.5 * 0.96 ** t)
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

SEED_CORRECTED = {
    # row: (gradient filtering starts with, normalization, variance filter)
    "SGD": ("none", "none", "n/a"),
    "SGD w/ momentum": ("AR1, unit input gain", "none", "n/a"),
    "SGD w/ Nesterov Momentum": ("ARMA1 (1 pole, 1 zero)", "none", "n/a"),
    "Adagrad": ("none", "yes", "summer"),
    "Adadelta": ("none", "yes", "AR1, unit DC gain"),
    "RMSprop": ("none", "yes", "AR1, unit DC gain"),
    # The lecture's table says "unit input gain" for Adam; the maths says DC.
    "Adam": ("AR1, unit DC gain, transient compensation", "yes",
             "AR1, unit DC gain, transient compensation"),
    "Nadam (Adam w/ Nesterov)": ("ARMA1 (1 pole, 1 zero), unit DC gain, transient compensation",
                                 "yes", "AR1, unit DC gain, transient compensation"),
}


def test_summary_table_rows_follow_the_seed_corrected():
    rows = {r["optimizer"]: r for r in A.summary_table(extra=False)}
    assert list(rows) == list(SEED_CORRECTED)
    for title, (grad, norm, var) in SEED_CORRECTED.items():
        r = rows[title]
        assert r["gradient filtering"].startswith(grad), (title, r)
        assert r["gradient normalization"] == norm
        assert r["grad variance filter"] == var
        assert r["learning rate schedule"] == (
            "separate" if norm == "none" else "separate, but gradient norm does alter")
    assert len(A.summary_table()) > len(SEED_CORRECTED)
    text = A.format_table(A.summary_table())
    assert "Butterworth momentum" in text and "Lion" in text


# -- closed loop ------------------------------------------------------------------


def _quadratic_roots(c1, c0):
    return np.max(np.abs(np.roots([1.0, c1, c0])))


@given(beta=st.floats(0.0, 0.99), step=st.floats(0.001, 5.0))
def test_heavy_ball_rate_closed_form(beta, step):
    # z^2 - (1 + beta - step) z + beta
    want = _quadratic_roots(-(1 + beta - step), beta)
    assert np.isclose(A.quadratic_rate(F.trace(beta), step), want, rtol=1e-9)
    if beta > 0 and (1 + beta - step) ** 2 < 4 * beta:
        assert np.isclose(A.quadratic_rate(F.trace(beta), step), np.sqrt(beta))


@given(alpha=st.floats(0.0, 0.99), step=st.floats(0.001, 3.0))
def test_nesterov_rate_closed_form(alpha, step):
    # z^2 - (1 + alpha)(1 - step) z + alpha (1 - step)
    want = _quadratic_roots(-(1 + alpha) * (1 - step), alpha * (1 - step))
    assert np.isclose(A.quadratic_rate(F.nesterov(alpha), step), want, rtol=1e-9)


@pytest.mark.parametrize("beta, step", [(0.5, 0.3), (0.9, 0.05), (0.0, 1.5), (0.7, 3.6)])
def test_rate_matches_the_simulated_loop(beta, step):
    rate = A.quadratic_rate(F.trace(beta), step)
    theta = A.simulate_closed_loop(F.trace(beta), step, 400)
    observed = (np.linalg.norm(theta[-20:]) / np.linalg.norm(theta[-220:-200])) ** (1 / 200)
    assert np.isclose(observed, rate, rtol=2e-2)
    assert (rate < 1) == (abs(theta[-1]) < abs(theta[0]))


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_heavy_ball_optimum_is_polyaks(kappa):
    best = A.optimal_hyperparameters(F.trace, kappa, [(0.0, 0.999)])
    want = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    assert best["rate"] == pytest.approx(want, abs=2e-3)
    assert best["rate"] >= want - 1e-9  # nothing beats the optimum
    closed = A.heavy_ball_optimum(kappa)
    assert A.worst_case_rate(F.trace(closed["momentum"]), closed["learning_rate"],
                             kappa, n=513) == pytest.approx(want, abs=1e-6)


def test_nesterov_optimum_is_known():
    kappa = 100.0
    best = A.optimal_hyperparameters(F.nesterov, kappa, [(0.0, 0.999)])
    assert best["rate"] == pytest.approx(1 - 2 / np.sqrt(3 * kappa + 1), abs=2e-3)


def test_rate_map_marks_the_stability_boundary():
    steps = np.array([1.0, 2.5, 3.9])
    rates = A.rate_map(F.trace, steps, [0.0, 0.5, 0.99])
    # heavy ball is stable for 0 < step < 2 (1 + beta)
    assert rates.shape == (3, 3)
    np.testing.assert_array_equal(rates < 1, [[True, False, False],
                                              [True, True, False],
                                              [True, True, True]])


def test_bad_inputs():
    with pytest.raises(ValueError, match="kappa"):
        A.worst_case_rate(F.trace(0.5), 1.0, 0.5)
    with pytest.raises(TypeError):
        A.as_recipe(3.0)
    with pytest.raises(ValueError, match="which"):
        A.frequency_response("adam", which="both")
    with pytest.raises(ValueError, match="unknown optimizer"):
        A.step_response("adamm")


def test_analysis_never_imports_a_backend():
    assert_no_backend_import("import filteropt.analysis as A, filteropt.plotting as P;"
                             "A.summary_table(); P.plot_frequency(['adam', 'nesterov'])")


def test_optimizer_instances_are_analysed_like_their_names():
    opt = filteropt.SGD(momentum=0.5, nesterov=True)
    np.testing.assert_allclose(A.frequency_response(opt).h,
                               A.frequency_response("nesterov:momentum=0.5").h, rtol=1e-6)
