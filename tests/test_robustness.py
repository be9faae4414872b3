"""Non-finite gradients, mixed precision, XLA, and property tests of state
round trips, for every filteropt optimizer.

References are always other runs: the same optimizer without the bad step,
with the other compilation mode, or Keras's built-in.
"""

import os
import tempfile

import keras
import numpy as np
import pytest
import robust_cases as rc
import tensorflow as tf
from helpers import relative_error, trajectory
from hypothesis import given, settings
from hypothesis import strategies as st

import filteropt
from filteropt.testing import (
    gradient_sequences,
    monotone_unit_dc_filters,
    optimizer_configs,
    stable_filters,
)

MODES = ["eager", "graph", "jit"]


def _assert_equal_arrays(actual, expected, what):
    assert len(actual) == len(expected), what
    for i, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(e), err_msg=f"{what}: {i}")


def _counter_index(optimizer):
    counter = optimizer.nonfinite_steps
    assert counter is not None, "skip_nonfinite=True must create the nonfinite_steps counter"
    index = [i for i, v in enumerate(optimizer.variables) if v.path == counter.path]
    assert len(index) == 1
    return index[0]


def _without(values, index):
    return [v for i, v in enumerate(values) if i != index]


# -- mixed precision: LossScaleOptimizer around a filteropt optimizer ----------------------


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_engine_paths_cover_every_optimizer():
    """rc.ENGINE_PATHS, which the model.fit checks below run, holds one
    optimizer for each way an optimizer of rc.NAMES keeps its state."""

    def path(key):
        optimizer = rc.make_optimizer(key)
        recipe = optimizer.recipe
        return (
            recipe.updates_in_place,
            recipe.uses_step_count,
            bool(recipe.scalar_init()),
            optimizer.weight_decay is not None,
            getattr(recipe.path.filter, "form", None),
            type(recipe.path).__name__,
            bool(recipe.hyperparameters.get("l2")),
        )

    assert {path(k) for k in rc.ENGINE_PATHS} == {path(k) for k in rc.NAMES}
    assert len({path(k) for k in rc.ENGINE_PATHS}) == len(rc.ENGINE_PATHS)


@pytest.mark.parametrize("key", rc.ENGINE_PATHS)
def test_mixed_precision_non_finite_step_leaves_weights_and_filter_state(mixed_float16, key):
    x, y = rc.data()
    xb, yb = x[: rc.BATCH], y[: rc.BATCH]
    model = rc.make_model()
    assert model.layers[0].compute_dtype == "float16"
    model.compile(optimizer=rc.make_optimizer(key), loss="mse", jit_compile=False)
    lso = model.optimizer
    assert isinstance(lso, keras.optimizers.LossScaleOptimizer)
    inner = lso.inner_optimizer
    assert type(inner) is type(rc.make_optimizer(key))
    for _ in range(3):
        model.train_on_batch(xb, yb)
    weights, state = model.get_weights(), rc.state(inner)
    assert int(inner.iterations) > 0, "no finite step was applied before the bad one"
    scale = float(lso.dynamic_scale)

    y_bad = yb.copy()
    y_bad[3] = np.inf  # the loss is inf, its gradients inf/NaN
    model.train_on_batch(xb, y_bad)
    assert float(lso.dynamic_scale) == scale / 2  # the step was seen as non-finite
    _assert_equal_arrays(model.get_weights(), weights, f"{key} weights")
    _assert_equal_arrays(rc.state(inner), state, f"{key} inner optimizer state")

    model.train_on_batch(xb, yb)  # and training goes on
    assert int(inner.iterations) == int(state[0]) + 1
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))


