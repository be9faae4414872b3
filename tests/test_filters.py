"""ARMAFilter against scipy.signal, its algebra, and the named filters."""

import json
import pickle

import numpy as np
import pytest
from helpers import assert_no_backend_import
from hypothesis import example, given
from hypothesis import strategies as st
from scipy import signal

import filteropt
from filteropt import ARMAFilter, filters
from filteropt.testing import stable_filters


def test_normalises_a0_and_exposes_arrays():
    f = ARMAFilter([2.0, 1.0], [2.0, -1.0])
    np.testing.assert_array_equal(f.b, [1.0, 0.5])
    np.testing.assert_array_equal(f.a, [1.0, -0.5])
    with pytest.raises(ValueError):
        f.b[0] = 3.0  # read-only
    with pytest.raises(AttributeError):
        f._b = (1.0,)
    assert f.order == 1
    assert repr(f) == "ARMAFilter(b=[1, 0.5], a=[1, -0.5])"


@given(stable_filters(), st.integers(1, 60), st.integers(0, 2**31))
def test_lfilter_matches_scipy(f, n, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    expected = signal.lfilter(f.b, f.a, x)
    # Above order 2 the filter runs as its sections (sosfilt), whose rounding
    # differs from lfilter's in the last digits of the largest output.
    np.testing.assert_allclose(
        f.lfilter(x),
        expected,
        rtol=1e-12,
        atol=1e-12 * max(1.0, np.max(np.abs(expected), initial=0.0)),
    )
    if f.order > 2:
        np.testing.assert_array_equal(f.lfilter(x), signal.sosfilt(f.sos, x))
    zi = np.random.default_rng(seed + 1).standard_normal(len(f.padded()[0]) - 1)
    y, zf = f.lfilter(x, zi=zi)
    y2, zf2 = signal.lfilter(f.b, f.a, x, zi=zi)
    np.testing.assert_allclose(y, y2, atol=1e-12)
    np.testing.assert_allclose(zf, zf2, atol=1e-12)


@given(stable_filters())
def test_freqz_poles_zeros_dc_match_scipy(f):
    w, h = f.freqz(64)
    w2, h2 = signal.freqz(f.b, f.a, worN=64)
    np.testing.assert_allclose(w, w2)
    np.testing.assert_allclose(h, h2, rtol=1e-10, atol=1e-12)
    assert np.isclose(f.dc_gain, signal.freqz(f.b, f.a, worN=[0.0])[1][0].real, rtol=1e-9)
    _z, p, _ = signal.tf2zpk(*f.padded())
    np.testing.assert_allclose(np.sort_complex(f.poles), np.sort_complex(p), atol=1e-9)
    assert f.is_stable == bool(np.all(np.abs(p) < 1))
    assert f.input_gain == f.b[0]


@given(stable_filters(max_order=3), st.integers(1, 80))
# a triple pole at -0.95 with zeros at 1.5: 5% from H(1) after 400 steps
@example(ARMAFilter(np.poly([1.5] * 3), np.poly([-0.95] * 3)), 1)
def test_step_response_tends_to_dc_gain(f, n):
    s = f.step_response(400)
    np.testing.assert_allclose(s, np.cumsum(f.impulse_response(400)), rtol=1e-9, atol=1e-9)
    # s[399] - H(1) is minus the impulse response's sum from n = 400 on: at
    # most its tail's magnitude (scipy's, to where 0.95^n is below rounding)
    h = signal.lfilter(f.b, f.a, np.r_[1.0, np.zeros(20000)])
    tail = np.sum(np.abs(h[400:]))
    assert abs(s[-1] - f.dc_gain) <= tail + 1e-9 * max(1.0, abs(f.dc_gain))
    assert len(f.step_response(n)) == n


@given(stable_filters(max_order=3), stable_filters(max_order=3))
# a zero cancelling the pole: h = [b0, 0, 0, ...], and 2.5 * f leaves a
# rounding residue of 1e-17 where f's own response is exactly 0
@example(ARMAFilter([0.109375, -0.0109375], [1.0, -0.1]), ARMAFilter([1.0]))
def test_series_is_convolution_and_parallel_is_sum(f, g):
    n = 50
    np.testing.assert_allclose(
        (f * g).impulse_response(n),
        np.convolve(f.impulse_response(n), g.impulse_response(n))[:n],
        rtol=1e-8,
        atol=1e-8,
    )
    np.testing.assert_allclose(
        (f + g).impulse_response(n),
        f.impulse_response(n) + g.impulse_response(n),
        rtol=1e-8,
        atol=1e-8,
    )
    assert (f * g).isclose(g * f)
    h = f.impulse_response(n)
    # equal up to rounding, relative to the response's size
    np.testing.assert_allclose(
        (2.5 * f).impulse_response(n), 2.5 * h, rtol=1e-12, atol=1e-14 * np.max(np.abs(h))
    )
    np.testing.assert_allclose((f - f).impulse_response(n), 0.0, atol=1e-9)


@given(stable_filters())
def test_config_round_trip_is_plain_json(f):
    config = f.get_config()
    assert ARMAFilter.from_config(json.loads(json.dumps(config))) == f
    assert pickle.loads(pickle.dumps(f)) == f
    assert hash(ARMAFilter.from_config(config)) == hash(f)


@pytest.mark.parametrize(
    "b, a, exc, word",
    [
        ([1.0], [0.0, 1.0], ValueError, "a[0]"),
        ([], [1.0], ValueError, "`b`"),
        ([1.0], [], ValueError, "`a`"),
        ([np.nan], [1.0], ValueError, "finite"),
        ([1.0], [1.0, np.inf], ValueError, "finite"),
        ("abc", [1.0], TypeError, "`b`"),
        ([[1.0, 2.0]], [1.0], ValueError, "one-dimensional"),
    ],
)
def test_bad_coefficients_are_named(b, a, exc, word):
    with pytest.raises(exc, match=word.replace("[", r"\[").replace("]", r"\]")):
        ARMAFilter(b, a)


def test_foreign_operands_are_not_implemented():
    f = filters.ema(0.9)
    with pytest.raises(TypeError):
        f * "x"
    with pytest.raises(TypeError):
        f + [1, 2]
    assert f.__mul__(object()) is NotImplemented


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.999])
def test_ema_and_trace_are_the_lectures_ar1(beta):
    n = np.arange(30)
    e, t = filters.ema(beta), filters.trace(beta)
    assert np.isclose(e.dc_gain, 1.0) and np.isclose(e.input_gain, 1 - beta)
    assert np.isclose(t.input_gain, 1.0) and np.isclose(t.dc_gain, 1 / (1 - beta))
    np.testing.assert_allclose(e.step_response(30), 1 - beta ** (n + 1), atol=1e-12)
    np.testing.assert_allclose(t.step_response(30), (1 - beta ** (n + 1)) / (1 - beta), atol=1e-9)


