"""The generic engine: any filter and normalizer, against the numpy reference
(recipes.simulate) and scipy's lfilter. The optimizers Keras lacks are tested
against other projects' implementations in test_reference_implementations.py."""

import json

import keras
import numpy as np
import pytest
import robust_cases as rc
from helpers import TOLERANCE, optimizer_classes, relative_error, trajectory
from hypothesis import given, settings
from hypothesis import strategies as st

import filteropt
from filteropt import filters, normalizers, recipes
from filteropt.testing import gradient_sequences, stable_filters, unit_dc_filters

NORMALIZERS = st.sampled_from(
    [
        None,
        normalizers.RMS(filters.ema(0.9), epsilon=1e-7),
        normalizers.RMS(filters.ema(0.99), compensate=True, epsilon=1e-8, epsilon_mode="outside"),
        normalizers.RMS(filters.ema(0.999), compensate=True, epsilon_mode="hat", amsgrad=True),
        normalizers.RMS(filters.butterworth(2, 0.1), compensate=True, epsilon_mode="outside"),
        normalizers.RMS(filters.ema(0.9), centered=True),
        normalizers.RMS(filters.summer(), initial=0.1),
        normalizers.MaxNorm(0.99),
        normalizers.Sign(),
        normalizers.Adadelta(0.9),
    ]
)


@settings(max_examples=15)
@given(
    f=st.one_of(stable_filters(max_order=4), unit_dc_filters(max_order=4)),
    normalizer=NORMALIZERS,
    compensate=st.booleans(),
    grads=gradient_sequences(steps=60, width=4, min_scale=1e-4, max_scale=10.0),
    lr_first=st.booleans(),
)
def test_engine_runs_the_recipe(f, normalizer, compensate, grads, lr_first):
    """Keras engine (TDF-II on slots) == numpy reference (recipes.simulate)."""
    if compensate and not filteropt.signal.compensation.step_response_margin(f) > 1e-3:
        compensate = False  # s[n] reaches zero: compensation is refused (tested below)
    stages = ("lr", "filter", "normalize") if lr_first else ("filter", "normalize", "lr")
    if isinstance(normalizer, normalizers.Sign):
        stages = ("filter", "normalize", "lr")
    opt = filteropt.FilterOptimizer(
        learning_rate=0.01,
        gradient_filter=f,
        normalizer=normalizer,
        transient_compensation=compensate,
        stages=stages,
    )
    actual = trajectory(opt, grads)
    expected = recipes.simulate(opt.recipe, grads, 0.009999999776482582)
    assert relative_error(actual, expected) <= 1e-9
    # exactly `order` slots per variable for the gradient filter
    names = [name for name, _ in opt.recipe.slots()]
    assert sum(n.startswith("filter_") for n in names) == f.order


def test_filter_output_is_scipys_lfilter():
    """Delta for SGD through any filter is lfilter(b, a, -lr * g)."""
    f = filters.butterworth(3, 0.2)
    g = np.random.default_rng(0).standard_normal((50, 2))
    opt = filteropt.FilterOptimizer(learning_rate=0.5, gradient_filter=f)
    theta = trajectory(opt, g)
    delta = np.diff(np.r_[np.zeros((1, 2)), theta], axis=0)
    np.testing.assert_allclose(delta, f.lfilter(-0.5 * g.T).T, rtol=1e-10, atol=1e-13)


@settings(max_examples=10)
@given(f=unit_dc_filters(max_order=3), c=st.floats(-5, 5).filter(lambda c: abs(c) > 0.1))
def test_compensation_gives_a_flat_step_response(f, c):
    """Transient compensation: a (scaled) step gives H(1) * c from sample one."""
    opt = filteropt.FilterOptimizer(
        learning_rate=1.0,
        gradient_filter=f,
        transient_compensation=True,
        stages=("filter", "normalize", "lr"),
    )
    theta = trajectory(opt, np.full((40, 1), -c))
    delta = np.diff(np.r_[[[0.0]], theta], axis=0)[:, 0]
    np.testing.assert_allclose(delta, c * f.dc_gain, rtol=1e-9)


def test_compensated_ema_is_adams_bias_correction():
    beta = 0.9
    path = filteropt.FilterPath(filters.ema(beta), compensate=True)
    gains = filteropt.signal.compensation.compensation_gains(path, 30)
    t = np.arange(1, 31)
    np.testing.assert_allclose(gains[:, 0], 1 / (1 - beta**t), rtol=1e-12)