def test_loss_scale_optimizer_apply_gradients_skips_non_finite(mixed_float16):
    """apply_gradients on the wrapper directly, every optimizer."""
    rng = np.random.default_rng(3)
    for key in rc.NAMES:
        lso = keras.optimizers.LossScaleOptimizer(rc.make_optimizer(key))
        variables = [
            keras.Variable(rng.standard_normal(SHAPE), dtype="float32"),
            keras.Variable(rng.standard_normal(SHAPE), dtype="float32"),
        ]
        scale = float(lso.initial_scale)
        for _ in range(2):
            lso.apply_gradients(
                [
                    (tf.constant(scale * rng.standard_normal(v.shape), "float32"), v)
                    for v in variables
                ]
            )
        weights = [np.array(v) for v in variables]
        state = rc.state(lso.inner_optimizer)
        bad = [rng.standard_normal(SHAPE), rng.standard_normal(SHAPE)]
        bad[0][1, 2] = np.nan
        bad[1][0, 0] = np.inf
        lso.apply_gradients([(tf.constant(g, "float32"), v) for g, v in zip(bad, variables)])
        _assert_equal_arrays([np.array(v) for v in variables], weights, f"{key} weights")
        _assert_equal_arrays(rc.state(lso.inner_optimizer), state, f"{key} inner state")
        assert float(lso.dynamic_scale) == scale / 2, key


# -- skip_nonfinite=True without loss scaling ------------------------------------------------


# Two variables of one shape: the compiled update (fused=True) is traced
# once per optimizer and set of variable shapes.
SHAPE = (4, 3)


def _gradients(steps, bad_at, bad_value):
    rng = np.random.default_rng(11)
    grads = [
        [rng.standard_normal(SHAPE).astype("float32"), rng.standard_normal(SHAPE).astype("float32")]
        for _ in range(steps)
    ]
    bad = [g.copy() for g in grads[bad_at]]
    bad[0][2, 1] = bad_value  # one element of one variable's gradient
    return grads, bad


def _variables():
    rng = np.random.default_rng(5)
    return [
        keras.Variable(rng.standard_normal(SHAPE).astype("float32")),
        keras.Variable(rng.standard_normal(SHAPE).astype("float32")),
    ]


class _Group:
    """Optimizers with their own two variables each, driven by one step
    function (one trace for all of them)."""

    def __init__(self, makers):
        self.members = {}
        for label, make in makers.items():
            optimizer, variables = make(), _variables()
            optimizer.build(variables)
            self.members[label] = (optimizer, variables)

    def stepper(self, mode):
        def step(ga, gb):
            for optimizer, (va, vb) in self.members.values():
                optimizer.apply_gradients([(ga, va), (gb, vb)])

        if mode == "eager":
            return step
        return tf.function(step, jit_compile=(mode == "jit"))

    def snapshot(self):
        return {
            label: ([np.array(v) for v in variables], rc.state(optimizer))
            for label, (optimizer, variables) in self.members.items()
        }


def _drive(group, clean, mode, grads, bad, bad_at):
    """Runs ``grads`` through both groups, ``bad`` before step ``bad_at`` in
    ``group`` only; returns the snapshots before and after the bad step and
    at the end."""
    step = group.stepper(mode)
    clean_step = clean.stepper(mode) if clean is not None else None
    for i, g in enumerate(grads):
        if i == bad_at:
            before = group.snapshot()
            step(tf.constant(bad[0]), tf.constant(bad[1]))
            after = group.snapshot()
        step(tf.constant(g[0]), tf.constant(g[1]))
        if clean_step is not None:
            clean_step(tf.constant(g[0]), tf.constant(g[1]))
    return before, after, group.snapshot(), clean.snapshot() if clean is not None else None


@pytest.mark.parametrize("mode", MODES)
def test_skip_nonfinite_skips_the_step_and_nothing_else(mode):
    """A NaN in one element of one variable's gradient: no variable moves,
    no optimizer variable but the counter changes (iterations included), and
    the following steps are exactly those of a run without the bad step.
    Every optimizer in eager steps; traced (graph, XLA), one optimizer per
    engine path (rc.ENGINE_PATHS): the trace of all of them is the cost."""
    grads, bad = _gradients(6, 3, np.nan)
    keys = rc.NAMES if mode == "eager" else rc.ENGINE_PATHS
    makers = {k: (lambda k=k: rc.make_optimizer(k, skip_nonfinite=True)) for k in keys}
    group, clean = _Group(makers), _Group(makers)
    before, after, final, clean_final = _drive(group, clean, mode, grads, bad, 3)
    failures = []
    for key in keys:
        try:
            counter = _counter_index(group.members[key][0])
            (w0, s0), (w1, s1) = before[key], after[key]
            _assert_equal_arrays(w1, w0, "weights after the bad step")
            _assert_equal_arrays(
                _without(s1, counter),
                _without(s0, counter),
                "optimizer variables after the bad step",
            )
            assert s1[0] == s0[0], "iterations moved"
            assert s1[counter] == s0[counter] + 1, "nonfinite_steps did not count the step"
            (wf, sf), (wc, sc) = final[key], clean_final[key]
            _assert_equal_arrays(wf, wc, "final weights against the run without the bad step")
            _assert_equal_arrays(
                _without(sf, counter),
                _without(sc, counter),
                "final state against the run without the bad step",
            )
            assert sc[counter] == 0 and sf[counter] == 1
        except AssertionError as e:
            failures.append(f"{key}: {e}")
    assert not failures, "\n".join(failures)


