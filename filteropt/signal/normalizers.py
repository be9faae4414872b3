"""Gradient normalizers: the lecture's "gradient normalization" column.

A normalizer divides the (filtered) gradient signal ``x`` by an estimate of
the gradient's size made from the raw gradient ``g``:

=====================  ====================================================  ==========
normalizer             output                                                used by
=====================  ====================================================  ==========
``None``               x                                                     SGD
``RMS``                x / sqrt(V{g^2} + eps)  (eps inside)                  Adagrad, RMSprop
                       x / (sqrt(V{g^2}) + eps)  (eps outside)               Nadam
                       x / (sqrt(V{g^2}) + eps / sqrt(s_V[n]))  (eps "hat")  Adam
``RMS(centered)``      x / sqrt(V{g^2} - V{g}^2 + eps)                       RMSprop(centered)
``RMS(amsgrad)``       V replaced by its running maximum                     AMSGrad
``RMS(belief)``        V runs on (g - m)^2, m the filtered gradient          AdaBelief
``RMS(epsilon_root)``  V runs on g^2 + epsilon_root / b_V[0]; for            AdaBelief
                       V = ema(b): s = b s + (1 - b) g^2 + epsilon_root
``MaxNorm``            x / (u + eps),  u[n] = max(beta u[n-1], abs(g[n]))    Adamax
``Sign``               sign(x)                                               Lion
``Adadelta``           x sqrt(D[n-1] + eps) / sqrt(V{g^2} + eps),            Adadelta
                       D = ema_rho(out^2)
=====================  ====================================================  ==========

V is a variance filter (any :class:`~filteropt.filters.ARMAFilter`: the
``summer`` for Adagrad, ``ema`` for RMSprop, a compensated ``ema`` for
Adam), run as a :class:`~filteropt.compensation.FilterPath` on the squared
gradient. Normalizers are immutable descriptions; their state lives in the
optimizer's slots. Their arithmetic is written over an array namespace
``xp`` (numpy or ``keras.ops``): the Keras engine and the numpy reference
run these very formulas.
"""

from __future__ import annotations

import numbers
from dataclasses import Field, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

from .arma import ARMAFilter, as_filter, check_unit_interval
from .compensation import FilterPath
from .filters import ema
from .folding import is_const, times

__all__ = ["RMS", "Adadelta", "MaxNorm", "Normalizer", "Sign", "get", "serialize"]

EPSILON_MODES = ("inside", "outside", "hat")


def _check_epsilon(epsilon, name="epsilon"):
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"`{name}` must be a real number. Received: {name}={epsilon!r}")
    if not float(epsilon) >= 0.0 or epsilon == float("inf"):
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={epsilon}")
    return float(epsilon)


