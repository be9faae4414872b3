"""``filteropt surface``: the paths are what the Keras optimizers do on the
functions, and the files say so.

- SGD's path is gradient descent computed by hand (numpy, the analytic
  gradient written here), on two surfaces, to float64 rounding;
- the drop-ins' paths are those of Keras's own optimizers, run here by an
  independent loop on the same function;
- the GIF has one frame per recorded step (a diverged path included), the
  CSV's loss is the function at its point;
- gradient noise: seeded, the same for every optimizer, and exactly what
  the module says it adds;
- a user's mistake exits with status 2, one line, nothing written;
- the slide's saddle: the adaptive methods escape, SGD does not.
"""

import csv
import math

import numpy as np
import pytest

from filteropt.cli import command, surfaces

STEPS = 50


# --- the analytic gradients, written independently of filteropt.cli.surfaces


def beale_grad(x, y):
    t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    return np.array(
        [
            2 * t1 * (y - 1) + 2 * t2 * (y**2 - 1) + 2 * t3 * (y**3 - 1),
            2 * t1 * x + 2 * t2 * 2 * x * y + 2 * t3 * 3 * x * y**2,
        ]
    )


def rosenbrock_grad(x, y):
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def quadratic_grad(x, y):
    return np.array([x, 10 * y])


def gradient_descent(grad, start, lr, steps, kicks=None):
    # Keras keeps the learning rate in a float32 variable and casts it to the
    # float64 parameter's dtype: the step size is float32(lr), exactly.
    lr = float(np.float32(lr))
    p = [np.array(start, dtype=float)]
    for k in range(steps):
        g = grad(*p[-1]) + (0 if kicks is None else kicks[k])
        p.append(p[-1] - lr * g)
    return np.array(p)


@pytest.mark.parametrize(
    "name, grad, lr",
    [
        ("beale", beale_grad, 0.01),
        ("rosenbrock", rosenbrock_grad, 0.001),
        ("quadratic", quadratic_grad, 0.05),
    ],
)
def test_sgd_path_is_gradient_descent_by_hand(name, grad, lr):
    surface = surfaces.get(name)
    spec = f"sgd:learning_rate={lr}"
    t = surfaces.run_paths(surface, [spec], STEPS)[spec]
    expected = gradient_descent(grad, surface.start, lr, STEPS)
    assert t.diverged is None and t.points.shape == (STEPS + 1, 2)
    assert np.all(np.abs(expected[-1] - expected[0]) > 1e-2)  # the path goes somewhere
    # float64 rounding: the autodiff gradient and the one above differ in
    # the last bits; over 50 steps that stays below 1e-12 relative
    np.testing.assert_allclose(t.points, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.losses, surface.numpy_fn(*expected.T), rtol=1e-12, atol=1e-14)


def test_a_spec_without_learning_rate_takes_the_surfaces():
    surface = surfaces.get("rosenbrock")
    lr = surface.learning_rates["sgd"]
    t = surfaces.run_paths(surface, ["sgd"], 10)["sgd"]
    assert t.learning_rate == pytest.approx(lr, rel=1e-7)
    np.testing.assert_allclose(
        t.points, gradient_descent(rosenbrock_grad, surface.start, lr, 10), rtol=1e-12
    )
    # a whole-number learning rate is taken as a float (Keras refuses an int)
    t = surfaces.run_paths(surface, ["sgd:learning_rate=0"], 3)["sgd:learning_rate=0"]
    assert t.learning_rate == 0.0
    np.testing.assert_array_equal(t.points, np.tile(surface.start, (4, 1)))


def _keras_reference(surface, optimizer, steps):
    """Keras's own optimizer, by a loop of this test's own."""
    import keras
    import tensorflow as tf

    var = keras.Variable(np.array(surface.start), dtype="float64")
    out = [var.numpy().copy()]
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = surface.keras_fn(var.value)
        optimizer.apply_gradients([(tape.gradient(loss, var.value), var)])
        out.append(var.numpy().copy())
    return np.array(out)


