"""filteropt.to_optax and the optax-convention recipes, against optax itself.

Each optax optimizer runs step for step beside ``to_optax`` of the recipe
that equals it (the README's table: ``sgd_optax``, ``rmsprop_optax``,
``adam_optax``, ``adamw_optax``, ``nadam_optax`` and Keras's own
``adagrad``, ``adabelief``, ``lion``, ``rmsprop``), on the same
hypothesis-drawn hyperparameters and gradients whose coordinates have
scales from 1e-8 to 1e2, in float64 and float32, at a constant learning
rate and under optax schedules; then jit, pytrees, weight decay, the
errors, the learning-rate convention (before or after the filter,
measured), and the Keras classes of the ``*_optax`` recipes against optax.

Tolerances: ``helpers.TOLERANCE`` (float64 1e-9, float32 3e-4). Both sides
round every operation in their own order, a few ulps a step: the largest
errors seen (hypothesis seeds 1-3) are below 3e-14 in float64 and 3e-6
in float32 (the largest: Lion with weight decay).
"""

import doctest
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# float64 needs JAX's x64 mode, read when jax first makes an array
# (conftest sets JAX_ENABLE_X64 before any import; this keeps it so).
jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from helpers import TOLERANCE, relative_error, trajectory  # noqa: E402

import filteropt  # noqa: E402
from filteropt import recipes as R  # noqa: E402
from filteropt.signal import normalizers as N  # noqa: E402
from filteropt.testing import gradient_sequences  # noqa: E402

STEPS = 24
SHAPE = (3, 4)
DTYPES = ["float64", "float32"]
SETTINGS = settings(max_examples=3, deadline=None)


def run(tx, grads, theta0=0.0, jit=False):
    """theta[1..n] of an optax GradientTransformation, in the gradients' dtype."""
    p = jnp.full(grads.shape[1:], theta0, dtype=grads.dtype)
    state = tx.init(p)
    update = jax.jit(tx.update) if jit else tx.update
    out = []
    for g in grads:
        updates, state = update(jnp.asarray(g), state, p)
        p = optax.apply_updates(p, updates)
        out.append(np.asarray(p))
    assert out[-1].dtype == grads.dtype, "ran in another precision"
    return np.array(out, dtype=float)


def _grads(data, dtype, steps=STEPS):
    g = data.draw(
        gradient_sequences(steps=steps, width=12, min_scale=1e-8, max_scale=1e2), label="grads"
    )
    return g.reshape((steps,) + SHAPE).astype(dtype)


def _check(ours, theirs, dtype):
    assert np.all(np.isfinite(ours))
    err = relative_error(ours, theirs)
    assert err <= TOLERANCE[dtype], f"relative error {err:.3g} ({dtype})"
    return err


def spec(name, **kwargs):
    """``"name:k=v,..."``, each value written as repr (floats round-trip)."""
    return name + ":" + ",".join(f"{k}={v!r}" for k, v in kwargs.items()) if kwargs else name


# -- the learning rates: constant, or an optax schedule of the step count --------

_rates = st.sampled_from([1e-4, 1e-3, 0.01, 0.1])
SCHEDULES = {
    "exponential_decay": lambda lr: optax.exponential_decay(lr, transition_steps=5, decay_rate=0.7),
    "linear_schedule": lambda lr: optax.linear_schedule(lr, 0.1 * lr, transition_steps=20),
    "piecewise_constant": lambda lr: optax.piecewise_constant_schedule(lr, {8: 0.1, 16: 5.0}),
    "warmup_cosine": lambda lr: optax.warmup_cosine_decay_schedule(0.0, lr, 5, STEPS),
}


@st.composite
def learning_rates(draw, kind):
    lr = draw(_rates)
    if kind == "constant":
        return lr
    return SCHEDULES[draw(st.sampled_from(sorted(SCHEDULES)))](lr)


# -- each optax optimizer and the recipe that equals it ---------------------------
# A case draws hyperparameters and returns (spec or recipe, to_optax's
# weight_decay, optax's transformation for a learning rate, theta0).

