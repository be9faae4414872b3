"""What XLA compiles for the fused step, read off its optimized HLO
(benchmarks/hlo_traffic.py): bytes moved per parameter and copies. Timings
are noisy; these numbers are not, so a change that makes the engine move
more memory fails here.

The bounds come from the recipe, not from a measurement. The update writes
the parameter and each slot once and must read the parameter, the gradient
and each slot at least once (``cases.floor_bytes``). XLA (on CPU, without
multi-output fusion) computes each output array in a loop of its own; a
loop that reads each buffer its output depends on once, and nothing else,
moves 4 bytes (float32) per such buffer and 4 for its write. The
dependencies are read off :meth:`Recipe.step` itself (which of the
gradient and the slots each new slot and the update change with). XLA may
do better (Adam's update may read the new m and v rather than m, v and g:
one read fewer), but an extra pass over the parameters or a copy (a read
and a write) exceeds the bound, and copies are counted besides.
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

import hlo_traffic
from cases import floor_bytes

pytestmark = pytest.mark.slow

FLOAT32 = np.dtype("float32").itemsize
DROP_INS = ["Adam", "SGD-momentum", "Lion"]
SECTIONS = ["Butterworth-2"]
#: (name, library, XLA around the step): each one child process
MEASURES = [
    (n, lib, jit)
    for n in DROP_INS
    for lib, jit in (("keras", True), ("filteropt", True), ("filteropt", False))
] + [(n, "filteropt", False) for n in SECTIONS]


@pytest.fixture(scope="module")
def traffic():
    """Every measure, in child processes run side by side (each is mostly
    TensorFlow's start-up, and one core's work)."""
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        results = pool.map(lambda m: hlo_traffic.measure(*m), MEASURES)
        return dict(zip(MEASURES, results))


def _recipe(name):
    import filteropt

    if name.startswith("Butterworth-"):  # as hlo_traffic builds it
        f = filteropt.filters.butterworth(int(name.split("-")[1]), 0.1, gain="input")
        return filteropt.FilterOptimizer(gradient_filter=f).recipe
    kwargs = hlo_traffic.CASES[name][0]
    return getattr(filteropt, name.split("-")[0])(**kwargs).recipe


def dependencies(recipe, size=4096, trials=3, t=3):
    """For the update and each new slot, the set of inputs (``"gradient"``
    and slot names) it changes with: each input replaced by a fresh random
    draw in turn, a few times, with numpy running :meth:`Recipe.step`."""
    rng = np.random.default_rng(0)
    names = [name for name, _ in recipe.slots()]
    scalars = list(recipe.scalar_init())
    for i in range(1, t + 1):
        scalars = recipe.advance(np, scalars, float(i))
    gains = recipe.gains(np, scalars, float(t))

    def draw(name):
        # filter states of either sign (Lion's sign(.) must flip); a
        # normalizer's slots hold averages of squares: positive
        return (
            rng.standard_normal(size) if name.startswith("filter_") else rng.uniform(0.5, 1.5, size)
        )

    def outputs(values):
        delta, new = recipe.step(np, values[0], 0.01, list(values[1:]), gains)
        return [np.broadcast_to(x, (size,)) for x in [delta, *new]]

    inputs = ["gradient", *names]
    deps = [set() for _ in range(1 + len(names))]
    for _ in range(trials):
        base = [rng.standard_normal(size)] + [draw(n) for n in names]
        before = outputs(base)
        for j, name in enumerate(inputs):
            other = list(base)
            other[j] = rng.standard_normal(size) if j == 0 else draw(name)
            for k, (a, b) in enumerate(zip(before, outputs(other))):
                if not np.array_equal(a, b, equal_nan=True):
                    deps[k].add(name)
    return deps


def bound_bytes(recipe):
    """Bytes per parameter of one loop per output, each reading the buffers
    its output depends on once and writing the output once; the parameter's
    loop also reads the parameter (theta + Delta)."""
    delta, *slots = dependencies(recipe)
    loops = [1 + len(delta) + 1] + [len(d) + 1 for d in slots]
    return FLOAT32 * sum(loops)


def test_dependencies_are_the_recipes():
    """The bound's premise on recipes whose update is known by heart: SGD
    with momentum updates its velocity from itself and g and steps by the
    new velocity; Adam's m and v each read themselves and g."""
    sgd = dependencies(_recipe("SGD-momentum"))
    assert sgd == [{"gradient", "filter_0"}, {"gradient", "filter_0"}]
    adam = dependencies(_recipe("Adam"))
    assert adam[1] == {"gradient", "filter_0"} and adam[2] == {"gradient", "variance_0"}
    assert adam[0] == {"gradient", "filter_0", "variance_0"}
    assert floor_bytes(2) < bound_bytes(_recipe("Adam"))


@pytest.mark.parametrize("name", DROP_INS)
def test_compiled_step_moves_no_more_than_kerass(traffic, name):
    keras_bytes, _ = traffic[(name, "keras", True)]
    ours_xla, ours_xla_copies = traffic[(name, "filteropt", True)]
    fused, fused_copies = traffic[(name, "filteropt", False)]
    assert ours_xla <= keras_bytes and ours_xla_copies == 0
    assert fused <= keras_bytes and fused_copies == 0
    recipe = _recipe(name)
    floor, bound = floor_bytes(len(recipe.slots())), bound_bytes(recipe)
    assert floor <= fused <= bound, (floor, fused, bound)
    assert floor <= ours_xla <= bound, (floor, ours_xla, bound)


@pytest.mark.parametrize("name", SECTIONS)
def test_fused_section_step_has_no_copies(traffic, name):
    """A second-order section (delta form) returns its states rather than
    overwriting them in place: no copies, and one loop per output, each
    reading what it depends on once (its recipe's step: the update reads
    theta, g, v1, v2; v1' = v1 + v2 reads two; v2' reads v1, v2 and g)."""
    fused, copies = traffic[(name, "filteropt", False)]
    recipe = _recipe(name)
    assert copies == 0
    assert floor_bytes(len(recipe.slots())) <= fused <= bound_bytes(recipe)
