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


def test_fused_section_step_has_no_copies():
    """A second-order section (delta form) returns its states rather than
    overwriting them in place: no copies, and one loop per output, each
    reading what it needs once: the update reads theta, g, v1, v2; v1' =
    v1 + v2 reads two; v2' reads v1, v2 and g (4 bytes per read and write)."""
    fused, copies = hlo_traffic.measure("Butterworth-2", "filteropt", False)
    assert copies == 0
    assert fused == 4 * ((4 + 1) + (2 + 1) + (3 + 1))

