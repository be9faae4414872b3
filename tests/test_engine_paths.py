"""Each way the engine writes an update, against Keras's own optimizers.

The paths (``filteropt.keras.engine``): the step's one compiled launch, the
launch per device under a strategy, the per-operation path, row-sparse
gradients (alone and beside a compiled launch). On each: decoupled weight
decay applied once, as Keras's ``AdamW`` / ``SGD(weight_decay=...)`` apply
it, honouring ``exclude_from_weight_decay`` and the learning-rate schedule;
a non-finite step skipped whole (variables, slots, EMA averages and decay);
and ``fused="auto"``'s choice by size, on both sides of the threshold. The
reference is always Keras's optimizer on the same (dense) gradients.
"""

import keras
import numpy as np
import pytest
from helpers import TOLERANCE, relative_error

import filteropt
from filteropt.keras import fused as F

tf = pytest.importorskip("tensorflow")

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="compiled and row-sparse paths are TensorFlow's"
)

STEPS = 12
THETA0 = 2.0
EMB = (6, 3)  # the variable with a row-sparse gradient


def _schedule():
    return keras.optimizers.schedules.ExponentialDecay(0.05, 4, 0.6)


#: (filteropt class, Keras class, arguments of both)
DECAYING = {
    "AdamW": (
        filteropt.AdamW,
        keras.optimizers.AdamW,
        lambda: {"learning_rate": _schedule(), "weight_decay": 0.3},
    ),
    "SGD-momentum": (
        filteropt.SGD,
        keras.optimizers.SGD,
        lambda: {"learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.4},
    ),
    "Adagrad": (
        filteropt.Adagrad,
        keras.optimizers.Adagrad,
        lambda: {"learning_rate": _schedule(), "weight_decay": 0.5},
    ),
    "RMSprop": (
        filteropt.RMSprop,
        keras.optimizers.RMSprop,
        lambda: {"learning_rate": 0.01, "weight_decay": 0.5},
    ),
}

#: path -> (fused, strategy, sparse embedding)
PATHS = {
    "compiled": (True, False, False),
    "per-operation": (False, False, False),
    "per-device": (True, True, False),
    "beside-sparse": (True, False, True),
    "sparse": (False, False, True),
}


def _gradients(sparse, seed=3):
    """Per step: the dense gradients of w and bias (the same for both, so
    that only the decay tells them apart), and the embedding's rows."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(STEPS):
        g = rng.standard_normal(3)
        step = [g, g.copy()]
        if sparse:
            idx = rng.integers(0, EMB[0], size=4)  # duplicates: summed, as dense
            step.append((rng.standard_normal((4, EMB[1])), idx))
        out.append(step)
    return out


def _dense(grad):
    if isinstance(grad, tuple):
        values, idx = grad
        dense = np.zeros(EMB)
        np.add.at(dense, idx, values)
        return dense
    return grad


def _as_tensor(grad, sparse):
    if isinstance(grad, tuple):
        values, idx = grad
        if sparse:
            return tf.IndexedSlices(tf.constant(values), tf.constant(idx), tf.constant(EMB))
        return tf.constant(_dense(grad))
    return tf.constant(grad)


def _run(make, grads, strategy=False, sparse=False, exclude=True):
    """Trains w, bias (and the embedding) on ``grads``; returns the
    variables after each step, and the optimizer and its variables."""
    scope = tf.distribute.OneDeviceStrategy("/cpu:0") if strategy else None
    shapes = [(3,), (3,)] + ([EMB] if len(grads[0]) == 3 else [])
    names = ["w", "bias", "emb"]

    def build():
        variables = [
            keras.Variable(np.full(s, THETA0), dtype="float64", name=n)
            for s, n in zip(shapes, names)
        ]
        opt = make()
        if exclude:
            opt.exclude_from_weight_decay(var_names=["bias"])
        opt.build(variables)
        return opt, variables

    if scope is None:
        opt, variables = build()
        step = tf.function(lambda *g: opt.apply(list(g), variables))
    else:
        with scope.scope():
            opt, variables = build()
        step = tf.function(lambda *g: scope.run(lambda: opt.apply(list(g), variables)))
    out = []
    for g in grads:
        step(*[_as_tensor(x, sparse) for x in g])
        out.append([v.numpy().copy() for v in variables])
    return out, opt, variables


def _assert_trajectories(actual, expected, label):
    for k in range(len(expected[0])):
        a = np.array([step[k].ravel() for step in actual])
        e = np.array([step[k].ravel() for step in expected])
        err = relative_error(a - THETA0, e - THETA0)
        assert err <= TOLERANCE["float64"], f"{label}, variable {k}: {err:.3g} from Keras"


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("name", sorted(DECAYING))
def test_weight_decay_once_as_keras_applies_it(name, path):
    ours_cls, keras_cls, kwargs = DECAYING[name]
    fused, strategy, sparse = PATHS[path]
    grads = _gradients(sparse)
    expected, _, _ = _run(lambda: keras_cls(**kwargs()), [[_dense(x) for x in g] for g in grads])
    actual, _opt, _ = _run(lambda: ours_cls(fused=fused, **kwargs()), grads, strategy, sparse)
    _assert_trajectories(actual, expected, f"{name} {path}")
    # The decay is there (the excluded bias has w's gradient and start).
    assert not np.allclose(actual[-1][0], actual[-1][1], rtol=1e-6, atol=0)


@pytest.mark.parametrize("path", ["compiled", "per-operation"])
def test_weight_decay_under_gradient_accumulation(path):
    """Keras decays in its update branch only: once per accumulated step."""
    fused = PATHS[path][0]
    kwargs = {"learning_rate": 0.05, "weight_decay": 0.3, "gradient_accumulation_steps": 3}
    grads = _gradients(False)
    expected, _, _ = _run(lambda: keras.optimizers.AdamW(**kwargs), grads)
    actual, _, _ = _run(lambda: filteropt.AdamW(fused=fused, **kwargs), grads)
    _assert_trajectories(actual, expected, path)


def _adam_state(opt, variables, keras_opt):
    """Per variable: (m, v, EMA average) of filteropt's or Keras's AdamW."""
    out = []
    for i, var in enumerate(variables):
        slots = [opt._momentums[i], opt._velocities[i]] if keras_opt else opt._slot_variables(var)
        out.append(
            [np.asarray(s) for s in slots] + [np.asarray(opt._model_variables_moving_average[i])]
        )
    return out


@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_non_finite_step_is_skipped_whole(path):
    """A NaN in one gradient: that step leaves the variables, the slots, the
    EMA averages and the decay as they were; the run is Keras's AdamW on
    the other steps."""
    fused, strategy, sparse = PATHS[path]
    bad = 5
    grads = _gradients(sparse)
    grads[bad][0] = grads[bad][0].copy()
    grads[bad][0][1] = np.nan
    kwargs = {
        "learning_rate": _schedule(),
        "weight_decay": 0.3,
        "use_ema": True,
        "ema_momentum": 0.7,
    }
    clean = [[_dense(x) for x in g] for i, g in enumerate(grads) if i != bad]
    expected, k_opt, k_vars = _run(lambda: keras.optimizers.AdamW(**kwargs), clean)
    actual, opt, variables = _run(
        lambda: filteropt.AdamW(fused=fused, skip_nonfinite=True, **kwargs), grads, strategy, sparse
    )
    for before, after in zip(actual[bad - 1], actual[bad]):
        np.testing.assert_array_equal(after, before)
    _assert_trajectories(actual[:bad] + actual[bad + 1 :], expected, path)
    assert int(opt.nonfinite_steps.numpy()) == 1
    assert int(opt.iterations.numpy()) == int(k_opt.iterations.numpy())
    for ours, theirs in zip(_adam_state(opt, variables, False), _adam_state(k_opt, k_vars, True)):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=TOLERANCE["float64"], atol=1e-12)


def _launches(opt, variables, grads):
    """The XLA launches in the traced step."""
    fn = tf.function(lambda *g: opt.apply(list(g), variables))
    graph = fn.get_concrete_function(*grads).graph
    return [
        op
        for op in graph.get_operations()
        if "PartitionedCall" in op.type and op.node_def.attr["_XlaMustCompile"].b
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Adam", "SGD-momentum"])
def test_auto_fuses_by_size_with_keras_trajectory_either_side(name):
    """fused="auto" compiles a variable of MIN_SIZE parameters and runs one
    of a parameter fewer per operation; both follow Keras's optimizer."""
    cls, kwargs = name.split("-")[0], ({"momentum": 0.9} if "momentum" in name else {})
    rng = np.random.default_rng(11)
    for size, compiled in ((F.MIN_SIZE, True), (F.MIN_SIZE - 1, False)):
        grads = [tf.constant(rng.standard_normal(size)) for _ in range(6)]
        runs = []
        for opt in (getattr(keras.optimizers, cls)(**kwargs), getattr(filteropt, cls)(**kwargs)):
            v = keras.Variable(np.zeros(size), dtype="float64")
            opt.build([v])
            runs.append(_steps(opt, v, grads))
        assert len(_launches(opt, [v], [tf.TensorSpec([size], "float64")])) == compiled
        err = relative_error(np.array(runs[1]), np.array(runs[0]))
        assert err <= TOLERANCE["float64"], f"{name}, {size} parameters: {err:.3g}"


def _steps(opt, v, grads):
    step = tf.function(lambda g: opt.apply([g], [v]))
    out = []
    for g in grads:
        step(g)
        out.append(v.numpy().copy())
    return out


def test_auto_compiles_only_the_variables_that_pay():
    """One launch for the large variables of a step; small ones and a
    row-sparse gradient stay outside it; none at all for a small model."""
    n = F.MIN_SIZE
    big = [keras.Variable(np.zeros(n)), keras.Variable(np.zeros((n // 4 + 1, 4)))]
    small = [keras.Variable(np.zeros((64, 64))), keras.Variable(np.zeros(64))]
    emb = keras.Variable(np.zeros((n, 2)))
    spec = lambda v: tf.TensorSpec(v.shape, "float64")  # noqa: E731
    opt = filteropt.Adam()
    opt.build(big + small + [emb])
    sparse = tf.IndexedSlicesSpec([n, 2], "float64", "int64", "int64")
    launches = _launches(opt, big + small + [emb], [spec(v) for v in big + small] + [sparse])
    assert len(launches) == 1
    # the launch updates the two large variables (and their two slots each)
    assert len([t for t in launches[0].inputs if t.dtype == tf.resource]) == 6
    small_opt = filteropt.Adam()
    small_opt.build(small)
    assert not _launches(small_opt, small, [spec(v) for v in small])
    assert not _launches(filteropt.Adam(fused=False), big, [spec(v) for v in big])


def test_fused_must_be_a_bool_or_auto():
    with pytest.raises(TypeError, match="`fused` must be True, False or 'auto'"):
        filteropt.Adam(fused="yes")
    assert filteropt.Adam().get_config()["fused"] == "auto"
    assert filteropt.Adam.from_config(filteropt.Adam(fused=False).get_config()).fused is False
