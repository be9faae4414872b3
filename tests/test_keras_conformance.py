"""Every drop-in against its Keras built-in, step for step.

Random hyperparameters (and learning-rate schedules), gradient columns whose
scales span 1e-8 to 1e2, 150 steps, float64 and float32: the trajectories
agree to 1e-9 (float64) and 3e-4 (float32) relative, and the state is the
built-in's size give or take a few scalars. Where Keras's own float32 run
departs from its float64 run by more than that (its float32 bias correction
cancels for beta near 1), filteropt's float32 run must be the closer one
to the float64 run, and within float32's rounding of it;
where Keras's float64 formula cancels (Adam's variance for beta_2 near 0),
filteropt's float64 run must sit on the long-double trajectory.
"""

import keras
import numpy as np
import pytest
from helpers import (
    TOLERANCE,
    extended_precision_trajectory,
    float32_rounding,
    relative_error,
    trajectory,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import filteropt
from filteropt.testing import DROP_IN_NAMES, gradient_sequences, keras_optimizer_configs

SCHEDULES = {
    "constant": None,
    "exponential": lambda lr: keras.optimizers.schedules.ExponentialDecay(lr, 10, 0.7),
    "cosine": lambda lr: keras.optimizers.schedules.CosineDecay(
        lr, 150, warmup_target=2 * lr, warmup_steps=20
    ),
    "piecewise": lambda lr: keras.optimizers.schedules.PiecewiseConstantDecay(
        [40, 90], [lr, lr / 5, lr / 25]
    ),
}


def _make(cls, config, schedule):
    config = dict(config)
    if SCHEDULES[schedule] is not None:
        config["learning_rate"] = SCHEDULES[schedule](config["learning_rate"])
    return cls(**config)


@pytest.mark.slow  # 3-9 s a name
@pytest.mark.parametrize("name", DROP_IN_NAMES)
@settings(max_examples=6)
@given(data=st.data())
def test_drop_in_matches_keras(name, data):
    config = data.draw(keras_optimizer_configs(name), label="config")
    schedule = data.draw(st.sampled_from(sorted(SCHEDULES)), label="schedule")
    dtype = data.draw(st.sampled_from(["float64", "float32"]), label="dtype")
    grads = data.draw(gradient_sequences(steps=150, width=6), label="grads")
    theirs = _make(getattr(keras.optimizers, name), config, schedule)
    ours = _make(getattr(filteropt, name), config, schedule)
    expected = trajectory(theirs, grads, dtype)
    actual = trajectory(ours, grads, dtype)
    assert np.all(np.isfinite(actual))
    err = relative_error(actual, expected)
    if dtype == "float32" and err > TOLERANCE[dtype]:
        # Keras computes Adam's 1 - beta_1^t in float32, which cancels for
        # beta_1 near 1 (0.999: 1e-3 relative), and its v + (g^2 - v)(1 -
        # beta_2) cancels for beta_2 near 0 (1e-1 seen); filteropt's
        # compensation runs in float64 and its variance form does not
        # cancel. Then filteropt must be the closer of the two to the
        # float64 trajectory, and within float32's own rounding of it (1e-6
        # seen, the bound 9e-5 for 150 steps).
        exact = trajectory(_make(getattr(keras.optimizers, name), config, schedule), grads)
        ours_err, keras_err = relative_error(actual, exact), relative_error(expected, exact)
        assert ours_err <= keras_err and ours_err <= float32_rounding(len(grads)), (
            f"{name} {config} {schedule}: {err:.3g} from Keras in float32; "
            f"{ours_err:.3g} (filteropt) and {keras_err:.3g} (Keras) from float64"
        )
    elif dtype == "float64" and err > TOLERANCE[dtype]:
        # Keras's Adam family updates v += (g^2 - v)(1 - beta_2), which
        # cancels for beta_2 near 0 when g^2 << v (1e-8 relative seen);
        # filteropt's beta_2 v + (1 - beta_2) g^2 does not. Then filteropt
        # must be within tolerance of the long-double trajectory, and closer
        # to it than Keras.
        lr = config["learning_rate"]
        if SCHEDULES[schedule] is not None:
            lr = SCHEDULES[schedule](lr)
        exact = extended_precision_trajectory(ours, grads, lr, config.get("weight_decay"))
        ours_err, keras_err = relative_error(actual, exact), relative_error(expected, exact)
        assert ours_err <= TOLERANCE[dtype] and ours_err <= keras_err, (
            f"{name} {config} {schedule}: {err:.3g} from Keras in float64; "
            f"{ours_err:.3g} (filteropt) and {keras_err:.3g} (Keras) from long double"
        )
    else:
        assert err <= TOLERANCE[dtype], f"{name} {config} {schedule} {dtype}: {err:.3g}"
    # The state: never more slots than Keras (fewer where a coefficient
    # rounds to zero and the filter folds), at most a few extra scalars.
    assert _slot_size(ours) <= _slot_size(theirs)
    assert _scalar_count(ours) - _scalar_count(theirs) <= 4


def _slot_size(opt):
    return sum(int(np.prod(v.shape)) for v in opt.variables if len(v.shape))


def _scalar_count(opt):
    return sum(1 for v in opt.variables if not len(v.shape))


@pytest.mark.parametrize(
    "name, config",
    [(n, {}) for n in DROP_IN_NAMES]
    + [
        ("SGD", {"momentum": 0.9}),
        ("SGD", {"momentum": 0.9, "nesterov": True}),
        ("RMSprop", {"momentum": 0.9, "centered": True}),
        ("Adam", {"amsgrad": True}),
    ],
)
def test_state_is_kerass_size(name, config):
    grads = np.ones((2, 5, 3))
    theirs, ours = getattr(keras.optimizers, name)(**config), getattr(filteropt, name)(**config)
    trajectory(theirs, grads, "float32")
    trajectory(ours, grads, "float32")
    assert _slot_size(ours) == _slot_size(theirs)
    # Byte for byte Keras's state; Nadam keeps its momentum-schedule product
    # in float64 where Keras keeps it in float32 (4 bytes more).
    extra = 4 if name == "Nadam" else 0
    assert _state_bytes(ours) - _state_bytes(theirs) == extra


def _state_bytes(opt):
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in opt.variables)


