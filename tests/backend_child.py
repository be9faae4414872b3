"""filteropt under Keras's JAX and torch backends: one child, its checks.

Keras chooses its backend once per process, so the checks run in a child
interpreter (this file, run as a script with ``KERAS_BACKEND`` set, see
:data:`ENV`); the child prints its results as one JSON line, and the
``test_*`` functions below read them from the ``backend_results`` fixture
that tests/test_jax_backend.py and tests/test_torch_backend.py define, each
for its backend (they import these functions, so each backend runs them
all):

- every drop-in against the Keras built-in on that backend (on torch,
  Keras's own torch optimizers, ``keras/src/backend/torch/optimizers``),
  60 steps of random gradients whose column scales span 1e-6 to 1e2,
  float64 (1e-9 relative) and float32 (3e-4), as
  tests/test_keras_conformance.py does under TensorFlow; and three under a
  learning-rate schedule, two with weight decay;
- ``model.fit`` of a small Dense model with every filteropt optimizer class,
  with ``jit_compile`` False and, where :data:`COMPILES_EVERY_FIT` says so,
  True: finite losses and weights, the two modes agreeing;
- a cascade of designed sections and a bank against scipy's float64
  design (float64 1e-7, float32 1e-3);
- ``skip_nonfinite=True``: a NaN step is skipped (no update, no step
  counted), in eager ``apply_gradients`` and in ``model.fit`` with
  ``jit_compile`` False and True.

On torch, ``jit_compile=True`` is ``torch.compile`` (TorchDynamo and
Inductor) of Keras's train step. It works with filteropt's optimizers (the
step compiles; the only graph break is Keras's own ``loss.backward()``)
but costs some 20 s of compilation per model on 2 CPU cores, and Dynamo
stops compiling a function after 8 recompilations (its
``recompile_limit``; every new model is one) and runs it eagerly from
then on, without an error. So under torch every class runs
``jit_compile=False`` and the compiled mode is checked on one fit, the
``skip_nonfinite`` one, with a count of the graphs Dynamo compiled to show
that it did compile.

    KERAS_BACKEND=torch python tests/backend_child.py
"""

import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from helpers import optimizer_classes  # noqa: E402 - beside this file, once on the path
from robust_cases import FIT_NAMES  # noqa: E402

from filteropt.testing import DROP_IN_NAMES  # noqa: E402

MARKER = "BACKEND-RESULT "

#: The environment of each backend's child.
ENV = {
    "jax": {"KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"},
    "torch": {"KERAS_BACKEND": "torch"},
}

#: Whether every class's model.fit also runs with jit_compile=True (else
#: only the skip_nonfinite fit does; see the module docstring).
COMPILES_EVERY_FIT = {"jax": True, "torch": False}

# Each drop-in with non-default hyperparameters that float32 does not hold
# exactly, so that a coefficient rounded where Keras does not round shows.
DROP_INS = [
    ("SGD", {"learning_rate": 0.0123, "momentum": 0.8731, "nesterov": True}),
    ("SGD", {"learning_rate": 0.0123, "momentum": 0.8731}),
    (
        "Adagrad",
        {"learning_rate": 0.0625, "initial_accumulator_value": 0.1533452, "epsilon": 1e-12},
    ),
    ("Adadelta", {"learning_rate": 0.5, "rho": 0.913}),
    ("RMSprop", {"learning_rate": 0.01, "rho": 0.913, "momentum": 0.77, "centered": True}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.87, "beta_2": 0.9937, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01, "beta_1": 0.87, "beta_2": 0.9937, "weight_decay": 0.03}),
    ("Nadam", {"learning_rate": 0.01, "beta_1": 0.87, "beta_2": 0.9937}),
    ("Adamax", {"learning_rate": 0.01, "beta_1": 0.87, "beta_2": 0.9937}),
    ("Lion", {"learning_rate": 0.001, "beta_1": 0.87, "beta_2": 0.9937}),
]
#: And some under a learning-rate schedule (ExponentialDecay(0.01, 10, 0.9)),
#: with Keras's decoupled weight decay.
SCHEDULED = [
    ("AdamW", {"beta_1": 0.87, "weight_decay": 0.03}),
    ("SGD", {"momentum": 0.8731, "weight_decay": 0.0123}),
    ("Nadam", {"beta_1": 0.87, "beta_2": 0.9937}),
]

#: Every class the registry names, the convention classes (*Torch, *Optax)
#: by their engine paths (robust_cases.FIT_NAMES says why).
ALL = [n for n in optimizer_classes() if n in FIT_NAMES]
STEPS = 60
#: model.fit: 3 epochs of 4 batches; compiled and eager float32 may round
#: each step one ulp apart (2^-23 of the weights' size, 1, or of the value
#: where it is larger), and nothing amplifies that in this small fit.
FIT_STEPS = 12
FIT_TOLERANCE = FIT_STEPS * 2.0**-23
#: Constructor arguments for the fit where a class's defaults do not suit
#: this model: the closed-loop designs take their own step (1 + rho) / L,
#: tuned for curvatures up to L = 1, and this model's are larger.
FIT_ARGS = {"TripleMomentum": {"learning_rate": 0.01}, "RobustMomentum": {"learning_rate": 0.01}}


