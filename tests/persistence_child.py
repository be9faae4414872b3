"""Child process of test_persistence.py: loads saved models in a fresh
interpreter, with ``import filteropt`` only (no custom_objects, no import of
filteropt.keras), records what it finds and resumes training.

    python persistence_child.py DIR

DIR/manifest.json lists ``{"cases": [{"key", "file", "out"}], "epochs",
"batch_size"}`` and DIR/data.npz holds ``x`` and ``y``. For every case the
child writes DIR/<out>.loaded.npz (the loaded model's weights ``w<i>`` and
optimizer variables ``v<i>``), DIR/<out>.resumed.npz (the same after resuming
``fit`` for ``epochs``), and one DIR/result.json with, per case, the
optimizer's class, config, variable paths and dtypes, and every warning
raised while loading or training.
"""

import json
import os
import sys
import traceback
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


def main(directory):
    import keras
    import numpy as np

    import filteropt  # noqa: F401  (registers the optimizers once Keras loads)

    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    data = np.load(os.path.join(directory, "data.npz"))
    x, y = data["x"], data["y"]
    results = {}
    for case in manifest["cases"]:
        key, out = case["key"], case["out"]
        entry = results[key] = {}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = keras.models.load_model(os.path.join(directory, case["file"]))
            entry["warnings"] = [str(w.message) for w in caught]
            opt = model.optimizer
            inner = getattr(opt, "inner_optimizer", opt)
            entry["class"] = f"{type(inner).__module__}.{type(inner).__qualname__}"
            entry["config"] = json.loads(json.dumps(inner.get_config(), default=repr))
            entry["paths"] = [v.path for v in inner.variables]
            entry["dtypes"] = [str(np.asarray(v).dtype) for v in inner.variables]
            loaded = {f"w{i}": w for i, w in enumerate(model.get_weights())}
            loaded.update({f"v{i}": np.asarray(v) for i, v in enumerate(inner.variables)})
            np.savez(os.path.join(directory, f"{out}.loaded.npz"), **loaded)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model.fit(
                    x,
                    y,
                    batch_size=manifest["batch_size"],
                    epochs=manifest["epochs"],
                    shuffle=False,
                    verbose=0,
                )
            entry["fit_warnings"] = [str(w.message) for w in caught]
            resumed = {f"w{i}": w for i, w in enumerate(model.get_weights())}
            resumed.update({f"v{i}": np.asarray(v) for i, v in enumerate(inner.variables)})
            np.savez(os.path.join(directory, f"{out}.resumed.npz"), **resumed)
        except Exception:  # noqa: BLE001 - reported to the parent, per case
            entry["error"] = traceback.format_exc()
    with open(os.path.join(directory, "result.json"), "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1])