def test_without_skip_nonfinite_the_step_goes_through_as_in_keras():
    """skip_nonfinite=False (the default) is Keras's behaviour: the
    non-finite values reach the same weights as with the Keras built-in,
    and iterations counts the step."""
    grads, bad = _gradients(5, 2, np.nan)
    bad[1][0, 0] = np.inf  # and an inf in the other variable's gradient
    makers = {k: (lambda k=k: rc.make_optimizer(k)) for k in rc.NAMES}
    makers.update({f"keras {k}": (lambda k=k: rc.make_keras_builtin(k)) for k in rc.KERAS_BUILTINS})
    group = _Group(makers)
    before, after, final, _ = _drive(group, None, "eager", grads, bad, 2)
    failures = []
    for key in rc.NAMES:
        assert group.members[key][0].nonfinite_steps is None
        (_, s0), (w1, s1) = before[key], after[key]
        if s1[0] != s0[0] + 1:
            failures.append(f"{key}: iterations did not count the step")
        if np.isfinite(w1[0]).all():  # a NaN always gets through
            failures.append(f"{key}: a NaN gradient left the weights finite")
        if key in rc.KERAS_BUILTINS:
            for snap, when in [(after, "after the bad step"), (final, "at the end")]:
                ours, theirs = snap[key][0], snap[f"keras {key}"][0]
                if any(
                    not np.array_equal(np.isfinite(a), np.isfinite(b)) for a, b in zip(ours, theirs)
                ):
                    failures.append(
                        f"{key}: non-finite weights differ from keras.optimizers.{key} {when}"
                    )
    assert np.isnan(after["keras Adam"][0][0]).any()  # "both get NaN"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("jit", [False, True])
