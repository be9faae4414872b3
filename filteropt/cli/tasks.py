"""The lecture's training tasks: data and (uncompiled) models, seeded.

Three tasks, each a :class:`Task`:

- ``nielsen``: regression of Nielsen's function
  f(x) = 0.2 + 0.4 x^2 + 0.3 x sin(15 x) + 0.05 cos(50 x) on [0, 1]
  (generated, no noise) with an MLP of 3 hidden layers of 64 ReLU units;
- ``digits``: scikit-learn's 8x8 handwritten digits (shipped with
  scikit-learn, so it works offline), 64-128-10 MLP;
- ``fashion_mnist``: the lecture's setup, 784-128-10 MLP, batch 32,
  validation = last 10% of the training images (``validation_split=0.1``).
  Keras downloads the data on first use; without a network
  :class:`DataUnavailable` says where to put the files.

``load(seed)`` returns ``(x_train, y_train, x_val, y_val)``: float32 inputs,
float32 targets for regression and int32 class labels for classification.
``load_test(seed)`` returns held-out ``(x_test, y_test)``: Fashion-MNIST's
test set, a dense grid on [0, 1] for ``nielsen`` (to plot the fit), and the
validation split for ``digits`` (it has no separate test set).
``build_model(seed, dropout, l2)`` returns a fresh functional Keras model:
the same seed gives the same data and the same initial weights.

    task = tasks.get("digits")
    x, y, xv, yv = task.load(seed=0)
    model = task.build_model(seed=0, dropout=0.2)
    model.compile(optimizer=filteropt.Adam(), loss=task.loss, metrics=task.metrics)
    model.fit(x, y, epochs=task.default_epochs, batch_size=task.default_batch_size,
              validation_data=(xv, yv))

The end of the module holds two helpers shared by the ``examples/`` scripts.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "DataUnavailable",
    "Task",
    "example_parser",
    "fashion_mnist_dir",
    "get",
    "load_or_exit",
    "names",
    "nielsen_function",
    "plot_learning_curves",
    "print_prediction",
]


class DataUnavailable(RuntimeError):
    """A task's data set cannot be loaded (e.g. no network to download it)."""


# --------------------------------------------------------------------- Task


@dataclass(frozen=True)
class Task:
    """A training task: data, model, loss and metrics, plus default budget."""

    name: str
    description: str
    loss: str
    metric_names: tuple
    default_epochs: int
    default_batch_size: int
    n_train: int
    n_val: int
    class_names: tuple
    _load: Callable
    _load_test: Callable
    _build: Callable

    @property
    def metrics(self) -> list:
        """Metric names for ``model.compile`` (a fresh list)."""
        return list(self.metric_names)

    @property
    def is_classification(self) -> bool:
        return self.loss.endswith("categorical_crossentropy")

    def load(self, seed: int = 0):
        """``(x_train, y_train, x_val, y_val)`` as numpy arrays."""
        return self._load(int(seed))

    def load_test(self, seed: int = 0):
        """Held-out ``(x_test, y_test)`` (see the module docstring)."""
        return self._load_test(int(seed))

    def build_model(self, seed: int = 0, dropout: float = 0.0, l2: float = 0.0) -> keras.Model:
        """A fresh, uncompiled model; ``dropout`` and ``l2`` act on the hidden layers."""
        dropout, l2 = float(dropout), float(l2)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if l2 < 0.0:
            raise ValueError(f"l2 must be >= 0, got {l2}")
        keras.utils.set_random_seed(int(seed))
        return self._build(int(seed), dropout, l2)


def _mlp(name, input_shape, hidden, outputs, activation, seed, dropout, l2, flatten=False):
    """Functional MLP: [Flatten], hidden Dense ReLU layers (+ Dropout), output Dense."""
    inputs = keras.Input(shape=input_shape, name="inputs")
    z = keras.layers.Flatten(name="flatten")(inputs) if flatten else inputs
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    for i, units in enumerate(hidden):
        layer_name = "hidden" if len(hidden) == 1 else f"hidden{i + 1}"
        z = keras.layers.Dense(
            units,
            activation="relu",
            name=layer_name,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i),
            kernel_regularizer=regularizer,
        )(z)
        if dropout > 0:
            z = keras.layers.Dropout(dropout, seed=seed + 1000 + i, name=f"dropout{i + 1}")(z)
    z = keras.layers.Dense(
        outputs,
        activation=activation,
        name="output",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + len(hidden)),
    )(z)
    return keras.Model(inputs=inputs, outputs=z, name=name)


# ------------------------------------------------------------------ nielsen

_NIELSEN_TRAIN, _NIELSEN_VAL, _NIELSEN_GRID = 1000, 200, 1000


