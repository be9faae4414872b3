"""Shared by test_persistence.py and test_robustness.py: every filteropt
optimizer with hyperparameters that give it a non-trivial state, a small
deterministic regression task, and cached reference runs.

Keras is imported lazily so that ``import robust_cases`` stays cheap.
"""

from __future__ import annotations

import functools
import os
import tempfile

import numpy as np
from helpers import optimizer_classes

from filteropt.recipes.registry import drop_in_classes  # backend-free

#: The environment every subprocess of these tests gets.
SUBPROCESS_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}

#: Every optimizer class of filteropt (drop-ins, new ones; read from the
#: registry) and a FilterOptimizer with a second-order Butterworth filter.
NAMES = optimizer_classes() + ("FilterOptimizer",)

#: One optimizer for each way the engine keeps and updates state, for the
#: costly model.fit checks that concern the engine rather than a recipe
#: (every optimizer runs the cheap eager ones); recipe.slots(),
#: scalar_init(), uses_step_count and updates_in_place tell them apart:
#: slots updated in place, nothing else (SGD; Adagrad, Adadelta, RMSprop
#: and Lion alike); gains from the step count (Adam; Adamax, QHAdam and
#: AdaBelief alike); weight decay (AdamW); a scalar state advanced every
#: step (Nadam; NadamLTI alike); a parallel bank whose slots are returned
#: rather than overwritten (AggMo; QHM alike); sections, likewise
#: (ButterworthMomentum; the FilterOptimizer alike); a bank of differently
#: compensated paths with warm-ups (AdEMAMix); torch's coupled weight decay,
#: g + l2 theta before the recipe, with gains from the step count (AdamTorch;
#: SGDTorch alike), without (RMSpropTorch; AdagradTorch alike) and with a
#: scalar state (NAdamTorch).
ENGINE_PATHS = (
    "SGD",
    "Adam",
    "AdamW",
    "Nadam",
    "AggMo",
    "ButterworthMomentum",
    "AdEMAMix",
    "AdamTorch",
    "RMSpropTorch",
    "NAdamTorch",
)

#: The classes the costly model.fit and persistence checks run. The
#: convention classes (``*Torch``, ``*Optax``) are recipes on the engine
#: paths above; tests/test_torch_adapter.py and tests/test_optax_adapter.py
#: run each of them in Keras against its framework, and the cheap checks
#: here run them all; of them, the ENGINE_PATHS ones and SGDOptax (the rate
#: after the filter) run the costly checks too.
FIT_NAMES = tuple(
    n for n in NAMES if not n.endswith(("Torch", "Optax")) or n in ENGINE_PATHS or n == "SGDOptax"
)

#: Extra configurations for the persistence tests: the skip counter, EMA
#: variables, gradient clipping, a Keras learning-rate schedule and one of
#: filteropt's own (filteropt.keras.schedules, registered under "filteropt>").
VARIANTS = ("AdamW+skip+ema+schedule", "Nadam+skip", "SGD+cyclical")

