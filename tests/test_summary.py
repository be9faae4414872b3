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


def test_simulate_applies_the_recipes_weight_decay_as_keras_adamw():
    """The numpy reference's decay against Keras's own AdamW (float64)."""
    import keras
    import numpy as np

    rng = np.random.default_rng(3)
    grads = rng.standard_normal((20, 4))
    kw = {
        "learning_rate": 0.05,
        "weight_decay": 0.3,
        "beta_1": 0.8,
        "beta_2": 0.99,
        "epsilon": 1e-7,
    }
    opt = keras.optimizers.AdamW(**kw)
    var = keras.Variable(np.full(4, 1.5), dtype="float64")
    expected = []
    for g in grads:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), var)])
        expected.append(keras.ops.convert_to_numpy(var))
    # Keras keeps the learning rate in a float32 variable and casts the weight
    # decay through float32 on TensorFlow; the recipe rounds its betas where
    # Keras does (keras_casts), as the drop-in does.
    tf32 = keras.backend.backend() == "tensorflow"
    f32 = (lambda v: float(np.float32(v))) if tf32 else float
    recipe = recipes.adamw(
        beta_1=0.8, beta_2=0.99, epsilon=1e-7, weight_decay=f32(0.3), keras_casts=tf32
    )
    theta = recipes.simulate(recipe, grads, learning_rate=float(np.float32(0.05)), theta0=1.5)
    np.testing.assert_allclose(theta, np.array(expected), rtol=1e-9)
    undecayed = recipes.simulate("adam:beta_1=0.8,beta_2=0.99", grads, 0.05, theta0=1.5)
    assert np.max(np.abs(undecayed - theta)) > 1e-3


def test_the_rate_plot_of_adamw_needs_and_uses_a_learning_rate(tmp_path, capsys):
    from filteropt import cli

    out = tmp_path / "rate.png"
    assert cli.main(["plot", "adamw", "--response", "rate", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--learning-rate" in err
    assert not out.exists()
    assert (
        cli.main(
            ["plot", "adamw", "--response", "rate", "--learning-rate", "0.5", "--out", str(out)]
        )
        == 0
    )
    assert out.stat().st_size > 0
    # the plotted rate is the decayed loop's: at step 0 it is 1 - eta * weight_decay
    assert (
        abs(analysis.quadratic_rate("adamw", 1e-12, learning_rate=0.5) - (1 - 0.5 * 0.004)) < 1e-9
    )
    assert (
        cli.main(
            ["plot", "adam", "--response", "step", "--learning-rate", "0.1", "--out", str(out)]
        )
        == 2
    )
