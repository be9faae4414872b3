"""What the distributed workers run (dist_worker.py), shared with the test.

A small regression model with fixed initial weights, trained for EPOCHS
epochs on GLOBAL_BATCH-sized batches (split across the replicas), through
``model.fit`` and through a custom training loop whose optimizer is built
eagerly inside the strategy scope (keras-team/keras#23085).
"""

import numpy as np

EPOCHS, GLOBAL_BATCH, N_SAMPLES, WIDTH = 2, 16, 64, 4

#: The optimizers checked under distribution: one for each way the engine
#: keeps state (as tests/robust_cases.py's ENGINE_PATHS): slots updated in
#: place (SGD; RMSprop and Adagrad take the same path), gains from the step
#: count (Adam), weight decay (AdamW), a scalar state advanced once a step,
#: not once a replica (Nadam), and sections whose slots are returned rather
#: than overwritten (Butterworth; AggMo's bank likewise).
NAMES = ("Adam", "AdamW", "SGD", "Nadam", "Butterworth")

#: skip_nonfinite under distribution: one example of one replica's half of
#: one batch has an inf target, so that replica's gradients are non-finite.
SKIP_NAMES = ("Adam+skip",)
BAD_EXAMPLE = GLOBAL_BATCH + GLOBAL_BATCH // 2 + 1  # batch 1, second replica's half

KINDS = ("fit", "loop")


def make_optimizer(name):
    import filteropt

    if name == "Adam":
        return filteropt.Adam(0.01)
    if name == "AdamW":
        return filteropt.AdamW(0.01, weight_decay=0.05)
    if name == "SGD":
        return filteropt.SGD(0.05, momentum=0.9, nesterov=True)
    if name == "Nadam":
        return filteropt.Nadam(0.01)
    if name == "Butterworth":
        return filteropt.FilterOptimizer(
            0.05, gradient_filter=filteropt.filters.butterworth(2, 0.2)
        )
    if name == "Adam+skip":
        return filteropt.Adam(0.01, skip_nonfinite=True)
    raise KeyError(name)


def data(name):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N_SAMPLES, WIDTH)).astype("float32")
    y = np.tanh(x @ rng.standard_normal((WIDTH, WIDTH))).astype("float32")
    if name in SKIP_NAMES:
        y[BAD_EXAMPLE, 0] = np.inf
    return x, y


def initial_weights():
    rng = np.random.default_rng(3)
    shapes = [(WIDTH, WIDTH), (WIDTH,), (WIDTH, WIDTH), (WIDTH,)]
    return [(0.5 * rng.standard_normal(s)).astype("float32") for s in shapes]


def _model_class(multi_worker):
    import keras
    import tensorflow as tf

    if not multi_worker:
        return keras.Sequential

    class Sequential(keras.Sequential):
        """Works around Keras 3's fit under MultiWorkerMirroredStrategy,
        which reduces every log with ``strategy.reduce("MEAN", v, axis=0)``
        and so fails on scalar logs: the logs get one axis."""

        def train_step(self, data):
            logs = super().train_step(data)
            return {k: tf.reshape(v, [1]) for k, v in logs.items()}

    return Sequential


def make_model(multi_worker=False):
    import keras

    model = _model_class(multi_worker)(
        [
            keras.Input((WIDTH,)),
            keras.layers.Dense(WIDTH, activation="tanh"),
            keras.layers.Dense(WIDTH),
        ]
    )
    model.set_weights(initial_weights())
    return model


def dataset(name, multi_worker=False):
    import tensorflow as tf

    x, y = data(name)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
    options = tf.data.Options()
    # Each worker takes its replica's part of every global batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def run_fit(strategy, name, multi_worker=False):
    import tensorflow as tf

    with strategy.scope():
        model = make_model(multi_worker)
        model.compile(optimizer=make_optimizer(name), loss="mse", jit_compile=False)
    if multi_worker:
        # Keras 3's _maybe_symbolic_build reduces the first distributed batch
        # with strategy.reduce on a (x, y) tuple, which the collective
        # strategy cannot do: build from a local batch instead.
        x, y = data(name)
        batch = (tf.constant(x[:GLOBAL_BATCH]), tf.constant(y[:GLOBAL_BATCH]))

        def symbolic_build(iterator=None, data_batch=None):
            with strategy.scope():
                model._symbolic_build(data_batch=batch)

        model._maybe_symbolic_build = symbolic_build
    model.fit(dataset(name, multi_worker), epochs=EPOCHS, verbose=0, shuffle=False)
    return model, model.optimizer


def run_loop(strategy, name, multi_worker=False):
    import tensorflow as tf

    with strategy.scope():
        model = make_model()
        optimizer = make_optimizer(name)
        optimizer.build(model.trainable_variables)  # eagerly, in the scope
    batches = strategy.experimental_distribute_dataset(dataset(name, multi_worker))

    @tf.function
    def train_step(x, y):
        def replica_step(x, y):
            with tf.GradientTape() as tape:
                per_example = tf.reduce_mean(tf.square(model(x, training=True) - y), axis=-1)
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))

        strategy.run(replica_step, args=(x, y))

    for _ in range(EPOCHS):
        for x, y in batches:
            train_step(x, y)
    return model, optimizer


def run(strategy, kind, name, multi_worker=False):
    """(weights, optimizer variables) after training."""
    fn = run_fit if kind == "fit" else run_loop
    model, optimizer = fn(strategy, name, multi_worker)
    return ([np.array(w) for w in model.get_weights()], [np.array(v) for v in optimizer.variables])