class Normalizer:
    """Base class. Subclasses are frozen dataclasses.

    Protocol used by the engine (all optional except ``apply``):
    ``slots()`` -> [(name, initial value)] per model variable;
    ``scalar_init()``/``advance()``/``gains()`` -> per-step scalars shared
    by all variables; ``apply(xp, x, k, g, m, state, gains)`` ->
    ``(out, k_out, state')`` where ``k * x`` is the input signal, ``g`` the
    raw gradient, ``m`` the raw output of the gradient filter, and
    ``k_out * out`` the normalised signal.
    """

    # Concrete normalisers are frozen dataclasses (``get_config`` reads their fields).
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    if TYPE_CHECKING:
        # Read-only: a field of some frozen subclasses, a property of others.
        @property
        def variance_filter(self) -> ARMAFilter | None: ...
    else:
        variance_filter = None

    def slots(self) -> list[tuple[str, float]]:
        return []

    def scalar_init(self) -> list[float]:
        return []

    def advance(self, xp, state, t):
        return []

    def gains(self, xp, state, t):
        return ()

    @property
    def uses_step_count(self) -> bool:
        """Whether :meth:`gains` reads the step count."""
        path = getattr(self, "path", None)
        return path is not None and path.uses_step_count

    def apply(self, xp, x, k, g, m, state, gains):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def has_scale(self) -> bool:
        """Whether :meth:`current_scale` reads a divisor from the state."""
        return False

    def current_scale(self, xp, state, gains):
        """The divisor P of the last step (out = x / P) from the state it
        wrote; ValueError where the normaliser is no diagonal scaling."""
        raise ValueError(
            f"{type(self).__name__} is not a diagonal scaling of the gradient "
            "read from its state: it has no scale to precondition with"
        )

    def describe(self) -> dict:
        raise NotImplementedError

    def get_config(self) -> dict:
        config = {}
        for f in fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if isinstance(value, ARMAFilter):
                value = value.get_config()
            config[f.name] = value
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@dataclass(frozen=True)
class RMS(Normalizer):
    """Divides by the RMS of the gradient, estimated by a variance filter.

    ::

        v[n] = mix * c[n] * V{g^2}[n] + direct * g^2[n]   (c: compensation)

        out = x / sqrt(v + eps)            epsilon_mode="inside"  (Adagrad, RMSprop)
        out = x / (sqrt(v) + eps)          epsilon_mode="outside" (Kingma & Ba)
        out = x / (sqrt(v) + eps sqrt(c))  epsilon_mode="hat"     (Keras Adam: eps
                                           added to the uncompensated sqrt(V{g^2}))
        out = x / (sqrt(v + e_in) + eps)   epsilon_mode="outside" with
                                           epsilon_inside=e_in (optax's adam:
                                           eps_root on the compensated v, not
                                           kept in the state)

    For compensated ema(beta_2), c[t] = 1 / (1 - beta_2^t) and v = v^, so
    "hat" is x / (sqrt(v^) + eps / sqrt(1 - beta_2^t)) = x sqrt(1 - beta_2^t)
    / (sqrt(V{g^2}) + eps).

    ``epsilon_root`` is added to V's own recursion every step: V runs on
    g^2 + epsilon_root / b0 (b0 = V's input gain), so for V = ema(beta_2)
    the state is s[t] = beta_2 s[t-1] + (1 - beta_2) g^2[t] + epsilon_root
    (AdaBelief's eps in s; optax's ``eps_root`` there). It is kept in the
    state and compensated with it; the quasi-hyperbolic ``direct`` branch
    does not get it.

    Args:
        variance_filter: V, an ARMAFilter (default ``ema(0.9)``).
        compensate: transient compensation of V (Adam).
        epsilon: >= 0.
        epsilon_mode: "inside", "outside" or "hat".
        centered: subtract the square of V{g} (RMSprop ``centered=True``).
        amsgrad: use the running maximum of the uncompensated V{g^2}.
        belief: run V on (g - m)^2, m the gradient filter's output (AdaBelief).
        initial: V's output before the first step (Adagrad's 0.1).
        mix, direct: quasi-hyperbolic mixing of V{g^2} and g^2 (QHAdam).
        reference: the filter that sets V's compensation, where it is not V
            (see :class:`~filteropt.compensation.FilterPath`).
        epsilon_root: >= 0, added to V's recursion every step (above).
        epsilon_inside: >= 0, added to the compensated v under the root
            with ``epsilon_mode="outside"`` only (above; optax's
            ``scale_by_adam`` ``eps_root``); 0 leaves the denominator
            sqrt(v) + eps.
    """

    variance_filter: ARMAFilter = field(default_factory=lambda: ema(0.9))
    compensate: bool = False
    epsilon: float = 1e-7
    epsilon_mode: str = "inside"
    centered: bool = False
    amsgrad: bool = False
    belief: bool = False
    initial: float = 0.0
    mix: float = 1.0
    direct: float = 0.0
    reference: ARMAFilter | None = None
    epsilon_root: float = 0.0
    epsilon_inside: float = 0.0
    # Set by __post_init__ from the fields above; not a constructor argument.
    _path: FilterPath = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        vf = as_filter(self.variance_filter, "variance_filter")
        if vf is None:
            raise TypeError("`variance_filter` must be a filteropt.ARMAFilter, not None.")
        object.__setattr__(self, "variance_filter", vf)
        object.__setattr__(self, "epsilon", _check_epsilon(self.epsilon))
        object.__setattr__(self, "epsilon_root", _check_epsilon(self.epsilon_root, "epsilon_root"))
        object.__setattr__(
            self, "epsilon_inside", _check_epsilon(self.epsilon_inside, "epsilon_inside")
        )
        if self.epsilon_root and vf.input_gain == 0.0:
            raise ValueError(
                "`epsilon_root` is fed to the variance filter as epsilon_root / b[0]; "
                f"{vf!r} has b[0] = 0. Received: epsilon_root={self.epsilon_root}"
            )
        if self.epsilon_mode not in EPSILON_MODES:
            raise ValueError(
                f"`epsilon_mode` must be one of {list(EPSILON_MODES)}. "
                f"Received: epsilon_mode={self.epsilon_mode!r}"
            )
        if self.epsilon_inside and self.epsilon_mode != "outside":
            raise ValueError(
                "`epsilon_inside` is the eps under the root beside an eps outside it: "
                "it needs epsilon_mode='outside'. "
                f"Received: epsilon_inside={self.epsilon_inside}, "
                f"epsilon_mode={self.epsilon_mode!r}"
            )
        if not vf.is_stable and not (vf.a.size == 2 and vf.a[1] == -1.0):
            # The summer (a pole at exactly z = 1, Adagrad) is the one
            # accepted marginal case: it runs on g^2 >= 0 and only grows.
            raise ValueError(
                f"`variance_filter` must be stable (poles inside the unit circle) "
                f"or the summer; got poles {vf.poles.tolist()} for {vf!r}"
            )
        for flag in ("compensate", "centered", "amsgrad", "belief"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"`{flag}` must be a bool. Received: {getattr(self, flag)!r}")
        if self.centered and self.belief:
            raise ValueError("`centered` and `belief` cannot both be set.")
        object.__setattr__(
            self,
            "_path",
            FilterPath(
                vf,
                self.compensate,
                self.mix,
                self.direct,
                initial=self.initial,
                reference=as_filter(self.reference, "reference"),
            ),
        )

    @property
    def path(self) -> FilterPath:
        return self._path

    def _mean_path(self):
        return FilterPath(
            self.variance_filter,
            self.compensate,
            self.mix,
            self.direct,
            reference=self.path.reference,
        )

    def slots(self):
        out = [(f"variance_{k}", z) for k, z in enumerate(self.path.initial_state())]
        if self.centered:
            out += [(f"mean_{k}", 0.0) for k in range(self.path.order)]
        if self.amsgrad:
            out.append(("variance_max", 0.0))
        return out

    def scalar_init(self):
        return self.path.scalar_init()

    def advance(self, xp, state, t):
        return self.path.advance(xp, state, t)

    def gains(self, xp, state, t):
        return self.path.gains(xp, state, t)

    def apply(self, xp, x, k, g, m, state, gains):
        order = self.path.order
        z_v = list(state[:order])
        rest = list(state[order:])
        if self.belief:
            m_value, m_gain = m
            if m_gain is None:
                raise ValueError("RMS(belief=True) needs the gradient filter's own output")
            source = g - times(m_gain, m_value)
        else:
            source = g
        square = source * source
        if self.epsilon_root:
            # epsilon_root enters V's recursion, not the direct branch
            c_f, c_x = gains
            shifted = square + self.epsilon_root / self.variance_filter.input_gain
            v, kv, z_v, raw = self.path.apply(shifted, 1.0, z_v, (c_f, 0.0))
            if not is_const(c_x, 0.0):
                v, kv, raw = times(kv, v) + times(c_x, square), 1.0, None
        else:
            v, kv, z_v, raw = self.path.apply(square, 1.0, z_v, gains)
        new_state = list(z_v)
        if self.centered:
            z_m, rest = rest[:order], rest[order:]
            mean, km, z_m, _ = self._mean_path().apply(g, 1.0, z_m, gains)
            new_state += list(z_m)
            v = times(kv, v) - _square(times(km, mean))
            kv, raw = 1.0, 1.0
        if self.amsgrad:
            v = xp.maximum(rest[0], v)  # in the slot's units (raw_gain > 0)
            new_state.append(v)
        den, gain = self._denominator(xp, v, kv, raw)
        return x / den, times(k, gain), new_state

    def _denominator(self, xp, v, kv, raw):
        """(den, gain): the output is gain * x / den for the variance estimate
        ``kv * v`` (``raw * v`` uncompensated; None: not materialised)."""
        if self.epsilon_mode == "inside":
            return xp.sqrt(times(kv, v) + self.epsilon), 1.0
        if self.epsilon_mode == "outside":
            v = times(kv, v)
            if self.epsilon_inside:
                v = v + self.epsilon_inside
            return xp.sqrt(v) + self.epsilon, 1.0
        # "hat": eps on the uncompensated RMS, compensation as a scalar
        raw = 1.0 if raw is None else raw
        den = xp.sqrt(times(raw, v)) + self.epsilon
        if is_const(kv, 1.0) and is_const(raw, 1.0):
            return den, 1.0
        return den, xp.sqrt(raw / kv)

    @property
    def has_scale(self) -> bool:
        return self.path.form == "ar1" and not self.centered and not self.direct

    def current_scale(self, xp, state, gains):
        """The divisor P of the last step, out = x / P, from the slots it wrote
        (``state``) and that step's ``gains``: the normaliser frozen, as a
        diagonal preconditioner (:class:`filteropt.GradientProbe`'s
        sharpness). Needs a first-order variance filter, whose slot holds its
        output (``path.form == "ar1"``), and no centring or direct branch;
        ValueError otherwise."""
        if not self.has_scale:
            raise ValueError(
                f"the scale of RMS with variance filter "
                f"{self.variance_filter!r} (form {self.path.form!r}, centered={self.centered}, "
                f"direct={self.direct}) is not read from its state: only a first-order "
                "variance filter, uncentred and without a direct branch"
            )
        v = state[-1] if self.amsgrad else state[0]
        c_f, _ = gains
        den, gain = self._denominator(xp, v, c_f, 1.0)
        return den / gain

    def describe(self):
        kind = "centred RMS" if self.centered else "RMS"
        if self.belief:
            kind = "RMS of (g - m), the gradient's deviation from its filtered mean"
        if self.amsgrad:
            kind += " of the running maximum of the variance (AMSGrad)"
        eps = {
            "inside": "epsilon inside the square root",
            "outside": "epsilon outside the square root",
            "hat": "epsilon outside the square root, before compensation (Keras epsilon-hat)",
        }[self.epsilon_mode]
        if self.epsilon_root:
            eps += f"; epsilon_root {self.epsilon_root:g} added to the variance every step"
        if self.epsilon_inside:
            eps += f"; epsilon_inside {self.epsilon_inside:g} added under the root"
        return {"normalization": f"{kind}; {eps}", "variance_filter": self.variance_filter}