def test_skip_nonfinite_in_model_fit(jit):
    """model.fit on data with one batch whose loss is inf gives exactly the
    model.fit on the data without that batch (Nadam: a time-varying filter
    whose schedule reads the step count)."""
    x, y = rc.data()
    bad_batch = slice(2 * rc.BATCH, 3 * rc.BATCH)
    y_bad = y.copy()
    y_bad[bad_batch.start + 3, 1] = np.inf
    keep = np.ones(len(x), bool)
    keep[bad_batch] = False
    results = []
    for xs, ys in [(x, y_bad), (x[keep], y[keep])]:
        model = rc.compiled_model(filteropt.Nadam(0.01, skip_nonfinite=True), jit_compile=jit)
        model.fit(xs, ys, batch_size=rc.BATCH, epochs=2, shuffle=False, verbose=0)
        results.append((model.get_weights(), model.optimizer))
    (w_bad, o_bad), (w_clean, o_clean) = results
    assert int(o_bad.nonfinite_steps) == 2 and int(o_clean.nonfinite_steps) == 0
    assert int(o_bad.iterations) == int(o_clean.iterations) == 2 * (len(x) // rc.BATCH - 1)
    _assert_equal_arrays(w_bad, w_clean, "weights")
    counter = _counter_index(o_bad)
    _assert_equal_arrays(
        _without(rc.state(o_bad), counter), _without(rc.state(o_clean), counter), "state"
    )


def _skip_run(make, mode, grads, bad, bad_at):
    """One optimizer, with the bad step at bad_at, and one without it."""
    results = []
    for with_bad in (True, False):
        optimizer, variables = make(), _variables()
        optimizer.build(variables)

        def step(ga, gb):
            optimizer.apply_gradients([(ga, variables[0]), (gb, variables[1])])

        if mode != "eager":
            step = tf.function(step, jit_compile=(mode == "jit"))
        for i, g in enumerate(grads):
            if with_bad and i == bad_at:
                step(tf.constant(bad[0]), tf.constant(bad[1]))
            step(tf.constant(g[0]), tf.constant(g[1]))
        results.append(([np.array(v) for v in variables], optimizer))
    return results


@pytest.mark.parametrize("mode", ["eager", "graph", "jit"])
def test_skip_nonfinite_with_gradient_accumulation(mode):
    """With gradient_accumulation_steps=2, the accumulated step holding the
    bad gradient is skipped as a whole: after its window the weights and the
    filter state are those before it, and training goes on."""
    grads, bad = _gradients(6, 2, np.nan)
    optimizer = filteropt.Adam(0.01, skip_nonfinite=True, gradient_accumulation_steps=2)
    variables = _variables()
    optimizer.build(variables)

    def step(ga, gb):
        optimizer.apply_gradients([(ga, variables[0]), (gb, variables[1])])

    if mode != "eager":
        step = tf.function(step, jit_compile=(mode == "jit"))
    for g in grads[:2]:  # one applied window
        step(tf.constant(g[0]), tf.constant(g[1]))
    weights, state = [np.array(v) for v in variables], rc.state(optimizer)
    step(tf.constant(bad[0]), tf.constant(bad[1]))  # a window holding the bad gradient
    step(tf.constant(grads[2][0]), tf.constant(grads[2][1]))
    counter = _counter_index(optimizer)
    after = rc.state(optimizer)
    assert after[counter] == state[counter] + 1
    _assert_equal_arrays([np.array(v) for v in variables], weights, "weights")
    # everything but the micro-step counter (iterations) and the skip counter
    _assert_equal_arrays(_without(after, counter)[1:], _without(state, counter)[1:], "state")
    for g in grads[3:]:
        step(tf.constant(g[0]), tf.constant(g[1]))
    final = [np.array(v) for v in variables]
    assert all(np.all(np.isfinite(w)) for w in final)
    assert not all(np.array_equal(a, b) for a, b in zip(final, weights))


@pytest.mark.parametrize("mode, overwrite", [("eager", None), ("graph", 2), ("jit", None)])
def test_skip_nonfinite_leaves_the_weight_average_alone(mode, overwrite):
    """use_ema: the skipped step must not move the moving average, nor
    overwrite the weights with it (LossScaleOptimizer, which never calls the
    inner optimizer on such a step, leaves both alone)."""
    grads, bad = _gradients(6, 3, np.nan)

    def make():
        return filteropt.Adam(
            0.01,
            skip_nonfinite=True,
            use_ema=True,
            ema_momentum=0.5,
            ema_overwrite_frequency=overwrite,
        )

    (w_bad, o_bad), (w_clean, o_clean) = _skip_run(make, mode, grads, bad, 3)
    counter = _counter_index(o_bad)
    _assert_equal_arrays(w_bad, w_clean, "weights")
    _assert_equal_arrays(
        _without(rc.state(o_bad), counter),
        _without(rc.state(o_clean), counter),
        "state (with the averages)",
    )


# -- XLA -------------------------------------------------------------------------------------


def _assert_float32_close(actual, expected, steps, what):
    """Two float32 runs of ``steps`` steps that round in different orders
    (XLA fuses the step, or Keras's built-in orders it otherwise): each step
    they may round a value one ulp apart, and nothing amplifies that in this
    small fit, so ``steps`` such ulps (2e-7 is seen after 24 steps).

    The bound is normwise, an ulp of the array's largest entry (or of 1),
    as rounding bounds of matrix products are: an entry's gradient is a
    reduction over the whole layer, so its rounding error scales with the
    layer's largest terms, not with the entry. A state that stores a
    normalized gradient (torch's centered RMSprop keeps g / sigma in its
    momentum buffer) shows it: entries of 0.05 and 0.9 in a buffer whose
    entries reach 3.4 differ by 4e-6 and 5.5e-6 between the two orders (46
    ulps of 1, 13 of 3.4); in float64 the two orders differ by 27 ulps."""
    tol = steps * 2.0**-23
    assert len(actual) == len(expected), what
    for i, (a, e) in enumerate(zip(actual, expected)):
        a, e = np.asarray(a, float), np.asarray(e, float)
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        np.testing.assert_allclose(a, e, rtol=0, atol=tol * scale, err_msg=f"{what} {i}")


@pytest.mark.parametrize("key", rc.FIT_NAMES)
def test_model_fit_with_and_without_xla(key):
    """model.fit with jit_compile=True against the jit_compile=False run of
    rc.trained_run (the same TOTAL_EPOCHS of the same data), weights and
    optimizer state; and where Keras has the optimizer, that run against
    model.fit with Keras's built-in and the same arguments. (Every optimizer
    in model.fit: the engine's tf.function path and XLA around the step.)"""
    steps = rc.TOTAL_EPOCHS * (rc.N_SAMPLES // rc.BATCH)
    model = rc.compiled_model(rc.make_optimizer(key), jit_compile=True)
    history = rc.fit(model, rc.TOTAL_EPOCHS)
    assert all(np.isfinite(loss) for loss in history.history["loss"])
    end = rc.trained_run(key).end
    assert all(np.all(np.isfinite(w)) for w in end["weights"])
    assert not all(np.array_equal(w, w0) for w, w0 in zip(end["weights"], rc.initial_weights()))
    _assert_float32_close(model.get_weights(), end["weights"], steps, f"{key} XLA: weight")
    state = rc.state(model.optimizer)
    assert len(state) == len(end["state"])
    _assert_float32_close(state, end["state"], steps, f"{key} XLA: optimizer variable")
    if key in rc.KERAS_BUILTINS:
        reference = rc.compiled_model(rc.make_keras_builtin(key))
        rc.fit(reference, rc.TOTAL_EPOCHS)
        _assert_float32_close(
            end["weights"],
            reference.get_weights(),
            steps,
            f"{key} against keras.optimizers.{key}: weight",
        )


# -- properties ------------------------------------------------------------------------------


def _make(name, kwargs, **extra):
    return getattr(filteropt, name)(**{**kwargs, **extra})


def _apply(optimizer, variable, grads):
    out = []
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), variable)])
        out.append(np.array(variable))
    return np.array(out)