def _case_key(name, config):
    return name + "(" + ", ".join(f"{k}={v}" for k, v in config.items()) + ")"


# -- the child: runs under KERAS_BACKEND=<backend> ---------------------------------


def _child():
    import time

    import keras
    import numpy as np
    from helpers import TOLERANCE, relative_error, trajectory
    from keras import ops

    import filteropt
    from filteropt.keras.engine import casts_round_through_float32

    backend = keras.backend.backend()
    clock = [time.perf_counter()]

    def lap(phase):  # seconds per phase, for the record
        now = time.perf_counter()
        out["seconds"][phase] = round(now - clock[0], 2)
        clock[0] = now

    probe = keras.Variable(np.ones(2), dtype="float64")
    out = {
        "backend": backend,
        "keras": keras.__version__,
        "conformance": {},
        "fit": {},
        "skip": {},
        "seconds": {},
        # float64 really is float64: a variable's and an update's dtype
        "float64": keras.backend.standardize_dtype(probe.dtype) == "float64"
        and keras.backend.standardize_dtype(ops.convert_to_tensor(probe * 0.5).dtype) == "float64",
    }
    if backend == "jax":
        import jax

        out["version"] = jax.__version__
        out["float64"] = out["float64"] and bool(jax.config.jax_enable_x64)
    elif backend == "torch":
        import torch

        from filteropt.keras.backend_ops import TORCH

        out["version"] = torch.__version__
        # What filteropt.keras.backend_ops works around, and that it does.
        t = torch.tensor([0.3, -2.0], dtype=torch.float64)
        three = torch.tensor(3.0, dtype=torch.float64)
        v = keras.Variable(np.ones(2), dtype="float64")
        out["namespace"] = {
            "keras_maximum": keras.backend.standardize_dtype(ops.maximum(t, t).dtype),
            "maximum": keras.backend.standardize_dtype(TORCH.maximum(t, 0.1).dtype),
            "maximum_values": TORCH.maximum(t, 0.1).tolist(),
            "keras_power_exact": float(ops.power(0.96, three)) == 0.96**3,
            "power_exact": float(TORCH.power(0.96, three)) == 0.96**3,
            "variable_times_float_exact": float((v * 0.8731)[0]) == 0.8731,
            "tensor_times_float_exact": float((v.value * 0.8731)[0]) == 0.8731,
            "numbers": [
                TORCH.sqrt(4.0),
                TORCH.maximum(1.0, 2.5),
                TORCH.power(0.5, 2.0),
                TORCH.sign(-3.0),
                TORCH.abs(-1.5),
                TORCH.expm1(0.0),
            ],
        }

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
                "error": err,
                "tolerance": TOLERANCE[dtype],
            }
    for name, config in SCHEDULED:
        for dtype in ("float64", "float32"):
            runs = [
                trajectory(
                    getattr(module, name)(
                        learning_rate=keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9),
                        **config,
                    ),
                    grads,
                    dtype,
                )
                for module in (keras.optimizers, filteropt)
            ]
            out["conformance"][f"{_case_key(name, config)} scheduled {dtype}"] = {
                "error": relative_error(runs[1], runs[0]),
                "tolerance": TOLERANCE[dtype],
            }
    lap("conformance")

    # A cascade of sections and a bank, against scipy's float64 design.
    from scipy import signal

    out["designs"] = {}
    g = 1.0 + np.random.default_rng(5).standard_normal((200, 2))
    sos = signal.ellip(8, 1.0, 40.0, 0.01, output="sos")
    sos[0, :3] /= np.prod(sos[:, :3].sum(axis=1) / sos[:, 3:].sum(axis=1))
    bank = filteropt.filters.aggmo([0.5, 0.9])
    expected = np.cumsum(
        -0.5
        * sum(
            signal.lfilter([1.0], [1.0, -b], signal.sosfilt(sos, g, axis=0), axis=0)
            for b in (0.5, 0.9)
        ),
        axis=0,
    )
    for dtype in ("float64", "float32"):
        f = filteropt.filters.lowpass("ellip", 8, 0.01) * bank
        actual = trajectory(
            filteropt.FilterOptimizer(learning_rate=1.0, gradient_filter=f), g, dtype
        )
        out["designs"][dtype] = relative_error(actual, expected)
    lap("designs")

    x = np.random.default_rng(0).standard_normal((64, 8)).astype("float32")
    y = (x @ np.arange(8.0, dtype="float32") / 8.0)[:, None]

    def fit(optimizer, jit, x=x, y=y):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)]
        )
        model.compile(optimizer=optimizer, loss="mse", jit_compile=jit)
        hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        return model.get_weights(), hist.history["loss"]

    modes = (False, True) if COMPILES_EVERY_FIT[backend] else (False,)
    for name in ALL:
        weights = {}
        for jit in modes:
            try:
                w, losses = fit(getattr(filteropt, name)(**FIT_ARGS.get(name, {})), jit)
            except Exception as e:  # noqa: BLE001 - reported per case, the others still run
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
                for a, b in zip(weights[True], weights[False])
            )
    lap("fit")

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
    # weights are those of a fit without that batch (fitted eagerly).
    x_nan = x.copy()
    x_nan[20, 3] = np.nan
    x_clean, y_clean = np.delete(x, np.s_[16:32], axis=0), np.delete(y, np.s_[16:32], axis=0)
    w_ref, _ = fit(filteropt.Adam(learning_rate=0.01), False, x_clean, y_clean)
    for jit in (False, True):
        opt = filteropt.Adam(learning_rate=0.01, skip_nonfinite=True)
        w, _ = fit(opt, jit, x_nan, y)
        out["skip"][f"fit jit={jit}"] = {
            "error": max(float(np.max(np.abs(a - b))) for a, b in zip(w, w_ref)),
            "finite_weights": bool(all(np.all(np.isfinite(v)) for v in w)),
            "nonfinite_steps": int(ops.convert_to_numpy(opt.nonfinite_steps)),
            "iterations": int(ops.convert_to_numpy(opt.iterations)),
            "expected_iterations": 3 * 3,
        }
        lap(f"skip fit jit={jit}")
    if backend == "torch":  # that torch.compile compiled (Dynamo's count of graphs)
        from torch._dynamo.utils import counters

        out["skip"]["fit jit=True"]["compiled_graphs"] = int(counters["stats"]["unique_graphs"])
    print(MARKER + json.dumps(out), flush=True)