@pytest.mark.parametrize(
    "spec, make",
    [
        ("momentum:learning_rate=0.005", lambda k: k.optimizers.SGD(0.005, momentum=0.9)),
        (
            "nesterov:learning_rate=0.005",
            lambda k: k.optimizers.SGD(0.005, momentum=0.9, nesterov=True),
        ),
        ("rmsprop:learning_rate=0.05", lambda k: k.optimizers.RMSprop(0.05)),
        ("adam:learning_rate=0.1", lambda k: k.optimizers.Adam(0.1)),
    ],
)
def test_paths_are_kerass_own_optimizers(spec, make):
    import keras

    surface = surfaces.get("beale")
    t = surfaces.run_paths(surface, [spec], STEPS)[spec]
    expected = _keras_reference(surface, make(keras), STEPS)
    assert np.max(np.abs(expected[-1] - expected[0])) > 0.5
    np.testing.assert_allclose(t.points, expected, rtol=1e-12, atol=1e-13)


def test_the_surfaces_functions_agree_and_the_minima_are_minima():
    import keras

    rng = np.random.default_rng(0)
    for s in surfaces.SURFACES.values():
        xmin, xmax, ymin, ymax = s.box
        pts = rng.uniform([xmin, ymin], [xmax, ymax], size=(20, 2))
        k = [
            float(keras.ops.convert_to_numpy(s.keras_fn(keras.ops.convert_to_tensor(p))))
            for p in pts
        ]
        np.testing.assert_allclose(k, s.numpy_fn(pts[:, 0], pts[:, 1]), rtol=1e-12, err_msg=s.name)
        assert xmin < s.start[0] < xmax and ymin < s.start[1] < ymax, s.name
        for m in s.minima:
            ring = np.array(m) + 1e-3 * np.stack([np.cos(np.arange(8)), np.sin(np.arange(8))], 1)
            assert np.all(s.numpy_fn(*ring.T) > s.numpy_fn(*m)), s.name
        assert set(surfaces.DEFAULT_OPTIMIZERS) <= set(s.learning_rates), s.name


def read_csv(path):
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    return reader.fieldnames, rows


def gif_frames(path):
    from PIL import Image

    with Image.open(path) as im:
        return im.n_frames


