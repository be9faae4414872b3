"""filteropt under Keras's JAX backend (``KERAS_BACKEND=jax``, ``JAX_ENABLE_X64=1``).

The checks, and the child interpreter that runs them under the backend,
are tests/backend_child.py's, shared with tests/test_torch_backend.py:
every drop-in against Keras's built-in (float64 1e-9, float32 3e-4),
``model.fit`` with every filteropt class (``jit_compile`` True and False
agreeing), a designed cascade and bank against scipy, ``skip_nonfinite``.

    KERAS_BACKEND=jax JAX_ENABLE_X64=1 python tests/backend_child.py --child
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

pytestmark = pytest.mark.slow  # one JAX child of about half a minute on 2 cores


@pytest.fixture(scope="module")
def backend_results():
    return run_child("jax")
