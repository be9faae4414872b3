"""filteropt.cli.tasks (the lecture's data and models) and the examples/ scripts."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from filteropt.cli import tasks

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _env(**extra):
    env = dict(os.environ)
    env.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env.update(extra)
    return env


def _dense_units(model):
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


# ---------------------------------------------------------------- registry


def test_names_and_get():
    assert tasks.names() == ["nielsen", "digits", "fashion_mnist"]
    for name in tasks.names():
        task = tasks.get(name)
        assert task.name == name
        assert task.default_epochs > 0 and task.default_batch_size > 0
        assert isinstance(task.metrics, list) and isinstance(task.loss, str)
    assert tasks.get("fashion-mnist") is tasks.get("fashion_mnist")
    assert tasks.get("nielsen").loss == "mse" and tasks.get("nielsen").metrics == []
    assert tasks.get("digits").metrics == ["accuracy"]
    assert tasks.get("fashion_mnist").default_batch_size == 32


def test_unknown_task_lists_known_ones():
    with pytest.raises(ValueError) as info:
        tasks.get("cifar")
    for name in tasks.names():
        assert name in str(info.value)


# -------------------------------------------------------------------- data


@pytest.mark.parametrize(
    "name, n_features, n_train, n_val",
    [
        ("nielsen", 1, 1000, 200),
        ("digits", 64, 1437, 360),
    ],
)
def test_load_shapes_dtypes_and_determinism(name, n_features, n_train, n_val):
    task = tasks.get(name)
    x, y, xv, yv = task.load(seed=3)
    assert (task.n_train, task.n_val) == (n_train, n_val)
    assert x.shape == (n_train, n_features) and xv.shape == (n_val, n_features)
    assert len(y) == n_train and len(yv) == n_val
    assert x.dtype == xv.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    if task.is_classification:
        assert y.dtype == yv.dtype == np.int32 and y.ndim == 1
        assert set(np.unique(y)) == set(range(10))
    else:
        assert y.dtype == yv.dtype == np.float32 and y.shape == (n_train, 1)
    again = task.load(seed=3)
    for a, b in zip((x, y, xv, yv), again):
        np.testing.assert_array_equal(a, b)
    other = task.load(seed=4)
    assert not np.array_equal(x, other[0])


def test_nielsen_targets_are_nielsens_function():
    x, y, _xv, _yv = tasks.get("nielsen").load(0)
    expected = 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)
    np.testing.assert_allclose(y, expected, atol=1e-6)
    x_grid, y_grid = tasks.get("nielsen").load_test(0)
    assert x_grid[0, 0] == 0.0 and x_grid[-1, 0] == 1.0 and np.all(np.diff(x_grid[:, 0]) > 0)
    np.testing.assert_allclose(y_grid, tasks.nielsen_function(x_grid), atol=1e-6)


def test_digits_train_and_validation_are_disjoint():
    x, _y, xv, _yv = tasks.get("digits").load(0)
    rows = {row.tobytes() for row in x}
    assert sum(row.tobytes() in rows for row in xv) < 5  # a few digits are duplicates
    x_test, _y_test = tasks.get("digits").load_test(0)
    np.testing.assert_array_equal(x_test, xv)


def test_fashion_mnist_split_like_validation_split(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 60000, dtype=np.uint8)
    xt, yt = x[:10000], y[:10000]
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: ((x, y), (xt, yt)))
    task = tasks.get("fashion_mnist")
    x_train, y_train, x_val, y_val = task.load(0)
    assert x_train.shape == (54000, 28, 28) and x_val.shape == (6000, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    np.testing.assert_array_equal(x_val, x[54000:] / np.float32(255.0))  # the last 10%
    np.testing.assert_array_equal(y_val, y[54000:])
    x_test, _y_test = task.load_test(0)
    assert x_test.shape == (10000, 28, 28) and float(x_test.max()) <= 1.0


# ------------------------------------------------------------- no network


def _expected_fashion_dir():
    base = Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser()
    if not os.access(base, os.W_OK):
        base = Path("/tmp/.keras")
    return base / "datasets" / "fashion-mnist"


def _no_network(*args, **kwargs):
    raise Exception(
        "URL fetch failure on https://storage.googleapis.com/...: "
        "None -- [Errno -3] Temporary failure in name resolution"
    )


def test_fashion_mnist_without_network_raises_data_unavailable(monkeypatch):
    calls = []
    monkeypatch.setattr(
        keras.datasets.fashion_mnist, "load_data", lambda: calls.append(1) or _no_network()
    )
    with pytest.raises(tasks.DataUnavailable) as info:
        tasks.get("fashion_mnist").load(0)
    assert len(calls) == 1  # fails at the first failed download: no retries
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    assert "\n" not in message
    assert "keras.datasets.fashion_mnist" in message and "Temporary failure" in message
    assert str(_expected_fashion_dir()) in message
    assert str(tasks.fashion_mnist_dir()) in message
    assert "train-images-idx3-ubyte.gz" in message
    with pytest.raises(tasks.DataUnavailable):
        tasks.get("fashion_mnist").load_test(0)


def test_failed_download_leaves_no_partial_file(monkeypatch, tmp_path):
    monkeypatch.setattr(tasks, "fashion_mnist_dir", lambda: tmp_path)
    placed = tmp_path / "t10k-labels-idx1-ubyte.gz"
    placed.write_bytes(b"placed there by the user")

    def cut_off():
        (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b\x08 half")
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", cut_off)
    with pytest.raises(tasks.DataUnavailable) as info:
        tasks.get("fashion_mnist").load(0)
    assert not (tmp_path / "train-labels-idx1-ubyte.gz").exists()
    assert placed.exists()  # files that were there before are not the loader's to delete
    assert str(tmp_path) in str(info.value) and "ConnectionResetError" in str(info.value)


@pytest.mark.slow  # a fresh interpreter that imports Keras
def test_fashion_script_without_data_exits_2_with_one_line(tmp_path):
    # A dead proxy makes the real keras download fail at once, network or not.
    dead = "http://127.0.0.1:9"
    env = _env(
        KERAS_HOME=str(tmp_path / "keras"),
        https_proxy=dead,
        HTTPS_PROXY=dead,
        http_proxy=dead,
        HTTP_PROXY=dead,
        no_proxy="",
        NO_PROXY="",
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "fashion_mnist_sequential.py"),
            "--out",
            str(tmp_path / "out"),
        ],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "Fashion-MNIST unavailable" in line]
    assert len(lines) == 1
    assert str(tmp_path / "keras" / "datasets" / "fashion-mnist") in lines[0]
    assert not list((tmp_path / "keras").rglob("*.gz"))


# ------------------------------------------------------------------ models


@pytest.mark.parametrize(
    "name, input_shape, units, n_params",
    [
        ("nielsen", (None, 1), [64, 64, 64, 1], 8513),
        ("digits", (None, 64), [128, 10], 9610),
        ("fashion_mnist", (None, 28, 28), [128, 10], 101770),
    ],
)
def test_models_have_the_lectures_layers(name, input_shape, units, n_params):
    task = tasks.get(name)
    model = task.build_model(seed=0)
    assert tuple(model.input.shape) == input_shape
    assert _dense_units(model) == units
    assert model.count_params() == n_params
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert not model.compiled
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert all(layer.activation.__name__ == "relu" for layer in dense[:-1])
    expected_output = "linear" if name == "nielsen" else "softmax"
    assert dense[-1].activation.__name__ == expected_output


def test_dropout_and_l2_act_on_hidden_layers():
    model = tasks.get("nielsen").build_model(seed=0, dropout=0.2, l2=1e-4)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    kinds = [type(layer).__name__ for layer in layers]
    assert kinds == ["Dense", "Dropout"] * 3 + ["Dense"]
    assert all(layer.rate == 0.2 for layer in layers if isinstance(layer, keras.layers.Dropout))
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    assert all(layer.kernel_regularizer is not None for layer in dense[:-1])
    assert dense[-1].kernel_regularizer is None
    assert len(model.losses) == 3
    with pytest.raises(ValueError):
        tasks.get("digits").build_model(dropout=1.0)


def test_same_seed_same_initial_weights():
    for name in ("nielsen", "digits"):
        task = tasks.get(name)
        a = task.build_model(seed=5).get_weights()
        keras.random.uniform((3,))  # disturb the global random state in between
        b = task.build_model(seed=5).get_weights()
        c = task.build_model(seed=6).get_weights()
        for wa, wb in zip(a, b):
            np.testing.assert_array_equal(wa, wb)
        assert not np.array_equal(a[0], c[0])


def test_a_short_training_learns_digits():
    import filteropt

    task = tasks.get("digits")
    x, y, xv, yv = task.load(0)
    model = task.build_model(0)
    model.compile(optimizer=filteropt.Adam(), loss=task.loss, metrics=task.metrics)
    history = model.fit(
        x, y, epochs=2, batch_size=task.default_batch_size, validation_data=(xv, yv), verbose=0
    ).history
    assert history["val_accuracy"][-1] > 0.5


# ---------------------------------------------------------------- examples

EXAMPLE_OUTPUTS = {
    "fashion_mnist_sequential": [
        "sequential_learning_loss.png",
        "sequential_learning_acc.png",
        "fashion_mnist_sequential.keras",
    ],
    "fashion_mnist_functional": [
        "functional_learning_loss.png",
        "functional_learning_acc.png",
        "fashion_mnist_functional.keras",
    ],
    "nielsen": [
        "nielsen_fit.png",
        "nielsen_no_dropout_learning_loss.png",
        "nielsen_dropout_learning_loss.png",
    ],
    "custom_optimizer": ["custom_optimizer.png"],
}


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory):
    """Starts every example with --quick at once (they are mostly start-up time)."""
    base = tmp_path_factory.mktemp("examples")
    runs = {}
    for name in EXAMPLE_OUTPUTS:
        out = base / name
        proc = subprocess.Popen(
            [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", "--out", str(out)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs[name] = (proc, out)
    results = {}
    try:
        for name, (proc, out) in runs.items():
            stdout, stderr = proc.communicate(timeout=240)
            results[name] = (proc.returncode, stdout, stderr, out)
    finally:
        for proc, _ in runs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return results


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXAMPLE_OUTPUTS))
def test_example_runs_quick(example_runs, name):
    returncode, stdout, stderr, out = example_runs[name]
    assert returncode == 0, f"{name} failed:\n{stdout[-2000:]}\n{stderr[-3000:]}"
    for filename in EXAMPLE_OUTPUTS[name]:
        path = out / filename
        assert path.is_file() and path.stat().st_size > 0, filename
        if filename.endswith(".png"):
            assert path.read_bytes()[:8] == PNG_SIGNATURE, filename
    if name.startswith("fashion"):
        assert "hard decision" in stdout and "Test accuracy" in stdout
    if name == "custom_optimizer":
        assert "Chebyshev + RMS: val_loss" in stdout and "Adam: val_loss" in stdout