def test_nadam_schedule_is_a_time_varying_step_response():
    sched = filteropt.NadamSchedule(0.9)
    path = filteropt.FilterPath(filters.ema(0.9), schedule=sched)
    gains = filteropt.signal.compensation.compensation_gains(path, 20)
    t = np.arange(1, 22)
    mu = 0.9 * (1 - 0.5 * 0.96**t)
    prod = np.cumprod(mu)
    np.testing.assert_allclose(gains[:, 0], mu[1:] / (1 - prod[1:]), rtol=1e-12)
    np.testing.assert_allclose(gains[:, 1], (1 - mu[:-1]) / (1 - prod[:-1]), rtol=1e-12)


# -- the optimizers Keras lacks ----------------------------------------------------
# (against independent implementations: tests/test_reference_implementations.py)

LR = 0.009999999776482582  # 0.01 as Keras's float32 learning-rate variable holds it


def test_butterworth_momentum_is_lfilter():
    grads = np.random.default_rng(2).standard_normal((60, 2))
    opt = filteropt.ButterworthMomentum(learning_rate=0.01, order=3, cutoff=0.25)
    theta = trajectory(opt, grads)
    f = filters.butterworth(3, 0.25)
    expected = np.cumsum(f.lfilter(-LR * grads.T).T, axis=0)
    assert relative_error(theta, expected) <= 1e-9
    assert opt.gradient_filter.isclose(f)


@pytest.mark.parametrize(
    "variance_filter, compensate",
    [
        (filters.summer(), False),
        (filters.ema(0.9), True),
        (filters.ema(0.5) * filters.ema(0.8), False),
    ],
    ids=["summer", "compensated-ema", "order-2"],
)
def test_epsilon_root_enters_the_variance_recursion(variance_filter, compensate):
    """RMS(epsilon_root=c): V runs on g^2 + c / b[0], so V{.} is lfilter(b,
    a, g^2 + c / b[0]) (the summer's: sum g^2 + n c; ema(beta)'s state:
    beta s + (1 - beta) g^2 + c, AdaBelief's eps and optax's eps_root),
    compensated with the rest when asked; a coordinate with g = 0 no longer
    keeps its state."""
    c = 1e-3
    grads = 0.1 + np.random.default_rng(5).standard_normal((25, 3))
    norm = normalizers.RMS(
        variance_filter, compensate=compensate, epsilon=0.0, epsilon_mode="outside", epsilon_root=c
    )
    opt = filteropt.FilterOptimizer(learning_rate=1.0, normalizer=norm)
    theta = trajectory(opt, grads)
    v = (grads / np.diff(theta, axis=0, prepend=0.0)) ** 2  # Delta = -g / sqrt(v)
    expected = variance_filter.lfilter((grads**2 + c / variance_filter.input_gain).T).T
    if compensate:
        gains = filteropt.signal.compensation.compensation_gains(norm.path, len(grads))[:, 0]
        expected = expected * gains[:, None]
    np.testing.assert_allclose(v, expected, rtol=1e-9)
    if variance_filter.order == 1:  # the slot holds V's output
        (slot,) = [s for s in opt.variables if s.path.endswith("variance_0")]
        raw = variance_filter.lfilter((grads**2 + c / variance_filter.input_gain).T).T[-1]
        np.testing.assert_allclose(np.asarray(slot), raw, rtol=1e-12)
    assert not recipes.custom(None, norm).zero_gradient_keeps_state()
    assert "epsilon_root" in norm.describe()["normalization"]
    assert normalizers.get(normalizers.serialize(norm)) == norm


def test_epsilon_root_skips_the_direct_branch():
    """Quasi-hyperbolic mixing, v = mix c[t] V{g^2 + eps_root / b0} + direct g^2:
    at the first step of a compensated ema(beta), eps_root adds mix eps_root
    / (1 - beta) to v, and nothing through the direct branch."""
    c, beta, mix = 1e-3, 0.9, 0.6
    v = {}
    for eps_root in (0.0, c):
        norm = normalizers.RMS(
            filters.ema(beta),
            compensate=True,
            epsilon=0.0,
            epsilon_mode="outside",
            mix=mix,
            direct=1 - mix,
            epsilon_root=eps_root,
        )
        theta = recipes.simulate(recipes.custom(None, norm), np.full((1, 1), 2.0), 1.0)
        v[eps_root] = (2.0 / theta[0, 0]) ** 2
    np.testing.assert_allclose(v[c] - v[0.0], mix * c / (1 - beta), rtol=1e-9)


