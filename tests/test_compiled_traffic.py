"""What XLA compiles for the fused step, read off its optimized HLO
(benchmarks/hlo_traffic.py): bytes moved per parameter and copies. Timings
are noisy; these numbers are not, so a change that makes the engine move
more memory fails here."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

import hlo_traffic  # noqa: E402
from cases import floor_bytes  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["Adam", "SGD-momentum", "Lion"])
def test_compiled_step_moves_no_more_than_kerass(name):
    keras_bytes, _ = hlo_traffic.measure(name, "keras", True)
    ours_xla, ours_xla_copies = hlo_traffic.measure(name, "filteropt", True)
    fused, fused_copies = hlo_traffic.measure(name, "filteropt", False)
    assert ours_xla <= keras_bytes and ours_xla_copies == 0
    assert fused <= keras_bytes and fused_copies == 0
    # one loop per output array: parameter and slots, each written once
    slots = hlo_traffic.CASES[name][1]
    assert floor_bytes(slots) <= fused <= 4 * (slots + 1) * (slots + 3)


def test_fused_tdf2_step_has_no_copies():
    """Order-2 TDF-II states are returned, not overwritten in place: no
    copies, and 44 bytes per parameter (68 with the copies XLA adds)."""
    fused, copies = hlo_traffic.measure("Butterworth-2", "filteropt", False)
    assert copies == 0
    assert fused == 44