_beta = st.floats(0.0, 0.999)
_beta2 = st.floats(0.0, 0.9999)
_eps = st.sampled_from([1e-16, 1e-8, 1e-7, 1e-3])
_eps_root = st.sampled_from([0.0, 1e-16, 1e-8])
_momentum = st.one_of(st.none(), st.floats(0.0, 0.999))


def _sgd(draw, dtype):
    m, nesterov = draw(_momentum), draw(st.booleans())
    return (
        spec("sgd_optax", momentum=m, nesterov=nesterov),
        None,
        lambda lr: optax.sgd(lr, momentum=m, nesterov=nesterov),
        0.0,
    )


def _adam(draw, dtype):
    b1, b2, eps, eps_root = draw(_beta), draw(_beta2), draw(_eps), draw(_eps_root)
    return (
        spec("adam_optax", b1=b1, b2=b2, eps=eps, eps_root=eps_root),
        None,
        lambda lr: optax.adam(lr, b1=b1, b2=b2, eps=eps, eps_root=eps_root),
        0.0,
    )


def _adamw(draw, dtype):
    b1, b2, eps, eps_root = draw(_beta), draw(_beta2), draw(_eps), draw(_eps_root)
    wd, nesterov = draw(st.sampled_from([0.0, 1e-4, 0.01, 0.5])), draw(st.booleans())
    return (
        spec(
            "adamw_optax",
            b1=b1,
            b2=b2,
            eps=eps,
            eps_root=eps_root,
            weight_decay=wd,
            nesterov=nesterov,
        ),
        None,
        lambda lr: optax.adamw(
            lr, b1=b1, b2=b2, eps=eps, eps_root=eps_root, weight_decay=wd, nesterov=nesterov
        ),
        1.5,
    )


def _nadam(draw, dtype):
    b1, b2, eps, eps_root = draw(_beta), draw(_beta2), draw(_eps), draw(_eps_root)
    return (
        spec("nadam_optax", b1=b1, b2=b2, eps=eps, eps_root=eps_root),
        None,
        lambda lr: optax.nadam(lr, b1=b1, b2=b2, eps=eps, eps_root=eps_root),
        0.0,
    )


def _rmsprop_options(draw, dtype):
    """optax.rmsprop's options, where its centred variance is well posed.

    The centred variance nu - mu^2 is a difference of two numbers the size
    of g^2 (up to about 1e5 here): rounding moves it by some roundoffs times
    g^2, and 1 / sqrt(nu - mu^2 + eps) follows the rounding, not the maths,
    where the variance is not well above that. decay >= 0.5 keeps it there
    (at decay 0 it is exactly 0). With bias correction too, the first step's
    variance is decay initial_scale / (1 - decay) (0 for the default
    initial_scale): initial_scale must be well above g^2 roundoff, 1 in
    float64, 1e4 in float32.
    """
    centered, bias_correction = draw(st.booleans()), draw(st.booleans())
    scales = [0.0, 0.1, 1.0]
    if centered and bias_correction:
        scales = [1.0, 100.0] if dtype == "float64" else [1e4]
    return dict(
        decay=draw(st.floats(0.5, 0.999)),
        eps=draw(st.sampled_from([1e-12, 1e-8, 1e-3])),
        initial_scale=draw(st.sampled_from(scales)),
        eps_in_sqrt=draw(st.booleans()),
        centered=centered,
        momentum=draw(_momentum),
        nesterov=draw(st.booleans()),
        bias_correction=bias_correction,
    )


def _rmsprop(draw, dtype):
    kw = _rmsprop_options(draw, dtype)
    return spec("rmsprop_optax", **kw), None, lambda lr: optax.rmsprop(lr, **kw), 0.0


def _rmsprop_keras(draw, dtype):
    """Keras's rmsprop recipe is optax.rmsprop with optax's other defaults."""
    rho, eps = draw(st.floats(0.5, 0.999)), draw(st.sampled_from([1e-12, 1e-8, 1e-7, 1e-3]))
    m, centered = draw(st.floats(0.0, 0.999)), draw(st.booleans())
    return (
        spec("rmsprop", rho=rho, momentum=m, epsilon=eps, centered=centered),
        None,
        lambda lr: optax.rmsprop(lr, decay=rho, eps=eps, centered=centered, momentum=m),
        0.0,
    )