@settings(max_examples=8, deadline=None)
@given(
    config=optimizer_configs(),
    grads=gradient_sequences(steps=12, width=3, min_scale=1e-3, max_scale=10.0),
    split=st.integers(1, 10),
    via=st.sampled_from(["assign", "checkpoint"]),
)
def test_state_round_trip_is_the_identity(config, grads, split, via):
    """get_config/from_config plus the variables (assigned, or through a
    tf.train.Checkpoint) continue exactly as the original does."""
    name, kwargs = config
    original = _make(name, kwargs)
    variable = keras.Variable(np.full(3, 0.5), dtype="float64")
    _apply(original, variable, grads[:split])

    clone = type(original).from_config(original.get_config())
    twin = keras.Variable(np.array(variable), dtype="float64")
    if via == "assign":
        clone.build([twin])
        for mine, theirs in zip(clone.variables, original.variables):
            mine.assign(theirs)
    else:
        with tempfile.TemporaryDirectory() as d:
            path = tf.train.Checkpoint(optimizer=original, v=variable).write(os.path.join(d, "c"))
            clone.build([twin])
            tf.train.Checkpoint(optimizer=clone, v=twin).read(path).assert_consumed()
    _assert_equal_arrays(rc.state(clone), rc.state(original), "state")
    assert [v.dtype for v in clone.variables] == [v.dtype for v in original.variables]
    np.testing.assert_array_equal(
        _apply(clone, twin, grads[split:]), _apply(original, variable, grads[split:])
    )


