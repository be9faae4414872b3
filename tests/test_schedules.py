"""Learning-rate schedules: closed forms, serialization, training, errors, plots."""

import json
import math
import re

import keras
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import filteropt
import filteropt.keras.schedules as S

NAMES = ["constant", "exponential", "linear", "step", "fractional", "steps", "cyclical", "sgdr"]
RTOL = 2e-5  # float32 arithmetic in the schedules


def values(schedule, steps):
    """The schedule at each step, one scalar call per step (as the optimizer does)."""
    return np.array([float(keras.ops.convert_to_numpy(schedule(int(i)))) for i in steps])


# -- independent closed forms (numpy, written from the formulas, not the code) ------------


def triangular(i, base, peak, s, mode="triangular"):
    """Smith (2017), the paper's triangular policy."""
    i = np.asarray(i, dtype=float)
    cycle = np.floor(1 + i / (2 * s))
    x = np.abs(i / s - 2 * cycle + 1)
    scale = 1.0 if mode == "triangular" else 1.0 / 2.0 ** (cycle - 1)
    return base + (peak - base) * np.maximum(0.0, 1 - x) * scale


def sgdr_reference(i, eta, period, t_mul, m_mul, alpha):
    """SGDR by walking the restarts one period at a time."""
    out = []
    for step in np.asarray(i):
        start, length, r = 0.0, float(period), 0
        while step >= start + length:
            start, length, r = start + length, length * t_mul, r + 1
        j = step - start
        out.append(
            eta * ((1 - alpha) * m_mul**r * 0.5 * (1 + math.cos(math.pi * j / length)) + alpha)
        )
    return np.array(out)


T, E, LR = 200, 20, 0.05
STEPS = np.array([0, 1, 7, 19, 20, 21, 55, 99, 100, 101, 149, 150, 151, 199, 200, 260])

CASES = [
    ("constant", lambda i: np.full(i.shape, LR)),
    ("exponential", lambda i: LR * 0.01 ** (i / T)),
    ("exponential:final_fraction=0.2", lambda i: LR * 0.2 ** (i / T)),
    ("exponential:rate=0.99", lambda i: LR * 0.99**i),
    ("linear", lambda i: LR * (1 - np.minimum(i, T) / T)),
    ("linear:end_fraction=0.25", lambda i: LR + (0.25 * LR - LR) * np.minimum(i, T) / T),
    ("step", lambda i: LR * 0.5 ** np.floor(i / (10 * E))),
    ("step:factor=0.3,every=2", lambda i: LR * 0.3 ** np.floor(i / (2 * E))),
    ("step:factor=0.9,every=0.5", lambda i: LR * 0.9 ** np.floor(i / (0.5 * E))),
    ("fractional", lambda i: LR / (1 + 9 / T * i)),
    ("fractional:kappa=0.05", lambda i: LR / (1 + 0.05 * i)),
    ("steps", lambda i: LR * 0.2 ** ((i >= 0.5 * T).astype(int) + (i >= 0.75 * T))),
    (
        "steps:factor=0.1,milestones=[0.1,0.5,0.9]",
        lambda i: LR * 0.1 ** ((i >= 20).astype(int) + (i >= 100) + (i >= 180)),
    ),
    ("steps:milestones=0.3", lambda i: LR * 0.2 ** (i >= 60)),
    ("cyclical", lambda i: triangular(i, LR, 4 * LR, 2 * E)),
    ("cyclical:max_lr=0.3,step_size=15", lambda i: triangular(i, LR, 0.3, 15)),
    (
        "cyclical:max_lr=0.3,step_size=15,mode=triangular2",
        lambda i: triangular(i, LR, 0.3, 15, "triangular2"),
    ),
    ("sgdr", lambda i: sgdr_reference(i, LR, E, 2.0, 1.0, 0.0)),
    (
        "sgdr:first_decay_steps=30,t_mul=1,m_mul=0.5,alpha=0.1",
        lambda i: sgdr_reference(i, LR, 30, 1.0, 0.5, 0.1),
    ),
    (
        "sgdr:first_decay_fraction=0.25,t_mul=1.5,alpha=0.05",
        lambda i: sgdr_reference(i, LR, 50, 1.5, 1.0, 0.05),
    ),
]


