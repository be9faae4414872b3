"""filteropt under Keras's JAX backend.

The backend is chosen once per process, so the checks run in a child
interpreter (this file, run as a script) with ``KERAS_BACKEND=jax`` and
``JAX_ENABLE_X64=1``; the child prints its results as one JSON line and the
tests below read them:

- every drop-in against the Keras built-in, 60 steps of random gradients
  whose column scales span 1e-6 to 1e2, float64 (1e-9 relative) and float32
  (3e-4), as tests/test_keras_conformance.py does under TensorFlow;
- ``model.fit`` of a small Dense model with every filteropt optimizer, with
  ``jit_compile`` True and False: finite losses and weights, the two modes
  agreeing;
- a cascade of designed sections and a bank against scipy's float64
  design (float64 1e-7, float32 1e-3);
- ``skip_nonfinite=True``: a NaN step is skipped (no update, no step
  counted), in eager ``apply_gradients`` and in ``model.fit``.

    python tests/test_jax_backend.py --child
"""

import json
import math
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # one JAX child of about half a minute on 2 cores

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = "JAX-BACKEND-RESULT "

# Each drop-in with non-default hyperparameters that float32 does not hold
# exactly, so that a coefficient rounded where Keras does not round shows.
DROP_INS = [
    ("SGD", {"learning_rate": 0.0123, "momentum": 0.8731, "nesterov": True}),
    ("SGD", {"learning_rate": 0.0123, "momentum": 0.8731}),
    ("Adagrad", {"learning_rate": 0.0625, "initial_accumulator_value": 0.1533452,
                 "epsilon": 1e-12}),
    ("Adadelta", {"learning_rate": 0.5, "rho": 0.913}),
    ("RMSprop", {"learning_rate": 0.01, "rho": 0.913, "momentum": 0.77, "centered": True}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.87, "beta_2": 0.9937, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01, "beta_1": 0.87, "beta_2": 0.9937, "weight_decay": 0.03}),
    ("Nadam", {"learning_rate": 0.01, "beta_1": 0.87, "beta_2": 0.9937}),
    ("Adamax", {"learning_rate": 0.01, "beta_1": 0.87, "beta_2": 0.9937}),
    ("Lion", {"learning_rate": 0.001, "beta_1": 0.87, "beta_2": 0.9937}),
]
sys.path.insert(0, HERE)
from helpers import optimizer_classes  # noqa: E402

from filteropt.testing import DROP_IN_NAMES  # noqa: E402

ALL = optimizer_classes()  # every class the registry names
STEPS = 60
#: model.fit: 3 epochs of 4 batches; XLA and eager float32 may round each
#: step one ulp apart (2^-23 of the weights' size, 1, or of the value where
#: it is larger), and nothing amplifies that in this small fit.
FIT_STEPS = 12
FIT_TOLERANCE = FIT_STEPS * 2.0 ** -23


def _case_key(name, config):
    return name + "(" + ", ".join(f"{k}={v}" for k, v in config.items()) + ")"


# -- the child: runs under KERAS_BACKEND=jax ---------------------------------------