@settings(max_examples=8, deadline=None)
@given(
    config=optimizer_configs(),
    grads=gradient_sequences(steps=10, width=3, min_scale=1e-3, max_scale=10.0),
    bad_at=st.integers(0, 9),
    column=st.integers(0, 2),
    bad_value=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_a_skipped_step_changes_nothing(config, grads, bad_at, column, bad_value):
    name, kwargs = config
    with_bad = _make(name, kwargs, skip_nonfinite=True)
    clean = _make(name, kwargs, skip_nonfinite=True)
    v_bad = keras.Variable(np.full(3, 0.5), dtype="float64")
    v_clean = keras.Variable(np.full(3, 0.5), dtype="float64")
    with_bad.build([v_bad])
    clean.build([v_clean])
    bad = grads[bad_at].copy()
    bad[column] = bad_value
    _apply(with_bad, v_bad, grads[:bad_at])
    before = rc.state(with_bad), np.array(v_bad)
    _apply(with_bad, v_bad, [bad])
    counter = _counter_index(with_bad)
    _assert_equal_arrays(
        _without(rc.state(with_bad), counter),
        _without(before[0], counter),
        "state after the bad step",
    )
    np.testing.assert_array_equal(np.array(v_bad), before[1])
    _apply(with_bad, v_bad, grads[bad_at:])
    _apply(clean, v_clean, grads)
    np.testing.assert_array_equal(np.array(v_bad), np.array(v_clean))
    _assert_equal_arrays(
        _without(rc.state(with_bad), counter), _without(rc.state(clean), counter), "final state"
    )
    assert int(with_bad.nonfinite_steps) == 1 and int(clean.nonfinite_steps) == 0


@settings(max_examples=8, deadline=None)
@given(
    f=stable_filters(max_order=2),
    g=stable_filters(max_order=2),
    grads=gradient_sequences(steps=40, width=3, min_scale=1e-2, max_scale=10.0),
)
def test_series_filters_commute(f, g, grads):
    """LTI filters commute: f*g and g*f give one trajectory (their
    coefficients differ by float64 rounding at most)."""
    fg = filteropt.FilterOptimizer(learning_rate=0.01, gradient_filter=f * g)
    gf = filteropt.FilterOptimizer(learning_rate=0.01, gradient_filter=g * f)
    assert fg.gradient_filter.isclose(gf.gradient_filter)
    a, b = trajectory(fg, grads), trajectory(gf, grads)
    assert np.all(np.isfinite(a))
    assert relative_error(a, b) <= 1e-9


@settings(max_examples=6, deadline=None)
@given(
    f=monotone_unit_dc_filters(max_order=2),
    g=monotone_unit_dc_filters(max_order=2),
    grads=gradient_sequences(steps=40, width=3, min_scale=1e-2, max_scale=10.0),
)
def test_compensated_normalized_series_filters_commute(f, g, grads):
    """The same through transient compensation and an RMS normalizer. f and
    g have non-negative impulse responses, so f * g has one too and its step
    response stays positive (two unit_dc_filters need not give that: their
    product's step response may cross zero, and compensation is refused)."""

    def make(h):
        return filteropt.FilterOptimizer(
            learning_rate=0.01,
            gradient_filter=h,
            transient_compensation=True,
            normalizer=filteropt.normalizers.RMS(
                filteropt.filters.ema(0.99), compensate=True, epsilon_mode="outside"
            ),
        )

    a, b = trajectory(make(f * g), grads), trajectory(make(g * f), grads)
    assert np.all(np.isfinite(a))
    assert relative_error(a, b) <= 1e-9


@settings(max_examples=40, deadline=None)
@given(fs=st.lists(monotone_unit_dc_filters(max_order=2), min_size=1, max_size=4))
def test_monotone_unit_dc_filters_compose_to_compensable_filters(fs):
    """Any series connection of monotone_unit_dc_filters (up to 8 sections)
    has H(1) = 1, a non-negative impulse response and a step response no
    lower than b[0] >= 0.2^8, so transient compensation accepts it."""
    h = fs[0]
    for f in fs[1:]:
        h = h * f
    assert abs(h.dc_gain - 1.0) < 1e-9
    assert np.all(h.impulse_response(400) >= -1e-12)
    margin = filteropt.signal.compensation.step_response_margin(h)
    assert margin >= h.input_gain * (1 - 1e-9) and h.input_gain >= 0.2**8 * (1 - 1e-9)
    filteropt.FilterPath(h, compensate=True)  # raises ValueError if refused