@pytest.mark.parametrize("spec,expected", CASES, ids=[c[0] for c in CASES])
def test_closed_forms(spec, expected):
    sched = S.get(spec, LR, T, steps_per_epoch=E)
    assert isinstance(sched, keras.optimizers.schedules.LearningRateSchedule)
    np.testing.assert_allclose(
        values(sched, STEPS), expected(STEPS.astype(float)), rtol=RTOL, atol=1e-9
    )


def test_every_schedule_starts_at_the_learning_rate():
    for name in S.names():
        assert values(S.get(name, 0.02, 100, 10), [0])[0] == pytest.approx(0.02, rel=1e-6), name


def test_names():
    assert S.names() == NAMES
    assert set(S.SCHEDULES) == set(NAMES)


def test_stated_landmarks():
    """The documented behaviour, checked at the points that define it."""
    # steps: x0.2 from 50% of training, x0.04 from 75%.
    v = values(S.get("steps", 1.0, 100), [49, 50, 74, 75])
    np.testing.assert_allclose(v, [1.0, 0.2, 0.2, 0.04], rtol=1e-6)
    # fractional's default: a tenth of the rate at the end of training.
    assert values(S.get("fractional", 1.0, 300), [300])[0] == pytest.approx(0.1, rel=1e-5)
    # exponential's default: 1% at the end of training.
    assert values(S.get("exponential", 1.0, 300), [300])[0] == pytest.approx(0.01, rel=1e-4)
    # step: a staircase that drops exactly at each multiple of every*E.
    v = values(S.get("step:factor=0.5,every=3", 1.0, 1000, steps_per_epoch=7), [20, 21, 41, 42])
    np.testing.assert_allclose(v, [1.0, 0.5, 0.5, 0.25], rtol=1e-6)
    # sgdr: restarts at one epoch by default (t_mul=2: then 2 epochs later).
    v = values(S.get("sgdr", 1.0, 1000, steps_per_epoch=10), [5, 10, 20, 30])
    np.testing.assert_allclose(v, [0.5, 1.0, 0.5, 1.0], rtol=1e-5, atol=1e-6)
    # sgdr without epochs: the first period is a tenth of training.
    v = values(S.get("sgdr:t_mul=1", 1.0, 400), [20, 40, 60])
    np.testing.assert_allclose(v, [0.5, 1.0, 0.5], rtol=1e-5, atol=1e-6)
    # cyclical: base, peak, base; triangular2's second peak is half as high.
    v = values(
        S.get("cyclical:max_lr=5.0,step_size=10,mode=triangular2", 1.0, 100), [0, 10, 20, 30]
    )
    np.testing.assert_allclose(v, [1.0, 5.0, 1.0, 3.0], rtol=1e-6)
    # linear holds at its end value after training.
    assert values(S.get("linear:end_fraction=0.5", 2.0, 50), [500])[0] == pytest.approx(
        1.0, rel=1e-6
    )


@settings(max_examples=30)
@given(
    base=st.floats(1e-5, 1.0),
    ratio=st.floats(1.0, 20.0),
    step_size=st.integers(1, 50),
    mode=st.sampled_from(["triangular", "triangular2"]),
    steps=st.lists(st.integers(0, 500), min_size=1, max_size=8),
)
@example(base=0.3, ratio=20.0, step_size=7, mode="triangular", steps=[449])  # 1.7e-5 off
def test_triangular_cyclical_property(base, ratio, step_size, mode, steps):
    sched = S.TriangularCyclical(base, base * ratio, step_size, mode=mode)
    v = values(sched, steps)
    # float32: i / step_size is off by up to (i / s) 2^-24, and the height
    # 1 - x it sets is at least 1 / s where it is not 0, so the rate is off
    # by up to i 2^-24 relative; a few roundings more in the products.
    rtol = (max(steps) + 4) * 2.0**-24
    np.testing.assert_allclose(
        v, triangular(np.array(steps), base, base * ratio, step_size, mode), rtol=rtol
    )
    assert np.all(v >= base * (1 - 1e-6)) and np.all(v <= base * ratio * (1 + 1e-6))


