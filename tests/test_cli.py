"""The `filteropt` command: outputs and exit codes."""

import subprocess
import sys

import pytest

from filteropt import cli

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "filteropt.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def analysis_script(name, monkeypatch):
    """``analysis/NAME.py`` loaded in this process (its ``main(argv)`` is
    what ``python analysis/NAME.py`` runs), the path it prepends undone after
    the test."""
    import importlib.util
    import os

    monkeypatch.setattr(sys, "path", list(sys.path))
    path = os.path.join(os.path.dirname(__file__), "..", "analysis", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"analysis_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_prints_the_lecture_rows(capsys):
    assert cli.main(["table"]) == 0
    out = capsys.readouterr().out
    for row in ("SGD w/ Nesterov Momentum", "Adagrad", "Nadam (Adam w/ Nesterov)", "AdaBelief"):
        assert row in out
    assert cli.main(["table", "--lecture-only"]) == 0
    assert "AdaBelief" not in capsys.readouterr().out


def test_describe(capsys):
    assert cli.main(["describe", "nesterov:momentum=0.95", "adam"]) == 0
    out = capsys.readouterr().out
    assert "poles [0.95]" in out and "DC gain 20" in out
    assert "eta * H(1) = eta * 1" in out


@pytest.mark.parametrize(
    "response", ["frequency", "step", "impulse", "polezero", "rate", "groupdelay"]
)
def test_plot_writes_a_png(tmp_path, response):
    out = tmp_path / "sub" / f"{response}.png"
    code = cli.main(
        [
            "plot",
            "momentum",
            "nesterov:momentum=0.95",
            "butterworth:order=3,cutoff=0.1",
            "--response",
            response,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert out.read_bytes()[:8] == PNG
    assert not [p for p in out.parent.iterdir() if p != out]  # no temporary left


@pytest.mark.parametrize(
    "args, word",
    [
        (["describe", "adamm"], "unknown optimizer 'adamm'"),
        (["describe", "adam:beta_1=2"], "beta_1"),
        (["describe", "adam:gamma=2"], "gamma"),
        (["describe", "adam:beta_1"], "key=value"),
        (["plot", "adam", "--response", "bode", "--out", "x.png"], "bode"),
        (["plot", "adam", "--out", "x.txt"], ".png"),
        (["plot", "foo", "--out", "x.png"], "foo"),
        (["plot", "adam", "--response", "step", "--steps", "0", "--out", "x.png"], "--steps"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_mistakes_exit_2_with_one_line(args, word, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2  # an unexpected exception would propagate here
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], captured.err
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_command_exits_2_with_one_line_and_no_traceback(tmp_path):
    """The mistakes above through ``python -m filteropt.cli`` itself (one
    of them: the entry point is the same for all)."""
    result = run("plot", "adam", "--response", "bode", "--out", "x.png", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bode" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_table_does_not_import_keras():
    code = (
        "import sys; from filteropt import cli; assert cli.main(['table']) == 0;"
        "assert cli.main(['describe', 'adam']) == 0;"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('tensorflow','keras')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_measured_spectrum_figure_is_made(tmp_path, capsys, monkeypatch):
    out = tmp_path / "measured.png"
    assert (
        analysis_script("measured_spectrum", monkeypatch).main(["--epochs", "3", "--out", str(out)])
        == 0
    )
    assert "gradient power above 0.1 cycles per step" in capsys.readouterr().out
    assert out.read_bytes()[:8] == PNG


def test_make_figures_regenerates_every_figure(tmp_path, monkeypatch):
    import os

    root = os.path.join(os.path.dirname(__file__), "..")
    skip = ["--skip-tradeoff", "--skip-measured", "--skip-adam-performance", "--skip-sensitivity"]
    listed = analysis_script("make_figures", monkeypatch).main(["--out", str(tmp_path), *skip])
    made = sorted(p.name for p in tmp_path.iterdir())
    # tradeoff.png (the designs, two minutes) is tested in test_design.py,
    # measured_spectrum_nielsen.png (training) below, adam_performance_digits.png
    # and sensitivity_nielsen.png (105 trainings each) below, on a small grid
    committed = sorted(
        p
        for p in os.listdir(os.path.join(root, "analysis", "figures"))
        if p.endswith(".png")
        and p
        not in (
            "tradeoff.png",
            "measured_spectrum_nielsen.png",
            "adam_performance_digits.png",
            "sensitivity_nielsen.png",
        )
    )
    assert made == committed == sorted(listed) and len(made) >= 10
    for name in made:
        assert (tmp_path / name).read_bytes()[:8] == PNG


@pytest.mark.slow  # five short trainings
def test_adam_performance_figure(tmp_path, capsys, monkeypatch):
    """analysis/adam_performance.py: the slide's five optimizers, one figure
    per task whose data is present, and the chosen rates printed."""
    argv = ["--tasks", "digits", "--epochs", "1", "--tune", "1", "--seeds", "1"]
    analysis_script("adam_performance", monkeypatch).main([*argv, "--out", str(tmp_path)])
    stdout = capsys.readouterr().out
    assert (tmp_path / "adam_performance_digits.png").read_bytes()[:8] == PNG
    first_words = [line.split()[0] for line in stdout.splitlines() if line.strip()]
    for name in ("adagrad", "rmsprop", "nesterov", "adadelta", "adam"):
        assert name in first_words


@pytest.mark.slow  # fifteen one-epoch trainings
def test_sensitivity_figure(tmp_path, capsys, monkeypatch):
    """analysis/sensitivity.py: the figure, and the spread of each family's
    members against eta H(1) printed as a number >= 1."""
    out = tmp_path / "s.png"
    argv = ["--epochs", "1", "--tune", "3", "--seeds", "1", "--out", str(out)]
    analysis_script("sensitivity", monkeypatch).main(argv)
    stdout = capsys.readouterr().out
    assert out.read_bytes()[:8] == PNG
    lines = [line for line in stdout.splitlines() if "at equal eta H(1)" in line]
    assert [line.split()[0] for line in lines] == ["momentum", "adam"]
    assert all(float(line.split()[-1]) >= 1.0 for line in lines)
