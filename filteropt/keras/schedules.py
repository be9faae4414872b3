"""Learning-rate schedules: the lecture's "learning rate schedule" column.

Every schedule is a ``keras.optimizers.schedules.LearningRateSchedule`` of
the optimizer step ``i = 0, 1, 2, ...`` (``optimizer.iterations``, the number
of updates already applied), and every one starts at the given learning rate
``eta``::

    constant      eta
    exponential   eta * final_fraction ** (i / T)     or eta * rate ** i
    linear        eta + (end_fraction * eta - eta) * min(i, T) / T
    step          eta * factor ** floor(i / (every * E))
    fractional    eta / (1 + kappa * i)
    steps         eta * factor ** #{k : i >= round(milestone_k * T)}
    cyclical      triangular cyclical learning rate (Smith 2017)
    sgdr          cosine annealing with warm restarts (Loshchilov & Hutter 2017)
                  eta * ((1 - alpha) * m_mul ** r * (1 + cos(pi * j / P_r)) / 2 + alpha)

with ``T`` the total number of training steps and ``E`` the steps per epoch.
Keras's own classes are used wherever one exists (``ExponentialDecay``,
``PolynomialDecay``, ``InverseTimeDecay``, ``PiecewiseConstantDecay``,
``CosineDecayRestarts``); :class:`Constant` and :class:`TriangularCyclical`
fill the gaps, registered with Keras under ``filteropt>`` so that they
serialise, inside an optimizer's config too. The module is long because it
is a catalogue: nine schedules of a few lines each, their argument checks
and the one table that names them.

Example:

>>> import keras, filteropt
>>> from filteropt.keras import schedules as S
>>> sched = S.get("step:factor=0.5,every=2", 0.1, total_steps=1000,
...               steps_per_epoch=100)
>>> [round(float(sched(i)), 4) for i in (0, 199, 200, 400)]   # halved every 2 epochs
[0.1, 0.1, 0.05, 0.025]
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
>>> model.compile(optimizer=filteropt.SGD(learning_rate=sched), loss="mse")
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers

import keras
from keras import ops
from keras.optimizers.schedules import LearningRateSchedule

from ..recipes.spec import parse

__all__ = [
    "SCHEDULES",
    "Constant",
    "TriangularCyclical",
    "constant",
    "cyclical",
    "exponential",
    "fractional",
    "get",
    "linear",
    "names",
    "sgdr",
    "step",
    "steps",
]

# -- what Keras lacks ---------------------------------------------------------------


@keras.saving.register_keras_serializable(package="filteropt")
class Constant(LearningRateSchedule):
    """A learning rate that does not change: ``lr(i) = learning_rate``.

    Args:
        learning_rate: the rate, a float >= 0.
        name: a name for the operations (Keras's convention).

    Example:

    >>> sched = Constant(0.01)
    >>> float(sched(1000))
    0.01...
    """

    def __init__(self, learning_rate, name="Constant"):
        super().__init__()
        self.learning_rate = learning_rate
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name):
            lr = ops.convert_to_tensor(self.learning_rate)
            # Keep the step's shape, so that a vector of steps gives a vector.
            return lr + ops.zeros_like(ops.cast(step, lr.dtype))

    def get_config(self):
        return {"learning_rate": self.learning_rate, "name": self.name}


@keras.saving.register_keras_serializable(package="filteropt")
class TriangularCyclical(LearningRateSchedule):
    """Triangular cyclical learning rate (Smith 2017, "Cyclical Learning Rates").

    The rate goes linearly from ``base_learning_rate`` up to
    ``max_learning_rate`` in ``step_size`` steps and back down in as many, a
    cycle of ``2 * step_size`` steps::

        cycle = floor(1 + i / (2 * step_size))
        x     = abs(i / step_size - 2 * cycle + 1)
        lr(i) = base + (max - base) * max(0, 1 - x) * scale(cycle)

    with ``scale = 1`` in ``"triangular"`` mode and ``1 / 2 ** (cycle - 1)``
    in ``"triangular2"`` mode (the amplitude halves every cycle).

    Args:
        base_learning_rate: the lower bound, reached at ``i = 0, 2s, 4s, ...``.
        max_learning_rate: the upper bound (>= base), reached at ``i = s, 3s, ...``
            (in ``"triangular2"`` mode only in the first cycle).
        step_size: the half-cycle ``s``, in steps (Smith: 2 to 10 epochs).
        mode: ``"triangular"`` or ``"triangular2"``.
        name: a name for the operations.

    Example:

    >>> sched = TriangularCyclical(0.001, 0.006, step_size=2000)
    >>> float(sched(1000))   # half-way up
    0.0035...
    """

    MODES = ("triangular", "triangular2")

    def __init__(
        self,
        base_learning_rate,
        max_learning_rate,
        step_size,
        mode="triangular",
        name="TriangularCyclical",
    ):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"`mode` must be one of {list(self.MODES)}. Received: mode={mode!r}")
        self.base_learning_rate = base_learning_rate
        self.max_learning_rate = max_learning_rate
        self.step_size = step_size
        self.mode = mode
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name):
            base = ops.convert_to_tensor(self.base_learning_rate)
            dtype = base.dtype
            peak = ops.cast(self.max_learning_rate, dtype)
            size = ops.cast(self.step_size, dtype)
            i = ops.cast(step, dtype)
            cycle = ops.floor(1.0 + i / (2.0 * size))
            x = ops.abs(i / size - 2.0 * cycle + 1.0)
            height = ops.maximum(ops.cast(0.0, dtype), 1.0 - x)
            if self.mode == "triangular2":
                height = height / ops.power(ops.cast(2.0, dtype), cycle - 1.0)
            return base + (peak - base) * height

    def get_config(self):
        return {
            "base_learning_rate": self.base_learning_rate,
            "max_learning_rate": self.max_learning_rate,
            "step_size": self.step_size,
            "mode": self.mode,
            "name": self.name,
        }


# -- validation ---------------------------------------------------------------------


def _real(value, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number{where}. Received: {name}={value!r}")
    return float(value)


def _positive(value, name, where=""):
    v = _real(value, name, where)
    if not v > 0:
        raise ValueError(f"`{name}` must be > 0{where}. Received: {name}={value!r}")
    return v


def _nonnegative(value, name, where=""):
    v = _real(value, name, where)
    if not v >= 0:
        raise ValueError(f"`{name}` must be >= 0{where}. Received: {name}={value!r}")
    return v


def _fraction(value, name, where=""):
    """In (0, 1]: a multiplier that shrinks the rate, or leaves it alone."""
    v = _real(value, name, where)
    if not 0.0 < v <= 1.0:
        raise ValueError(f"`{name}` must be in (0, 1]{where}. Received: {name}={value!r}")
    return v


def _count(value, name, where=""):
    """An integer >= 1 (an integral float such as 100.0 is accepted)."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and float(value).is_integer()
        and not value < 1  # value >= 1: the stub of numbers.Real has < and <= only
    )
    if not ok:
        raise ValueError(f"`{name}` must be an integer >= 1{where}. Received: {name}={value!r}")
    return int(value)


