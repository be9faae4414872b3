"""Tuning and repetition for ``filteropt compare``: grids, targets, choices.

Plain numpy: what a tuned, repeated comparison means, apart from training.

- :func:`learning_rate_grid`: ``n`` learning rates on a log grid centred on
  an optimizer's own, ``SPACING`` (half a decade) apart;
- :func:`steps_to_target`: the first step whose loss is at or below the
  target;
- :func:`choose`: an optimizer's best learning rate over its seeds: with a
  target, the most seeds reaching it, then the fewest median steps, then
  the lowest median final validation loss; without one, the lowest median
  final validation loss. A run that diverged counts as an infinite loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SPACING", "Run", "choose", "learning_rate_grid", "steps_to_target"]

#: Ratio of neighbouring learning rates in a --tune grid: half a decade.
SPACING = math.sqrt(10.0)


@dataclass
class Run:
    """One training: an optimizer spec at one learning rate and seed.

    ``history`` is Keras's (per epoch); ``train_loss[k]`` the loss on the
    whole training set after optimizer step k (k = 0: before training),
    recorded when a target is given.
    """

    spec: str
    learning_rate: float
    seed: int
    effective_learning_rate: float = float("nan")
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    train_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    target: float | None = None

    def final(self, key: str) -> float:
        """The last epoch's value of ``key``; NaN where there is none."""
        values = self.history.get(key)
        return float(values[-1]) if values else float("nan")

    @property
    def steps(self) -> np.ndarray:
        """The optimizer steps ``train_loss`` was recorded after: 0, 1, 2, ..."""
        return np.arange(len(self.train_loss))

    @property
    def steps_to_target(self):
        """The first step at or below the target (None: not reached or no target)."""
        if self.target is None:
            return None
        return steps_to_target(self.steps, self.train_loss, self.target)


def learning_rate_grid(learning_rate: float, n: int, spacing: float = SPACING) -> np.ndarray:
    """``n`` learning rates, log-spaced by ``spacing``, centred on ``learning_rate``
    (which is one of them when ``n`` is odd)."""
    learning_rate, n = float(learning_rate), int(n)
    if not (learning_rate > 0 and math.isfinite(learning_rate)):
        raise ValueError(
            f"a learning rate to tune around must be positive and finite (received {learning_rate})"
        )
    if n < 1:
        raise ValueError(f"--tune must be >= 1 (received {n})")
    return learning_rate * spacing ** (np.arange(n) - (n - 1) / 2.0)


def steps_to_target(steps, losses, target: float):
    """The first of ``steps`` whose loss is at or below ``target``; None if none is."""
    losses = np.asarray(losses, float)
    hit = np.flatnonzero(losses <= float(target))
    return int(np.asarray(steps)[hit[0]]) if hit.size else None


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.inf


def _score(runs, target, key):
    """Sort key of one learning rate's runs (smaller is better)."""
    val = float(np.median([_finite(r.final(key)) for r in runs]))
    if target is None:
        return (val,)
    reached = [r.steps_to_target for r in runs if r.steps_to_target is not None]
    median_steps = float(np.median(reached)) if len(reached) == len(runs) else math.inf
    return (-len(reached), median_steps, val)


def choose(runs, target=None, key="val_loss") -> dict:
    """``{spec: best learning rate}`` over ``runs`` (see the module docstring;
    ``key`` names the final loss compared, Keras's history key); ties go to
    the smaller learning rate."""
    by_spec: dict = {}
    for r in runs:
        by_spec.setdefault(r.spec, {}).setdefault(r.learning_rate, []).append(r)
    return {
        spec: min(sorted(by_lr), key=lambda lr: _score(by_lr[lr], target, key))
        for spec, by_lr in by_spec.items()
    }


def edge(learning_rates, chosen) -> int:
    """-1 or +1 when ``chosen`` is the smallest or largest of more than one
    ``learning_rates`` (the grid may be too narrow on that side), else 0."""
    grid = sorted(set(learning_rates))
    if len(grid) < 2:
        return 0
    return -1 if chosen == grid[0] else 1 if chosen == grid[-1] else 0


def widened(train_at, grid, target=None, key="val_loss", max_extend: int = 3) -> list:
    """The runs of ``train_at(eta)`` (a list of Runs of one spec, one per
    seed) over ``grid``, then, while the chosen rate is at an edge of the
    rates tried, at one more rate ``SPACING`` beyond that edge, up to
    ``max_extend`` times: a search that does not stop at its own border."""
    runs = [r for lr in grid for r in train_at(float(lr))]
    for _ in range(int(max_extend)):
        lrs = [r.learning_rate for r in runs]
        side = edge(lrs, next(iter(choose(runs, target, key).values())))
        if not side:
            break
        runs += train_at(max(lrs) * SPACING if side > 0 else min(lrs) / SPACING)
    return runs
