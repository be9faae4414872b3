"""stability_limit: closed forms, and a root search by numpy alone on random filters."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import filteropt
from filteropt import analysis as A
from filteropt import filters as F
from filteropt import recipes as R
from filteropt.testing import stable_filters

# the module's fallback (bisection when the frequency method and the spectral
# radius disagree) warns: here it must never be needed
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

BETAS = [0.1, 0.5, 0.9, 0.99]
LOW, HIGH = 1e-4, 1e4


def reference_limit(b, a, decay=0.0):
    """The first unstable step by np.roots alone: a log grid from LOW to HIGH
    (200 steps a decade), then bisection. None: unstable at LOW already;
    inf: stable up to HIGH."""
    b, a = np.asarray(b, float), np.asarray(a, float)
    n = max(len(a), len(b))
    b, a = np.pad(b, (0, n - len(b))), np.pad(a, (0, n - len(a)))
    loop = np.convolve(a, [1.0, -(1.0 - decay)])  # A(z^-1) (1 - (1 - decay) z^-1)
    delayed = np.r_[0.0, b]  # z^-1 B(z^-1)

    def unstable(s):
        return np.abs(np.roots(loop + s * delayed)).max() >= 1.0

    steps = np.geomspace(LOW, HIGH, 1601)
    i = next((i for i, s in enumerate(steps) if unstable(s)), None)
    if i is None:
        return math.inf
    if i == 0:
        return None
    lo, hi = steps[i - 1], steps[i]
    while hi / lo - 1.0 > 1e-13:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if unstable(mid) else (mid, hi)
    return hi


def check_against_reference(f, decay=0.0):
    got = A.stability_limit(f, decay=decay)
    want = reference_limit(*f.padded(), decay)
    case = f"b={f.padded()[0]}, a={f.padded()[1]}, decay={decay}: got {got}, want {want}"
    if want is None:
        assert got < LOW, case
    elif want == math.inf:
        assert got > HIGH, case
    else:
        assert got == pytest.approx(want, rel=1e-6), case


@st.composite
def positive_dc_filters(draw):
    """Order 1..4, poles inside 0.95, zeros within 1.5, H(1) > 0 (A(1) > 0: b flipped)."""
    b, a = (np.array(c) for c in draw(stable_filters(max_order=4, min_order=1)).padded())
    assume(abs(b.sum()) > 1e-6 * np.abs(b).sum())
    return filteropt.ARMAFilter(b * np.sign(b.sum()), a)


# -- closed forms --------------------------------------------------------------------------


def test_plain_gradient_descent_is_two():
    assert A.stability_limit(None) == pytest.approx(2.0, rel=1e-12)
    assert A.stability_limit("sgd") == pytest.approx(2.0, rel=1e-12)
    assert A.stability_limit(F.identity()) == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("beta", BETAS)
def test_momentum_nesterov_adam_closed_forms(beta):
    assert A.stability_limit(f"momentum:momentum={beta}") == pytest.approx(
        2 * (1 + beta), rel=1e-10
    )
    assert A.stability_limit(F.trace(beta)) == pytest.approx(2 * (1 + beta), rel=1e-10)
    assert A.stability_limit(f"nesterov:momentum={beta}") == pytest.approx(
        (2 + 2 * beta) / (1 + 2 * beta), rel=1e-10
    )
    assert A.stability_limit(f"adam:beta_1={beta}") == pytest.approx(
        2 * (1 + beta) / (1 - beta), rel=1e-10
    )
    assert A.stability_limit(R.sgd(momentum=beta, nesterov=True)) == pytest.approx(
        (2 + 2 * beta) / (1 + 2 * beta), rel=1e-10
    )


def test_the_named_recipes_defaults():
    assert A.stability_limit("momentum") == pytest.approx(3.8, rel=1e-10)
    assert A.stability_limit("nesterov") == pytest.approx(3.8 / 2.8, rel=1e-10)
    assert A.stability_limit("adam") == pytest.approx(38.0, rel=1e-10)


@pytest.mark.parametrize("beta", [0.5, 0.9])
def test_decay_moves_the_limit(beta):
    # first order, H = k/(1 - beta z^-1): the crossing at z = -1, k s* = (1 + beta)(2 - decay)
    d = 0.1 * 0.004
    assert A.stability_limit(f"adamw:beta_1={beta}", learning_rate=0.1) == pytest.approx(
        (2 - d) * (1 + beta) / (1 - beta), rel=1e-10
    )
    assert A.stability_limit(f"adamw:beta_1={beta}", decay=0.0) == pytest.approx(
        2 * (1 + beta) / (1 - beta), rel=1e-10
    )
    assert A.stability_limit(None, decay=0.3) == pytest.approx(1.7, rel=1e-10)


def test_poles_on_the_unit_circle():
    # H = (1 - alpha z^-1)/(1 - z^-1): z^2 - (2 - s) z + (1 - alpha s), s* = 4/(1 + alpha)
    for alpha in (0.25, 0.5):
        assert A.stability_limit(filteropt.ARMAFilter([1, -alpha], [1, -1])) == pytest.approx(
            4 / (1 + alpha), rel=1e-10
        )
    assert A.stability_limit(F.summer()) == 0.0  # roots on the circle for 0 < s < 4
    assert A.stability_limit(filteropt.ARMAFilter([1], [1, 1])) == 0.0  # z^2 + s z - 1
    # unstable at small steps: the resonator's poles +-j move out; the double
    # integrator with zeros is stable only on a window of steps away from 0
    for f in (
        filteropt.ARMAFilter([1], [1, 0, 1]),
        filteropt.ARMAFilter([1, -1.2, 0.4], [1, -2, 1]),
    ):
        assert A.stability_limit(f) == 0.0
        assert reference_limit(*f.padded()) is None
    assert A.quadratic_rate(filteropt.ARMAFilter([1, -1.2, 0.4], [1, -2, 1]), 1.0) < 1.0
    # with decay the summer's roots have |z|^2 = 1 - decay; the crossing at z = -1
    assert A.stability_limit(F.summer(), decay=0.1) == pytest.approx(3.8, rel=1e-10)


@pytest.mark.parametrize(
    "b, a, decay",
    [
        ([-0.1], [1.0, 0.0, 1.0], 0.1),  # poles at +-j
        ([-8.73, 12.0], [1.0, 1.0], 0.0),  # a pole at -1
        ([-5.4], np.convolve([1.0, 1.0], [1.0, -0.1113]), 1.66),  # a pole at -1, large decay
        ([1.0, 0.3], np.convolve([1.0, -1.0], [1.0, 0.5]), 0.01),  # a pole at 1 with decay
    ],
)
def test_poles_on_the_unit_circle_match_the_root_search(b, a, decay):
    # at a pole on the circle the crossing step is 0: rounding must not make it a crossing
    check_against_reference(filteropt.ARMAFilter(b, a), decay)


# -- loops unstable from the start -------------------------------------------------------------


def test_no_positive_dc_gain_unstable_poles_negative_decay_give_zero():
    assert A.stability_limit(filteropt.ARMAFilter([-1.0])) == 0.0
    assert A.stability_limit(filteropt.ARMAFilter([1.0, -1.0])) == 0.0  # H(1) = 0
    assert A.stability_limit(filteropt.ARMAFilter([-1.0], [1.0, -0.5])) == 0.0
    assert A.stability_limit(filteropt.ARMAFilter([1.0], [1.0, -1.05])) == 0.0
    assert A.stability_limit(None, decay=-0.01) == 0.0
    assert A.stability_limit(filteropt.ARMAFilter([0.0])) == 0.0  # the root at 1 never moves
    assert A.stability_limit(filteropt.ARMAFilter([0.0]), decay=0.5) == math.inf


@given(stable_filters(max_order=4, min_order=1))
@settings(max_examples=20, deadline=None)
def test_negative_dc_gain_gives_zero(f):
    b, a = (np.array(c) for c in f.padded())
    assume(b.sum() < -1e-6 * np.abs(b).sum())
    assert A.stability_limit(filteropt.ARMAFilter(b, a)) == 0.0


# -- against np.roots ---------------------------------------------------------------------------


@given(positive_dc_filters())
@settings(max_examples=40, deadline=None)
def test_random_filters_match_the_root_search(f):
    check_against_reference(f)


@given(positive_dc_filters(), st.floats(0.0, 0.5, exclude_max=True))
@settings(max_examples=40, deadline=None)
def test_random_filters_with_decay_match_the_root_search(f, decay):
    check_against_reference(f, decay)


# -- arguments ----------------------------------------------------------------------------------


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match=r"gradient_filter.*nosuch"):
        A.stability_limit("nosuch")
    with pytest.raises(ValueError, match="`momentum`"):
        A.stability_limit("momentum:momentum=2")
    with pytest.raises(TypeError, match="gradient_filter"):
        A.stability_limit(3.0)
    with pytest.raises(ValueError, match="`decay`"):
        A.stability_limit("sgd", decay=float("nan"))
    with pytest.raises(ValueError, match="`decay`"):
        A.stability_limit("sgd", decay=math.inf)
    with pytest.raises(TypeError, match="`decay`"):
        A.stability_limit("sgd", decay=1j)
    with pytest.raises(TypeError, match="`decay`"):
        A.stability_limit("sgd", decay="0.1")
    with pytest.raises(ValueError, match="`learning_rate`"):
        A.stability_limit("adamw")
    with pytest.raises(ValueError, match="`learning_rate`"):
        A.stability_limit("adamw", learning_rate=float("nan"))