@dataclass(frozen=True)
class MaxNorm(Normalizer):
    """Infinity-norm peak detector (Adamax).

    ::

        u[n] = max(beta u[n-1], |g[n]|),   out = x / (u[n] + eps)
    """

    beta: float = 0.999
    epsilon: float = 1e-7

    def __post_init__(self):
        object.__setattr__(self, "beta", check_unit_interval(self.beta, "beta_2"))
        object.__setattr__(self, "epsilon", _check_epsilon(self.epsilon))

    def slots(self):
        return [("norm", 0.0)]

    def apply(self, xp, x, k, g, m, state, gains):
        u = xp.maximum(self.beta * state[0], xp.abs(g))
        return x / self.current_scale(xp, [u], gains), k, [u]

    has_scale = True

    def current_scale(self, xp, state, gains):
        """The divisor u + eps of the last step, from the peak it wrote."""
        return state[0] + self.epsilon

    def describe(self):
        return {
            "normalization": f"max norm: peak detector u = max({self.beta:g} u, |g|)",
            "variance_filter": None,
        }


@dataclass(frozen=True)
class Sign(Normalizer):
    """out = sign(x): every coordinate moves by exactly the learning rate (Lion)."""

    def apply(self, xp, x, k, g, m, state, gains):
        if isinstance(k, (int, float)):
            return xp.sign(x), (1.0 if k > 0 else (-1.0 if k < 0 else 0.0)), []
        return xp.sign(x), xp.sign(k), []

    def describe(self):
        return {"normalization": "sign (unit size in every coordinate)", "variance_filter": None}