def nielsen_function(x):
    """Nielsen's function 0.2 + 0.4 x^2 + 0.3 x sin(15 x) + 0.05 cos(50 x)."""
    x = np.asarray(x)
    return 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def _nielsen_load(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(_NIELSEN_TRAIN + _NIELSEN_VAL, 1)).astype(np.float32)
    y = nielsen_function(x.astype(np.float64)).astype(np.float32)
    n = _NIELSEN_TRAIN
    return x[:n], y[:n], x[n:], y[n:]


def _nielsen_test(seed):
    x = np.linspace(0.0, 1.0, _NIELSEN_GRID, dtype=np.float32).reshape(-1, 1)
    return x, nielsen_function(x.astype(np.float64)).astype(np.float32)


def _nielsen_build(seed, dropout, l2):
    return _mlp("nielsen_mlp", (1,), (64, 64, 64), 1, None, seed, dropout, l2)


# ------------------------------------------------------------------- digits


def _digits_load(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)  # 8x8 pixels in 0..16, flattened to 64
    y = data.target.astype(np.int32)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    return x_train, y_train, x_val, y_val


def _digits_test(seed):
    _, _, x_val, y_val = _digits_load(seed)
    return x_val, y_val


def _digits_build(seed, dropout, l2):
    return _mlp("digits_mlp", (64,), (128,), 10, "softmax", seed, dropout, l2)


# ------------------------------------------------------------ fashion_mnist

FASHION_MNIST_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_DOWNLOAD_TIMEOUT_S = 30.0


def fashion_mnist_dir() -> Path:
    """Where ``keras.datasets.fashion_mnist`` keeps its files.

    ``$KERAS_HOME/datasets/fashion-mnist`` (default ``~/.keras``), or
    ``/tmp/.keras/datasets/fashion-mnist`` when that is not writable,
    exactly as ``keras.utils.get_file`` decides.
    """
    try:  # the value Keras read at import time
        from keras.src.backend.config import keras_home

        home = keras_home()
    except (ImportError, AttributeError):  # pragma: no cover - private API moved
        home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    base = os.path.expanduser(home)
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")
    return Path(base) / "datasets" / "fashion-mnist"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text}"


def _fashion_raw():
    """``keras.datasets.fashion_mnist.load_data()``, or DataUnavailable.

    Files this call created are removed when it fails, so a download cut off
    half-way never leaves a file that a later call would take for the data.
    """
    where = fashion_mnist_dir()
    before = {f for f in FASHION_MNIST_FILES if (where / f).exists()}
    previous_timeout = socket.getdefaulttimeout()
    if previous_timeout is None:
        socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)  # no endless hang on a dead network
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
        if (
            x_train.shape != (60000, 28, 28)
            or y_train.shape != (60000,)
            or x_test.shape != (10000, 28, 28)
            or y_test.shape != (10000,)
        ):
            raise ValueError(
                f"unexpected shapes {x_train.shape}, {y_train.shape}, "
                f"{x_test.shape}, {y_test.shape}"
            )
    except Exception as error:  # noqa: BLE001 - any failure: clean up, then one clear error
        for f in FASHION_MNIST_FILES:
            if f not in before:
                (where / f).unlink(missing_ok=True)
        if len(before) == len(FASHION_MNIST_FILES):
            state = "; all four files were already there, so one is damaged: replace them"
        elif before:
            state = f"; already there: {', '.join(sorted(before))}"
        else:
            state = ""
        raise DataUnavailable(
            f"Fashion-MNIST unavailable: keras.datasets.fashion_mnist.load_data() failed "
            f"to download or read it ({_one_line(error)}){state}. Place "
            f"{', '.join(FASHION_MNIST_FILES)} in {where} (the Keras cache dir: "
            f"$KERAS_HOME/datasets/fashion-mnist, KERAS_HOME defaulting to ~/.keras)."
        ) from None
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return (x_train, y_train), (x_test, y_test)


def _fashion_load(seed):
    # Fixed split as in the lecture: fit(..., validation_split=0.1) holds out
    # the *last* 10% of the training images. The seed does not change the data.
    (x, y), _ = _fashion_raw()
    x = x.astype(np.float32) / 255.0
    y = y.astype(np.int32)
    n = int(len(x) * 0.9)
    return x[:n], y[:n], x[n:], y[n:]


def _fashion_test(seed):
    _, (x, y) = _fashion_raw()
    return x.astype(np.float32) / 255.0, y.astype(np.int32)


def _fashion_build(seed, dropout, l2):
    return _mlp(
        "fashion_mnist_mlp", (28, 28), (128,), 10, "softmax", seed, dropout, l2, flatten=True
    )


# ----------------------------------------------------------------- registry