def _adagrad(draw, dtype):
    init, eps = draw(st.floats(0.0, 1.0)), draw(st.sampled_from([1e-12, 1e-7, 1e-3]))
    return (
        spec("adagrad", initial_accumulator_value=init, epsilon=eps),
        None,
        lambda lr: optax.adagrad(lr, initial_accumulator_value=init, eps=eps),
        0.0,
    )


def _adabelief(draw, dtype):
    b1, b2, eps, eps_root = draw(_beta), draw(_beta2), draw(_eps), draw(_eps_root)
    return (
        spec("adabelief", beta_1=b1, beta_2=b2, epsilon=eps, epsilon_root=eps_root),
        None,
        lambda lr: optax.adabelief(lr, b1=b1, b2=b2, eps=eps, eps_root=eps_root),
        0.0,
    )


def _lion(draw, dtype):
    """optax.lion's weight decay (default 1e-3) is the optimizer's: to_optax's."""
    b1, b2 = draw(st.floats(0.01, 1.0)), draw(_beta)
    wd = draw(st.sampled_from([0.0, 1e-3, 0.01, 0.5]))
    return (
        spec("lion", beta_1=b1, beta_2=b2),
        wd,
        lambda lr: optax.lion(lr, b1=b1, b2=b2, weight_decay=wd),
        1.5,
    )


CASES = {
    "sgd": _sgd,
    "adam": _adam,
    "adamw": _adamw,
    "nadam": _nadam,
    "rmsprop": _rmsprop,
    "rmsprop-keras": _rmsprop_keras,
    "adagrad": _adagrad,
    "adabelief": _adabelief,
    "lion": _lion,
}