def _steps(x):
    """A step count as an int when it is one (tidier configs)."""
    return int(x) if float(x).is_integer() else float(x)


def _default_period(total_steps, steps_per_epoch, epochs, fraction):
    """``epochs`` epochs when the epoch length is known (steps_per_epoch > 1),
    else ``fraction`` of training; at least one step."""
    if steps_per_epoch > 1:
        return epochs * steps_per_epoch
    return max(1, round(fraction * total_steps))


# -- the named schedules --------------------------------------------------------------


def constant(learning_rate, total_steps, steps_per_epoch=1):
    """A constant rate: ``lr(i) = eta``.

    Args:
        learning_rate: ``eta``.
        total_steps, steps_per_epoch: unused (every schedule takes them).

    Example: ``get("constant", 0.01, 1000)``.
    """
    return Constant(learning_rate)


def exponential(learning_rate, total_steps, steps_per_epoch=1, final_fraction=None, rate=None):
    """Exponential decay, smooth: ``lr(i) = eta * final_fraction ** (i / T)``.

    Or, with ``rate``, ``lr(i) = eta * rate ** i`` (a per-step factor).
    ``keras.optimizers.schedules.ExponentialDecay``.

    Args:
        learning_rate: ``eta``.
        total_steps: ``T``.
        final_fraction: the fraction of ``eta`` left after ``T`` steps, in
            (0, 1]; 0.01 when neither it nor ``rate`` is given.
        rate: the factor per step, in (0, 1]; excludes ``final_fraction``.

    Example: ``get("exponential:final_fraction=0.1", 0.01, 1000)``.
    """
    if final_fraction is not None and rate is not None:
        raise ValueError(
            "`final_fraction` and `rate` both fix the decay; give one. "
            f"Received: final_fraction={final_fraction!r}, rate={rate!r}"
        )
    if rate is not None:
        return keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=1, decay_rate=_fraction(rate, "rate")
        )
    final_fraction = 0.01 if final_fraction is None else _fraction(final_fraction, "final_fraction")
    return keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps=total_steps, decay_rate=final_fraction
    )