#: Keras built-ins with the same name (and arguments) as the filteropt class.
KERAS_BUILTINS = drop_in_classes()

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
    "TripleMomentum": {"learning_rate": 0.05, "kappa": 50.0},
    "RobustMomentum": {"learning_rate": 0.05, "kappa": 50.0, "rho": 0.95},
    "Grokfast": {"learning_rate": 0.02, "alpha": 0.9, "lamb": 2.0},
    "PID": {"learning_rate": 0.002},
    "AdEMAMix": {"learning_rate": 0.01, "beta_3": 0.999, "alpha_warmup": 5, "beta_3_warmup": 5},
    "SGDOptax": {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    "RMSpropOptax": {
        "learning_rate": 0.01,
        "momentum": 0.5,
        "centered": True,
        "bias_correction": True,
        "initial_scale": 1.0,
    },
    "AdamOptax": {"learning_rate": 0.01, "eps_root": 1e-8},
    "AdamWOptax": {"learning_rate": 0.01, "weight_decay": 0.01},
    "NadamOptax": {"learning_rate": 0.01},
    "SGDTorch": {"learning_rate": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
    "AdamTorch": {"learning_rate": 0.01, "amsgrad": True, "weight_decay": 0.01},
    "AdamWTorch": {"learning_rate": 0.01},
    "RMSpropTorch": {
        "learning_rate": 0.01,
        "momentum": 0.5,
        "centered": True,
        "weight_decay": 0.01,
    },
    "AdagradTorch": {"learning_rate": 0.1, "initial_accumulator_value": 0.1, "weight_decay": 0.01},
    "NAdamTorch": {"learning_rate": 0.01, "weight_decay": 0.01},
    "FilterOptimizer": {"learning_rate": 0.05},
}


def make_optimizer(name: str, **overrides):
    """A fresh filteropt optimizer for ``name`` (a NAMES or VARIANTS entry)."""
    import keras

    import filteropt

    if name == "AdamW+skip+ema+schedule":
        kwargs = {
            "learning_rate": keras.optimizers.schedules.ExponentialDecay(0.02, 5, 0.7),
            "weight_decay": 0.01,
            "skip_nonfinite": True,
            "use_ema": True,
            "ema_momentum": 0.9,
            "clipnorm": 1.0,
        }
        return filteropt.AdamW(**{**kwargs, **overrides})
    if name == "Nadam+skip":
        return filteropt.Nadam(**{"learning_rate": 0.01, "skip_nonfinite": True, **overrides})
    if name == "SGD+cyclical":
        from filteropt.keras import schedules

        kwargs = {
            "learning_rate": schedules.TriangularCyclical(0.01, 0.05, step_size=4),
            "momentum": 0.9,
        }
        return filteropt.SGD(**{**kwargs, **overrides})
    kwargs = {**KWARGS[name], **overrides}
    if name == "FilterOptimizer":
        kwargs.setdefault("gradient_filter", filteropt.filters.butterworth(2, 0.2))
    return getattr(filteropt, name)(**kwargs)


def make_keras_builtin(name: str, **overrides):
    import keras

    return getattr(keras.optimizers, name)(**{**KWARGS[name], **overrides})


# -- the task --------------------------------------------------------------------------

# Square layers: the model's variables have two shapes only, and filteropt's
# fused update is XLA-compiled once per optimizer and variable shape.
N_SAMPLES, WIDTH, BATCH = 48, 4, 8


def data():
    """Deterministic float32 regression data (no randomness left to Keras)."""
    rng = np.random.default_rng(1234)
    x = rng.standard_normal((N_SAMPLES, WIDTH)).astype("float32")
    w = rng.standard_normal((WIDTH, WIDTH))
    y = (np.sin(x @ w) + 0.1 * x**2).astype("float32")
    return x, y


def initial_weights():
    rng = np.random.default_rng(99)
    shapes = [(WIDTH, WIDTH), (WIDTH,), (WIDTH, WIDTH), (WIDTH,)]
    return [(0.5 * rng.standard_normal(s)).astype("float32") for s in shapes]


def make_model():
    """A small MLP with fixed initial weights."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((WIDTH,)),
            keras.layers.Dense(WIDTH, activation="tanh"),
            keras.layers.Dense(WIDTH),
        ]
    )
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


class Run:
    """What :func:`trained_run` records."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def snapshot(model):
    optimizer = model.optimizer
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return {
        "weights": [w.copy() for w in model.get_weights()],
        "state": state(inner),
    }


_TMP = []


def _tmpdir():
    if not _TMP:
        import atexit
        import shutil

        _TMP.append(tempfile.mkdtemp(prefix="filteropt_runs_"))
        atexit.register(shutil.rmtree, _TMP[0], True)
    return _TMP[0]


SAVED_EPOCHS, MORE_EPOCHS = 2, 2
TOTAL_EPOCHS = SAVED_EPOCHS + MORE_EPOCHS


class Preempted(RuntimeError):
    """Raised by :func:`interrupt_at`'s callback."""


def interrupt_at(epoch):
    """A callback that raises Preempted at the start of ``epoch``."""
    import keras

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None):
            if e == epoch:
                raise Preempted(f"simulated preemption at epoch {epoch}")

    return Interrupt()


@functools.cache
def trained_run(key: str) -> Run:
    """One model per optimizer, its state never leaving memory:

    ``fit`` for TOTAL_EPOCHS with ``BackupAndRestore`` and a callback that
    raises at the start of epoch SAVED_EPOCHS -> snapshot ``mid`` ->
    ``model.save`` -> snapshot ``after_save`` -> ``fit`` MORE_EPOCHS ->
    snapshot ``end``.

    The exception stops the loop between two epochs and skips only what
    Keras does at the end of ``fit`` (with ``use_ema``, overwriting the weights
    with their average), which the second ``fit`` does at its end: ``end``
    is the uninterrupted ``fit`` for TOTAL_EPOCHS (test_robustness checks it
    against a separate ``fit``). Saving only reads the state
    (``after_save == mid`` is tested). ``backup`` is the BackupAndRestore
    directory left by the interruption. Cached: the persistence and
    robustness tests share these runs (each costs a ``tf.function`` trace).
    """
    import warnings

    import keras

    optimizer = make_optimizer(key)
    model = compiled_model(optimizer)
    work = tempfile.mkdtemp(dir=_tmpdir())
    backup = os.path.join(work, "backup")
    try:
        fit(
            model,
            TOTAL_EPOCHS,
            callbacks=[keras.callbacks.BackupAndRestore(backup), interrupt_at(SAVED_EPOCHS)],
        )
    except Preempted:
        pass
    else:
        raise AssertionError("the interruption did not happen")
    mid = snapshot(model)
    config = optimizer.get_config()
    path = os.path.join(work, "model.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save(path)
    after_save = snapshot(model)
    fit(model, MORE_EPOCHS)
    return Run(
        key=key,
        model=model,
        optimizer=optimizer,
        config=config,
        mid=mid,
        after_save=after_save,
        path=path,
        backup=backup,
        save_warnings=[str(w.message) for w in caught],
        end=snapshot(model),
        cls=f"{type(optimizer).__module__}.{type(optimizer).__qualname__}",
    )


def subprocess_env():
    env = dict(os.environ)
    env.update(SUBPROCESS_ENV)
    return env