@pytest.mark.parametrize("kind", ["constant", "schedule"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_to_optax_is_the_optax_optimizer(case, dtype, kind, data):
    recipe, wd, theirs, theta0 = CASES[case](data.draw, dtype)
    lr = data.draw(learning_rates(kind), label="learning_rate")
    grads = _grads(data, dtype)
    ours = run(filteropt.to_optax(recipe, lr, weight_decay=wd), grads, theta0)
    _check(ours, run(theirs(lr), grads, theta0), dtype)


@pytest.mark.parametrize(
    "recipe, theirs",
    [
        ("sgd_optax", optax.sgd),
        ("rmsprop_optax", optax.rmsprop),
        ("adam_optax", optax.adam),
        ("adamw_optax", optax.adamw),
        ("nadam_optax", optax.nadam),
        ("adagrad", optax.adagrad),
        ("adabelief", optax.adabelief),
        pytest.param(R.get("lion").with_weight_decay(1e-3), optax.lion, id="lion"),
    ],
)
def test_the_defaults_are_optaxs(recipe, theirs):
    """Each recipe's defaults are optax's (Lion's weight decay given, 1e-3);
    a zero, a tiny and a huge gradient column included (float64)."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((30, 6)) * np.array([0.0, 1e-30, 1e-8, 1.0, 1e2, 1e15])
    _check(
        run(filteropt.to_optax(recipe, 0.01), grads, 0.5), run(theirs(0.01), grads, 0.5), "float64"
    )


# -- the adapter itself -------------------------------------------------------------


@pytest.mark.parametrize(
    "recipe",
    [
        "adam_optax:b1=0.8,eps_root=1e-8",
        "nadam_optax",
        "rmsprop_optax:centered=True,momentum=0.5,nesterov=True",
        "adamw_optax:weight_decay=0.1",
        "nadam",
        "butterworth",
    ],
)
def test_jit_compiled_update_is_the_eager_one(recipe):
    """Under a float64 schedule: optax's own schedules compute in float32,
    which XLA rounds differently compiled (optax.adam's jitted and eager
    runs under linear_schedule part by 3e-10 at step 8, where the rate
    differs by a float32 ulp)."""
    scales = 10.0 ** np.arange(-4, 2, 0.5).reshape(SHAPE)
    grads = np.random.default_rng(1).standard_normal((25,) + SHAPE) * scales
    tx = filteropt.to_optax(recipe, lambda count: 0.01 / (1.0 + 0.1 * count))
    assert relative_error(run(tx, grads, 1.5, jit=True), run(tx, grads, 1.5)) <= 1e-13


def test_a_pytree_of_several_leaves_and_dtypes():
    """A dict of arrays, nested, with float32 and float64 leaves: each leaf
    as optax runs it, in its own dtype."""
    rng = np.random.default_rng(2)
    shapes = {"w": (3, 4), "b": (4,), "inner": {"c": (2,), "d": ()}}
    dtypes = {"w": "float64", "b": "float32", "inner": {"c": "float64", "d": "float32"}}
    params = jax.tree.map(
        lambda s, d: jnp.full(s, 0.5, dtype=d),
        shapes,
        dtypes,
        is_leaf=lambda s: isinstance(s, tuple),
    )
    lr = optax.linear_schedule(0.01, 0.001, 20)
    ours_tx = filteropt.to_optax("adamw_optax:b1=0.8,weight_decay=0.05", lr)
    theirs_tx = optax.adamw(lr, b1=0.8, weight_decay=0.05)
    ours, theirs = params, params
    s_ours, s_theirs = ours_tx.init(params), theirs_tx.init(params)
    for _ in range(10):
        grads = jax.tree.map(lambda p: jnp.asarray(rng.standard_normal(p.shape), p.dtype), params)
        u, s_ours = ours_tx.update(grads, s_ours, ours)
        ours = optax.apply_updates(ours, u)
        u, s_theirs = theirs_tx.update(grads, s_theirs, theirs)
        theirs = optax.apply_updates(theirs, u)
    assert jax.tree.structure(ours) == jax.tree.structure(params)
    for mine, ref, p in zip(
        jax.tree.leaves(ours), jax.tree.leaves(theirs), jax.tree.leaves(params)
    ):
        assert mine.dtype == p.dtype
        _check(np.asarray(mine, float)[None], np.asarray(ref, float)[None], str(p.dtype))


def test_the_state_holds_the_count_the_scalars_and_slots_like_params():
    params = {"w": jnp.zeros(3), "b": jnp.zeros(2)}
    rms = "rmsprop_optax:centered=True,momentum=0.9"
    state = filteropt.to_optax(rms, 0.1).init(params)
    assert int(state.count) == 0 and state.scalars == ()
    assert len(state.slots) == len(R.get(rms).slots()) == 3
    assert all(jax.tree.structure(s) == jax.tree.structure(params) for s in state.slots)
    # Keras's Nadam keeps a scalar recursion (its momentum schedule's S)
    tx = filteropt.to_optax("nadam", 0.1)
    state = tx.init(params)
    assert len(state.scalars) == len(R.get("nadam").scalar_init()) == 1
    _, state = tx.update(params, state)
    assert int(state.count) == 1 and state.scalars[0].dtype == jnp.float64
    assert float(state.scalars[0]) != 0.0


def test_weight_decay_needs_params():
    tx = filteropt.to_optax("adamw_optax", 1e-3)
    p = jnp.ones(3)
    with pytest.raises(ValueError, match="`params`"):
        tx.update(p, tx.init(p))
    with pytest.raises(ValueError, match="`params`"):
        filteropt.to_optax("adam_optax", 1e-3, weight_decay=0.1).update(p, tx.init(p))
    filteropt.to_optax("adam_optax", 1e-3).update(p, filteropt.to_optax("adam_optax", 1e-3).init(p))


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((3, 0.1), TypeError, "spec_or_recipe"),
        ((None, 0.1), TypeError, "spec_or_recipe"),
        (("adamm", 0.1), ValueError, "unknown optimizer 'adamm'"),
        (("adam_optax:beta_1=0.9", 0.1), ValueError, "no hyperparameter 'beta_1'"),
        (("adam_optax:b1=1.5", 0.1), ValueError, "b1"),
        (("adam_optax:eps_root=-1", 0.1), ValueError, "eps_root"),
        (("sgd_optax:momentum=2", 0.1), ValueError, "momentum"),
        (("rmsprop_optax:initial_scale=-1", 0.1), ValueError, "initial_scale"),
        (("rmsprop_optax:centered=1", 0.1), TypeError, "centered"),
        (("adam_optax", -0.1), ValueError, "learning_rate"),
        (("adam_optax", float("nan")), ValueError, "learning_rate"),
        (("adam_optax", True), TypeError, "learning_rate"),
        (("adam_optax", "0.1"), TypeError, "learning_rate"),
        (("adam_optax", 0.1, float("inf")), ValueError, "weight_decay"),
        (("adam_optax", 0.1, "0.1"), ValueError, "weight_decay"),
    ],
)
def test_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        filteropt.to_optax(*args)


def test_the_docstring_example_runs():
    from filteropt.adapters import optax as adapter

    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(adapter.to_optax, "to_optax", globs={}):
        runner.run(test)
    assert runner.tries >= 1 and runner.failures == 0


@pytest.mark.slow  # 8-13 s: a fresh interpreter imports jax and filteropt
def test_float32_without_x64():
    """Without JAX's x64 mode the per-step scalars are float32 and the
    update still follows optax."""
    code = """
import numpy as np, jax, jax.numpy as jnp, optax, filteropt
assert not jax.config.jax_enable_x64
g = (np.random.default_rng(3).standard_normal((25, 6)) + 1) * 10.0 ** np.arange(-6, 0)
lr = optax.exponential_decay(0.01, 5, 0.7)
for spec, ref in [("adam_optax:eps_root=1e-8", optax.adam(lr, eps_root=1e-8)),
                  ("nadam_optax", optax.nadam(lr)),
                  ("rmsprop_optax:momentum=0.5,nesterov=True,bias_correction=True",
                   optax.rmsprop(lr, momentum=0.5, nesterov=True, bias_correction=True))]:
    out = []
    for tx in (filteropt.to_optax(spec, lr), ref):
        p = jnp.zeros(6, jnp.float32); s = tx.init(p); traj = []
        for x in g:
            u, s = tx.update(jnp.asarray(x, jnp.float32), s, p)
            p = optax.apply_updates(p, u); traj.append(np.asarray(p))
        assert traj[-1].dtype == np.float32
        out.append(np.array(traj, float))
    err = np.max(np.abs(out[0] - out[1]).max(0) / np.abs(out[1]).max(0))
    assert err < 3e-4, (spec, err)
state = filteropt.to_optax("nadam", 0.1).init(jnp.zeros(2))  # a scalar recursion
assert state.scalars[0].dtype == jnp.float32
"""
    env = dict(os.environ, JAX_ENABLE_X64="0")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# -- the conventions, measured -------------------------------------------------------


def _constant_gradient_runs(lr):
    grads = np.ones((STEPS, 1))
    return (
        run(filteropt.to_optax("momentum", lr), grads),
        run(filteropt.to_optax("sgd_optax:momentum=0.9", lr), grads),
        run(optax.sgd(lr, momentum=0.9), grads),
    )


def test_keras_momentum_is_optax_sgd_at_a_constant_rate_only():
    """Keras's SGD ("momentum": v = m v - eta g) and optax's (v = m v + g,
    Delta = -eta v) agree at a constant rate; under a decaying schedule
    optax's step rescales the whole velocity by today's rate and the two
    part: here (a constant gradient, the rate halved every 5 steps) Keras's
    form travels 1.85 times as far in 24 steps."""
    keras_form, optax_form, theirs = _constant_gradient_runs(0.01)
    assert relative_error(keras_form, theirs) <= 1e-12
    assert relative_error(optax_form, theirs) <= 1e-12
    keras_form, optax_form, theirs = _constant_gradient_runs(optax.exponential_decay(0.01, 5, 0.5))
    assert relative_error(optax_form, theirs) <= 1e-12
    assert relative_error(keras_form, theirs) > 0.8
    # with a decaying rate the rate before the filter keeps each gradient's
    # larger early rate: Keras's form travels further
    assert keras_form[-1, 0] < theirs[-1, 0] < 0


def test_keras_adam_puts_epsilon_elsewhere():
    """Keras's Adam ("adam", eps on the uncorrected root) is not optax.adam
    for an eps that matters; adam_optax is."""
    grads = np.random.default_rng(4).standard_normal((STEPS, 4)) * 1e-3
    theirs = run(optax.adam(0.01, eps=1e-3), grads)
    assert relative_error(run(filteropt.to_optax("adam:epsilon=1e-3", 0.01), grads), theirs) > 0.05
    assert (
        relative_error(run(filteropt.to_optax("adam_optax:eps=1e-3", 0.01), grads), theirs) <= 1e-12
    )


# -- the recipes as data --------------------------------------------------------------


@given(b1=_beta, b2=_beta2, eps=_eps)
@settings(max_examples=20, deadline=None)
def test_nadam_optax_is_nadam_lti_and_adam_with_nesterov(b1, b2, eps):
    ours = R.nadam_optax(b1, b2, eps)
    lti = R.nadam_lti(b1, b2, eps)
    assert (ours.path, ours.normalizer, ours.stages) == (lti.path, lti.normalizer, lti.stages)
    adam = R.adam_optax(b1, b2, eps, nesterov=True)
    assert (adam.path, adam.normalizer) == (ours.path, ours.normalizer)
    assert (
        R.adamw_optax(b1, b2, eps, weight_decay=0.0).normalizer
        == R.adam_optax(b1, b2, eps).normalizer
    )


@given(rho=st.floats(0.0, 0.999), m=st.floats(0.001, 0.999), eps=_eps, centered=st.booleans())
@settings(max_examples=20, deadline=None)
def test_rmsprop_optax_with_kerass_options_is_kerass_rmsprop(rho, m, eps, centered):
    ours = R.rmsprop_optax(decay=rho, eps=eps, centered=centered, momentum=m)
    keras_form = R.rmsprop(rho=rho, momentum=m, epsilon=eps, centered=centered)
    assert (ours.path, ours.normalizer, ours.stages) == (
        keras_form.path,
        keras_form.normalizer,
        keras_form.stages,
    )


def test_sgd_optax_puts_the_rate_after_the_filter():
    assert R.get("sgd_optax:momentum=0.9").stages == ("filter", "normalize", "lr")
    assert R.get("momentum").stages == ("lr", "filter", "normalize")
    assert R.get("sgd_optax:momentum=0.9").path == R.get("momentum").path
    assert R.get("sgd_optax").path.is_identity and R.get("sgd_optax:momentum=0").path.is_identity


def test_rms_epsilon_inside():
    """RMS(epsilon_inside=e) divides by sqrt(v + e) + eps (optax's eps_root,
    measured against optax.adam above); only with epsilon_mode="outside";
    0 (the default) changes nothing."""
    norm = N.RMS(epsilon=1e-8, epsilon_mode="outside", epsilon_inside=1e-6)
    assert "epsilon_inside" in norm.describe()["normalization"]
    assert N.RMS(epsilon_mode="outside") == N.RMS(epsilon_mode="outside", epsilon_inside=0.0)
    assert N.get(N.serialize(norm)) == norm
    for bad, error in [(-1.0, ValueError), (float("inf"), ValueError), ("x", TypeError)]:
        with pytest.raises(error, match="epsilon_inside"):
            N.RMS(epsilon_mode="outside", epsilon_inside=bad)
    for mode in ("inside", "hat"):
        with pytest.raises(ValueError, match="epsilon_inside"):
            N.RMS(epsilon_mode=mode, epsilon_inside=1e-8)
    x = np.array([1.0, 4.0])
    out, _, _ = norm.apply(np, x, 1.0, x, (x, 1.0), [0.0], (1.0, 0.0))
    v = 0.1 * x * x  # ema(0.9) after one step, uncompensated
    np.testing.assert_allclose(out, x / (np.sqrt(v + 1e-6) + 1e-8), rtol=1e-15)


# -- the Keras classes --------------------------------------------------------------

_f32 = st.floats(0.0, float(np.float32(0.999)), width=32)


def _keras_cases(draw):
    """(class, kwargs, optax transformation): the class with optax's
    arguments. Keras keeps the learning rate and the weight decay as float32
    (drawn float32-exact); the other hyperparameters are exact."""
    lr = float(np.float32(draw(_rates)))
    name = draw(
        st.sampled_from(["SGDOptax", "RMSpropOptax", "AdamOptax", "AdamWOptax", "NadamOptax"])
    )
    adam = dict(b1=draw(_beta), b2=draw(_beta2), eps=draw(_eps), eps_root=draw(_eps_root))
    if name == "SGDOptax":
        kw = dict(momentum=draw(_momentum), nesterov=draw(st.booleans()))
        return name, lr, kw, optax.sgd(lr, **kw)
    if name == "RMSpropOptax":
        kw = _rmsprop_options(draw, "float64")
        return name, lr, kw, optax.rmsprop(lr, **kw)
    if name == "AdamOptax":
        kw = dict(adam, nesterov=draw(st.booleans()))
        return name, lr, kw, optax.adam(lr, **kw)
    if name == "AdamWOptax":
        kw = dict(
            adam,
            weight_decay=float(np.float32(draw(st.sampled_from([1e-4, 0.01, 0.5])))),
            nesterov=draw(st.booleans()),
        )
        return name, lr, kw, optax.adamw(lr, **kw)
    return name, lr, adam, optax.nadam(lr, **adam)


@pytest.mark.slow  # about 10 s: Keras steps eagerly
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_the_keras_classes_are_the_optax_optimizers(data):
    """Each *_optax recipe's Keras class (TensorFlow, float64) follows optax."""
    name, lr, kwargs, theirs = _keras_cases(data.draw)
    grads = _grads(data, "float64", steps=15)
    ours = trajectory(
        getattr(filteropt, name)(learning_rate=lr, **kwargs), grads, "float64", theta0=1.5
    )
    _check(ours, run(theirs, grads, 1.5), "float64")


@pytest.mark.parametrize(
    "name, theirs, lr",
    [
        ("SGDOptax", optax.sgd, 0.01),
        ("RMSpropOptax", optax.rmsprop, 0.001),
        ("AdamOptax", optax.adam, 0.001),
        ("AdamWOptax", optax.adamw, 0.001),
        ("NadamOptax", optax.nadam, 0.001),
    ],
)
def test_the_keras_classes_defaults_are_optaxs(name, theirs, lr):
    """With no arguments at all: optax's defaults, and a learning rate of
    0.01 (SGDOptax) or 0.001, held as Keras holds it (float32)."""
    grads = np.random.default_rng(5).standard_normal((10,) + SHAPE)
    opt = getattr(filteropt, name)()
    lr32 = float(np.float32(lr))
    assert float(np.asarray(opt.learning_rate)) == lr32
    _check(trajectory(opt, grads, "float64", theta0=1.5), run(theirs(lr32), grads, 1.5), "float64")
    entry = next(e for e in R.REGISTRY.values() if e.optimizer == name)
    assert type(filteropt.get_optimizer(entry.name)) is getattr(filteropt, name)


def test_adamw_optax_mask_is_kerass_exclude_from_weight_decay():
    """optax.adamw(mask=...) leaves a masked leaf undecayed, as Keras's
    ``exclude_from_weight_decay`` leaves a variable."""
    import keras

    grads = np.random.default_rng(6).standard_normal((10, 2, 3))
    decayed = keras.Variable(np.full((2, 3), 1.5), dtype="float64", name="decayed")
    kept = keras.Variable(np.full((2, 3), 1.5), dtype="float64", name="kept")
    opt = filteropt.AdamWOptax(learning_rate=0.01, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["kept"])
    ours = []
    for g in grads:
        opt.apply_gradients(
            [(keras.ops.convert_to_tensor(g), decayed), (keras.ops.convert_to_tensor(g), kept)]
        )
        ours.append([keras.ops.convert_to_numpy(v) for v in (decayed, kept)])
    tx = optax.adamw(
        float(np.float32(0.01)), weight_decay=0.5, mask={"decayed": True, "kept": False}
    )
    p = {"decayed": jnp.full((2, 3), 1.5), "kept": jnp.full((2, 3), 1.5)}
    state, theirs = tx.init(p), []
    for g in grads:
        u, state = tx.update({"decayed": jnp.asarray(g), "kept": jnp.asarray(g)}, state, p)
        p = optax.apply_updates(p, u)
        theirs.append([np.asarray(p["decayed"]), np.asarray(p["kept"])])
    ours, theirs = np.array(ours), np.array(theirs)
    for k in range(2):
        _check(ours[:, k], theirs[:, k], "float64")
    assert not np.allclose(ours[:, 0], ours[:, 1])
