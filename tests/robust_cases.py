"""Shared by test_persistence.py and test_robustness.py: every filteropt
optimizer with hyperparameters that give it a non-trivial state, a small
deterministic regression task, and cached reference runs.

Keras is imported lazily so that ``import robust_cases`` stays cheap.
"""

from __future__ import annotations

import functools
import os

import numpy as np

#: The environment every subprocess of these tests gets.
SUBPROCESS_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}

#: Every optimizer class of filteropt (drop-ins, new ones) and a
#: FilterOptimizer with a second-order Butterworth gradient filter.
NAMES = (
    "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Nadam", "Adamax", "Lion",
    "QHM", "QHAdam", "AggMo", "ButterworthMomentum", "AdaBelief", "NadamLTI",
    "FilterOptimizer",
)

#: Extra configurations for the persistence tests: the skip counter, EMA
#: variables, gradient clipping and a learning-rate schedule.
VARIANTS = ("AdamW+skip+ema+schedule", "Nadam+skip")

#: Keras built-ins with the same name (and arguments) as the filteropt class.
KERAS_BUILTINS = ("SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Nadam", "Adamax",
                  "Lion")

#: Hyperparameters: momentum and the like switched on, so that each
#: optimizer keeps filter state; learning rates that train the task below.
KWARGS = {
    "SGD": {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    "Adagrad": {"learning_rate": 0.1},
    "Adadelta": {"learning_rate": 1.0},
    "RMSprop": {"learning_rate": 0.01, "momentum": 0.5, "centered": True},
    "Adam": {"learning_rate": 0.01, "amsgrad": True},
    "AdamW": {"learning_rate": 0.01, "weight_decay": 0.01},
    "Nadam": {"learning_rate": 0.01},
    "Adamax": {"learning_rate": 0.01},
    "Lion": {"learning_rate": 0.002},
    "QHM": {"learning_rate": 0.05},
    "QHAdam": {"learning_rate": 0.01},
    "AggMo": {"learning_rate": 0.02},
    "ButterworthMomentum": {"learning_rate": 0.05, "order": 3, "cutoff": 0.2},
    "AdaBelief": {"learning_rate": 0.01},
    "NadamLTI": {"learning_rate": 0.01},
    "FilterOptimizer": {"learning_rate": 0.05},
}


def make_optimizer(name: str, **overrides):
    """A fresh filteropt optimizer for ``name`` (a NAMES or VARIANTS entry)."""
    import keras

    import filteropt

    if name == "AdamW+skip+ema+schedule":
        kwargs = {
            "learning_rate": keras.optimizers.schedules.ExponentialDecay(0.02, 5, 0.7),
            "weight_decay": 0.01, "skip_nonfinite": True, "use_ema": True,
            "ema_momentum": 0.9, "clipnorm": 1.0,
        }
        return filteropt.AdamW(**{**kwargs, **overrides})
    if name == "Nadam+skip":
        return filteropt.Nadam(**{"learning_rate": 0.01, "skip_nonfinite": True, **overrides})
    kwargs = {**KWARGS[name], **overrides}
    if name == "FilterOptimizer":
        kwargs.setdefault("gradient_filter", filteropt.filters.butterworth(2, 0.2))
    return getattr(filteropt, name)(**kwargs)


def make_keras_builtin(name: str, **overrides):
    import keras

    return getattr(keras.optimizers, name)(**{**KWARGS[name], **overrides})


# -- the task --------------------------------------------------------------------------

N_SAMPLES, N_FEATURES, BATCH = 48, 5, 8


def data():
    """Deterministic float32 regression data (no randomness left to Keras)."""
    rng = np.random.default_rng(1234)
    x = rng.standard_normal((N_SAMPLES, N_FEATURES)).astype("float32")
    w = rng.standard_normal((N_FEATURES, 1))
    y = (np.sin(x @ w) + 0.1 * x[:, :1] ** 2).astype("float32")
    return x, y


def initial_weights():
    rng = np.random.default_rng(99)
    shapes = [(N_FEATURES, 6), (6,), (6, 1), (1,)]
    return [(0.5 * rng.standard_normal(s)).astype("float32") for s in shapes]


def make_model():
    """A small MLP with fixed initial weights."""
    import keras

    model = keras.Sequential([
        keras.Input((N_FEATURES,)),
        keras.layers.Dense(6, activation="tanh"),
        keras.layers.Dense(1),
    ])
    model.set_weights(initial_weights())
    return model


def compiled_model(optimizer, jit_compile=False):
    model = make_model()
    model.compile(optimizer=optimizer, loss="mse", jit_compile=jit_compile)
    return model


def fit(model, epochs, **kwargs):
    x, y = data()
    return model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, **kwargs)


def state(optimizer):
    """Every optimizer variable's value, in ``optimizer.variables`` order."""
    return [np.array(v) for v in optimizer.variables]


@functools.lru_cache(maxsize=None)
def reference_fit(name: str, epochs: int, jit_compile: bool = False):
    """Uninterrupted ``model.fit`` from the initial weights: (weights, state).

    Cached: the persistence and robustness tests compare against the same
    runs.
    """
    model = compiled_model(make_optimizer(name), jit_compile=jit_compile)
    fit(model, epochs)
    return [w.copy() for w in model.get_weights()], state(model.optimizer)


def subprocess_env():
    env = dict(os.environ)
    env.update(SUBPROCESS_ENV)
    return env
