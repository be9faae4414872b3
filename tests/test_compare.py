"""`filteropt compare`: results, figures, determinism and bad input."""

import csv

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


def test_same_seed_same_numbers(tmp_path):
    args = ["compare", "--task", "nielsen", "--epochs", "2", "--optimizers", "adam", "lion"]
    assert cli.main(args + ["--seed", "3", "--out", str(tmp_path / "a")]) == 0
    assert cli.main(args + ["--seed", "3", "--out", str(tmp_path / "b")]) == 0
    assert cli.main(args + ["--seed", "4", "--out", str(tmp_path / "c")]) == 0
    a, b, c = (_rows(tmp_path / d / "results.csv") for d in "abc")
    assert [r["loss"] for r in a] == [r["loss"] for r in b]
    assert [r["loss"] for r in a] != [r["loss"] for r in c]


def test_schedule_is_applied(tmp_path):
    out = tmp_path / "s"
    assert cli.main(["compare", "--task", "nielsen", "--epochs", "2", "--optimizers", "sgd",
                     "--schedule", "steps", "--out", str(out)]) == 0
    assert len(_rows(out / "results.csv")) == 1


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
