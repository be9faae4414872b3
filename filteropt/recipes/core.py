"""Optimizers as recipes: plain data read by the Keras engine and the analysis.

A :class:`Recipe` says which gradient path (filter, compensation), which
normalizer (and so which variance filter), and in which order the three
stages act on the gradient g[i]::

    stages ("lr", "filter", "normalize")     SGD, momentum, Nesterov:
                                             x = -eta g; Delta = H{x}
    stages ("normalize", "lr", "filter")     RMSprop(momentum > 0)
    stages ("filter", "normalize", "lr")     Adam and the rest:
                                             Delta = -eta N(H{g})

and the parameter update is theta[i] = theta[i-1] + Delta[i] (the
lecture: "General Optimizer Structure"), or with decoupled weight decay
lambda (Loshchilov & Hutter, ICLR 2019; Keras's ``weight_decay``)

    theta[i] = (1 - eta lambda) theta[i-1] + Delta[i],

which moves the integrator's pole from 1 to 1 - eta lambda.
:meth:`Recipe.step` is the one place where the stages are chained and
:meth:`Recipe.decayed` the one place where the decay is applied; the Keras
engine calls them with ``keras.ops`` on slot variables,
:func:`filteropt.recipes.simulate` with numpy on arrays.

The named recipes are in :mod:`filteropt.recipes.catalogue`, listed once in
:mod:`filteropt.recipes.registry`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace

import numpy as np

from ..signal import filters as F
from ..signal import normalizers as N
from ..signal.arma import ARMAFilter
from ..signal.bank import PathBank
from ..signal.compensation import FilterPath
from ..signal.folding import is_const, times

__all__ = ["STAGES", "Recipe", "custom", "decayed"]

STAGES = ("lr", "filter", "normalize")


@dataclass(frozen=True)
class Recipe:
    """An optimizer as data (see the module docstring).

    Attributes:
        name: the recipe's name (``"adam"``).
        path: the gradient :class:`FilterPath`.
        normalizer: a :mod:`filteropt.normalizers` value or None.
        stages: the order of ``"lr"``, ``"filter"`` and ``"normalize"``.
        hyperparameters: the arguments the recipe was made with.
        weight_decay: decoupled weight decay lambda (AdamW's; any Keras
            optimizer's ``weight_decay``): theta[i] = (1 - eta lambda)
            theta[i-1] + Delta[i]. Keras accepts any number, and so does
            the recipe: a negative lambda puts the pole outside the unit
            circle, which the closed-loop analysis shows.
    """

    name: str
    path: FilterPath | PathBank
    normalizer: N.Normalizer | None = None
    stages: tuple = ("filter", "normalize", "lr")
    hyperparameters: dict = field(default_factory=dict, compare=False, hash=False)
    weight_decay: float = 0.0

    def __post_init__(self):
        stages = tuple(self.stages)
        if sorted(stages) != sorted(STAGES):
            raise ValueError(
                "`stages` must order 'lr', 'filter' and 'normalize', each once. "
                f"Received: stages={list(stages)}"
            )
        object.__setattr__(self, "stages", stages)
        wd = self.weight_decay
        if isinstance(wd, bool) or not isinstance(wd, numbers.Real) or not np.isfinite(wd):
            raise ValueError(
                f"`weight_decay` must be a finite number. Received: weight_decay={wd!r}"
            )
        object.__setattr__(self, "weight_decay", float(wd))

    def with_weight_decay(self, weight_decay) -> Recipe:
        """This recipe with decoupled weight decay ``weight_decay`` (None: 0)."""
        wd = 0.0 if weight_decay is None else weight_decay
        return self if wd == self.weight_decay else replace(self, weight_decay=wd)

    # -- what analysis reads ---------------------------------------------------
    @property
    def gradient_filter(self) -> ARMAFilter | None:
        """The LTI gradient filter (after compensation has settled), or None."""
        return None if self.path.is_identity else self.path.lti()

    @property
    def variance_filter(self) -> ARMAFilter | None:
        return None if self.normalizer is None else self.normalizer.variance_filter

    @property
    def transient_compensation(self) -> bool:
        return self.path.compensate or self.path.schedule is not None

    @property
    def learning_rate_position(self) -> str:
        i = self.stages.index("lr")
        if i == 0:
            return "before the filter (the state holds -eta * gradient)"
        if i == 2:
            if self.normalizer is None:
                return (
                    "after the filter (the state holds gradients; a new eta scales it all at once)"
                )
            return "after the normalizer"
        return "between the normalizer and the filter"

    def filters(self) -> list[tuple[str, ARMAFilter]]:
        """``[(name, filter)]``: every filter the recipe runs."""
        out = [] if self.path.is_identity else [("gradient_filter", self.path.filter)]
        vf = self.variance_filter
        return out + ([] if vf is None else [("variance_filter", vf)])

    # -- what the engine reads --------------------------------------------------
    def zero_gradient_gives_zero_update(self) -> bool:
        """True when a coordinate with g = 0 is not moved (no filter memory)."""
        return self.path.is_identity

    @property
    def updates_in_place(self) -> bool:
        """Whether a compiled step may overwrite the slots in place: only
        when the gradient filter is one first-order stage or none (see
        :attr:`filteropt.signal.compensation.FilterPath.updates_in_place`);
        in the other forms one state update reads an old state another
        overwrites, and XLA would copy the states first to order them."""
        return self.path.updates_in_place

    def zero_gradient_keeps_state(self) -> bool:
        """True when g = 0 also leaves that coordinate's state unchanged, so a
        row-sparse gradient needs only its rows (plain SGD, Adagrad)."""
        if not self.zero_gradient_gives_zero_update():
            return False
        norm = self.normalizer
        if norm is None:
            return True
        if isinstance(norm, N.RMS):
            b, a = norm.variance_filter.padded()
            summer = len(a) == 2 and a[1] == -1.0 and b[1] == 0.0
            return (
                summer
                and not norm.centered
                and not norm.belief
                and not norm.path.compensate
                and norm.path.direct == 0.0
                and norm.epsilon_root == 0.0
            )
        return isinstance(norm, N.Sign)

    def slots(self) -> list[tuple[str, float]]:
        """Per-variable state: ``[(name, initial value)]``."""
        out = [(f"filter_{k}", z) for k, z in enumerate(self.path.initial_state())]
        if self.normalizer is not None:
            out += self.normalizer.slots()
        return out

    def scalar_init(self) -> list[float]:
        n = [] if self.normalizer is None else self.normalizer.scalar_init()
        return list(self.path.scalar_init()) + list(n)

    @property
    def uses_step_count(self) -> bool:
        """Whether :meth:`gains` reads the step count ``t``."""
        return self.path.uses_step_count or (
            self.normalizer is not None and self.normalizer.uses_step_count
        )

    def _split(self, scalars):
        k = len(self.path.scalar_init())
        return list(scalars[:k]), list(scalars[k:])

    def advance(self, xp, scalars, t):
        """Per-step scalar recursions (compensation), shared by all variables."""
        sp, sn = self._split(scalars)
        out = list(self.path.advance(xp, sp, t))
        if self.normalizer is not None:
            out += list(self.normalizer.advance(xp, sn, t))
        return out

    def gains(self, xp, scalars, t):
        """The step's scalar gains, from the advanced scalar state."""
        sp, sn = self._split(scalars)
        gp = self.path.gains(xp, sp, t)
        gn = () if self.normalizer is None else self.normalizer.gains(xp, sn, t)
        return tuple(gp), tuple(gn)

    def step(self, xp, g, lr, state, gains):
        """One update: returns ``(Delta, new_state)``; theta += Delta.

        ``g`` is the gradient, ``lr`` the learning rate, ``state`` the slot
        values in :meth:`slots` order and ``gains`` from :meth:`gains`. The
        signal is carried as ``k * x`` with ``k`` a scalar, so that scalar
        factors (learning rate, compensation) are multiplied together first
        and applied to the tensor once.
        """
        order = self.path.order
        z_f, z_n = list(state[:order]), list(state[order:])
        g_path, g_norm = gains
        x, k, m = g, 1.0, (g, 1.0)
        for stage in self.stages:
            if stage == "lr":
                k = times(k, -lr)
            elif stage == "filter" and not self.path.is_identity:
                x, k, z_f, raw_gain = self.path.apply(x, k, z_f, g_path)
                m = (x, raw_gain)
            elif stage == "normalize" and self.normalizer is not None:
                x, k, z_n = self.normalizer.apply(xp, x, k, g, m, z_n, g_norm)
        return times(k, x), list(z_f) + list(z_n)

    def decayed(self, theta, lr, weight_decay=None):
        """theta - eta lambda theta: the parameter before Delta is added.

        ``weight_decay`` overrides :attr:`weight_decay` (the engine passes
        the optimizer's, cast to the variable's dtype, or 0 for a variable
        excluded from decay). Rounded as Keras's base optimizer rounds it,
        ``theta - (theta * lambda) * eta``.
        """
        return decayed(theta, lr, self.weight_decay if weight_decay is None else weight_decay)


def decayed(theta, lr, weight_decay):
    """theta - eta lambda theta (decoupled weight decay, Loshchilov & Hutter),
    rounded as Keras's base optimizer rounds it: ``theta - (theta * lambda) *
    eta``; a constant lambda of 0 costs nothing. The one place the decay is
    written: :meth:`Recipe.decayed`, the engine, ``simulate`` and the
    closed-loop simulation use it."""
    return theta if is_const(weight_decay, 0.0) else theta - theta * weight_decay * lr


# -- building recipes -------------------------------------------------------------


def custom(
    gradient_filter: ARMAFilter | None = None,
    normalizer: N.Normalizer | None = None,
    transient_compensation: bool = False,
    allow_unstable: bool = False,
    stages=None,
    name: str = "custom",
) -> Recipe:
    """A recipe from a gradient filter and a normalizer (``FilterOptimizer``).

    ``stages=None`` puts the learning rate before the filter when there is
    no normalizer (the lecture's g[i] = -eta dC/dtheta, as Keras's SGD) and
    after the normalizer otherwise (as Adam).

    Example:
        >>> from filteropt import filters, normalizers, recipes
        >>> r = recipes.custom(gradient_filter=filters.butterworth(2, 0.1),
        ...                    normalizer=normalizers.RMS(), transient_compensation=True)
        >>> r.stages, r.path.compensate
        (('filter', 'normalize', 'lr'), True)
    """
    f = F.as_filter(gradient_filter)
    if f is None:
        f = F.identity()
    if not isinstance(transient_compensation, bool):
        raise TypeError(
            f"`transient_compensation` must be a bool. Received: {transient_compensation!r}"
        )
    if not isinstance(allow_unstable, bool):
        raise TypeError(f"`allow_unstable` must be a bool. Received: {allow_unstable!r}")
    if not allow_unstable and not f.is_stable:
        raise ValueError(
            f"`gradient_filter` is unstable: poles {np.round(f.poles, 6).tolist()} "
            "are not strictly inside the unit circle, so the update would grow "
            "without bound. Pass allow_unstable=True to use it anyway."
        )
    normalizer = N.get(normalizer)
    if stages is None:
        stages = (
            ("lr", "filter", "normalize") if normalizer is None else ("filter", "normalize", "lr")
        )
    elif isinstance(stages, str) or not hasattr(stages, "__iter__"):
        raise TypeError(f"`stages` must be a sequence of stage names. Received: {stages!r}")
    return Recipe(
        name,
        FilterPath(f, transient_compensation),
        normalizer,
        tuple(stages),
        {"gradient_filter": f, "normalizer": normalizer},
    )
