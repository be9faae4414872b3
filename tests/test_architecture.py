"""The architecture as tests: the layers, the backend-free core, one registry."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import filteropt
from filteropt import recipes

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "filteropt"


def _lint_imports(cwd):
    env = dict(os.environ, PYTHONPATH=str(cwd))
    exe = shutil.which("lint-imports") or "lint-imports"
    return subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )


def test_import_contracts_are_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line",
    [
        # an upward import: the signal layer reading recipes
        ("signal/folding.py", "from .. import recipes  # noqa"),
        # the backend-free core importing Keras inside a function
        ("analysis/responses.py", "def _f():\n    import keras  # noqa\n"),
    ],
)
def test_import_contracts_catch_a_violation(tmp_path, module, line):
    shutil.copytree(PACKAGE, tmp_path / "filteropt", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "filteropt" / module
    target.write_text(target.read_text() + "\n" + line + "\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "1 broken" in result.stdout


def test_long_modules_say_why():
    """No module over about 500 lines without a reason in its docstring."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > 520:
            assert "long because" in text.split('"""')[1], f"{path.relative_to(ROOT)} is long"


def test_one_registry_names_every_class():
    import keras

    import filteropt.keras as K

    entries = list(recipes.REGISTRY.values())
    assert [e.name for e in entries] == recipes.names()
    for e in entries:
        cls = getattr(K, e.optimizer)
        assert getattr(filteropt, e.optimizer) is cls
        assert isinstance(filteropt.get_optimizer(e.name), cls)
        assert recipes.get(e.name).name == e.name
        if e.keras is not None:
            assert hasattr(keras.optimizers, e.keras)
    from filteropt.testing import DROP_IN_NAMES

    assert recipes.drop_in_classes() == DROP_IN_NAMES
    assert set(DROP_IN_NAMES) == {e.optimizer for e in entries if e.keras}


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        recipes.register("adam", recipes.adam, optimizer="Adam")


def test_the_command_lists_the_registry(capsys):
    from filteropt import cli

    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == recipes.names()


def test_import_filteropt_loads_no_backend():
    code = (
        "import sys, filteropt, filteropt.analysis, filteropt.design, filteropt.plotting; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow', 'jax', 'torch')]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_optimizer_documents_its_arguments():
    """Each class names every argument of its ``__init__`` under Args, as Keras does."""
    import inspect

    import filteropt.keras as K

    for name in [*K.__all__]:
        obj = getattr(K, name)
        if not isinstance(obj, type):
            continue
        doc = inspect.getdoc(obj) or ""
        assert "Args:" in doc, name
        args = doc.split("Args:", 1)[1]
        for param in inspect.signature(obj.__init__).parameters:
            if param == "self":
                continue
            word = "**kwargs" if param == "kwargs" else param
            assert f"{word}:" in args, f"{name} does not document {param!r}"


def test_the_command_docstring_names_every_subcommand():
    from filteropt.cli import command

    parser = command.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        assert f"filteropt {name}" in command.__doc__, name


def test_the_strategies_cover_every_registered_class():
    from filteropt.testing import DROP_IN_NAMES, literature_configs

    classes = {e.optimizer for e in recipes.REGISTRY.values()} - {"Designed"}
    assert set(DROP_IN_NAMES) | set(literature_configs()) == classes
    assert not set(DROP_IN_NAMES) & set(literature_configs())


def test_a_name_that_fixes_arguments_names_the_recipe():
    r = recipes.get("nesterov:momentum=0.95")
    assert r.name == "nesterov" and r.hyperparameters["momentum"] == 0.95
    assert recipes.get("sgd:momentum=0.9").name == "momentum"  # the function's own name
    assert recipes.entry("nesterov").fixed == {"momentum": 0.9, "nesterov": True}
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        recipes.entry("adamm")


def test_python_dash_m_filteropt_is_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "filteropt", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [line.split()[0] for line in out.splitlines()] == recipes.names()