def test_files_csv_and_one_gif_frame_per_step(tmp_path, capsys):
    out = tmp_path / "run"
    steps = 15
    # on Rosenbrock SGD at lr 0.01 is unstable (eta lambda_max ~ 19 > 2) and
    # leaves for infinity within a few steps; Adam does not
    code = command.main(
        [
            "surface",
            "rosenbrock",
            "--optimizers",
            "sgd:learning_rate=0.01",
            "adam:learning_rate=0.05",
            "--steps",
            str(steps),
            "--start",
            "-1.2",
            "1.4",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "trajectories.csv",
        "trajectories.gif",
        "trajectories.png",
    ]
    columns, rows = read_csv(out / "trajectories.csv")
    assert columns == ["optimizer", "step", "x", "y", "loss"]
    by = {}
    for r in rows:
        by.setdefault(r["optimizer"], []).append(r)
    assert list(by) == ["sgd:learning_rate=0.01", "adam:learning_rate=0.05"]
    for rs in by.values():
        assert [int(r["step"]) for r in rs] == list(range(len(rs)))
        assert (float(rs[0]["x"]), float(rs[0]["y"])) == (-1.2, 1.4)
        x, y, loss = (np.array([float(r[c]) for r in rs]) for c in ("x", "y", "loss"))
        assert np.all(np.isfinite(loss))
        np.testing.assert_allclose(loss, surfaces.get("rosenbrock").numpy_fn(x, y), rtol=1e-12)
    n_sgd, n_adam = len(by["sgd:learning_rate=0.01"]), len(by["adam:learning_rate=0.05"])
    assert n_adam == steps + 1
    assert 1 <= n_sgd < steps + 1  # diverged: the rows stop before it
    assert f"DIVERGED at step {n_sgd}" in printed
    assert gif_frames(out / "trajectories.gif") == steps + 1
    assert (out / "trajectories.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gif_frames_follow_the_longest_path_when_all_diverge(tmp_path, capsys):
    code = command.main(
        [
            "surface",
            "rosenbrock",
            "--optimizers",
            "sgd:learning_rate=0.01",
            "--steps",
            "30",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    _, rows = read_csv(tmp_path / "trajectories.csv")
    assert len(rows) < 31
    assert gif_frames(tmp_path / "trajectories.gif") == len(rows)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging


def test_default_optimizers_and_gif(tmp_path, capsys):
    assert command.main(["surface", "saddle", "--steps", "7", "--out", str(tmp_path)]) == 0
    _, rows = read_csv(tmp_path / "trajectories.csv")
    assert list(dict.fromkeys(r["optimizer"] for r in rows)) == list(surfaces.DEFAULT_OPTIMIZERS)
    assert len(rows) == 8 * len(surfaces.DEFAULT_OPTIMIZERS)
    assert gif_frames(tmp_path / "trajectories.gif") == 8


def test_noise_is_seeded_and_the_same_for_every_optimizer():
    surface = surfaces.get("quadratic")
    specs = ["sgd:learning_rate=0.05", "sgd:learning_rate=5e-2"]  # the same optimizer twice

    def run(seed, noise=0.5):
        return surfaces.run_paths(surface, specs, 30, noise, seed)

    a, again, other, quiet = run(1), run(1), run(2), run(1, 0.0)
    np.testing.assert_array_equal(a[specs[0]].points, a[specs[1]].points)
    np.testing.assert_array_equal(a[specs[0]].points, again[specs[0]].points)
    assert np.max(np.abs(a[specs[0]].points - other[specs[0]].points)) > 1e-2
    assert np.max(np.abs(a[specs[0]].points - quiet[specs[0]].points)) > 1e-2
    # and the noise is what the module says: N(0, sigma^2) pairs from default_rng(seed)
    kicks = np.random.default_rng(1).normal(0.0, 0.5, size=(30, 2))
    np.testing.assert_allclose(
        a[specs[0]].points,
        gradient_descent(quadratic_grad, surface.start, 0.05, 30, kicks),
        rtol=1e-12,
        atol=1e-14,
    )


@pytest.mark.parametrize(
    "args, word",
    [
        (["surface", "himmelblau"], "unknown surface 'himmelblau'"),
        (["surface", "beale", "--optimizers", "adamm"], "unknown optimizer 'adamm'"),
        (["surface", "beale", "--optimizers", "adam:beta_1=2"], "beta_1"),
        (["surface", "beale", "--optimizers", "adam:gamma=2"], "gamma"),
        (["surface", "beale", "--optimizers", "adam", "adam"], "given twice"),
        (["surface", "beale", "--steps", "0"], "--steps"),
        (["surface", "beale", "--noise", "-1"], "--noise"),
        (["surface", "beale", "--start", "1", "nan"], "--start"),
        (["surface", "beale", "--out", "taken"], "existing file"),
    ],
)
def test_mistakes_exit_2_with_one_line_and_write_nothing(args, word, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("a file\n")
    assert command.main(args) == 2  # an unexpected exception would propagate here
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], captured.err
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
    assert (tmp_path / "taken").read_text() == "a file\n"


def test_saddle_adaptive_methods_escape_sgd_does_not():
    """The slide: from (1, 1e-3), next to the saddle of x^2 - y^2, the
    gradient in y is 2e-3; SGD follows it (|y| grows by 1 + 2 eta a step:
    1e-3 * 1.02^200 ~ 0.05), the adaptive methods divide it by its RMS and
    move in y at about their learning rate a step."""
    surface = surfaces.get("saddle")
    paths = surfaces.run_paths(surface, ["sgd", "momentum", "rmsprop", "adam", "adagrad"], 200)
    escaped = {spec: abs(t.points[-1, 1]) for spec, t in paths.items()}
    assert all(t.diverged is None for t in paths.values())
    assert escaped["sgd"] == pytest.approx(1e-3 * (1 + 2 * 0.01) ** 200, rel=1e-3)
    for adaptive in ("rmsprop", "adam", "adagrad"):
        assert escaped[adaptive] > max(0.5, 10 * max(escaped["sgd"], escaped["momentum"])), escaped
    assert math.isclose(paths["sgd"].points[-1, 0], 0.98**200, rel_tol=1e-3)


@pytest.mark.slow
def test_every_surfaces_defaults_descend_and_stay_finite():
    """The learning-rate table: on every surface each default optimizer's
    path stays finite, and the loss ends below where it started."""
    for s in surfaces.SURFACES.values():
        for spec, t in surfaces.run_paths(s, steps=60).items():
            assert t.diverged is None, (s.name, spec)
            assert t.losses[-1] < t.losses[0], (s.name, spec)