def linear(learning_rate, total_steps, steps_per_epoch=1, end_fraction=0.0):
    """Linear decay: ``lr(i) = eta + (end_fraction * eta - eta) * min(i, T) / T``.

    ``keras.optimizers.schedules.PolynomialDecay`` with ``power=1``; the rate
    stays at ``end_fraction * eta`` after ``T`` steps.

    Args:
        learning_rate: ``eta``.
        total_steps: ``T``.
        end_fraction: the fraction of ``eta`` reached at ``T``, >= 0 (above 1
            the rate ramps up). Default 0.

    Example: ``get("linear:end_fraction=0.1", 0.01, 1000)``.
    """
    end = _nonnegative(end_fraction, "end_fraction")
    return keras.optimizers.schedules.PolynomialDecay(
        learning_rate, decay_steps=total_steps, end_learning_rate=learning_rate * end, power=1.0
    )


def step(learning_rate, total_steps, steps_per_epoch=1, factor=0.5, every=10):
    """Step-exponential decay: ``lr(i) = eta * factor ** floor(i / (every * E))``.

    ``keras.optimizers.schedules.ExponentialDecay`` with ``staircase=True``
    and ``decay_steps = every * steps_per_epoch``.

    Args:
        learning_rate: ``eta``.
        steps_per_epoch: ``E``.
        factor: the multiplier applied every ``every`` epochs, in (0, 1]. Default 0.5.
        every: the number of epochs between drops, > 0. Default 10.

    Example: ``get("step:factor=0.1,every=30", 0.1, 90 * 390, steps_per_epoch=390)``.
    """
    factor = _fraction(factor, "factor")
    every = _positive(every, "every")
    return keras.optimizers.schedules.ExponentialDecay(
        learning_rate,
        decay_steps=_steps(every * steps_per_epoch),
        decay_rate=factor,
        staircase=True,
    )


def fractional(learning_rate, total_steps, steps_per_epoch=1, kappa=None):
    """Fractional (inverse-time) decay: ``lr(i) = eta / (1 + kappa * i)``.

    ``keras.optimizers.schedules.InverseTimeDecay`` with ``decay_steps=1``.

    Args:
        learning_rate: ``eta``.
        total_steps: ``T``.
        kappa: the decay per step, >= 0; by default ``9 / T``, so that the
            rate has fallen to a tenth of ``eta`` at the end of training.

    Example: ``get("fractional:kappa=0.001", 0.01, 1000)``.
    """
    kappa = 9.0 / total_steps if kappa is None else _nonnegative(kappa, "kappa")
    return keras.optimizers.schedules.InverseTimeDecay(
        learning_rate, decay_steps=1, decay_rate=kappa
    )


