"""Parallel banks of paths, each with its own compensation or warm-up.

A :class:`PathBank` sums the outputs of several paths run on the same input::

    out[n] = sum_k P_k{x}[n]

where each P_k is a :class:`~filteropt.signal.compensation.FilterPath` (its
own compensation, mixing and first gain) or a :class:`Warmup` (a moving
average whose pole and output gain rise over the first steps). A sum of
LTI filters is already a parallel bank inside one ARMAFilter; a PathBank is
needed when the branches are time-varying in different ways (AdEMAMix: a
bias-corrected fast average plus an uncorrected, warmed-up slow one).

The bank offers the interface the recipe and the analysis read from a
path (state layout, per-step scalars, gains, ``apply``, ``lti``), so that
the Keras engine, the adapters and ``simulate`` run it unchanged.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .arma import ARMAFilter, check_unit_interval
from .compensation import FilterPath
from .filters import ema
from .folding import times

__all__ = ["PathBank", "Warmup", "check_steps"]


def check_steps(value, name):
    """A warm-up length: None or an integer >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be None or an integer >= 1. Received: {name}={value!r}")
    return int(value)


@dataclass(frozen=True)
class Warmup:
    """A moving average whose pole and output gain warm up (AdEMAMix's slow EMA).

    ::

        y[n] = b[n] y[n-1] + (1 - b[n]) x[n],   out[n] = a[n] y[n]
        a[n] = mix min(n / mix_warmup, 1)                 (mix_warmup None: mix)
        b[n] = f^-1((1 - r) f(beta_start) + r f(beta)),  r = min(n / beta_warmup, 1),
        f(b) = ln(0.5) / ln(b) - 1   (the half-life in steps), f^-1(t) = 0.5^(1 / (t + 1))

    so the half-life grows linearly from ``beta_start``'s to ``beta``'s
    (beta_warmup None: b[n] = beta). Settles to ``mix * ema(beta)``. One
    slot, no scalar state: the gains come from the step count.
    """

    beta: float
    mix: float = 1.0
    beta_start: float = 0.0
    beta_warmup: int | None = None
    mix_warmup: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "beta", check_unit_interval(self.beta, "beta"))
        object.__setattr__(self, "beta_start", check_unit_interval(self.beta_start, "beta_start"))
        if (
            isinstance(self.mix, bool)
            or not isinstance(self.mix, numbers.Real)
            or not math.isfinite(self.mix)
        ):
            raise ValueError(f"`mix` must be a finite number. Received: mix={self.mix!r}")
        object.__setattr__(self, "mix", float(self.mix))
        object.__setattr__(self, "beta_warmup", check_steps(self.beta_warmup, "beta_warmup"))
        object.__setattr__(self, "mix_warmup", check_steps(self.mix_warmup, "mix_warmup"))
        if self.beta_warmup is not None and (self.beta_start == 0.0 or self.beta == 0.0):
            raise ValueError("a `beta_warmup` needs beta_start > 0 and beta > 0 (half-lives)")

    # -- the interface of a path ---------------------------------------------------
    filter = property(lambda self: ema(self.beta))
    order = 1
    compensate = False
    schedule = None
    direct = 0.0
    is_identity = False
    updates_in_place = True
    uses_step_count = property(
        lambda self: self.beta_warmup is not None or self.mix_warmup is not None
    )
    form = "ar1"

    def lti(self) -> ARMAFilter:
        return self.mix * ema(self.beta)

    def initial_state(self):
        return [0.0]

    def scalar_init(self):
        return []

    def advance(self, xp, state, t):
        return []

    @staticmethod
    def _half_life(beta):
        return math.log(0.5) / math.log(beta) - 1.0

    def pole(self, xp, t):
        """b[n] (a number when there is no warm-up)."""
        if self.beta_warmup is None:
            return self.beta
        r = xp.minimum(t / float(self.beta_warmup), 1.0)
        half = (1.0 - r) * self._half_life(self.beta_start) + r * self._half_life(self.beta)
        return xp.exp(math.log(0.5) / (half + 1.0))

    def gains(self, xp, state, t):
        """(b[n], a[n])."""
        mix = (
            self.mix
            if self.mix_warmup is None
            else self.mix * xp.minimum(t / float(self.mix_warmup), 1.0)
        )
        return self.pole(xp, t), mix

    def apply(self, x, k, z, gains):
        pole, mix = gains
        y = times(pole, z[0]) + times(times(1.0 - pole, k), x)
        return y, mix, [y], None


@dataclass(frozen=True)
class PathBank:
    """out = sum_k P_k{x}: paths in parallel (see the module docstring)."""

    paths: tuple

    def __post_init__(self):
        paths = tuple(self.paths)
        if len(paths) < 2 or not all(isinstance(p, (FilterPath, Warmup)) for p in paths):
            raise TypeError(
                f"`paths` must be two or more FilterPath or Warmup values. Received: {self.paths!r}"
            )
        object.__setattr__(self, "paths", paths)

    # -- structure -------------------------------------------------------------------
    compensate = property(lambda self: any(p.compensate for p in self.paths))
    schedule = None
    mix = 1.0
    direct = 0.0
    is_identity = False
    form = "bank"
    closed_form_pole = None
    order = property(lambda self: sum(p.order for p in self.paths))
    updates_in_place = property(lambda self: all(p.updates_in_place for p in self.paths))
    uses_step_count = property(lambda self: any(p.uses_step_count for p in self.paths))

    def lti(self) -> ARMAFilter:
        """The sum of the branches once every compensation and warm-up has settled."""
        out = self.paths[0].lti()
        for p in self.paths[1:]:
            out = out + p.lti()
        return out

    @property
    def filter(self) -> ARMAFilter:
        return self.lti()

    def initial_state(self):
        return [z for p in self.paths for z in p.initial_state()]

    def scalar_init(self):
        return [s for p in self.paths for s in p.scalar_init()]

    def _split(self, values, sizes):
        out, i = [], 0
        for n in sizes:
            out.append(list(values[i : i + n]))
            i += n
        return out

    def advance(self, xp, state, t):
        parts = self._split(state, [len(p.scalar_init()) for p in self.paths])
        return [s for p, part in zip(self.paths, parts) for s in p.advance(xp, part, t)]

    def gains(self, xp, state, t):
        """One gains tuple per branch, flattened; :meth:`apply` splits them."""
        parts = self._split(state, [len(p.scalar_init()) for p in self.paths])
        return tuple(g for p, part in zip(self.paths, parts) for g in p.gains(xp, part, t))

    def apply(self, x, k, z, gains):
        """Each branch on ``k * x``, summed: ``(y, 1, z', None)``."""
        zs = self._split(z, [p.order for p in self.paths])
        gs = self._split(gains, [_gain_count(p) for p in self.paths])
        y, new = None, []
        for p, zp, gp in zip(self.paths, zs, gs):
            yp, kp, zp, _ = p.apply(x, k, zp, tuple(gp))
            yp = times(kp, yp)
            y = yp if y is None else y + yp
            new += list(zp)
        return y, 1.0, new, None


def _gain_count(path) -> int:
    """How many gains ``path.gains`` returns: (c_f, c_x[, first]) or (b, a)."""
    return 3 if getattr(path, "first_gain", None) is not None else 2
