"""`filteropt inspect`: files, the numbers it prints, and its mistakes."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from filteropt import cli  # noqa: E402
from filteropt.analysis.measured import ProbeRecord  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="GradientProbe wraps the TensorFlow train step"
)


def test_inspect_writes_the_figures_and_the_record(tmp_path, capsys):
    out = tmp_path / "inspect"
    code = cli.main(
        [
            "inspect",
            "--task",
            "nielsen",
            "--optimizer",
            "momentum:momentum=0.9,learning_rate=0.05",
            "--epochs",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "epoch   3/3" in text  # progress
    assert "gradient power above 0.1 cycles per step:" in text
    assert "s* = 3.8" in text and "reached" in text  # 2 (1 + 0.9)
    for name in ("spectrum.png", "stability.png"):
        assert (out / name).read_bytes()[:8] == PNG
    rec = ProbeRecord.load(out / "probe.npz")
    assert rec.n_steps == 3 * 32 and len(rec.sharpness_table) == 13
    np.testing.assert_allclose(rec.learning_rate, 0.05, rtol=1e-6)
    assert sorted(p.name for p in out.iterdir()) == [
        "probe.npz",
        "spectrum.png",
        "stability.png",
    ]  # no temporary left
    # what was printed is the saved record's analysis; with 96 steps (segments
    # of 16 against momentum's 10-step time constant) only the median is tight
    from filteropt import analysis, recipes
    from filteropt.cli import inspect

    recipe = recipes.get("momentum:momentum=0.9,learning_rate=0.05")
    lines = inspect.summary(rec, recipe, analysis.stability_limit(recipe))
    assert all(line in text for line in lines)
    median = float(lines[1].split("cycles per step: ")[1].split(" dB median")[0])
    assert abs(median) < 0.5


def test_inspect_without_sharpness(tmp_path, capsys):
    out = tmp_path / "o"
    assert (
        cli.main(
            ["inspect", "--optimizer", "adam", "--epochs", "2", "--no-sharpness", "--out", str(out)]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "the normaliser's gain" in text and "stability.png" not in text
    assert sorted(p.name for p in out.iterdir()) == ["probe.npz", "spectrum.png"]


@pytest.mark.parametrize(
    "args, word",
    [
        (["inspect", "--optimizer", "adamm"], "adamm"),
        (["inspect", "--optimizer", "momentum:momentum=1.5"], "momentum"),
        (["inspect", "--task", "mnist"], "mnist"),
        (["inspect", "--epochs", "1"], "too few for a spectrum"),
        (["inspect", "--projections", "0"], "--projections"),
    ],
)
def test_inspect_mistakes_exit_2_with_one_line(args, word, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], captured.err
    assert not list(tmp_path.iterdir())  # nothing written