_TASKS = {
    "nielsen": Task(
        name="nielsen",
        description="Nielsen's function on [0, 1], 1-64-64-64-1 ReLU MLP, MSE",
        loss="mse",
        metric_names=(),
        default_epochs=40,
        default_batch_size=32,
        n_train=_NIELSEN_TRAIN,
        n_val=_NIELSEN_VAL,
        class_names=(),
        _load=_nielsen_load,
        _load_test=_nielsen_test,
        _build=_nielsen_build,
    ),
    "digits": Task(
        name="digits",
        description="scikit-learn 8x8 digits (80/20 split), 64-128-10 MLP",
        loss="sparse_categorical_crossentropy",
        metric_names=("accuracy",),
        default_epochs=20,
        default_batch_size=32,
        n_train=1437,
        n_val=360,
        class_names=tuple(str(d) for d in range(10)),
        _load=_digits_load,
        _load_test=_digits_test,
        _build=_digits_build,
    ),
    "fashion_mnist": Task(
        name="fashion_mnist",
        description="Fashion-MNIST (last 10% of training = validation), 784-128-10 MLP",
        loss="sparse_categorical_crossentropy",
        metric_names=("accuracy",),
        default_epochs=40,
        default_batch_size=32,
        n_train=54000,
        n_val=6000,
        class_names=FASHION_MNIST_CLASSES,
        _load=_fashion_load,
        _load_test=_fashion_test,
        _build=_fashion_build,
    ),
}


def names() -> list:
    """The task names."""
    return list(_TASKS)


def get(name: str) -> Task:
    """The :class:`Task` called ``name`` (``-`` and ``_`` are interchangeable)."""
    key = str(name).strip().lower().replace("-", "_")
    try:
        return _TASKS[key]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(_TASKS)}") from None


# ------------------------------------------------- helpers for the examples


def prepare(name: str, epochs, batch_size, seed, quick_epochs: dict, error):
    """``(task, epochs, batch_size, (x, y, x_val, y_val))`` for a command: the
    task by name, the quick default budget where none is given, its data;
    a bad name or missing data raises ``error`` (one line, exit status 2)."""
    try:
        task = get(name)
    except ValueError as exc:
        raise error(f"--task {name}: {exc}") from None
    epochs = epochs or quick_epochs.get(task.name, task.default_epochs)
    batch_size = batch_size or task.default_batch_size
    try:
        data = task.load(seed)
    except DataUnavailable as exc:
        raise error(str(exc)) from None
    return task, epochs, batch_size, data


def example_parser(description: str):
    """An ``argparse`` parser with the options every example takes.

    ``--quick`` (1-2 epochs; the digits data in place of Fashion-MNIST, so
    it runs offline), ``--out DIR`` (where plots and models go),
    ``--epochs N`` (default: the task's) and ``--seed S``.
    """
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a 1-2 epoch smoke run on offline data"
    )
    parser.add_argument("--out", default="examples_out", help="folder for plots and models")
    parser.add_argument("--epochs", type=int, default=None, help="default: the task's")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def load_or_exit(task: Task, seed: int = 0):
    """``task.load(seed)`` and ``task.load_test(seed)`` as one tuple of six arrays.

    On :class:`DataUnavailable` prints its one-line message on stderr and
    exits with status 2 (for scripts).
    """
    import sys

    try:
        return (*task.load(seed), *task.load_test(seed))
    except DataUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def plot_learning_curves(history, out_dir, prefix: str = "", ylabel: str = "loss") -> list:
    """The lecture's learning curves: loss (and accuracy, if any) vs epoch.

    ``history`` is what ``model.fit`` returns (or its ``.history`` dict).
    Saves ``{prefix}learning_loss.png`` and ``{prefix}learning_acc.png`` in
    ``out_dir``; returns their paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting.responses import legend_outside

    h = getattr(history, "history", history)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, label, name in (
        ("loss", ylabel, "learning_loss"),
        ("accuracy", "accuracy", "learning_acc"),
    ):
        if key not in h:
            continue
        epochs = np.arange(1, len(h[key]) + 1)
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        ax.plot(epochs, h[key], label=key)
        if f"val_{key}" in h:
            ax.plot(epochs, h[f"val_{key}"], label=f"val_{key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        legend_outside(ax)
        path = out_dir / f"{prefix}{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def print_prediction(probabilities, class_names, true_label) -> int:
    """Prints one image's soft decisions, marks the hard one; returns it."""
    probabilities = np.asarray(probabilities).reshape(-1)
    decision = int(np.argmax(probabilities))
    for m, p in enumerate(probabilities):
        name = "" if class_names[m] == str(m) else f" {class_names[m]:<12}"
        mark = "  (hard decision)" if m == decision else ""
        print(f"class {m}{name}: soft decision {p:.4f}{mark}")
    label = int(true_label)
    print(
        f"true class: {label}"
        + ("" if class_names[label] == str(label) else f" ({class_names[label]})")
    )
    return decision