@dataclass(frozen=True)
class Adadelta(Normalizer):
    """Ratio of the update's RMS to the gradient's RMS (Zeiler 2012).

    v[n]   = rho v[n-1] + (1 - rho) g[n]^2              (variance filter ema(rho))
    out[n] = x[n] sqrt(D[n-1] + eps) / sqrt(v[n] + eps)
    D[n]   = rho D[n-1] + (1 - rho) out[n]^2
    """

    rho: float = 0.95
    epsilon: float = 1e-7

    def __post_init__(self):
        object.__setattr__(self, "rho", check_unit_interval(self.rho, "rho"))
        object.__setattr__(self, "epsilon", _check_epsilon(self.epsilon))

    @property
    def variance_filter(self):
        return ema(self.rho)

    def slots(self):
        return [("accumulated_grad", 0.0), ("accumulated_delta", 0.0)]

    def apply(self, xp, x, k, g, m, state, gains):
        path = FilterPath(ema(self.rho))
        v, kv, z, _ = path.apply(g * g, 1.0, [state[0]], (1.0, 0.0))
        signal = times(k, x)
        num, den = state[1] + self.epsilon, times(kv, v) + self.epsilon
        out = signal * xp.sqrt(num) / xp.sqrt(den)
        # out^2 without the square roots (shared by two consumers, XLA wrote
        # them to memory: two extra passes), in an order that neither
        # overflows nor underflows before out^2 does: x / den is about 1 / x
        # for a huge gradient, where num / den would be subnormal.
        delta_ms = self.rho * state[1] + (1.0 - self.rho) * ((signal / den) * num * signal)
        return out, 1.0, [z[0], delta_ms]

    def describe(self):
        return {
            "normalization": "ratio of update RMS to gradient RMS (Adadelta); "
            "epsilon inside the square roots",
            "variance_filter": self.variance_filter,
        }


_CLASSES = {cls.__name__: cls for cls in (RMS, MaxNorm, Sign, Adadelta)}


def serialize(normalizer: Normalizer | None):
    """A plain dict ``{"class_name": ..., "config": {...}}``, or None."""
    if normalizer is None:
        return None
    return {"class_name": type(normalizer).__name__, "config": normalizer.get_config()}


def get(identifier) -> Normalizer | None:
    """A normalizer from an instance, its serialized dict, a name, or None."""
    if identifier is None or isinstance(identifier, Normalizer):
        return identifier
    if isinstance(identifier, str):
        key = {"rms": "RMS", "max": "MaxNorm", "sign": "Sign", "adadelta": "Adadelta"}.get(
            identifier.lower(), identifier
        )
        if key in _CLASSES:
            return _CLASSES[key]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(dict(identifier.get("config", {})))
    raise (TypeError if not isinstance(identifier, (str, dict)) else ValueError)(
        "`normalizer` must be a filteropt normalizer (RMS, MaxNorm, Sign, Adadelta), "
        f"one of the names {sorted(['rms', 'max', 'sign', 'adadelta'])}, its serialized "
        f"dict, or None. Received: {identifier!r}"
    )


def _square(x):
    return x * x
