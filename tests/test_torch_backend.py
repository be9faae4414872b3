"""filteropt under Keras's torch backend (``KERAS_BACKEND=torch``).

The checks, and the child interpreter that runs them under the backend,
are tests/backend_child.py's, shared with tests/test_jax_backend.py: every
drop-in against Keras's built-in, which on torch is Keras's own torch
implementation (``keras/src/backend/torch/optimizers``: ``torch._foreach``
updates with exact Python coefficients, weight decay by a float32 factor),
float64 1e-9 and float32 3e-4; ``model.fit`` with every filteropt class;
a designed cascade and bank against scipy; ``skip_nonfinite``, also under
``jit_compile=True`` (``torch.compile``), which is checked on that one fit
only: it costs some 20 s of compilation per model on 2 CPU cores (see
tests/backend_child.py).

    KERAS_BACKEND=torch python tests/backend_child.py --child
"""

import pytest
from backend_child import (  # noqa: F401  (the checks, run on this backend's results)
    run_child,
    test_child_runs_the_backend_with_float64,
    test_drop_ins_match_keras,
    test_engine_knows_whether_casts_round,
    test_every_drop_in_is_checked,
    test_model_fit,
    test_sections_and_banks_follow_the_design,
    test_skip_nonfinite,
)

pytestmark = pytest.mark.slow  # one torch child of about 50 s on 2 cores


@pytest.fixture(scope="module")
def backend_results():
    return run_child("torch")


def test_namespace_keeps_float64(backend_results):
    """Keras's torch ops round float64 where filteropt's namespace
    (filteropt.keras.backend_ops) does not; a Python number stays one."""
    ns = backend_results["namespace"]
    # Keras: maximum of float64 tensors is float32, a Python float in
    # power or times a keras.Variable is rounded to float32 first
    assert ns["keras_maximum"] == "float32"
    assert not ns["keras_power_exact"] and not ns["variable_times_float_exact"]
    # filteropt's namespace and the slots' tensors keep float64
    assert ns["maximum"] == "float64" and ns["maximum_values"] == [0.3, 0.1]
    assert ns["power_exact"] and ns["tensor_times_float_exact"]
    assert ns["numbers"] == [2.0, 2.5, 0.25, -1.0, 1.5, 0.0]
