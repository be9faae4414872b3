"""`filteropt compare`: results, figures, determinism and bad input."""

import csv

import numpy as np
import pytest

from filteropt import cli
from filteropt.cli import compare, tasks

PNG = b"\x89PNG\r\n\x1a\n"


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_compare_writes_results_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(
        [
            "compare",
            "--task",
            "digits",
            "--epochs",
            "2",
            "--optimizers",
            "adam",
            "nesterov:momentum=0.95,learning_rate=0.01",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    rows = _rows(out / "results.csv")
    assert [r["optimizer"] for r in rows] == ["adam", "nesterov:momentum=0.95,learning_rate=0.01"]
    for r in rows:
        assert r["epochs"] == "2"
        assert 0.0 <= float(r["val_accuracy"]) <= 1.0 and float(r["loss"]) > 0
        assert float(r["seconds"]) > 0
    for name in ("learning_curves.png", "sensitivity.png", "responses.png"):
        assert (out / name).read_bytes()[:8] == PNG
    assert sorted(p.name for p in out.iterdir()) == [
        "learning_curves.png",
        "responses.png",
        "results.csv",
        "sensitivity.png",
    ]
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

    def recording(spec, epochs, stream, *args):
        callback, rates = progress(spec, epochs, stream, *args), []
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
    np.testing.assert_allclose(scheduled, lr * 0.2**drops, rtol=1e-6)
    assert (
        _rows(tmp_path / "s" / "results.csv")[0]["loss"]
        != _rows(tmp_path / "plain" / "results.csv")[0]["loss"]
    )


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


# ------------------------------------------------------------ tuning and seeds


@pytest.mark.slow  # nine short trainings
def test_a_tuned_run_picks_the_learning_rate_a_direct_search_would(tmp_path):
    """--tune 3 trains at the grid's three rates; trained one by one at
    those rates the same runs give the same numbers, and the rate marked
    best is the one with the lowest final validation loss among them."""
    args = ["compare", "--task", "nielsen", "--epochs", "2", "--seed", "1"]
    assert (
        cli.main(
            args
            + [
                "--optimizers",
                "momentum:learning_rate=0.01",
                "--tune",
                "3",
                "--out",
                str(tmp_path / "tuned"),
            ]
        )
        == 0
    )
    tuned = _rows(tmp_path / "tuned" / "results.csv")
    grid = compare.tuning.learning_rate_grid(0.01, 3)
    assert [float(r["learning_rate"]) for r in tuned] == pytest.approx(grid, rel=1e-5)
    direct = []
    for k, lr in enumerate(grid):
        out = tmp_path / f"direct{k}"
        assert (
            cli.main(
                args + ["--optimizers", f"momentum:learning_rate={float(lr)!r}", "--out", str(out)]
            )
            == 0
        )
        direct.append(_rows(out / "results.csv")[0])
    assert [r["val_loss"] for r in tuned] == [r["val_loss"] for r in direct]
    searched = int(np.argmin([float(r["val_loss"]) for r in direct]))
    assert [r["best"] for r in tuned] == ["1" if k == searched else "0" for k in range(3)]


def test_seeds_repeat_every_learning_rate_and_csv_has_one_row_per_run(tmp_path, capsys):
    out = tmp_path / "s"
    assert (
        cli.main(
            [
                "compare",
                "--task",
                "nielsen",
                "--epochs",
                "1",
                "--optimizers",
                "sgd",
                "momentum:momentum=0.5",
                "--tune",
                "2",
                "--seeds",
                "2",
                "--seed",
                "5",
                "--target",
                "0.05",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = _rows(out / "results.csv")
    assert [(r["optimizer"], r["seed"]) for r in rows] == [
        (spec, seed)
        for spec in ("sgd", "momentum:momentum=0.5")
        for _ in range(2)
        for seed in ("5", "6")
    ]
    assert set(rows[0]) >= {
        "optimizer",
        "learning_rate",
        "effective_learning_rate",
        "seed",
        "loss",
        "val_loss",
        "steps_to_target",
        "epochs",
        "seconds",
        "best",
    }
    # two seeds: different data and initial weights, so different losses
    assert rows[0]["loss"] != rows[1]["loss"]
    # a target loss the runs reach within the epoch (nielsen starts near 0.1)
    assert all(int(r["steps_to_target"]) >= 1 for r in rows)
    assert (out / "learning_curves.png").read_bytes()[:8] == PNG
    # eta H(1): 1 for SGD, 1/(1 - beta) = 2 for momentum 0.5
    for r in rows:
        gain = 1.0 if r["optimizer"] == "sgd" else 2.0
        assert float(r["effective_learning_rate"]) == pytest.approx(
            gain * float(r["learning_rate"]), rel=1e-5
        )
    # one learning rate marked best per optimizer, on all of its seeds
    for spec in ("sgd", "momentum:momentum=0.5"):
        marked = {r["learning_rate"] for r in rows if r["optimizer"] == spec and r["best"] == "1"}
        assert len(marked) == 1
        assert sum(r["best"] == "1" for r in rows if r["optimizer"] == spec) == 2


def test_steps_to_target_counts_optimizer_steps_on_the_whole_training_set(tmp_path):
    """The recorded loss is the whole training set's before training and
    after each step (checked against Keras's evaluate at both ends), and
    steps to target is the first step at or below the target."""
    import keras

    task = tasks.get("nielsen")
    data = task.load(0)
    ends = {}

    class Ends(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            ends["begin"] = self.model.evaluate(data[0], data[1], verbose=0, batch_size=4096)

        def on_train_end(self, logs=None):
            ends["end"] = self.model.evaluate(data[0], data[1], verbose=0, batch_size=4096)

    steps = -(-task.n_train // task.default_batch_size)
    run = compare.train(
        task,
        "sgd:learning_rate=0.05",
        data,
        seed=0,
        epochs=2,
        batch_size=task.default_batch_size,
        target=1.0,
        callbacks=[Ends()],
    )
    assert len(run.train_loss) == 2 * steps + 1
    assert run.train_loss[0] == pytest.approx(ends["begin"], rel=1e-5)
    assert run.train_loss[-1] == pytest.approx(ends["end"], rel=1e-5)
    target = float(np.median(run.train_loss))
    run.target = target
    k = run.steps_to_target
    assert run.train_loss[k] <= target and np.all(run.train_loss[:k] > target)


def test_train_seeds_is_one_run_per_seed_on_that_seeds_data():
    """Each seed's run trains on ``data[seed]`` from that seed's model: the
    same seed twice gives the same run, two seeds two different ones."""
    import io

    task = tasks.get("nielsen")
    data = {s: task.load(s) for s in (0, 1)}
    log = io.StringIO()
    kwargs = dict(epochs=1, batch_size=task.default_batch_size, stream=log)
    runs = compare.train_seeds(task, "sgd", data, [0, 1, 0], 0.05, **kwargs)
    assert [(r.seed, r.learning_rate, r.spec) for r in runs] == [
        (s, 0.05, "sgd") for s in (0, 1, 0)
    ]
    loss = [r.history["val_loss"][-1] for r in runs]
    assert loss[0] == loss[2] != loss[1]
    assert "lr 0.05 seed 1" in log.getvalue()


def test_progress_rewrites_one_line_per_optimizer_on_a_terminal(tmp_path):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    compare.run(
        task="nielsen",
        optimizers=["sgd", "adam"],
        epochs=3,
        tune=2,
        out=str(tmp_path / "t"),
        stream=screen,
    )
    lines = screen.getvalue().split("\n")
    standing = [line for line in lines if "learning rate" in line and "val_loss" in line]
    assert len(standing) == 2  # one line left per optimizer
    assert all(line.count("\r") >= 2 * 3 for line in standing)  # rewritten in place
    plain = io.StringIO()
    compare.run(
        task="nielsen", optimizers=["sgd"], epochs=12, out=str(tmp_path / "p"), stream=plain
    )
    epochs = [line for line in plain.getvalue().splitlines() if "epoch" in line and "/12" in line]
    assert [line.split("epoch")[1].split("/")[0].strip() for line in epochs] == [
        str(e) for e in range(2, 13, 2)
    ]  # a line every few epochs
    assert "\r" not in plain.getvalue()


@pytest.mark.parametrize(
    "args, word",
    [
        (["--tune", "0"], "--tune"),
        (["--seeds", "-1"], "--seeds"),
        (["--target", "0"], "--target"),
        (["--target", "nan"], "--target"),
    ],
)
def test_bad_tuning_input_exits_2(args, word, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["compare", "--epochs", "1", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and word in err[0]
    assert not out.exists()


def test_out_naming_a_file_is_one_line_and_the_file_is_kept(tmp_path, capsys):
    path = tmp_path / "results.txt"
    path.write_text("mine")
    for command in (["compare", "--epochs", "1"], ["inspect", "--epochs", "3"]):
        assert cli.main([*command, "--out", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(path) in err[0] and "file" in err[0]
        assert path.read_text() == "mine"


def test_ctrl_c_is_one_line_exit_130_and_no_result(tmp_path, capsys, monkeypatch):
    calls = []
    train = compare.train

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return train(*args, **kwargs)

    monkeypatch.setattr(compare, "train", interrupted)
    out = tmp_path / "r"
    code = cli.main(
        [
            "compare",
            "--task",
            "nielsen",
            "--epochs",
            "1",
            "--optimizers",
            "sgd",
            "adam",
            "--out",
            str(out),
        ]
    )
    assert code == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "interrupted" in err[0]
    assert not out.exists() or not any(out.iterdir())


def test_ctrl_c_while_results_move_in_place_is_held_back(tmp_path, monkeypatch):
    """A SIGINT arriving while staged files are moved lets every file move,
    then ends the run."""
    import os
    import signal

    from filteropt.cli import output

    real_replace = os.replace
    moved = []

    def replace(src, dst):
        if not moved:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during the first move
        moved.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(output.os, "replace", replace)
    out = tmp_path / "o"
    with pytest.raises(KeyboardInterrupt), output.staged(str(out)) as tmp:
        for name in "abc":
            with open(os.path.join(tmp, name), "w") as fh:
                fh.write(name)
    assert len(moved) == 3
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "c"]


def test_tensorflow_starts_without_log_lines(tmp_path):
    """The command's own process: nothing on stderr from TensorFlow's start."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "filteropt",
            "compare",
            "--task",
            "nielsen",
            "--epochs",
            "1",
            "--optimizers",
            "sgd",
            "--out",
            str(tmp_path / "q"),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "epoch   1/1" in proc.stdout


def test_startup_notices_are_recognised_and_other_lines_kept():
    from filteropt.cli.quiet import STARTUP_NOTICE

    notices = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796221757.289932    2997 port.cc:153] oneDNN custom operations are on.",
        "I0000 00:00:1796221757.290384    2997 cudart_stub.cc:31] Could not find cuda drivers",
        "E0000 00:00:1796221762.266096    2997 cuda_platform.cc:52] failed call to cuInit: X",
    ]
    kept = [
        "Traceback (most recent call last):",
        "ImportError: libfoo.so: cannot open",
        "E0000 00:00:1796221762.266096    2997 some_other.cc:52] a real error",
    ]
    assert all(STARTUP_NOTICE.match(line) for line in notices)
    assert not any(STARTUP_NOTICE.match(line) for line in kept)
