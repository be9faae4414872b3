"""Worker process of test_mirrored.py.

    python dist_worker.py mirrored OUTDIR
        Configures two logical CPU devices (before TensorFlow starts), then
        trains every case of dist_cases on one device (the reference) and
        under MirroredStrategy over both devices.
    python dist_worker.py multiworker OUTDIR
        One of the two workers of a MultiWorkerMirroredStrategy (TF_CONFIG
        from the environment, 127.0.0.1 only); trains every case of
        dist_cases.NAMES.

Per run it writes OUTDIR/<tag>.npz (weights ``w<i>``, optimizer variables
``v<i>``), and at the end OUTDIR/<mode>[-<worker>].json: the tags written,
the number of replicas, and the traceback of every run that failed.
"""

import json
import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _save(out, tag, result, report):
    import numpy as np

    weights, variables = result
    arrays = {f"w{i}": w for i, w in enumerate(weights)}
    arrays.update({f"v{i}": v for i, v in enumerate(variables)})
    np.savez(os.path.join(out, f"{tag}.npz"), **arrays)
    report["runs"].append(tag)


def _attempt(out, tag, fn, report):
    try:
        _save(out, tag, fn(), report)
    except Exception:  # noqa: BLE001 - reported per case, the others still run
        report["errors"][tag] = traceback.format_exc()


def mirrored(out):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import dist_cases as C

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    single = tf.distribute.get_strategy()
    report = {
        "replicas": strategy.num_replicas_in_sync,
        "logical_cpus": len(tf.config.list_logical_devices("CPU")),
        "runs": [],
        "errors": {},
    }
    for name in C.NAMES + C.SKIP_NAMES:
        for kind in C.KINDS:
            _attempt(out, f"single-{kind}-{name}", lambda: C.run(single, kind, name), report)
            _attempt(out, f"mirrored-{kind}-{name}", lambda: C.run(strategy, kind, name), report)
    with open(os.path.join(out, "mirrored.json"), "w") as f:
        json.dump(report, f)


def multiworker(out):
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # before any other op
    import dist_cases as C

    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    report = {"replicas": strategy.num_replicas_in_sync, "runs": [], "errors": {}}
    for name in C.NAMES:
        for kind in C.KINDS:
            _attempt(
                out,
                f"multiworker{index}-{kind}-{name}",
                lambda: C.run(strategy, kind, name, multi_worker=True),
                report,
            )
    with open(os.path.join(out, f"multiworker-{index}.json"), "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[2]
    {"mirrored": mirrored, "multiworker": multiworker}[mode](out)
    sys.stdout.flush()
