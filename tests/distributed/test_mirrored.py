"""filteropt optimizers under tf.distribute give the single-device weights.

* MirroredStrategy over two logical CPU devices: logical devices must be
  configured before TensorFlow initialises, so dist_worker.py does it in a
  process of its own, and also trains the single-device references there.
* MultiWorkerMirroredStrategy with two worker processes talking over
  127.0.0.1 (TF_CONFIG with ports found free by binding port 0).

Each through ``model.fit`` (a global batch split across the replicas) and a
custom training loop whose optimizer is built eagerly inside the strategy
scope. The three processes start together, once, in a module fixture.
"""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dist_cases as C  # noqa: E402

WORKER = os.path.join(HERE, "dist_worker.py")
TIMEOUT = 420

pytestmark = pytest.mark.slow


def _env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "grpc_proxy")
    }
    env.update(
        TF_CPP_MIN_LOG_LEVEL="2",
        CUDA_VISIBLE_DEVICES="",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        **extra,
    )
    return env


def _free_ports(n):
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class _Runs:
    def __init__(self, out):
        self.out = out
        self.reports = {}
        self.logs = {}

    def start(self):
        self.procs = {}
        self.procs["mirrored"] = self._popen(["mirrored", self.out], _env())
        workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
        for index in range(2):
            tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            self.procs[f"multiworker-{index}"] = self._popen(
                ["multiworker", self.out], _env(TF_CONFIG=json.dumps(tf_config))
            )

    def _popen(self, args, env):
        # output to files: a full pipe would block a worker
        log = open(  # noqa: SIM115 - closed once the worker exits
            os.path.join(self.out, f"{args[0]}-{len(self.procs)}.log"), "w+"
        )
        proc = subprocess.Popen(
            [sys.executable, WORKER, *args],
            env=env,
            cwd=HERE,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        proc.log = log
        return proc

    def wait(self):
        deadline = time.monotonic() + TIMEOUT
        for label, proc in self.procs.items():
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                note = ""
            except subprocess.TimeoutExpired:
                for other in self.procs.values():
                    if other.poll() is None:
                        other.kill()
                proc.wait()
                note = f"\n[killed after {TIMEOUT} s]"
            proc.log.seek(0)
            self.logs[label] = proc.log.read() + note
            proc.log.close()
            report = os.path.join(self.out, f"{label}.json")
            if proc.returncode == 0 and os.path.exists(report):
                with open(report) as f:
                    self.reports[label] = json.load(f)

    def report(self, label):
        assert label in self.reports, (
            f"{label} did not finish (exit status {self.procs[label].returncode}):\n"
            + self.logs[label][-4000:]
        )
        return self.reports[label]

    def result(self, label, tag):
        report = self.report(label)
        assert tag not in report["errors"], report["errors"][tag]
        assert tag in report["runs"], f"{tag} did not run"
        npz = np.load(os.path.join(self.out, f"{tag}.npz"))
        count = lambda p: sum(k.startswith(p) for k in npz.files)  # noqa: E731
        return (
            [npz[f"w{i}"] for i in range(count("w"))],
            [npz[f"v{i}"] for i in range(count("v"))],
        )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    runs = _Runs(str(tmp_path_factory.mktemp("distributed")))
    runs.start()
    try:
        runs.wait()
    finally:
        for proc in runs.procs.values():
            if proc.poll() is None:
                proc.kill()
    return runs


#: Training steps of each run.
STEPS = C.EPOCHS * C.N_SAMPLES // C.GLOBAL_BATCH
#: The replicas' gradients are summed in another order than the single
#: device's batch, so each step may round a value one float32 ulp apart
#: (2^-23 of the weights' size, 1, or of the value where it is larger);
#: nothing amplifies that in this small fit, so STEPS ulps after STEPS
#: steps (6e-8 is seen on the weights, 4e-9 on the slots).
TOLERANCE = STEPS * 2.0**-23


def _assert_matches(actual, expected, what):
    (weights, state), (ref_weights, ref_state) = actual, expected
    assert len(weights) == len(ref_weights) and len(state) == len(ref_state), what
    for i, (w, r) in enumerate(zip(weights, ref_weights)):
        np.testing.assert_allclose(
            w, r, rtol=TOLERANCE, atol=TOLERANCE, err_msg=f"{what}: weight {i}"
        )
    for i, (v, r) in enumerate(zip(state, ref_state)):
        np.testing.assert_allclose(
            np.asarray(v, float),
            np.asarray(r, float),
            rtol=TOLERANCE,
            atol=TOLERANCE,
            err_msg=f"{what}: optimizer variable {i}",
        )
    # training did happen
    assert not all(np.array_equal(w, i) for w, i in zip(ref_weights, C.initial_weights())), what


def test_the_processes_ran_as_configured(runs):
    assert runs.report("mirrored")["logical_cpus"] == 2
    assert runs.report("mirrored")["replicas"] == 2
    for index in range(2):
        assert runs.report(f"multiworker-{index}")["replicas"] == 2


@pytest.mark.parametrize("kind", C.KINDS)
@pytest.mark.parametrize("name", C.NAMES)
def test_mirrored_strategy_gives_the_single_device_weights(runs, name, kind):
    _assert_matches(
        runs.result("mirrored", f"mirrored-{kind}-{name}"),
        runs.result("mirrored", f"single-{kind}-{name}"),
        f"{kind} {name}",
    )


@pytest.mark.parametrize("kind", C.KINDS)
@pytest.mark.parametrize("name", C.NAMES)
def test_multi_worker_strategy_gives_the_single_device_weights(runs, name, kind):
    reference = runs.result("mirrored", f"single-{kind}-{name}")
    for index in range(2):
        _assert_matches(
            runs.result(f"multiworker-{index}", f"multiworker{index}-{kind}-{name}"),
            reference,
            f"worker {index}: {kind} {name}",
        )


@pytest.mark.parametrize("kind", C.KINDS)
@pytest.mark.parametrize("name", C.SKIP_NAMES)
def test_mirrored_skip_nonfinite_skips_when_one_replica_is_non_finite(runs, name, kind):
    """One replica's gradients are non-finite: every replica skips the step,
    as the single device, whose batch holds the same bad example, does."""
    reference = runs.result("mirrored", f"single-{kind}-{name}")
    assert reference[1][0] == STEPS - C.EPOCHS  # the bad batch was skipped in each epoch
    actual = runs.result("mirrored", f"mirrored-{kind}-{name}")
    _assert_matches(actual, reference, f"{kind} {name}")
    assert all(np.all(np.isfinite(w)) for w in actual[0])