def test_qhadam_with_nu_one_is_adam_with_eps_outside():
    grads = np.random.default_rng(4).standard_normal((40, 3))
    a = trajectory(filteropt.QHAdam(nu_1=1.0, nu_2=1.0, epsilon=1e-8), grads)
    b = recipes.simulate(recipes.qhadam(nu_1=1.0, nu_2=1.0), grads, 0.0010000000474974513)
    assert relative_error(a, b) <= 1e-9


ALL = optimizer_classes()  # every class the registry names
#: Those the XLA comparison compiles: the convention classes by their engine
#: paths only (robust_cases.FIT_NAMES says why).
COMPILED = [n for n in ALL if n in rc.FIT_NAMES]

# Every optimizer in model.fit, with and without XLA, and against Keras's
# built-in: test_robustness.test_model_fit_with_and_without_xla.


# -- what analysis reads ---------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_describe_and_filters_are_exposed(name):
    opt = getattr(filteropt, name)()
    d = opt.describe()
    for key in ("gradient_filtering", "gradient_normalization", "variance_filter", "learning_rate"):
        assert key in d
    assert opt.gradient_filter is None or isinstance(opt.gradient_filter, filteropt.ARMAFilter)
    assert opt.variance_filter is None or isinstance(opt.variance_filter, filteropt.ARMAFilter)


def test_describe_words_follow_the_maths():
    assert filteropt.SGD(momentum=0.9).describe()["gradient_filtering"] == "AR1, unit input gain"
    assert (
        filteropt.SGD(momentum=0.9, nesterov=True)
        .describe()["gradient_filtering"]
        .startswith("ARMA1 (1 pole, 1 zero)")
    )
    adam = filteropt.Adam().describe()
    assert adam["gradient_filtering"] == "AR1, unit DC gain, transient compensation"
    assert adam["variance_filter_kind"] == "AR1, unit DC gain, transient compensation"
    assert adam["learning_rate"] == "after the normalizer"
    assert filteropt.Adagrad().describe()["variance_filter_kind"] == "summer"
    assert filteropt.SGD().describe()["gradient_filtering"] == "none"
    assert "before the filter" in filteropt.SGD(momentum=0.5).describe()["learning_rate"]


# -- configuration -----------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_config_round_trip(name):
    opt = getattr(filteropt, name)(learning_rate=0.02, clipnorm=1.0)
    config = opt.get_config()
    json.dumps(config)
    clone = type(opt).from_config(config)
    assert clone.get_config() == config
    again = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == config


def test_filter_optimizer_config_is_plain_data():
    opt = filteropt.FilterOptimizer(
        learning_rate=0.1,
        gradient_filter=filters.butterworth(2, 0.3),
        normalizer=normalizers.RMS(filters.ema(0.99), compensate=True, epsilon_mode="outside"),
        transient_compensation=True,
    )
    config = json.loads(json.dumps(opt.get_config()))
    assert config["gradient_filter"] == {"sos": [list(filters.butterworth(2, 0.3).sos[0])]}
    clone = filteropt.FilterOptimizer.from_config(config)
    assert clone.recipe == opt.recipe
    assert (
        keras.saving.get_registered_name(filteropt.FilterOptimizer) == "filteropt>FilterOptimizer"
    )


