"""The summary table and descriptions follow the registry and the recipes."""

import filteropt
from filteropt import analysis, recipes


def test_the_table_lists_every_registered_optimizer_once():
    rows = analysis.summary_table()
    titles = [r["optimizer"] for r in rows]
    assert len(titles) == len(set(titles))
    specs = [spec for _, spec in analysis.LECTURE_TABLE_ROWS + analysis.extra_table_rows()]
    assert sorted(specs) == sorted(recipes.names())
    assert len(rows) == len(recipes.names())
    assert len(analysis.summary_table(extra=False)) == len(analysis.LECTURE_TABLE_ROWS)


def test_weight_decay_shows_in_the_table_and_the_description():
    rows = {r["optimizer"]: r for r in analysis.summary_table()}
    assert "weight decay" in rows["AdamW"]["gradient filtering"]
    assert "weight decay" not in rows["Adam"]["gradient filtering"]
    assert analysis.describe("adamw")["weight_decay"] == 0.004
    assert analysis.describe("adam")["weight_decay"] == 0.0
    # an optimizer's own weight_decay reaches its recipe
    opt = filteropt.SGD(momentum=0.9, weight_decay=0.01)
    assert opt.recipe.weight_decay == 0.01
    assert analysis.describe(opt)["weight_decay"] == 0.01
    assert filteropt.AdamW(weight_decay=0.1).recipe.weight_decay == 0.1
    assert filteropt.AdamW().recipe.name == "adamw"


def test_simulate_applies_the_recipes_weight_decay():
    import numpy as np

    g = np.zeros((5, 3))
    theta = recipes.simulate("adamw:weight_decay=0.5", g, learning_rate=0.1, theta0=1.0)
    # zero gradients: Adam's step is 0, the decay alone acts, 5% a step
    assert np.allclose(theta[:, 0], 0.95 ** np.arange(1, 6), rtol=1e-12)
    plain = recipes.simulate("adam", g, learning_rate=0.1, theta0=1.0)
    assert np.all(plain == 1.0)


def test_the_rate_plot_of_adamw_needs_and_uses_a_learning_rate(tmp_path, capsys):
    from filteropt import cli

    out = tmp_path / "rate.png"
    assert cli.main(["plot", "adamw", "--response", "rate", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--learning-rate" in err
    assert not out.exists()
    assert cli.main(["plot", "adamw", "--response", "rate", "--learning-rate", "0.5",
                     "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    # the plotted rate is the decayed loop's: at step 0 it is 1 - eta * weight_decay
    assert abs(analysis.quadratic_rate("adamw", 1e-12, learning_rate=0.5) - (1 - 0.5 * 0.004)) \
        < 1e-9
    assert cli.main(["plot", "adam", "--response", "step", "--learning-rate", "0.1",
                     "--out", str(out)]) == 2
