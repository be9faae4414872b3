"""Filter paths with transient compensation, for the gradient and its square.

A :class:`FilterPath` is what an optimizer puts on a signal::

    out[n] = mix * c[n] * F{x}[n] + direct * x[n]

``F`` is an LTI :class:`~filteropt.filters.ARMAFilter` whose state lives in
``F.order`` slots per model variable. With ``compensate=True``,

    c[n] = H(1) / s[n],

s being the step response of ``F`` (the lecture: "Transient Compensation"): a step
input gives exactly the DC response from the first sample. For
``F = ema(beta)``, s[n] = 1 - beta^(n+1) and this is Adam's bias correction.
s[n] is computed by running ``F``'s own recursion on a unit input, once per
optimizer step, on a handful of scalars shared by every variable; for a
first-order ``F`` without a zero and a pole 0 <= p < 1 (Adam's moments) in
closed form from the step count instead, c[n] = 1 / (1 - p^n), so that the
optimizer keeps no scalar state (as Keras's own bias correction).

``direct`` passes the input around the filter (quasi-hyperbolic momentum);
``schedule`` makes the path time-varying (Keras's Nadam momentum schedule).
``first_gain`` gives the filter another input gain at the first step only:
torch.optim.SGD's momentum buffer and Grokfast's moving average start at the
first gradient itself (buf[1] = g[1]) and only then run with b[0] = 1 -
dampening, so the filter's input is scaled by

    r[n] = first_gain / b[0]  (n = 1),   1  (n > 1),

computed from the step count as 1 + (r - 1) max(0, 2 - n).

The arithmetic here is written over an array namespace ``xp`` (numpy, or
``keras.ops``), so that the Keras engine and the numpy reference run the
same formulas.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .arma import ARMAFilter, check_unit_interval
from .folding import is_const, times
from .realisation import run, stage_form

__all__ = ["FilterPath", "NadamSchedule", "compensation_gains", "step_response_margin"]


@dataclass(frozen=True)
class NadamSchedule:
    """Dozat's momentum schedule as Keras 3 uses it in ``Nadam``.

    mu[t] = beta_1 (1 - 0.5 decay^t)   (t = 1, 2, ...; decay = 0.96)

    Keras compensates its two branches by the step response of the EMA with
    the *time-varying* pole mu[t],

        S[t] = mu[t] S[t-1] + (1 - mu[t]),   i.e.  S[t] = 1 - prod_{i<=t} mu[i],

    one step apart::

        out[t] = mu[t+1] / S[t+1] * m[t] + (1 - mu[t]) / S[t] * x[t],

    where m = ema(beta_1){x} keeps the constant pole beta_1. As t grows,
    mu -> beta_1 and S -> 1, so the path tends to the LTI
    ``beta_1 * ema(beta_1) + (1 - beta_1)``. Only S is kept as state: one
    scalar recursion per step.
    """

    beta_1: float
    decay: float = 0.96
    #: The (beta_1, decay) used in the gains, where they differ from the
    #: ones of the S recursion (Keras rounds these to float32; see
    #: :func:`filteropt.recipes.nadam`).
    gain_coefficients: tuple | None = None

    def mu(self, xp, t, for_gain=False):
        beta, decay = self.beta_1, self.decay
        if for_gain and self.gain_coefficients is not None:
            beta, decay = self.gain_coefficients
        return beta * (1.0 - 0.5 * xp.power(decay, t))


@dataclass(frozen=True)
class FilterPath:
    """``out = mix * c[n] * F{x} + direct * x``; see the module docstring.

    Args:
        filter: the LTI filter F (an :class:`ARMAFilter`).
        compensate: scale F's output by H(1)/s[n] (transient compensation).
        mix: weight of the filtered branch (QHM's nu).
        direct: weight of the input passed straight through (QHM's 1 - nu).
        schedule: a time-varying schedule (only :class:`NadamSchedule`).
        initial: the filter's previous output y[-1] before the first step
            (Adagrad's ``initial_accumulator_value``); past inputs are zero.
        reference: the filter whose step response s[n] and DC gain set the
            compensation, when it is not ``filter`` itself (Keras computes
            Adam's bias correction with beta rounded to float32; the drop-ins
            say so here to match it).
        first_gain: the filter's input gain b[0] at the first step, where it
            differs from ``filter``'s (torch's momentum buffer: 1); None: no
            difference. Not with ``compensate`` or ``schedule``.

    Example:
        >>> from filteropt import FilterPath, filters
        >>> from filteropt.analysis import path_response
        >>> path = FilterPath(filters.ema(0.9), compensate=True)   # Adam's first moment
        >>> path_response(path, [1.0, 1.0, 1.0])                   # a step, read at once
        array([1., 1., 1.])
    """

    filter: ARMAFilter
    compensate: bool = False
    mix: float = 1.0
    direct: float = 0.0
    schedule: NadamSchedule | None = None
    initial: float = 0.0
    reference: ARMAFilter | None = None
    first_gain: float | None = None

    def __post_init__(self):
        if not isinstance(self.filter, ARMAFilter):
            raise TypeError(f"`filter` must be a filteropt.ARMAFilter. Received: {self.filter!r}")
        for name in ("mix", "direct", "initial"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"`{name}` must be a real number. Received: {value!r}")
            object.__setattr__(self, name, float(value))
        if self.initial and self.form not in ("ar1", "arma1", "tdf2"):
            raise ValueError(
                "`initial` (the previous output before the first step) needs a "
                f"filter of one first-order or TDF-II stage; {self.filter!r} runs as "
                f"{self.form!r}"
            )
        if self.reference is not None and not isinstance(self.reference, ARMAFilter):
            raise TypeError(f"`reference` must be an ARMAFilter. Received: {self.reference!r}")
        if self.compensate:
            ref = self.compensation_filter
            h1 = ref.dc_gain
            if not (abs(h1) < float("inf")) or h1 == 0.0:
                raise ValueError(
                    "transient compensation needs a filter with a finite, "
                    f"non-zero DC gain; {ref!r} has H(1) = {h1}"
                )
            if ref.input_gain == 0.0:
                raise ValueError(
                    "transient compensation needs b[0] != 0 (the step response "
                    f"must be non-zero from the first sample); got {ref!r}"
                )
            _check_step_response(ref)
        if self.first_gain is not None:
            fg = self.first_gain
            if isinstance(fg, bool) or not isinstance(fg, numbers.Real) or not math.isfinite(fg):
                raise TypeError(f"`first_gain` must be a finite real number. Received: {fg!r}")
            object.__setattr__(self, "first_gain", float(fg))
            if self.compensate or self.schedule is not None:
                raise ValueError("`first_gain` cannot be combined with `compensate` or `schedule`")
            if self.filter.input_gain == 0.0:
                raise ValueError(
                    "`first_gain` scales the filter's input gain b[0], which is 0 for "
                    f"{self.filter!r}"
                )
        if self.schedule is not None:
            if not isinstance(self.schedule, NadamSchedule):
                raise TypeError(f"`schedule` must be a NadamSchedule. Received: {self.schedule!r}")
            check_unit_interval(self.schedule.beta_1, "beta_1")

    # -- structure -------------------------------------------------------------
    @property
    def compensation_filter(self) -> ARMAFilter:
        return self.filter if self.reference is None else self.reference

    @property
    def order(self) -> int:
        return self.filter.order

    @property
    def is_identity(self) -> bool:
        """True when the path is out = x (no state, no gain)."""
        return (
            self.filter.is_identity
            and self.mix == 1.0
            and self.direct == 0.0
            and self.schedule is None
            and self.first_gain is None
        )

    def lti(self) -> ARMAFilter:
        """The LTI filter the path tends to once compensation has settled."""
        if self.schedule is not None:
            beta = self.schedule.beta_1
            return beta * self.filter + (1.0 - beta)
        f = self.mix * self.filter
        return f + self.direct if self.direct else f

    @property
    def form(self) -> str:
        """How the filter runs on the slots (:mod:`filteropt.realisation`).

        A single stage's form: ``"ar1"`` (b = [b0], a = [1, a1]; the slot
        holds the output itself, y[n] = b0 x[n] - a1 y[n-1]: Keras's
        momentum and its Adam moments, so the update reads the state it just
        wrote, which XLA does in place, and the state is no larger than y,
        so it overflows no sooner than Keras's), ``"arma1"`` (b = [b0, b1]:
        the slot holds s[n] = x[n] - a1 s[n-1] and y = (b0 - b1/a1) s[n] +
        (b1/a1) x[n], Keras's Nesterov form), ``"tdf2"``, ``"delta"`` (a
        second-order section), ``"bank"`` or ``"gain"``; ``"cascade"`` for
        several stages, ``"identity"`` for none.
        """
        stages = self.filter.stages
        if not stages:
            return "identity"
        return stage_form(stages[0]) if len(stages) == 1 else "cascade"

    @property
    def updates_in_place(self) -> bool:
        """False unless the filter is one first-order stage (or none): in
        every other form a state update reads an old state that another
        update overwrites (TDF-II's z[0] through y, the delta form's v1 and
        v2), and XLA would copy the states first to order the reads before
        the writes."""
        return self.form in ("ar1", "arma1", "gain", "identity")

    def initial_state(self) -> list[float]:
        """Slot values before the first step, for a previous output y[-1] =
        ``initial`` and zero past inputs (TDF-II: z[k] = -a[k+1] y[-1])."""
        b, a = self.filter.padded()
        form = self.form
        if form == "ar1":
            return [self.initial + 0.0]
        if form == "arma1":
            return [self.initial / (b[0] - b[1] / a[1]) + 0.0] if self.initial else [0.0]
        if form == "tdf2":
            return [-a[k + 1] * self.initial + 0.0 for k in range(self.order)]
        return [0.0] * self.order

    # -- per-step scalars ------------------------------------------------------
    @property
    def closed_form_pole(self) -> float | None:
        """p when c[n] = H(1)/s[n] = 1 / (1 - p^n) (a compensated filter
        p y[n-1] + b0 x[n], 0 <= p < 1): computed from the step count, no
        scalar state. None otherwise."""
        if not self.compensate or self.schedule is not None:
            return None
        f = self.compensation_filter
        b, a = f.padded()
        if f.order == 1 and b[1] == 0.0 and 0.0 <= -a[1] < 1.0:
            return -a[1]
        return None

    @property
    def uses_step_count(self) -> bool:
        """Whether :meth:`gains` reads the step count ``t``."""
        return (
            self.schedule is not None
            or self.closed_form_pole is not None
            or self.first_gain is not None
        )

    def scalar_init(self) -> list[float]:
        """Initial scalar state: the unit-step recursion, or Nadam's S."""
        if self.schedule is not None:
            return [0.0]
        if self.closed_form_pole is not None:
            return []
        if self.compensate:
            # s[n] and the reference filter's state on a unit step
            return [0.0] * (self.compensation_filter.order + 1)
        return []

    def advance(self, xp, state, t):
        """The scalar state after this step (t = 1, 2, ... is the step)."""
        if self.schedule is not None:
            mu = self.schedule.mu(xp, t)
            return [mu * state[0] + (1.0 - mu)]
        if self.compensate and self.closed_form_pole is None:
            s, z = run(self.compensation_filter, 1.0, list(state[1:]))
            return [s] + list(z)
        return []

    def gains(self, xp, state, t):
        """(c_filtered, c_direct) for this step, from the advanced state;
        with ``first_gain``, (c_filtered, c_direct, r[n]) (r: the filter's
        input gain relative to b[0], see the module docstring)."""
        if self.first_gain is not None:
            r = self.first_gain / self.filter.input_gain
            first = 1.0 + (r - 1.0) * xp.maximum(0.0, 2.0 - t)
            return self.mix, self.direct, first
        if self.schedule is not None:
            sched = self.schedule
            s_t = state[0]
            mu_next = sched.mu(xp, t + 1.0, for_gain=True)
            s_next = mu_next * s_t + (1.0 - mu_next)
            return mu_next / s_next, (1.0 - sched.mu(xp, t, for_gain=True)) / s_t
        pole = self.closed_form_pole
        if pole is not None:
            # 1 - p^t = -expm1(t log p): no cancellation near p = 1
            s = 1.0 if pole == 0.0 else -xp.expm1(t * math.log(pole))
            return self.mix / s, self.direct
        if self.compensate:
            return (self.mix * self.compensation_filter.dc_gain) / state[0], self.direct
        return self.mix, self.direct

    # -- per-variable work -----------------------------------------------------
    def apply(self, x, k, z, gains):
        """Filters the signal ``k * x``; returns ``(y, k_out, z', raw_gain)``.

        ``k_out * y`` is the path's output. A scalar output gain is returned
        in ``k_out`` rather than applied, so that it can be folded with later
        scalars (one pass over the tensor less). ``raw_gain * y`` is F's own
        output (before compensation and mixing) when the output was not
        materialised, else ``raw_gain`` is None.
        """
        c_f, c_x, *start = gains
        k_f = times(k, start[0]) if start else k  # the filter's input gain (first_gain)
        if self.form == "arma1":
            # Keras's Nesterov form, with the compensation folded into the two
            # output coefficients: s[n] = k x[n] - a1 s[n-1],
            # y = c_f (b0 - d) s[n] + (c_f d + c_x) k x[n], d = b1 / a1
            b, a = self.filter.padded()
            pole = -a[1]
            s_new = times(k_f, x) + (z[0] if is_const(pole, 1.0) else pole * z[0])
            direct = b[1] / a[1]
            c_v = times(c_f, b[0] - direct)
            if start:
                c_in = times(times(c_f, direct), k_f) + times(c_x, k)
            else:
                c_in = times(times(c_f, direct) + c_x, k)
            y = (s_new if is_const(c_v, 1.0) else c_v * s_new) + times(c_in, x)
            return y, 1.0, [s_new], None
        y, z = run(self.filter, x, z, gain=k_f)
        raw = 1.0
        if is_const(c_x, 0.0):
            return y, times(c_f, raw), z, raw
        c_x = times(c_x, k)
        y = times(times(c_f, raw), y) + times(c_x, x)
        return y, 1.0, z, None


def step_response_margin(f: ARMAFilter, n: int = 4096) -> float:
    """min over n of s[n] / H(1): compensation divides by s[n], so this must
    stay clearly positive (nan for a filter without a finite non-zero H(1))."""
    import numpy as np

    h1 = f.dc_gain
    if not np.isfinite(h1) or h1 == 0.0:
        return float("nan")
    return float(np.min(f.step_response(n) / h1))


def _check_step_response(f: ARMAFilter) -> None:
    margin = step_response_margin(f)
    if not margin > 1e-6:
        raise ValueError(
            "transient compensation divides by the step response s[n], but "
            f"min s[n] / H(1) = {margin:.3g} for {f!r}: the step response "
            "must keep the sign of H(1) and stay away from zero"
        )


def compensation_gains(path: FilterPath, n: int):
    """The gains (c_filtered[t], c_direct[t]) for t = 1..n, in numpy."""
    import numpy as np

    state = path.scalar_init()
    out = []
    for t in range(1, n + 1):
        state = path.advance(np, state, float(t))
        out.append(tuple(float(g) for g in path.gains(np, state, float(t))))
    return np.array(out).reshape(n, 2)
