"""Keras's base-class arguments keep working: they are Keras's own machinery,
so each is checked against the built-in optimizer with the same arguments."""

import keras
import numpy as np
import pytest
from helpers import relative_error, trajectory

import filteropt

FEATURES = {
    "clipnorm": {"clipnorm": 0.5},
    "clipvalue": {"clipvalue": 0.1},
    "global_clipnorm": {"global_clipnorm": 0.3},
    "weight_decay": {"weight_decay": 0.05},
    "use_ema": {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
    "accumulation": {"gradient_accumulation_steps": 3},
    "loss_scale_factor": {"loss_scale_factor": 128.0},
    "schedule": {"learning_rate": keras.optimizers.schedules.InverseTimeDecay(0.05, 5, 0.5)},
    "callable_lr": {"learning_rate": lambda: 0.02},
}


@pytest.mark.parametrize("feature", sorted(FEATURES))
@pytest.mark.parametrize(
    "name, extra",
    [("Adam", {}), ("SGD", {"momentum": 0.9}), ("RMSprop", {"momentum": 0.5}), ("Nadam", {})],
)
def test_base_feature_matches_keras(name, extra, feature):
    kwargs = {**extra, **FEATURES[feature]}
    grads = np.random.default_rng(5).standard_normal((24, 4)) * 3.0
    expected = trajectory(getattr(keras.optimizers, name)(**kwargs), grads, theta0=0.5)
    actual = trajectory(getattr(filteropt, name)(**kwargs), grads, theta0=0.5)
    assert relative_error(actual, expected) <= 1e-9


def test_gradient_accumulation_is_one_step_on_the_mean():
    grads = np.random.default_rng(1).standard_normal((6, 3))
    acc = trajectory(filteropt.Adam(learning_rate=0.1, gradient_accumulation_steps=3), grads)
    means = grads.reshape(2, 3, 3).mean(axis=1)
    plain = trajectory(filteropt.Adam(learning_rate=0.1), means)
    np.testing.assert_allclose(acc[[2, 5]], plain, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(acc[[0, 1]], 0.0)


def test_exclude_from_weight_decay():
    """Eager steps, both variables on the same gradients, one excluded by
    name: what keras.optimizers.SGD gives, and the two differ."""
    runs = []
    for cls in (filteropt.SGD, keras.optimizers.SGD):
        var, excluded = keras.Variable(2.0, name="keep"), keras.Variable(2.0, name="exclude")
        opt = cls(learning_rate=0.5, momentum=0.9, weight_decay=0.004)
        opt.exclude_from_weight_decay(var_names=["exclude"])
        for g in (0.5, -0.25, 1.0):
            g = keras.ops.convert_to_tensor(g)
            opt.apply_gradients([(g, var), (g, excluded)])
        runs.append((float(var.numpy()), float(excluded.numpy())))
    (keep, exclude), (keras_keep, keras_exclude) = runs
    # float32: each of the 3 steps may round one ulp (2^-23) apart
    np.testing.assert_allclose([keep, exclude], [keras_keep, keras_exclude], rtol=3 * 2.0**-23)
    assert keep != exclude


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.IndexedSlices gradients exist only under TensorFlow",
)
@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "Lion", "Adadelta"])
def test_sparse_gradients_equal_their_dense_equivalent(name):
    """IndexedSlices with repeated rows give what the dense sum gives."""
    import tensorflow as tf

    kwargs = {"SGD": {"momentum": 0.0}}.get(name, {})
    rng = np.random.default_rng(2)
    shape = (6, 3)
    v_sparse = keras.Variable(np.ones(shape))
    v_dense = keras.Variable(np.ones(shape))
    o_sparse, o_dense = getattr(filteropt, name)(**kwargs), getattr(filteropt, name)(**kwargs)
    for _ in range(5):
        idx = rng.integers(0, 6, size=4)
        vals = rng.standard_normal((4, 3))
        sparse = tf.IndexedSlices(tf.constant(vals), tf.constant(idx), tf.constant(shape))
        o_sparse.apply_gradients([(sparse, v_sparse)])
        o_dense.apply_gradients([(tf.convert_to_tensor(sparse), v_dense)])
    np.testing.assert_allclose(v_sparse.numpy(), v_dense.numpy(), rtol=1e-12)
    for a, b in zip(o_sparse.variables, o_dense.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)


def test_embedding_model_trains_with_sparse_gradients():
    x = np.random.default_rng(0).integers(0, 50, size=(64, 4))
    y = (x.sum(axis=1, keepdims=True) / 100.0).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(50, 8),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=filteropt.Adagrad(learning_rate=0.1), loss="mse")
    hist = model.fit(x, y, epochs=5, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.IndexedSlices gradients exist only under TensorFlow",
)
@pytest.mark.parametrize("name", ["RMSprop", "Adam", "ButterworthMomentum"])
def test_sparse_and_dense_in_one_step_fused_or_not(name):
    """A sparse gradient in the step: its rows take the per-operation path,
    the dense variables the compiled update (fused=True), and together they
    must give what the per-operation path gives for all (fused=False)."""
    import tensorflow as tf

    rng = np.random.default_rng(8)
    runs = []
    for fused in (True, False):
        opt = getattr(filteropt, name)(fused=fused)
        emb, dense = keras.Variable(np.ones((6, 3))), keras.Variable(np.ones((3, 2)))
        for _ in range(4):
            idx = rng.integers(0, 6, size=3)
            sparse = tf.IndexedSlices(
                tf.constant(rng.standard_normal((3, 3))), tf.constant(idx), tf.constant((6, 3))
            )
            opt.apply([sparse, tf.constant(rng.standard_normal((3, 2)))], [emb, dense])
        runs.append([emb.numpy(), dense.numpy()] + [np.asarray(v) for v in opt.variables])
        rng = np.random.default_rng(8)
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert not np.allclose(runs[0][1], 1.0)