def steps(learning_rate, total_steps, steps_per_epoch=1, factor=0.2, milestones=(0.5, 0.75)):
    """Multi-step decay: ``lr(i) = eta * factor ** #{k : i >= round(m_k * T)}``.

    The rate is multiplied by ``factor`` at each milestone, a fraction of
    training: by default x0.2 at 50% and again at 75%.
    ``keras.optimizers.schedules.PiecewiseConstantDecay`` (whose boundaries,
    compared with ``i > b``, are therefore ``round(m_k * T) - 1``).

    Args:
        learning_rate: ``eta``.
        total_steps: ``T``.
        factor: the multiplier at each milestone, in (0, 1]. Default 0.2.
        milestones: increasing fractions of training in (0, 1) (one number
            or a sequence), at distinct steps. Default (0.5, 0.75).

    Example: ``get("steps:factor=0.1,milestones=[0.3,0.6,0.9]", 0.1, 1000)``.
    """
    factor = _fraction(factor, "factor")
    ms = [milestones] if isinstance(milestones, numbers.Real) else milestones
    if isinstance(ms, (str, bytes)) or not hasattr(ms, "__iter__") or not list(ms):
        raise ValueError(
            "`milestones` must be a fraction of training or a non-empty sequence of them. "
            f"Received: milestones={milestones!r}"
        )
    ms = list(ms)
    for m in ms:
        v = _real(m, "milestones", " (each a fraction of training in (0, 1))")
        if not 0.0 < v < 1.0:
            raise ValueError(
                "`milestones` must be fractions of training in (0, 1). "
                f"Received: milestones={milestones!r}"
            )
    at = [round(float(m) * total_steps) for m in ms]
    if any(b < 1 for b in at) or any(b2 <= b1 for b1, b2 in itertools.pairwise(at)):
        raise ValueError(
            "`milestones` must be increasing and fall on distinct steps >= 1 "
            f"(total_steps={total_steps} gives steps {at}). Received: milestones={milestones!r}"
        )
    values = [learning_rate * factor**k for k in range(len(at) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        boundaries=[b - 1 for b in at], values=values
    )


def cyclical(
    learning_rate, total_steps, steps_per_epoch=1, max_lr=None, step_size=None, mode="triangular"
):
    """Triangular cyclical learning rate (Smith 2017), :class:`TriangularCyclical`.

    From ``base = eta`` up to ``max_lr`` in ``s = step_size`` steps and back::

        lr(i) = eta + (max_lr - eta) * max(0, 1 - |i / s - 2 * cycle + 1|) * scale
        cycle = floor(1 + i / (2 s)),  scale = 1 or 2 ** (1 - cycle) ("triangular2")

    Args:
        learning_rate: ``eta``, the lower bound (Smith's base_lr).
        max_lr: the upper bound, >= ``eta``; by default ``4 * eta`` (Smith:
            base_lr a third to a quarter of max_lr).
        step_size: the half-cycle in steps, an integer >= 1; by default 2
            epochs when ``steps_per_epoch > 1``, else a tenth of training.
        mode: ``"triangular"`` (default) or ``"triangular2"``.

    Example: ``get("cyclical:max_lr=0.006,step_size=2000", 0.001, 20000)``.
    """
    peak = 4.0 * learning_rate if max_lr is None else _positive(max_lr, "max_lr")
    if peak < learning_rate:
        raise ValueError(
            f"`max_lr` must be >= the learning rate ({learning_rate}). Received: max_lr={max_lr!r}"
        )
    size = (
        _default_period(total_steps, steps_per_epoch, 2, 0.1)
        if step_size is None
        else _count(step_size, "step_size")
    )
    if mode not in TriangularCyclical.MODES:
        raise ValueError(
            f"`mode` must be one of {list(TriangularCyclical.MODES)}. Received: mode={mode!r}"
        )
    return TriangularCyclical(learning_rate, peak, size, mode=mode)


def sgdr(
    learning_rate,
    total_steps,
    steps_per_epoch=1,
    first_decay_steps=None,
    first_decay_fraction=None,
    t_mul=2.0,
    m_mul=1.0,
    alpha=0.0,
):
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    Within the ``r``-th period of length ``P_r = first_decay_steps * t_mul ** r``,
    at ``j`` steps into it::

        lr(i) = eta * ((1 - alpha) * m_mul ** r * (1 + cos(pi * j / P_r)) / 2 + alpha)

    (the floor ``alpha * eta`` does not shrink with ``m_mul``, as in Keras).
    ``keras.optimizers.schedules.CosineDecayRestarts``.

    Args:
        learning_rate: ``eta``.
        first_decay_steps: the first period, in steps (> 0). By default one
            epoch when ``steps_per_epoch > 1``, else a tenth of training.
        first_decay_fraction: the first period as a fraction of training, in
            (0, 1]; excludes ``first_decay_steps``.
        t_mul: how much longer each period is than the last, > 0. Default 2.
        m_mul: how much lower each restart is than the last, in (0, 1]. Default 1.
        alpha: the floor, a fraction of ``eta`` in [0, 1]. Default 0.

    Example: ``get("sgdr:first_decay_steps=1000,t_mul=1", 0.1, 10000)``.
    """
    if first_decay_steps is not None and first_decay_fraction is not None:
        raise ValueError(
            "`first_decay_steps` and `first_decay_fraction` both set the first period; "
            f"give one. Received: first_decay_steps={first_decay_steps!r}, "
            f"first_decay_fraction={first_decay_fraction!r}"
        )
    if first_decay_steps is not None:
        period = _steps(_positive(first_decay_steps, "first_decay_steps"))
    elif first_decay_fraction is not None:
        period = _steps(_fraction(first_decay_fraction, "first_decay_fraction") * total_steps)
    else:
        period = _default_period(total_steps, steps_per_epoch, 1, 0.1)
    t_mul = _positive(t_mul, "t_mul")
    m_mul = _fraction(m_mul, "m_mul")
    alpha = _real(alpha, "alpha", " in [0, 1]")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha!r}")
    return keras.optimizers.schedules.CosineDecayRestarts(
        learning_rate, first_decay_steps=period, t_mul=t_mul, m_mul=m_mul, alpha=alpha
    )


SCHEDULES = {
    "constant": constant,
    "exponential": exponential,
    "linear": linear,
    "step": step,
    "fractional": fractional,
    "steps": steps,
    "cyclical": cyclical,
    "sgdr": sgdr,
}


def names() -> list[str]:
    """The named schedules, in the order of the module docstring."""
    return list(SCHEDULES)


def hyperparameters(name: str) -> dict:
    """A schedule's hyperparameters and their defaults (None: derived from
    the learning rate and the training length, see its docstring)."""
    fn = _lookup(name)
    params = list(inspect.signature(fn).parameters.values())[3:]
    return {p.name: p.default for p in params}


def _lookup(name):
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; known: {', '.join(names())}")
    return SCHEDULES[name]


def get(spec, learning_rate, total_steps, steps_per_epoch=1) -> LearningRateSchedule:
    """A schedule from ``"name"`` or ``"name:k=v,..."``.

    Args:
        spec: a name from :func:`names` with optional hyperparameters
            (``"steps:factor=0.1,milestones=[0.3,0.6,0.9]"``), or a
            ``LearningRateSchedule``, returned as it is.
        learning_rate: the initial (for ``cyclical`` the lower) rate, > 0.
        total_steps: the number of training steps ``T``, an integer >= 1.
        steps_per_epoch: the steps in one epoch ``E``, an integer >= 1.

    Raises:
        ValueError: an unknown name (the message lists the known ones), an
            unknown hyperparameter, or a bad value, naming the culprit.

    Example:

    >>> import filteropt
    >>> sched = get("exponential:final_fraction=0.1", 0.01, total_steps=1000)
    >>> round(float(sched(0)), 6), round(float(sched(1000)), 6)   # eta to 0.1 eta
    (0.01, 0.001)
    >>> optimizer = filteropt.Adam(learning_rate=sched)
    """
    if isinstance(spec, LearningRateSchedule):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a schedule spec must be a non-empty string. Received: {spec!r}")
    name, kwargs = parse(spec)
    fn = _lookup(name)
    known = hyperparameters(name)
    for key in kwargs:
        if key not in known:
            have = ", ".join(known) or "none"
            raise ValueError(
                f"schedule {name!r} has no hyperparameter {key!r}; its hyperparameters: {have}"
            )
    learning_rate = _positive(learning_rate, "learning_rate")
    total_steps = _count(total_steps, "total_steps")
    steps_per_epoch = _count(steps_per_epoch, "steps_per_epoch")
    try:
        return fn(learning_rate, total_steps, steps_per_epoch, **kwargs)
    except ValueError as exc:
        raise ValueError(f"schedule {name!r}: {exc}") from None
