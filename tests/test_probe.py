"""GradientProbe on runs where the truth is known: a linear regression (constant
Hessian 2 X^T X / n, minibatch noise) and plain gradient descent at its limit."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import filteropt  # noqa: E402
from filteropt import analysis  # noqa: E402
from filteropt.keras import preconditioning  # noqa: E402
from filteropt.keras.probe import GradientProbe  # noqa: E402

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="GradientProbe wraps the TensorFlow train step"
)

N, DIM = 2048, 6


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, DIM)) * np.linspace(0.3, 1.5, DIM)
    y = x @ rng.standard_normal((DIM, 1)) + 0.5 * rng.standard_normal((N, 1))
    xb = np.c_[x, np.ones(N)]
    hessian = 2.0 * xb.T @ xb / N
    return x.astype("float32"), y.astype("float32"), float(np.linalg.eigvalsh(hessian)[-1])


def linear_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((DIM,)), keras.layers.Dense(1)])


def fit(optimizer, data, jit_compile=False, epochs=4, batch_size=8, **probe_kwargs):
    x, y, _ = data
    model = linear_model()
    model.compile(optimizer=optimizer, loss="mse", jit_compile=jit_compile)
    probe = GradientProbe(**probe_kwargs)
    keras.utils.set_random_seed(1)
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True, callbacks=[probe]
    )
    return probe, model, history


def response_error_db(probe, recipe, lr):
    """The worst |measured / (-eta H)| in dB, and the worst phase error, over 0.02-0.45."""
    f, h = probe.response()
    theory = -lr * analysis.filter_of(recipe).freqz(2 * np.pi * f)[1]
    band = (f >= 0.02) & (f <= 0.45)
    ratio = h[band] / theory[band]
    return float(np.abs(20 * np.log10(np.abs(ratio))).max()), float(np.abs(np.angle(ratio)).max())


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize(
    "make, recipe",
    [
        (lambda: keras.optimizers.SGD(0.02, momentum=0.9), "momentum:momentum=0.9"),
        (lambda: keras.optimizers.SGD(0.02, momentum=0.8, nesterov=True), "nesterov:momentum=0.8"),
        (lambda: filteropt.SGD(0.02, momentum=0.9), "momentum:momentum=0.9"),
        (
            lambda: filteropt.get_optimizer("butterworth:order=3,cutoff=0.2,learning_rate=0.02"),
            "butterworth:order=3,cutoff=0.2",
        ),
    ],
)
def test_measured_response_is_minus_eta_h(regression, make, recipe, jit_compile):
    """An LTI optimizer commutes with the projections: the measured response
    is -eta H within 1 dB (and 0.12 rad) over 0.02-0.45 cycles per step, for
    Keras's own momentum and Nesterov and for filteropt's engine (a
    third-order Butterworth runs as second-order sections)."""
    probe, _, _ = fit(make(), regression, jit_compile)
    assert probe.record.n_steps == 4 * N // 8
    worst_db, worst_phase = response_error_db(probe, recipe, 0.02)
    assert worst_db < 1.0 and worst_phase < 0.12, (worst_db, worst_phase)
    _, coherence = probe.coherence()
    assert np.median(coherence) > 0.95


def test_sharpness_is_the_hessians_largest_eigenvalue(regression):
    probe, _, _ = fit(
        keras.optimizers.SGD(0.02, momentum=0.9),
        regression,
        epochs=1,
        sharpness_every=64,
        sharpness_data=regression[:2],
    )
    table = probe.sharpness
    assert list(table[:, 0]) == [0, 64, 128, 192, 256]
    np.testing.assert_allclose(table[:, 1], regression[2], rtol=0.02)
    assert not probe.record.preconditioned


@pytest.mark.parametrize("factor, diverges", [(0.9, False), (1.1, True)])
def test_gradient_descent_diverges_above_its_limit(regression, factor, diverges):
    """Full-batch gradient descent at factor * s* / lambda_max, s* = 2 and
    lambda_max measured by the probe."""
    x, y, _ = regression
    probe, model, _ = fit(
        keras.optimizers.SGD(1e-3),
        regression,
        epochs=1,
        batch_size=N,
        sharpness_every=1,
        sharpness_data=(x, y),
    )
    lam = probe.sharpness[0, 1]
    limit = analysis.stability_limit("sgd")
    assert limit == pytest.approx(2.0)
    model = linear_model()
    model.compile(optimizer=keras.optimizers.SGD(factor * limit / lam), loss="mse")
    history = model.fit(x, y, batch_size=N, epochs=150, verbose=0, shuffle=False)
    loss = history.history["loss"]
    if diverges:
        assert not loss[-1] < 1e3 * loss[0], loss[-5:]
    else:
        assert loss[-1] < loss[0], loss[-5:]


def test_the_model_is_unchanged(regression):
    """Training with the probe gives the weights training without it gives;
    afterwards the optimizer and train function are the model's own again."""
    x, y, _ = regression
    with_probe, model_a, _ = fit(keras.optimizers.SGD(0.02, momentum=0.9), regression, epochs=1)
    model_b = linear_model()
    model_b.compile(optimizer=keras.optimizers.SGD(0.02, momentum=0.9), loss="mse")
    keras.utils.set_random_seed(1)
    model_b.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=True)
    for a, b in zip(model_a.get_weights(), model_b.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "apply_gradients" not in vars(model_a.optimizer)
    assert model_a.train_function is None
    # a second fit without the probe records nothing more
    steps = with_probe.record.n_steps
    model_a.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert with_probe.record.n_steps == steps


def test_ring_buffer_keeps_the_last_steps(regression):
    full, _, _ = fit(keras.optimizers.SGD(0.02, momentum=0.9), regression, epochs=1)
    ring, _, _ = fit(keras.optimizers.SGD(0.02, momentum=0.9), regression, epochs=1, max_steps=100)
    a, b = full.record, ring.record
    assert b.n_steps == 100 and list(b.steps) == list(a.steps[-100:])
    for p, q in zip(a.paths, b.paths):  # two models: the same layers, other names
        np.testing.assert_array_equal(b.gradient[q], a.gradient[p][-100:])
        np.testing.assert_array_equal(b.update[q], a.update[p][-100:])
        np.testing.assert_array_equal(b.gradient_norm[q], a.gradient_norm[p][-100:])


def test_projections_and_norms_are_of_the_real_gradient(regression):
    """One full-batch step from known weights: the recorded projections are
    d . g and d . Delta for the gradient computed here, and the norm ||g||."""
    x, y, _ = regression
    model = linear_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    w0 = [v.numpy().astype(np.float64) for v in model.trainable_variables]
    probe = GradientProbe(projections=3, seed=5)
    model.fit(x, y, batch_size=N, epochs=1, verbose=0, shuffle=False, callbacks=[probe])
    kernel, bias = w0
    residual = x @ kernel + bias - y
    grads = [2 * x.T @ residual / N, 2 * residual.mean(axis=0)]
    rec = probe.record
    assert rec.paths == tuple(v.path for v in model.trainable_variables)
    for i, (p, g) in enumerate(zip(rec.paths, grads)):
        d = np.random.default_rng([5, i]).standard_normal((3, g.size))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        np.testing.assert_allclose(rec.gradient[p][0], d @ g.ravel(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(rec.update[p][0], -0.1 * d @ g.ravel(), rtol=1e-3, atol=1e-6)
        np.testing.assert_allclose(rec.gradient_norm[p][0], np.linalg.norm(g), rtol=1e-4)
    np.testing.assert_allclose(rec.learning_rate, [0.1])


def test_learning_rate_schedule_is_recorded(regression):
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, 10, 0.5)
    probe, _, _ = fit(keras.optimizers.SGD(schedule), regression, epochs=1, batch_size=64)
    steps = np.arange(N // 64)
    np.testing.assert_allclose(probe.record.learning_rate, 0.05 * 0.5 ** (steps / 10), rtol=1e-6)


@pytest.mark.parametrize(
    "keras_cls, ours, kwargs",
    [
        ("Adam", "Adam", {}),
        ("Adam", "Adam", {"amsgrad": True}),
        ("Nadam", "Nadam", {}),
        ("RMSprop", "RMSprop", {}),
        ("Adagrad", "Adagrad", {}),
        ("Adamax", "Adamax", {}),
    ],
)
def test_preconditioner_of_filteropt_equals_keras(regression, keras_cls, ours, kwargs):
    """The scale read from filteropt's normaliser state equals the one read
    from Keras's own slots after the same training (two independent
    implementations of the optimizer and of the reading)."""
    x, y, _ = regression
    scales = []
    for opt in (
        getattr(keras.optimizers, keras_cls)(0.01, **kwargs),
        getattr(filteropt, ours)(0.01, **kwargs),
    ):
        model = linear_model()
        model.compile(optimizer=opt, loss="mse")
        keras.utils.set_random_seed(1)
        model.fit(x[:512], y[:512], batch_size=32, epochs=1, verbose=0, shuffle=False)
        scales.append(preconditioning.diagonal_scale(opt, model.trainable_variables))
    for a, b in zip(*scales):
        np.testing.assert_allclose(b, a, rtol=2e-4)


def test_adam_update_is_the_filtered_gradient_over_the_scale(regression):
    """For Keras's Adam, Delta = -eta m^ / P with m^ = m / (1 - beta_1^t):
    the scale is the divisor of the update it last made."""
    x, y, _ = regression
    opt = keras.optimizers.Adam(0.01)
    model = linear_model()
    model.compile(optimizer=opt, loss="mse")
    model.fit(x[:256], y[:256], batch_size=32, epochs=1, verbose=0, shuffle=False)
    before = [v.numpy().copy() for v in model.trainable_variables]
    model.fit(x[:32], y[:32], batch_size=32, epochs=1, verbose=0, shuffle=False)
    t = int(opt.iterations.numpy())
    scale = preconditioning.diagonal_scale(opt, model.trainable_variables)
    for i, v in enumerate(model.trainable_variables):
        m_hat = opt._momentums[i].numpy() / (1 - 0.9**t)
        np.testing.assert_allclose(
            v.numpy() - before[i], -0.01 * m_hat / scale[i], rtol=1e-3, atol=1e-8
        )


def test_adam_sharpness_is_preconditioned_and_compares_with_38(regression):
    x, y, lam = regression
    probe, _, _ = fit(
        keras.optimizers.Adam(0.01),
        regression,
        epochs=1,
        batch_size=32,
        sharpness_every=32,
        sharpness_data=(x, y),
    )
    assert probe.record.preconditioned
    assert analysis.stability_limit("adam") == pytest.approx(38.0)
    # no scale before the first step; after it the curvature is not the plain one
    assert list(probe.sharpness[:, 0]) == [32, 64]
    assert not np.allclose(probe.sharpness[:, 1], lam, rtol=0.1)
    plain, _, _ = fit(
        keras.optimizers.Adam(0.01),
        regression,
        epochs=1,
        batch_size=32,
        sharpness_every=32,
        sharpness_data=(x, y),
        precondition=False,
    )
    np.testing.assert_allclose(plain.sharpness[:, 1], lam, rtol=0.02)


@pytest.mark.parametrize(
    "make, word",
    [
        (lambda: keras.optimizers.Lion(1e-3), "Lion"),
        (lambda: filteropt.Lion(1e-3), "Sign"),
        (lambda: filteropt.RMSprop(1e-3, centered=True), "centered=True"),
    ],
)
def test_unknown_adaptive_optimizer_is_named(regression, make, word):
    x, y, _ = regression
    model = linear_model()
    model.compile(optimizer=make(), loss="mse")
    probe = GradientProbe(sharpness_every=4, sharpness_data=(x, y))
    with pytest.raises(ValueError, match=word):
        model.fit(x, y, batch_size=256, epochs=1, verbose=0, callbacks=[probe])
    assert "apply_gradients" not in vars(model.optimizer)  # refused before any change
    # and the plain Hessian is there for it
    probe = GradientProbe(sharpness_every=4, sharpness_data=(x, y), precondition=False)
    model.fit(x, y, batch_size=256, epochs=1, verbose=0, callbacks=[probe])
    assert len(probe.sharpness) == 3


def test_bad_input_is_named(regression):
    probe, _, _ = fit(keras.optimizers.SGD(0.01), regression, epochs=1, batch_size=64)
    with pytest.raises(ValueError, match=r"'dense/kernel'.*not a recorded variable"):
        probe.spectrum("dense/kernel")
    with pytest.raises(ValueError, match="too few steps for a spectrum: 32"):
        probe.spectrum(probe.record.paths[0])
    with pytest.raises(ValueError, match="`of`"):
        probe.spectrum(None, of="updates")
    for kwargs, word in [
        ({"projections": 0}, "projections"),
        ({"max_steps": 1.5}, "max_steps"),
        ({"sharpness_every": 5}, "sharpness_data"),
        ({"precondition": "yes"}, "precondition"),
        ({"sharpness_every": 1, "sharpness_data": (np.zeros(3), np.zeros(2))}, "targets"),
    ]:
        with pytest.raises(ValueError, match=word):
            GradientProbe(**kwargs)
    with pytest.raises(ValueError, match="recorded nothing"):
        _ = GradientProbe().record


def test_record_round_trips_through_npz(regression, tmp_path):
    probe, _, _ = fit(
        keras.optimizers.SGD(0.02, momentum=0.9),
        regression,
        epochs=1,
        sharpness_every=100,
        sharpness_data=regression[:2],
    )
    probe.save(tmp_path / "probe.npz")
    back = filteropt.analysis.measured.ProbeRecord.load(tmp_path / "probe.npz")
    rec = probe.record
    assert back.paths == rec.paths and back.optimizer == "SGD"
    np.testing.assert_array_equal(back.sharpness_table, rec.sharpness_table)
    for p in rec.paths:
        np.testing.assert_array_equal(back.update[p], rec.update[p])
    np.testing.assert_array_equal(back.response()[1], rec.response()[1])


@pytest.mark.slow
def test_designed_from_a_probe_trains(regression):
    """Measure with plain momentum, design from the record (no learning-rate
    search), train fresh models: each stays within the misadjustment asked
    for (the excess of the final loss over the least-squares loss, as a
    fraction of the excess at the start), a tighter one ends lower, and the
    measured kappa is no more than the Hessian's own (the gradient's
    curvature lies between its extremes)."""
    x, y, lam = regression
    probe, _, _ = fit(
        keras.optimizers.SGD(0.01, momentum=0.9),
        regression,
        epochs=2,
        batch_size=32,
        sharpness_every=32,
        sharpness_data=(x, y),
    )
    xb = np.c_[x, np.ones(N)].astype(np.float64)
    eig = np.linalg.eigvalsh(2 * xb.T @ xb / N)
    best = np.mean((xb @ np.linalg.lstsq(xb, y, rcond=None)[0] - y) ** 2)
    final = {}
    for misadjustment in (1.0, 0.01):
        opt = filteropt.Designed.from_probe(probe, order=2, misadjustment=misadjustment)
        m = opt.measured
        assert m.lambda_max == pytest.approx(lam, rel=0.02)
        assert 2.0 <= m.kappa <= eig[-1] / eig[0] * 1.02
        assert float(opt.learning_rate.numpy()) == pytest.approx(m.learning_rate, rel=1e-6)
        model = linear_model(seed=3)
        model.compile(optimizer=opt, loss="mse")
        start = model.evaluate(x, y, verbose=0)
        model.fit(x, y, batch_size=32, epochs=3, verbose=0)
        final[misadjustment] = model.evaluate(x, y, verbose=0)
        assert (final[misadjustment] - best) / (start - best) <= misadjustment
    assert opt.measured.max_noise_gain is not None  # 0.01 binds here
    assert final[0.01] < final[1.0]