def test_nesterov_is_bengio_formulation():
    alpha = 0.9
    f = filters.nesterov(alpha)
    g = np.random.default_rng(0).standard_normal(40)
    v = filters.trace(alpha).lfilter(g)
    v_prev = np.r_[0.0, v[:-1]]
    np.testing.assert_allclose(f.lfilter(g), (1 + alpha) * v - alpha * v_prev, atol=1e-12)
    np.testing.assert_allclose(f.poles, [alpha])
    np.testing.assert_allclose(f.zeros, [alpha / (1 + alpha)])
    # "Nesterov does not attenuate the high frequencies as much"
    h_nag = abs(f.freqz([np.pi])[1][0])
    h_mom = abs(filters.trace(alpha).freqz([np.pi])[1][0])
    assert h_nag > h_mom


def test_summer_qhm_aggmo_lion():
    s = filters.summer()
    assert not s.is_stable and s.dc_gain == float("inf")
    np.testing.assert_allclose(s.step_response(5), [1, 2, 3, 4, 5])
    q = filters.qhm(0.7, 0.9)
    g = np.random.default_rng(1).standard_normal(30)
    np.testing.assert_allclose(
        q.lfilter(g), 0.3 * g + 0.7 * filters.ema(0.9).lfilter(g), atol=1e-12
    )
    agg = filters.aggmo([0.0, 0.9, 0.99])
    want = np.mean([filters.trace(b).lfilter(g) for b in (0.0, 0.9, 0.99)], axis=0)
    np.testing.assert_allclose(agg.lfilter(g), want, atol=1e-10)
    lion = filters.lion(0.9, 0.99)
    m = filters.ema(0.99).lfilter(g)
    np.testing.assert_allclose(lion.lfilter(g), 0.9 * np.r_[0, m[:-1]] + 0.1 * g, atol=1e-12)
    assert np.isclose(lion.dc_gain, 1.0)


@pytest.mark.parametrize("kind", ["butter", "cheby1", "cheby2", "ellip", "bessel"])
@pytest.mark.parametrize("order", [1, 2, 4])
def test_designs_are_stable_unit_dc_low_pass(kind, order):
    f = filters.lowpass(kind, order, 0.2)
    assert f.is_stable and np.isclose(f.dc_gain, 1.0)
    assert f.order == order
    _w, h = f.freqz(256)
    assert abs(h[-1]) < 0.5  # attenuates at Nyquist
    g = filters.lowpass(kind, order, 0.2, gain="input")
    assert np.isclose(g.input_gain, 1.0)


def test_butterworth_matches_scipy_up_to_gain():
    b, a = signal.butter(3, 0.3)
    f = filters.butterworth(3, 0.3)
    np.testing.assert_allclose(f.a, a)
    np.testing.assert_allclose(f.b, b / (sum(b) / sum(a)))


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: filters.ema(1.0), "beta"),
        (lambda: filters.ema(-0.1), "beta"),
        (lambda: filters.trace(1.5), "alpha"),
        (lambda: filters.nesterov(float("nan")), "alpha"),
        (lambda: filters.qhm(1.2, 0.9), "nu"),
        (lambda: filters.aggmo([]), "betas"),
        (lambda: filters.aggmo([0.5, 1.0]), r"betas\[1\]"),
        (lambda: filters.lion(0.9, 1.0), "beta_2"),
        (lambda: filters.butterworth(0, 0.2), "order"),
        (lambda: filters.butterworth(2, 1.0), "cutoff"),
        (lambda: filters.butterworth(2, 0.0), "cutoff"),
        (lambda: filters.lowpass("cheby9", 2, 0.2), "kind"),
        (lambda: filters.lowpass("ellip", 2, 0.2, ripple=-1), "ripple"),
    ],
)
def test_named_filter_validation(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_type_errors_name_the_parameter():
    with pytest.raises(TypeError, match="beta"):
        filters.ema("0.9")
    with pytest.raises(TypeError, match="betas"):
        filters.aggmo(0.9)


def test_import_does_not_load_keras():
    assert_no_backend_import(
        "import filteropt, filteropt.filters, filteropt.recipes;"
        "filteropt.recipes.simulate('adam', [[1.0]])"
    )
    assert filteropt.ARMAFilter is ARMAFilter
