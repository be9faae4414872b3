"""TensorFlow imported without its start-up log lines.

TensorFlow's C++ runtime writes lines such as "oneDNN custom operations are
on", "Could not find cuda drivers" and "failed call to cuInit" to the
process's standard error while it loads and while it first looks for
devices, before its own logging is set up, so ``TF_CPP_MIN_LOG_LEVEL``
does not hold them back. :func:`import_tensorflow` sets
``TF_CPP_MIN_LOG_LEVEL=2`` (unless the user set it) for what comes later,
and imports TensorFlow and lists its devices with file descriptor 2 pointed
at a temporary file; afterwards every captured line that is not one of
those start-up notices is written back to standard error, so a real
problem still shows. A user who sets ``TF_CPP_MIN_LOG_LEVEL=0`` sees
everything.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

__all__ = ["STARTUP_NOTICE", "import_tensorflow"]

#: A line TensorFlow writes while it starts: absl's pre-initialisation
#: warning, and I/W/E lines from its CPU, CUDA and platform set-up.
STARTUP_NOTICE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWE]\d{4} [\d:.]+\s+\d+ (port|cudart_stub|cuda_platform|cuda_executor|cuda_dnn|cuda_fft"
    r"|cuda_blas|cpu_feature_guard|computation_placer|gpu_device|dso_loader)\.cc:\d+\]"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow"
    r"|This TensorFlow binary is optimized to use available CPU instructions)"
)


def import_tensorflow():
    """Imports TensorFlow (once) without its start-up notices; returns the module,
    or None where TensorFlow is not installed or Keras runs another backend."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return None
    if os.environ["TF_CPP_MIN_LOG_LEVEL"] in ("0", "1"):
        import tensorflow

        return tensorflow
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            try:
                import tensorflow
            except ImportError:
                tensorflow = None
            if tensorflow is not None:
                tensorflow.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        kept = [
            line
            for line in capture.read().decode(errors="replace").splitlines()
            if line.strip() and not STARTUP_NOTICE.match(line)
        ]
    for line in kept:
        print(line, file=sys.stderr)
    return tensorflow
