"""The designed optimizer: a recipe name and a Keras class over design_filter."""

import numpy as np
import pytest
from helpers import relative_error, trajectory

import filteropt
from filteropt import cli, design


def test_designed_runs_its_design():
    opt = filteropt.Designed(kappa=50.0, order=1)
    d = design.design_filter(50.0, 1)
    assert opt.gradient_filter.isclose(d.filter, rtol=1e-9, atol=1e-12)
    assert np.isclose(float(opt.learning_rate), d.learning_rate, rtol=1e-6)
    grads = np.random.default_rng(0).standard_normal((30, 3))
    ref = filteropt.FilterOptimizer(learning_rate=d.learning_rate, gradient_filter=d.filter)
    assert relative_error(trajectory(opt, grads), trajectory(ref, grads)) <= 1e-9
    clone = filteropt.Designed.from_config(opt.get_config())
    assert clone.gradient_filter.isclose(opt.gradient_filter, rtol=1e-9, atol=1e-12)
    assert filteropt.get_optimizer("designed:kappa=50.0,order=1").get_config()["kappa"] == 50.0
    assert filteropt.recipes.get("designed:kappa=50.0,order=1").name == "designed"


def test_plot_tradeoff_refuses_a_bad_kappa(capsys, tmp_path):
    assert cli.main(["plot-tradeoff", "--kappa", "0.5", "--out", str(tmp_path / "t.png")]) == 2
    assert "--kappa" in capsys.readouterr().err
    with pytest.raises(ValueError, match="kappa"):
        filteropt.Designed(kappa=0.5)