# -- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, exc, word",
    [
        (
            lambda: filteropt.FilterOptimizer(gradient_filter=filters.summer()),
            ValueError,
            "unstable",
        ),
        (
            lambda: filteropt.FilterOptimizer(gradient_filter=filteropt.ARMAFilter([1], [1, -1.5])),
            ValueError,
            "allow_unstable",
        ),
        (lambda: filteropt.FilterOptimizer(gradient_filter="ema"), TypeError, "gradient_filter"),
        (lambda: filteropt.FilterOptimizer(gradient_filter=[1, 2]), TypeError, "gradient_filter"),
        (lambda: filteropt.FilterOptimizer(normalizer="median"), ValueError, "normalizer"),
        (lambda: filteropt.FilterOptimizer(stages=("lr", "filter")), ValueError, "stages"),
        (
            lambda: filteropt.FilterOptimizer(
                gradient_filter=filters.trace(0.9), transient_compensation="yes"
            ),
            TypeError,
            "transient_compensation",
        ),
        (
            lambda: filteropt.FilterOptimizer(
                gradient_filter=filteropt.ARMAFilter([0, 1], [1, -0.5]), transient_compensation=True
            ),
            ValueError,
            "b\\[0\\]",
        ),
        (
            lambda: filteropt.FilterOptimizer(
                gradient_filter=filteropt.ARMAFilter([1, -0.1], [1, 0.9]),
                transient_compensation=True,
            ),
            ValueError,
            "step response",
        ),
        (lambda: filteropt.SGD(momentum=-1.0), ValueError, "momentum"),
        (lambda: filteropt.SGD(momentum=2.0), ValueError, "momentum"),
        (lambda: filteropt.Adam(beta_1=1.0), ValueError, "beta_1"),
        (lambda: filteropt.Adam(beta_2=1.5), ValueError, "beta_2"),
        (lambda: filteropt.Adam(epsilon=-1e-7), ValueError, "epsilon"),
        (lambda: filteropt.AdaBelief(epsilon_root=-1e-16), ValueError, "epsilon_root"),
        (lambda: filteropt.AdaBelief(epsilon_root=float("nan")), ValueError, "epsilon_root"),
        (lambda: filteropt.AdaBelief(epsilon_root="tiny"), TypeError, "epsilon_root"),
        (
            lambda: normalizers.RMS(filteropt.ARMAFilter([0, 1], [1, -0.5]), epsilon_root=1e-8),
            ValueError,
            "epsilon_root",
        ),
        (lambda: filteropt.Nadam(beta_1=1.0), ValueError, "beta_1"),
        (lambda: filteropt.Adamax(beta_2=-0.1), ValueError, "beta_2"),
        (lambda: filteropt.RMSprop(rho=1.0), ValueError, "rho"),
        (lambda: filteropt.Adadelta(rho=2.0), ValueError, "rho"),
        (
            lambda: filteropt.Adagrad(initial_accumulator_value=-1.0),
            ValueError,
            "initial_accumulator_value",
        ),
        (lambda: filteropt.Lion(beta_1=0.0), ValueError, "beta_1"),
        (lambda: filteropt.QHM(nu=1.5), ValueError, "nu"),
        (lambda: filteropt.AggMo(betas=[0.9, 1.0]), ValueError, "betas"),
        (lambda: filteropt.ButterworthMomentum(order=0), ValueError, "order"),
        (lambda: filteropt.ButterworthMomentum(cutoff=1.2), ValueError, "cutoff"),
        (lambda: filteropt.AdamW(weight_decay=None), ValueError, "weight_decay"),
        (lambda: filteropt.Adam(amsgrad="no"), TypeError, "amsgrad"),
        (lambda: filteropt.SGD(learning_rate=-0.1), ValueError, "learning_rate"),
    ],
)
def test_bad_input_names_the_culprit(make, exc, word):
    with pytest.raises(exc, match=word):
        make()


def test_unstable_filter_allowed_on_request():
    opt = filteropt.FilterOptimizer(gradient_filter=filters.summer(), allow_unstable=True)
    theta = trajectory(opt, np.ones((5, 1)))
    np.testing.assert_allclose(
        np.diff(np.r_[[[0.0]], theta], axis=0)[:, 0],
        -0.009999999776482582 * np.arange(1, 6),
        rtol=1e-9,
    )


def test_non_float_variables_are_refused():
    opt = filteropt.Adam()
    with pytest.raises(TypeError, match="floating-point"):
        opt.build([keras.Variable(np.zeros(3, dtype="int32"), dtype="int32", trainable=True)])


@pytest.mark.parametrize("name", COMPILED)
def test_fused_and_plain_updates_agree(name):
    """fused=True (one XLA function per step) and fused=False (Keras's
    per-operation path) compute the same numbers, inside a tf.function too."""
    import tensorflow as tf

    grads = np.random.default_rng(9).standard_normal((25, 4)) * np.array([1e-6, 1e-2, 1.0, 50.0])
    runs = []
    for fused in (True, False):
        opt = getattr(filteropt, name)(fused=fused)
        v = keras.Variable(np.zeros(4))
        step = tf.function(lambda g: opt.apply_gradients([(g, v)]))
        out = []
        for g in grads:
            step(tf.constant(g))
            out.append(v.numpy())
        runs.append(np.array(out))
    assert relative_error(runs[0], runs[1]) <= 1e-9