@settings(max_examples=30)
@given(
    lr=st.floats(1e-4, 1.0),
    factor=st.floats(0.01, 1.0),
    every=st.integers(1, 5),
    spe=st.integers(1, 20),
    steps=st.lists(st.integers(0, 400), min_size=1, max_size=8),
)
def test_step_property(lr, factor, every, spe, steps):
    sched = S.get(f"step:factor={factor!r},every={every}", lr, 400, steps_per_epoch=spe)
    i = np.array(steps, dtype=float)
    # rtol: float32's factor ** k is exp(k ln factor) rounded; for a rate
    # float32 holds (k |ln factor| < 87) that is off by under 87 * 2^-24
    # (5e-6) relative, with the factor's own rounding k 2^-24 (2.4e-5 at
    # most). atol: float32 flushes rates below its smallest normal number.
    np.testing.assert_allclose(
        values(sched, steps), lr * factor ** np.floor(i / (every * spe)), rtol=1e-4, atol=1e-37
    )


@pytest.mark.parametrize(
    "cls,args",
    [
        (S.Constant, (0.3,)),
        (S.TriangularCyclical, (0.01, 0.1, 7, "triangular2")),
    ],
)
def test_custom_schedules_in_tf_function_and_xla(cls, args):
    import tensorflow as tf

    sched = cls(*args)
    steps = np.arange(0, 40, 3, dtype=np.int64)
    eager = values(sched, steps)
    for jit in (False, True):
        fn = tf.function(sched.__call__, jit_compile=jit)
        got = np.array([float(fn(tf.constant(s, dtype=tf.int64))) for s in steps])
        np.testing.assert_allclose(got, eager, rtol=1e-6)
        # A vector of steps, as the plots use.
        np.testing.assert_allclose(
            fn(tf.constant(steps)).numpy() + np.zeros(len(steps)), eager, rtol=1e-6
        )


# -- serialization ------------------------------------------------------------------------

SERIAL_SPECS = [
    c[0]
    for c in CASES
    if c[0]
    in (
        "constant",
        "exponential:rate=0.99",
        "linear:end_fraction=0.25",
        "step:factor=0.3,every=2",
        "fractional",
        "steps:factor=0.1,milestones=[0.1,0.5,0.9]",
        "cyclical:max_lr=0.3,step_size=15,mode=triangular2",
        "sgdr:first_decay_steps=30,t_mul=1,m_mul=0.5,alpha=0.1",
    )
]
CHECK_STEPS = [0, 3, 15, 31, 60, 100, 151, 199]


@pytest.mark.parametrize("spec", SERIAL_SPECS)
def test_serialize_round_trip(spec):
    sched = S.get(spec, LR, T, steps_per_epoch=E)
    data = keras.optimizers.schedules.serialize(sched)
    data = json.loads(json.dumps(data))  # JSON-safe
    back = keras.optimizers.schedules.deserialize(data)
    assert type(back) is type(sched)
    assert back.get_config() == sched.get_config()
    np.testing.assert_allclose(values(back, CHECK_STEPS), values(sched, CHECK_STEPS), rtol=1e-7)