# -- the parent: runs the child, its tests check the results -----------------------


def run_child(backend):
    """Runs the child under ``backend``; returns its results (a dict)."""
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2", **ENV[backend])
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    assert proc.returncode == 0 and lines, (
        f"the {backend} child failed (status {proc.returncode}):\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-6000:]}"
    )
    results = json.loads(lines[-1][len(MARKER) :])
    assert results["backend"] == backend, results["backend"]
    return results


def test_child_runs_the_backend_with_float64(backend_results):
    assert backend_results["backend"] in ENV
    assert backend_results["float64"], "float64 variables or updates are not float64 here"


def test_engine_knows_whether_casts_round(backend_results):
    casts = backend_results["casts"]
    assert casts["rounds"] is False  # JAX and torch cast a Python float exactly
    assert casts["engine_says"] == casts["rounds"]


def test_every_drop_in_is_checked():
    assert {name for name, _ in DROP_INS} == set(DROP_IN_NAMES)


def test_drop_ins_match_keras(backend_results):
    cases = backend_results["conformance"]
    assert len(cases) == 2 * (len(DROP_INS) + len(SCHEDULED))
    bad = {k: v["error"] for k, v in cases.items() if not v["error"] <= v["tolerance"]}
    assert not bad, f"relative error above tolerance under {backend_results['backend']}: {bad}"


def test_sections_and_banks_follow_the_design(backend_results):
    designs = backend_results["designs"]
    assert designs["float64"] <= 1e-7 and designs["float32"] <= 1e-3, designs


def test_model_fit(backend_results):
    fits = backend_results["fit"]
    modes = 2 if COMPILES_EVERY_FIT[backend_results["backend"]] else 1
    assert len(fits) == modes * len(ALL)
    errors = {k: v["error"] for k, v in fits.items() if "error" in v}
    assert not errors, errors
    for key, v in fits.items():
        assert all(math.isfinite(loss) for loss in v["losses"]), (key, v)
        assert v["finite_weights"], key
        if "jit_vs_eager" in v:
            assert v["jit_vs_eager"] <= FIT_TOLERANCE, (key, v["jit_vs_eager"])


def test_skip_nonfinite(backend_results):
    skip = backend_results["skip"]
    apply = skip["apply"]
    # the skipped step is no step: the same arithmetic, exactly
    assert apply["unchanged"] and apply["error"] == 0.0, apply
    assert apply["nonfinite_steps"] == 1 and apply["iterations"] == apply["expected_iterations"]
    for jit in (False, True):
        fit = skip[f"fit jit={jit}"]
        assert fit["finite_weights"], fit
        assert fit["nonfinite_steps"] == 3 and fit["iterations"] == fit["expected_iterations"], fit
        assert fit["error"] <= fit["iterations"] * 2.0**-23, fit  # weights of size 1
    if backend_results["backend"] == "torch":
        assert skip["fit jit=True"]["compiled_graphs"] > 0, "torch.compile compiled nothing"


if __name__ == "__main__" and "--child" in sys.argv:
    _child()
