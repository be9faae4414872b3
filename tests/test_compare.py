"""`filteropt compare`: results, figures, determinism and bad input."""

import csv

import numpy as np
import pytest

from filteropt import cli
from filteropt.cli import compare
from filteropt.cli import tasks

PNG = b"\x89PNG\r\n\x1a\n"


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_compare_writes_results_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["compare", "--task", "digits", "--epochs", "2", "--optimizers", "adam",
                     "nesterov:momentum=0.95,learning_rate=0.01", "--out", str(out)])
    assert code == 0
    rows = _rows(out / "results.csv")
    assert [r["optimizer"] for r in rows] == ["adam", "nesterov:momentum=0.95,learning_rate=0.01"]
    for r in rows:
        assert r["epochs"] == "2"
        assert 0.0 <= float(r["val_accuracy"]) <= 1.0 and float(r["loss"]) > 0
        assert float(r["seconds"]) > 0
    for name in ("learning_curves.png", "responses.png"):
        assert (out / name).read_bytes()[:8] == PNG
    assert sorted(p.name for p in out.iterdir()) == ["learning_curves.png", "responses.png",
                                                      "results.csv"]
    printed = capsys.readouterr().out
    assert "epoch   2/2" in printed and "val_accuracy" in printed


@pytest.mark.slow  # six trainings
def test_same_seed_same_numbers(tmp_path):
    # one epoch: --seed fixes the initial weights and the shuffling of
    # every epoch alike, and each optimizer's model is built from it anew
    args = ["compare", "--task", "nielsen", "--epochs", "1", "--optimizers", "adam", "lion"]
    assert cli.main(args + ["--seed", "3", "--out", str(tmp_path / "a")]) == 0
    assert cli.main(args + ["--seed", "3", "--out", str(tmp_path / "b")]) == 0
    assert cli.main(args + ["--seed", "4", "--out", str(tmp_path / "c")]) == 0
    a, b, c = (_rows(tmp_path / d / "results.csv") for d in "abc")
    assert [r["loss"] for r in a] == [r["loss"] for r in b]
    assert [r["loss"] for r in a] != [r["loss"] for r in c]


def _record_learning_rates(monkeypatch):
    """Per run, the learning rate the optimizer holds before each training
    step (what that step uses), read by the run's own progress callback."""
    import keras

    runs, progress = [], compare._progress

    def recording(spec, epochs, stream):
        callback, rates = progress(spec, epochs, stream), []
        runs.append(rates)

        def on_train_batch_begin(batch, logs=None):
            lr = callback.model.optimizer.learning_rate
            rates.append(float(keras.ops.convert_to_numpy(lr)))

        callback.on_train_batch_begin = on_train_batch_begin
        return callback

    monkeypatch.setattr(compare, "_progress", recording)
    return runs


def test_schedule_is_applied(tmp_path, monkeypatch):
    """--schedule steps: the learning rate each step uses is the spec's
    rate, x0.2 from half of training and x0.04 from three quarters (the
    documented landmarks), where the run without it keeps the spec's rate;
    and the results differ."""
    runs = _record_learning_rates(monkeypatch)
    args = ["compare", "--task", "nielsen", "--epochs", "2", "--optimizers", "sgd"]
    assert cli.main(args + ["--out", str(tmp_path / "plain")]) == 0
    assert cli.main(args + ["--schedule", "steps", "--out", str(tmp_path / "s")]) == 0
    plain, scheduled = runs
    task = tasks.get("nielsen")
    total = 2 * -(-task.n_train // task.default_batch_size)
    assert len(plain) == len(scheduled) == total
    lr = plain[0]
    assert plain == [lr] * total
    i = np.arange(total)
    drops = (i >= total / 2).astype(int) + (i >= 3 * total / 4)
    # float32: the schedule's 0.2 ** k and the product, each rounded once or twice
    np.testing.assert_allclose(scheduled, lr * 0.2 ** drops, rtol=1e-6)
    assert _rows(tmp_path / "s" / "results.csv")[0]["loss"] != _rows(
        tmp_path / "plain" / "results.csv")[0]["loss"]


@pytest.mark.parametrize(
    "args, word",
    [
        (["--optimizers", "adamm"], "adamm"),
        (["--optimizers", "adam:beta_1=2"], "beta_1"),
        (["--optimizers", "adam:learning_rate=-1"], "learning_rate"),
        (["--task", "cifar"], "cifar"),
        (["--schedule", "wobbly"], "wobbly"),
        (["--epochs", "0"], "--epochs"),
        (["--batch-size", "-3"], "--batch-size"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(args, word, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["compare", "--epochs", "1", *args, "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and word in err[0]
    assert not out.exists() or not any(out.iterdir())


def test_missing_data_is_one_line(tmp_path, capsys, monkeypatch):
    def unavailable(seed):
        raise tasks.DataUnavailable("could not download Fashion-MNIST; put the files in /x/y")

    monkeypatch.setattr(tasks.Task, "load", lambda self, seed=0: unavailable(seed))
    code = cli.main(["compare", "--task", "fashion_mnist", "--out", str(tmp_path / "f")])
    assert code == 2
    err = capsys.readouterr().err
    assert "Fashion-MNIST" in err and "/x/y" in err and "Traceback" not in err
    assert not (tmp_path / "f").exists()


def test_an_interrupted_run_leaves_no_result(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk full")

    import filteropt.plotting

    monkeypatch.setattr(filteropt.plotting, "plot_frequency", boom)
    out = tmp_path / "r"
    with pytest.raises(RuntimeError):
        compare.run(task="nielsen", optimizers=["adam"], epochs=1, out=str(out))
    assert not any(out.iterdir())
