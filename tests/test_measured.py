"""The record's estimates on signals whose truth is known, and the design from a record.

numpy and scipy only, except the last test (a Designed optimizer trained)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from filteropt.analysis.measured import ProbeRecord, band_fraction
from filteropt.design import design_filter, design_from_record, loop_noise_gain
from filteropt.testing import stable_filters


def record(gradient, update=None, sharpness=None, lr=0.1):
    """A one-variable record of (steps, k) projected gradients and updates."""
    n = len(gradient)
    update = -lr * gradient if update is None else update
    table = np.zeros((0, 4)) if sharpness is None else np.asarray(sharpness, dtype=float)
    return ProbeRecord(
        ("w",),
        {"w": gradient},
        {"w": update},
        {"w": np.linalg.norm(gradient, axis=1)},
        np.arange(1, n + 1),
        np.full(n, lr),
        table,
    )


@settings(max_examples=20)
@given(sigma=st.floats(1e-6, 1e4), seed=st.integers(0, 2**16))
def test_white_noise_has_a_flat_spectrum_at_2_sigma_squared(sigma, seed):
    """One-sided density of white noise of variance sigma^2 is 2 sigma^2 (fs = 1),
    median averaging included (scipy corrects its bias)."""
    g = sigma * np.random.default_rng(seed).standard_normal((8192, 4))
    f, p = record(g).spectrum()
    inner = (f > 0) & (f < 0.5)
    assert np.mean(p[inner]) == pytest.approx(2 * sigma**2, rel=0.05)
    assert band_fraction(f, p, 0.1) == pytest.approx(0.8, abs=0.02)


@settings(max_examples=25)
@given(f=stable_filters(max_order=3, max_pole_radius=0.9), seed=st.integers(0, 2**16))
def test_response_of_a_filtered_noise_is_the_filter(f, seed):
    """y = lfilter(b, a, x) (scipy's, not the library's realisations): the
    estimate is H within 1 dB and 0.1 rad wherever |H| is within 20 dB of its
    peak, and the coherence is near 1 there; the DC bin aside, which the
    segments' detrending empties."""
    x = np.random.default_rng(seed).standard_normal((8192, 4))
    y = signal.lfilter(f.b, f.a, x, axis=0)
    rec = record(x, y)
    freq, h = rec.response()
    truth = signal.freqz(f.b, f.a, worN=2 * np.pi * freq)[1]
    strong = (np.abs(truth) >= 0.1 * np.abs(truth).max()) & (freq > 0)
    ratio = h[strong] / truth[strong]
    assert np.abs(20 * np.log10(np.abs(ratio))).max() < 1.0
    assert np.abs(np.angle(ratio)).max() < 0.1
    _, c = rec.coherence()
    assert np.all(c <= 1 + 1e-12) and np.median(c[strong]) > 0.95


def test_spectrum_of_an_ar1_process_has_its_shape():
    """An AR(1) process of pole p: PSD 2 / |1 - p e^{-jw}|^2 for unit innovations."""
    x = signal.lfilter(
        [1.0], [1.0, -0.7], np.random.default_rng(3).standard_normal((16384, 4)), axis=0
    )
    f, p = record(x).spectrum()
    truth = 2 / np.abs(1 - 0.7 * np.exp(-2j * np.pi * f)) ** 2
    inner = (f > 0.01) & (f < 0.49)
    assert np.median(np.abs(10 * np.log10(p[inner] / truth[inner]))) < 0.5


def test_median_averaging_ignores_bursts():
    """A few huge outliers (a heavy-tailed gradient) move the mean-averaged
    spectrum and leave the median-averaged one near the noise's."""
    rng = np.random.default_rng(4)
    g = rng.standard_normal((8192, 4))
    g[rng.integers(0, 8192, 2)] *= 1e3  # each spoils 2 of the 63 overlapping segments
    f, p = record(g).spectrum()
    mean = signal.welch(g, nperseg=256, axis=0)[1].mean(axis=1)
    inner = (f > 0) & (f < 0.5)
    assert np.median(p[inner]) == pytest.approx(2.0, rel=0.2)
    assert np.median(mean[inner]) > 10


def test_bad_input_is_named():
    rec = record(np.zeros((63, 2)))
    with pytest.raises(ValueError, match="too few steps for a spectrum: 63"):
        rec.spectrum()
    rec = record(np.ones((200, 2)))
    with pytest.raises(ValueError, match="not a recorded variable"):
        rec.response("v")
    with pytest.raises(ValueError, match="nperseg"):
        rec.spectrum(nperseg=8)
    with pytest.raises(ValueError, match="no sharpness"):
        design_from_record(rec)


def noisy_record(noise, n=4096, seed=0, preconditioned=False):
    """A descending loop's gradient, 3 * 0.99^i along each direction (signs
    drawn), plus white noise; sharpness rows lambda_max 2 and 2.5 with
    gradient curvatures 0.1 and 0.2."""
    rng = np.random.default_rng(seed)
    slow = 3.0 * 0.99 ** np.arange(n)[:, None] * rng.choice([-1.0, 1.0], 4)
    rec = record(
        slow + noise * rng.standard_normal((n, 4)),
        sharpness=[[0, 2.0, 0.1, 0.1], [500, 2.5, 0.2, 0.1]],
    )
    rec.preconditioned = preconditioned
    return rec


@pytest.mark.slow
def test_design_from_record_follows_the_measured_noise():
    """kappa = 2.5 / 0.1 from the sharpness rows; the noisier the gradient the
    quieter (and slower) the design, each at the misadjustment asked for."""
    found = [design_from_record(noisy_record(noise), order=1) for noise in (0.0, 0.5, 1.5)]
    for m in found:
        assert m.kappa == pytest.approx(25.0) and m.lambda_max == 2.5
        assert m.lambda_low == pytest.approx(0.1)
        # the design's own noise gain, recomputed from its filter
        assert loop_noise_gain(m.design.filter, m.design.learning_rate) == pytest.approx(
            m.design.noise_gain, rel=1e-6
        )
        assert m.predicted_misadjustment <= 0.1 * (1 + 1e-6)
        assert m.learning_rate == pytest.approx(m.design.learning_rate / 2.5)
    q = [m.noise_to_signal for m in found]
    assert q[0] < q[1] < q[2]
    gains = [m.design.noise_gain for m in found]
    rates = [m.design.rate for m in found]
    assert gains[0] > gains[1] > gains[2] and rates[0] < rates[1] < rates[2]
    # a tiny noise needs no bound: the fastest design, which is Polyak's rate
    quiet = design_from_record(noisy_record(0.0), order=1, misadjustment=1e6)
    assert quiet.max_noise_gain is None
    assert quiet.design.rate == pytest.approx(design_filter(25.0, 1).rate)


def test_design_from_record_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match="preconditioned"):
        design_from_record(noisy_record(0.1, n=512, preconditioned=True))
    with pytest.raises(ValueError, match="misadjustment"):
        design_from_record(noisy_record(0.1, n=512), misadjustment=0)
    white = record(
        np.random.default_rng(0).standard_normal((4096, 4)), sharpness=[[0, 1.0, 0.1, 0.1]]
    )
    with pytest.raises(ValueError, match="white noise"):
        design_from_record(white)