@pytest.mark.parametrize("name", DROP_IN_NAMES)
def test_tiny_gradients_show_where_epsilon_sits(name):
    """With gradients far below epsilon the update is set by epsilon's place."""
    grads = np.full((20, 3), 1e-10) * np.array([1.0, -3.0, 0.5])
    expected = trajectory(getattr(keras.optimizers, name)(), grads)
    actual = trajectory(getattr(filteropt, name)(), grads)
    assert relative_error(actual, expected) <= 1e-9


@pytest.mark.parametrize("name", DROP_IN_NAMES)
def test_huge_gradients(name):
    grads = np.random.default_rng(3).standard_normal((30, 4)) * 1e6
    for dtype in ("float64", "float32"):
        expected = trajectory(getattr(keras.optimizers, name)(), grads, dtype)
        actual = trajectory(getattr(filteropt, name)(), grads, dtype)
        assert relative_error(actual, expected) <= TOLERANCE[dtype]


def test_every_drop_in_has_kerass_signature():
    import inspect

    for name in DROP_IN_NAMES:
        theirs = inspect.signature(getattr(keras.optimizers, name).__init__).parameters
        ours = inspect.signature(getattr(filteropt, name).__init__).parameters
        for pname, p in ours.items():
            if pname in ("self", "kwargs"):
                continue
            assert pname in theirs, (name, pname)
            assert theirs[pname].default == p.default, (name, pname)
        for pname, p in theirs.items():
            if p.kind is p.VAR_KEYWORD or pname == "self":
                continue
            assert pname in ours or "kwargs" in ours, (name, pname)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lion_with_beta_1_one_follows_the_old_momentum_exactly(dtype):
    """beta_1 = 1: the update is sign(m[n-1]), 0 at the first step; a filter
    form that computes it as a difference of two terms would round to +-1."""
    grads = np.random.default_rng(11).standard_normal((40, 5))
    config = {"learning_rate": 0.0625, "beta_1": 1.0, "beta_2": 0.75}
    expected = trajectory(keras.optimizers.Lion(**config), grads, dtype)
    actual = trajectory(filteropt.Lion(**config), grads, dtype)
    np.testing.assert_array_equal(actual[0], 0.0)
    assert relative_error(actual, expected) <= TOLERANCE[dtype]


def test_beta_2_zero_keeps_the_variance_exact():
    """beta_2 = 0 makes v[n] = g[n]^2. Keras's v + (g^2 - v)(1 - beta_2)
    leaves a rounding error of v[n-1]'s size when the gradient drops by
    orders of magnitude; filteropt's form is exact, so its float64
    trajectory stays on the long-double one."""
    grads = np.array([[1.0], [1e-9], [-1e-9], [1e-3]] * 5)
    config = {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.0, "epsilon": 1e-12}
    ours = filteropt.Adam(**config)
    actual = trajectory(ours, grads)
    exact = extended_precision_trajectory(ours, grads, config["learning_rate"])
    keras_run = trajectory(keras.optimizers.Adam(**config), grads)
    assert relative_error(actual, exact) <= 1e-14
    assert relative_error(keras_run, exact) > 1e-6


@pytest.mark.parametrize("name", DROP_IN_NAMES)
def test_gradients_near_float32_overflow(name):
    """Gradients of 1e18-1e19 in float32 (g^2 within a few times of the
    largest float32): the slots overflow no sooner than Keras's (a variance
    slot holding v / (1 - beta_2) overflowed 1000x sooner for Adam), so the
    trajectories agree."""
    signs = np.random.default_rng(7).choice([-1.0, 1.0], (15, 3))
    grads = signs * np.array([1e18, 5e18, 1.5e19])
    expected = trajectory(getattr(keras.optimizers, name)(), grads, "float32")
    actual = trajectory(getattr(filteropt, name)(), grads, "float32")
    assert np.all(np.isfinite(actual))
    assert relative_error(actual, expected) <= TOLERANCE["float32"]