DECAYING = {
    "AdamW": lambda wd, **kw: filteropt.AdamW(learning_rate=0.05, weight_decay=wd, **kw),
    "SGD-momentum": lambda wd, **kw: filteropt.SGD(
        learning_rate=0.05, momentum=0.9, weight_decay=wd, **kw
    ),
    "butterworth-3": lambda wd, **kw: filteropt.FilterOptimizer(
        learning_rate=0.05,
        gradient_filter=filters.butterworth(3, 0.2, gain="dc"),
        weight_decay=wd,
        **kw,
    ),
    "sections-and-bank": lambda wd, **kw: filteropt.FilterOptimizer(
        learning_rate=0.05,
        gradient_filter=filters.lowpass("cheby1", 5, 0.1) * filters.aggmo([0.5, 0.9]),
        weight_decay=wd,
        **kw,
    ),
}
WEIGHT_DECAY = {"AdamW": 0.1, "SGD-momentum": 0.2, "butterworth-3": 0.3, "sections-and-bank": 0.3}


def _decay_run(opt, grads, dtype, names=("w", "bias")):
    """Both variables (2.0 everywhere) get the same gradient each step
    (``grads[i]``, or ``grads[i][j]`` for variable j); ``bias`` is excluded
    from weight decay. Per step: the variables, then the optimizer's."""
    import tensorflow as tf

    opt.exclude_from_weight_decay(var_names=["bias"])
    variables = [keras.Variable(np.full(3, 2.0), dtype=dtype, name=n) for n in names]
    step = tf.function(lambda g0, g1: opt.apply([g0, g1], variables))
    out = []
    for g in grads:
        g0, g1 = (g, g) if np.ndim(g) == 1 else g
        step(tf.constant(g0, dtype=dtype), tf.constant(g1, dtype=dtype))
        out.append([v.numpy() for v in variables] + [np.asarray(s) for s in opt.variables])
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(DECAYING))
def test_fused_weight_decay_and_skipping_agree_with_plain(case, dtype):
    """The fused step applies Keras's weight decay in its own pass (and
    returns the slots of a filter of several stages rather than writing them
    in place); excluded variables, skipped non-finite steps and float32 and
    float64 give what the per-operation path gives. Both variables get the
    same gradients, so the excluded one is the run without decay and the
    other is not."""
    g = np.random.default_rng(4).standard_normal((12, 3))
    grads = [[x, x] for x in g]
    grads[5] = [g[5], np.where(np.arange(3) == 2, np.inf, g[5])]  # skipped as a whole
    wd = WEIGHT_DECAY[case]
    runs = {}
    for fused in (True, False):
        opt = DECAYING[case](wd, fused=fused, skip_nonfinite=True)
        runs[fused] = _decay_run(opt, grads, dtype)
        assert int(opt.nonfinite_steps.numpy()) == 1
    # float64: the two paths round alike but for the order of a few
    # operations (ulps a step); float32 the same in its own ulps
    tol = 1e-12 if dtype == "float64" else 1e-6
    for a, b in zip(runs[True], runs[False]):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)
    # (the two paths being equal, the fused one stands for both)
    undecayed = _decay_run(DECAYING[case](0.0, skip_nonfinite=True), grads, dtype)
    w, bias = runs[True][-1][:2]
    np.testing.assert_allclose(bias, undecayed[-1][1], rtol=tol, atol=tol)  # not decayed
    # decay pulls w towards 0 by about eta lambda |theta| a step: 1e-2
    assert np.all(np.abs(w - bias) > 1e-3)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("case", ["AdamW", "SGD-momentum"])
def test_exclusion_from_weight_decay_is_kerass(case, fused):
    """Two variables with the same gradients, one excluded from weight decay
    by name: each follows keras.optimizers' own optimizer with the same
    exclusion, and the two differ (by the decay of the one). float32 only:
    which variable decays does not depend on the dtype, and the float64
    path is the fused-and-plain test's."""
    name, dtype = case.split("-")[0], "float32"
    grads = np.random.default_rng(6).standard_normal((12, 3))
    ours = _decay_run(DECAYING[case](WEIGHT_DECAY[case], fused=fused), grads, dtype)
    kwargs = {"learning_rate": 0.05, "weight_decay": WEIGHT_DECAY[case]}
    if name == "SGD":
        kwargs["momentum"] = 0.9
    theirs = _decay_run(getattr(keras.optimizers, name)(**kwargs), grads, dtype)
    for j in (0, 1):
        actual = np.array([step[j] for step in ours])
        expected = np.array([step[j] for step in theirs])
        assert relative_error(actual, expected) <= TOLERANCE[dtype], j
    w, bias = ours[-1][:2]
    assert np.all(np.abs(w - bias) > 1e-3)