def _child():
    import numpy as np

    sys.path.insert(0, HERE)
    import jax
    import keras
    from keras import ops

    import filteropt
    from filteropt.keras.engine import casts_round_through_float32
    from helpers import TOLERANCE, relative_error, trajectory

    out = {"backend": keras.backend.backend(), "jax": jax.__version__, "keras": keras.__version__,
           "x64": bool(jax.config.jax_enable_x64), "conformance": {}, "fit": {}, "skip": {}}

    # Does ops.cast round a Python float through float32 here? The drop-ins
    # must round their coefficients exactly when Keras does.
    exact = float(ops.convert_to_numpy(ops.cast(0.1, "float64"))) == 0.1
    out["casts"] = {"rounds": not exact, "engine_says": casts_round_through_float32()}

    rng = np.random.default_rng(0)
    scales = 10.0 ** rng.permutation(np.linspace(-6.0, 2.0, 6))
    grads = (rng.standard_normal(6) + rng.standard_normal((STEPS, 6))) * scales
    for name, config in DROP_INS:
        for dtype in ("float64", "float32"):
            expected = trajectory(getattr(keras.optimizers, name)(**config), grads, dtype)
            actual = trajectory(getattr(filteropt, name)(**config), grads, dtype)
            err = relative_error(actual, expected) if np.all(np.isfinite(actual)) else float("inf")
            out["conformance"][f"{_case_key(name, config)} {dtype}"] = {
                "error": err, "tolerance": TOLERANCE[dtype]}

    # A cascade of sections and a bank, against scipy's float64 design.
    from scipy import signal

    out["designs"] = {}
    g = 1.0 + np.random.default_rng(5).standard_normal((200, 2))
    sos = signal.ellip(8, 1.0, 40.0, 0.01, output="sos")
    sos[0, :3] /= np.prod(sos[:, :3].sum(axis=1) / sos[:, 3:].sum(axis=1))
    bank = filteropt.filters.aggmo([0.5, 0.9])
    expected = np.cumsum(-0.5 * sum(signal.lfilter([1.0], [1.0, -b], signal.sosfilt(sos, g, axis=0),
                                                   axis=0) for b in (0.5, 0.9)), axis=0)
    for dtype in ("float64", "float32"):
        f = filteropt.filters.lowpass("ellip", 8, 0.01) * bank
        actual = trajectory(filteropt.FilterOptimizer(learning_rate=1.0, gradient_filter=f), g,
                            dtype)
        out["designs"][dtype] = relative_error(actual, expected)

    x = np.random.default_rng(0).standard_normal((64, 8)).astype("float32")
    y = (x @ np.arange(8.0, dtype="float32") / 8.0)[:, None]

    def fit(optimizer, jit, x=x, y=y):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=optimizer, loss="mse", jit_compile=jit)
        hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        return model.get_weights(), hist.history["loss"]

    for name in ALL:
        weights = {}
        for jit in (False, True):
            try:
                w, losses = fit(getattr(filteropt, name)(), jit)
            except Exception as e:  # reported per case, the others still run
                out["fit"][f"{name} jit={jit}"] = {"error": f"{type(e).__name__}: {e}"[:2000]}
                continue
            weights[jit] = w
            out["fit"][f"{name} jit={jit}"] = {
                "losses": [float(v) for v in losses],
                "finite_weights": bool(all(np.all(np.isfinite(v)) for v in w)),
            }
        if len(weights) == 2:  # |a - b| in units of max(1, |b|)
            out["fit"][f"{name} jit={True}"]["jit_vs_eager"] = max(
                float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))
                for a, b in zip(weights[True], weights[False]))

    # skip_nonfinite in eager apply_gradients: the NaN step changes nothing.
    g = np.random.default_rng(1).standard_normal((8, 3))
    g_nan = g.copy()
    g_nan[4, 1] = np.nan
    opt = filteropt.Adam(learning_rate=0.1, skip_nonfinite=True)
    with_nan = trajectory(opt, g_nan)
    clean = trajectory(filteropt.Adam(learning_rate=0.1), np.delete(g, 4, axis=0))
    out["skip"]["apply"] = {
        "error": relative_error(np.delete(with_nan, 4, axis=0), clean),
        "unchanged": bool(np.array_equal(with_nan[4], with_nan[3])),
        "nonfinite_steps": int(ops.convert_to_numpy(opt.nonfinite_steps)),
        "iterations": int(ops.convert_to_numpy(opt.iterations)),
        "expected_iterations": len(g) - 1,
    }
    # ... and in model.fit: batch 1 of 4 has a NaN in every epoch; the
    # weights are those of a fit without that batch.
    x_nan = x.copy()
    x_nan[20, 3] = np.nan
    x_clean, y_clean = np.delete(x, np.s_[16:32], axis=0), np.delete(y, np.s_[16:32], axis=0)
    for jit in (False, True):
        opt = filteropt.Adam(learning_rate=0.01, skip_nonfinite=True)
        w, _ = fit(opt, jit, x_nan, y)
        w_ref, _ = fit(filteropt.Adam(learning_rate=0.01), jit, x_clean, y_clean)
        out["skip"][f"fit jit={jit}"] = {
            "error": max(float(np.max(np.abs(a - b))) for a, b in zip(w, w_ref)),
            "finite_weights": bool(all(np.all(np.isfinite(v)) for v in w)),
            "nonfinite_steps": int(ops.convert_to_numpy(opt.nonfinite_steps)),
            "iterations": int(ops.convert_to_numpy(opt.iterations)),
            "expected_iterations": 3 * 3,
        }
    print(MARKER + json.dumps(out), flush=True)


# -- the tests: run the child once, check its results ------------------------------


@pytest.fixture(scope="module")
def jax_results():
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu",
               CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"], env=env,
                          capture_output=True, text=True, timeout=1200)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    assert proc.returncode == 0 and lines, (
        f"the JAX child failed (status {proc.returncode}):\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-6000:]}")
    return json.loads(lines[-1][len(MARKER):])


def test_child_runs_jax_with_float64(jax_results):
    assert jax_results["backend"] == "jax"
    assert jax_results["x64"], "JAX_ENABLE_X64 did not reach jax: float64 would be float32"


def test_engine_knows_whether_casts_round(jax_results):
    casts = jax_results["casts"]
    assert casts["rounds"] is False  # JAX casts a Python float exactly
    assert casts["engine_says"] == casts["rounds"]


def test_every_drop_in_is_checked():
    assert {name for name, _ in DROP_INS} == set(DROP_IN_NAMES)


def test_drop_ins_match_keras_under_jax(jax_results):
    cases = jax_results["conformance"]
    assert len(cases) == 2 * len(DROP_INS)
    bad = {k: v["error"] for k, v in cases.items() if not v["error"] <= v["tolerance"]}
    assert not bad, f"relative error above tolerance under JAX: {bad}"


def test_sections_and_banks_follow_the_design_under_jax(jax_results):
    designs = jax_results["designs"]
    assert designs["float64"] <= 1e-7 and designs["float32"] <= 1e-3, designs


def test_model_fit_under_jax(jax_results):
    fits = jax_results["fit"]
    assert len(fits) == 2 * len(ALL)
    errors = {k: v["error"] for k, v in fits.items() if "error" in v}
    assert not errors, errors
    for key, v in fits.items():
        assert all(math.isfinite(loss) for loss in v["losses"]), (key, v)
        assert v["finite_weights"], key
        if "jit_vs_eager" in v:
            assert v["jit_vs_eager"] <= FIT_TOLERANCE, (key, v["jit_vs_eager"])


def test_skip_nonfinite_under_jax(jax_results):
    skip = jax_results["skip"]
    apply = skip["apply"]
    # the skipped step is no step: the same arithmetic, exactly
    assert apply["unchanged"] and apply["error"] == 0.0, apply
    assert apply["nonfinite_steps"] == 1 and apply["iterations"] == apply["expected_iterations"]
    for jit in (False, True):
        fit = skip[f"fit jit={jit}"]
        assert fit["finite_weights"], fit
        assert fit["nonfinite_steps"] == 3 and fit["iterations"] == fit["expected_iterations"], fit
        assert fit["error"] <= fit["iterations"] * 2.0 ** -23, fit  # weights of size 1


if __name__ == "__main__" and "--child" in sys.argv:
    _child()
