"""What a tuned, repeated comparison means (filteropt.cli.tuning): the grid,
steps to target, the choice of learning rate."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from filteropt.cli import tuning
from filteropt.cli.tuning import Run


@given(st.floats(1e-6, 10.0), st.integers(1, 9))
def test_grid_is_log_spaced_half_a_decade_and_centred(lr, n):
    grid = tuning.learning_rate_grid(lr, n)
    assert len(grid) == n and np.all(np.diff(grid) > 0)
    np.testing.assert_allclose(grid[1:] / grid[:-1], math.sqrt(10.0), rtol=1e-12)
    # centred on lr in log space; lr itself is on the grid when n is odd
    np.testing.assert_allclose(math.exp(np.mean(np.log(grid))), lr, rtol=1e-12)
    if n % 2:
        assert grid[n // 2] == pytest.approx(lr, rel=1e-15)


@pytest.mark.parametrize("lr, n", [(0.0, 3), (-1.0, 3), (float("inf"), 3), (0.1, 0)])
def test_grid_refuses_what_it_cannot_centre(lr, n):
    with pytest.raises(ValueError):
        tuning.learning_rate_grid(lr, n)


@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=50), st.floats(0.0, 10.0))
@example([1.0, 0.5, 0.5], 0.5)  # at the target counts
@example([float("nan"), 0.1], 0.2)  # a NaN is not below anything
def test_steps_to_target_is_the_first_step_at_or_below(losses, target):
    steps = np.arange(len(losses)) * 3  # any recorded steps
    got = tuning.steps_to_target(steps, losses, target)
    below = [i for i, v in enumerate(losses) if v <= target]
    if not below:
        assert got is None
    else:
        assert got == steps[below[0]]
        assert all(not (v <= target) for v in losses[: below[0]])


def _run(spec, lr, seed, val, steps=None, target=None):
    r = Run(spec, lr, seed, history={"val_loss": [9.0, val]}, target=target)
    if steps is not None:
        # a loss curve that reaches the target first at `steps`
        r.train_loss = (
            np.r_[np.full(steps, 2.0), np.full(5, 0.5)] if steps >= 0 else np.full(8, 2.0)
        )
    return r


@given(
    st.lists(
        st.lists(st.floats(1e-4, 1e3) | st.just(float("nan")), min_size=3, max_size=3),
        min_size=1,
        max_size=6,
    )
)
def test_choice_without_target_is_the_lowest_median_validation_loss(values):
    lrs = [10.0 ** (-k) for k in range(len(values))]
    runs = [_run("sgd", lr, s, v) for lr, vs in zip(lrs, values) for s, v in enumerate(vs)]
    chosen = tuning.choose(runs)["sgd"]
    med = {
        lr: np.median([v if np.isfinite(v) else np.inf for v in vs]) for lr, vs in zip(lrs, values)
    }
    best = min(med.values())
    assert med[chosen] == best
    assert chosen == min(lr for lr in lrs if med[lr] == best)  # ties: the smaller rate


def test_choice_with_target_counts_seeds_then_steps_then_loss():
    runs = [
        # fast on two seeds, never on the third: loses to one that always reaches it
        _run("m", 0.3, 0, 0.1, 10, 1.0),
        _run("m", 0.3, 1, 0.1, 10, 1.0),
        _run("m", 0.3, 2, 0.1, -1, 1.0),
        _run("m", 0.1, 0, 0.2, 40, 1.0),
        _run("m", 0.1, 1, 0.2, 50, 1.0),
        _run("m", 0.1, 2, 0.2, 45, 1.0),
        _run("m", 0.03, 0, 0.05, 60, 1.0),
        _run("m", 0.03, 1, 0.05, 70, 1.0),
        _run("m", 0.03, 2, 0.05, 80, 1.0),
    ]
    assert [r.steps_to_target for r in runs[:3]] == [10, 10, None]
    assert tuning.choose(runs, target=1.0) == {"m": 0.1}
    # without a target the lowest validation loss wins
    assert tuning.choose(runs) == {"m": 0.03}


@given(st.floats(-4.0, 4.0), st.integers(0, 4))
def test_widened_search_walks_past_the_edge_to_a_best_inside(log_best, max_extend):
    """A loss with its minimum at 10^log_best: the grid (0.01 and its two
    neighbours) is widened one rate at a time while the best is at an edge."""
    calls = []

    def train_at(lr):
        calls.append(lr)
        val = (math.log10(lr) - log_best) ** 2 + 1.0
        return [_run("x", lr, s, val) for s in range(2)]

    grid = tuning.learning_rate_grid(0.01, 3)
    runs = tuning.widened(train_at, grid, max_extend=max_extend)
    lrs = sorted({r.learning_rate for r in runs})
    assert calls[:3] == list(grid) and len(calls) <= 3 + max_extend
    np.testing.assert_allclose(np.diff(np.log10(lrs)), 0.5, rtol=1e-9)  # still a grid
    chosen = tuning.choose(runs)["x"]
    # the widened grid holds the best rate of the direct search over it, and
    # stops as soon as that rate is inside (or after max_extend extra rates)
    assert chosen == min(lrs, key=lambda lr: ((math.log10(lr) - log_best) ** 2, lr))
    if len(calls) < 3 + max_extend:
        assert tuning.edge(lrs, chosen) == 0