def test_custom_classes_are_registered_and_config_mirrors_init():
    for cls in (S.Constant, S.TriangularCyclical):
        assert keras.saving.get_registered_name(cls) == f"filteropt>{cls.__name__}"
    c = S.TriangularCyclical(0.01, 0.2, 9, mode="triangular2", name="clr")
    assert S.TriangularCyclical(**c.get_config()).get_config() == c.get_config()
    assert c.get_config() == {
        "base_learning_rate": 0.01,
        "max_learning_rate": 0.2,
        "step_size": 9,
        "mode": "triangular2",
        "name": "clr",
    }
    k = S.Constant(0.5, name="k")
    assert S.Constant.from_config(k.get_config()).get_config() == {
        "learning_rate": 0.5,
        "name": "k",
    }
    with pytest.raises(ValueError, match="mode"):
        S.TriangularCyclical(0.1, 0.2, 3, mode="sawtooth")


@pytest.mark.parametrize(
    "spec",
    ["cyclical:max_lr=0.3,step_size=15,mode=triangular2", "steps", "sgdr:t_mul=1.5", "constant"],
)
def test_round_trip_inside_optimizer(spec):
    sched = S.get(spec, LR, T, steps_per_epoch=E)
    opt = filteropt.Adam(learning_rate=sched)
    clone = type(opt).from_config(opt.get_config())
    again = keras.optimizers.deserialize(json.loads(json.dumps(keras.optimizers.serialize(opt))))
    assert type(again) is type(opt)
    for o in (clone, again):
        assert o.get_config()["learning_rate"] == opt.get_config()["learning_rate"]
    for k in CHECK_STEPS:
        for o in (opt, clone, again):
            o.iterations.assign(k)
        want = values(sched, [k])[0]
        for o in (opt, clone, again):
            assert float(o.learning_rate) == pytest.approx(want, rel=1e-6), (spec, k)


# -- training ---------------------------------------------------------------------------


@pytest.mark.parametrize("jit", [True, False], ids=["xla", "no-xla"])
@pytest.mark.parametrize(
    "spec",
    [
        "cyclical:max_lr=0.2,step_size=2,mode=triangular2",
        "sgdr:first_decay_steps=3,t_mul=1,alpha=0.1",
    ],
)
def test_fit_follows_schedule(spec, jit):
    """Full-batch gradient descent on least squares: the weights after fit()
    match numpy gradient descent with the closed-form rates step for step."""
    rng = np.random.default_rng(0)
    n, d, epochs, lr = 16, 3, 8, 0.05
    x = rng.normal(size=(n, d)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3).astype("float32")[:, None]
    sched = S.get(spec, lr, total_steps=epochs, steps_per_epoch=1)

    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=filteropt.SGD(learning_rate=sched), loss="mse", jit_compile=jit)
    hist = model.fit(x, y, batch_size=n, epochs=epochs, shuffle=False, verbose=0)
    assert int(model.optimizer.iterations) == epochs

    name, _kw = filteropt.recipes.parse(spec)
    rates = (
        triangular(np.arange(epochs), lr, 0.2, 2, "triangular2")
        if name == "cyclical"
        else sgdr_reference(np.arange(epochs), lr, 3, 1.0, 1.0, 0.1)
    )
    assert np.ptp(rates) > 0.01  # the schedule really varies over the run
    w, b = np.zeros(d), 0.0
    losses = []
    for eta in rates:
        r = x @ w + b - y[:, 0]
        losses.append(np.mean(r**2))
        w, b = w - eta * 2 / n * (x.T @ r), b - eta * 2 / n * r.sum()
    kernel, bias = (keras.ops.convert_to_numpy(v) for v in model.layers[0].weights)
    np.testing.assert_allclose(kernel[:, 0], w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bias[0], b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(hist.history["loss"], losses, rtol=1e-4)


# -- errors -----------------------------------------------------------------------------

BAD = [
    ("warmup", "warmup"),
    ("step:fctor=0.5", "fctor"),
    ("constant:factor=0.5", "factor"),
    ("step:factor=1.5", "factor"),
    ("step:factor=0", "factor"),
    ("step:every=-1", "every"),
    ("steps:factor=-0.2", "factor"),
    ("steps:milestones=[0.75,0.5]", "milestones"),
    ("steps:milestones=[0.5,1.5]", "milestones"),
    ("steps:milestones=[]", "milestones"),
    ("exponential:final_fraction=0", "final_fraction"),
    ("exponential:rate=2", "rate"),
    ("exponential:rate=0.9,final_fraction=0.1", "rate"),
    ("linear:end_fraction=-1", "end_fraction"),
    ("fractional:kappa=-0.1", "kappa"),
    ("fractional:kappa=abc", "kappa"),
    ("cyclical:max_lr=0.001", "max_lr"),
    ("cyclical:max_lr=-1", "max_lr"),
    ("cyclical:step_size=0", "step_size"),
    ("cyclical:step_size=2.5", "step_size"),
    ("cyclical:mode=sawtooth", "mode"),
    ("sgdr:t_mul=0", "t_mul"),
    ("sgdr:m_mul=2", "m_mul"),
    ("sgdr:alpha=-0.5", "alpha"),
    ("sgdr:first_decay_steps=-3", "first_decay_steps"),
    ("sgdr:first_decay_fraction=1.5", "first_decay_fraction"),
    ("sgdr:first_decay_steps=3,first_decay_fraction=0.5", "first_decay_fraction"),
]


@pytest.mark.parametrize("spec,culprit", BAD, ids=[b[0] for b in BAD])
def test_bad_specs_name_the_culprit(spec, culprit):
    with pytest.raises(ValueError, match=re.escape(culprit)):
        S.get(spec, 0.01, 100, steps_per_epoch=10)


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError) as info:
        S.get("cosine_annealing", 0.01, 100)
    assert "cosine_annealing" in str(info.value)
    for name in NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize(
    "kwargs,culprit",
    [
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"total_steps": 0}, "total_steps"),
        ({"total_steps": 10.5}, "total_steps"),
        ({"steps_per_epoch": 0}, "steps_per_epoch"),
    ],
)
def test_bad_arguments_name_the_culprit(kwargs, culprit):
    args = {"learning_rate": 0.01, "total_steps": 100, "steps_per_epoch": 1, **kwargs}
    with pytest.raises(ValueError, match=culprit):
        S.get("linear", **args)


@pytest.mark.parametrize("spec", ["", "  ", None, 3])
def test_empty_or_non_string_spec(spec):
    with pytest.raises(ValueError):
        S.get(spec, 0.01, 100)


def test_a_schedule_passes_through_get():
    sched = S.Constant(0.1)
    assert S.get(sched, 0.5, 10) is sched


# -- plots --------------------------------------------------------------------------------


def test_plot_schedules_png(tmp_path):
    from filteropt.keras.schedule_plots import plot_schedules

    specs = ["constant", "steps", "cyclical:max_lr=0.2,step_size=10", "sgdr:t_mul=1"]
    fig = plot_schedules(specs, 0.05, 120, steps_per_epoch=6, log=True)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "learning rate"
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == specs
    # Each line is the schedule itself, step by step.
    for line, spec in zip(ax.get_lines(), specs):
        xs, ys = line.get_data()
        np.testing.assert_array_equal(xs, np.arange(120))
        np.testing.assert_allclose(ys, values(S.get(spec, 0.05, 120, 6), range(120)), rtol=1e-6)
    path = tmp_path / "schedules.png"
    fig.savefig(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 1000


def test_plot_schedules_on_given_axes(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from filteropt.keras.schedule_plots import plot_schedules

    fig = Figure()
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    out = plot_schedules("linear", 0.1, 50, ax=ax2)
    assert out is fig
    assert len(ax2.get_lines()) == 1 and len(ax1.get_lines()) == 0
    assert ax2.get_yscale() == "linear"
    fig.savefig(tmp_path / "two.png")
    assert (tmp_path / "two.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="nope"):
        plot_schedules(["nope"], 0.1, 50)
