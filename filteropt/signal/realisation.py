"""How a filter runs: its stages, each in a state form, one step at a time.

A filter (:class:`~filteropt.signal.arma.ARMAFilter`) runs as the cascade of its
``stages``: sections of order <= 2 and parallel banks. Each stage keeps
``stage.order`` states per model variable and runs in one of these forms
(``u`` is the stage's input, ``gain * x`` for the first stage)::

    gain    y = b0 u                                              (no state)
    ar1     y[n] = b0 u[n] + p y[n-1];  state y                   b = [b0], a = [1, -p]
    arma1   s[n] = u[n] + p s[n-1];  y = (b0 - d) s[n] + d u[n],  d = b1 / a1
    tdf2    transposed direct form II (scipy's lfilter):
            y = b0 u + z0;  z_k' = b_{k+1} u - a_{k+1} y + z_{k+1}
    delta   a second-order section in the delta operator, DC-scaled:
            e = u - v1
            y = b0 e + gamma v2 + h v1
            v2' = v2 + (alpha0 e - alpha1 v2)
            v1' = v1 + v2
    bank    y = direct u + sum of the branches' outputs (each branch a
            filter, run as its own stages on u)

``ar1`` and ``arma1`` are Keras's momentum and Nesterov state forms (the
drop-ins' state is Keras's byte for byte); first-order sections take them
where their coefficients allow, ``tdf2`` otherwise.

Why the delta form for second-order sections. With delta = z - 1, the
denominator z^2 + a1 z + a2 of a section is delta^2 + alpha1 delta + alpha0
with alpha1 = 2 + a1 and alpha0 = 1 + a1 + a2 = A(1) (and the numerator
b0 delta^2 + (2 b0 + b1) delta + B(1)); the states are v1 = alpha0 W and
v2 = alpha0 (delta W), W = U / A, so that v1 follows the input at low
frequencies. The gradient filters of optimizers are low-pass with poles
clustered near z = 1, where the direct forms' coefficients a1 ~ -2 and
a2 ~ 1 lose the small numbers that place the poles: rounding them to
float32 moves A(1) ~ |1 - p|^2 (2.5e-4 at a cutoff of 0.005) by 1e-7, 5e-4
of itself, per section. The delta form stores alpha0, alpha1, gamma =
(b1 - b0 a1) / alpha0 and h = B(1) / A(1) (the section's DC gain)
themselves, each to float32's relative precision, so pole positions and the
DC gain keep it (Middleton & Goodwin, "Improved finite word length
characteristics in digital control using delta operators", IEEE TAC 1986;
Kauraniemi, Laakso, Hartimo & Ovaska, "Delta operator realizations of
direct-form IIR filters", IEEE TCAS-II 1998). Measured over 400 steps on
every scipy design of orders 2-12 and cutoffs 0.005-0.5: float32 within
2e-6 of the float64 design in delta form, 1.2e-3 in TDF-II
(``benchmarks/realisations.py``).

The arithmetic uses only ``+``, ``-`` and ``*`` on Python floats, numpy
arrays or backend tensors: the Keras engine, the numpy reference and the
float64 compensation recursion run these very functions. Coefficients are
Python floats, folded when traced: a zero costs no operation, a one no
multiplication. :func:`check` rounds the same coefficients to a dtype and
judges the stability and accuracy of what would run.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .arma import ARMAFilter
from .folding import axpy, scaled, times
from .sections import STABILITY_MARGIN, Bank, Section

__all__ = [
    "RealisationWarning",
    "check",
    "forms",
    "realised_poles",
    "realised_response",
    "run",
    "stage_form",
    "tdf2_step",
]

#: A realised response this far (relative to its peak) from the design warns.
TOLERANCE = 1e-3


class RealisationWarning(RuntimeWarning):
    """A filter's realisation in a dtype is badly conditioned."""


def _section_is_stable(s: Section) -> bool:
    p = s.poles
    return bool(np.all(np.abs(p) < 1.0 - STABILITY_MARGIN)) if p.size else True


@functools.lru_cache(maxsize=4096)
def stage_form(stage) -> str:
    """The state form a stage runs in (see the module docstring)."""
    if isinstance(stage, Bank):
        return "bank"
    b, a = stage.padded()
    if stage.order == 0:
        return "gain"
    if stage.order == 1:
        if b[1] == 0.0:
            return "ar1"
        if abs(a[1]) >= 0.05 and abs(b[1] / a[1]) <= 10.0:
            direct = b[1] / a[1]
            # Only when the two terms cannot cancel: Lion with beta_1 = 1 has
            # y = m[n-1] exactly, which the difference of two terms in x[n]
            # would round to +-tiny (and sign() to +-1) where it is 0.
            if (b[0] - direct) * direct >= 0.0:
                return "arma1"
        return "tdf2"
    if len(stage.a) == 3 and _section_is_stable(stage):
        return "delta"
    return "tdf2"


def forms(f: ARMAFilter) -> list:
    """The forms of a filter's stages, a bank's as ``("bank", [branch forms])``."""
    return [
        ("bank", [forms(g) for g in s.branches]) if isinstance(s, Bank) else stage_form(s)
        for s in f.stages
    ]


@functools.lru_cache(maxsize=4096)
def delta_coefficients(s: Section):
    """``(alpha0, alpha1, b0, gamma, h)`` of a second-order section."""
    (b0, b1, b2), (_, a1, a2) = s.padded(3)
    alpha1 = 2.0 + a1
    alpha0 = 1.0 + a1 + a2
    return alpha0, alpha1, b0, (b1 - b0 * a1) / alpha0, (b0 + b1 + b2) / alpha0


# -- one step -------------------------------------------------------------------


def tdf2_step(b, a, x, z, gain=1.0):
    """One step of the transposed direct form II (scipy's ``lfilter`` form).

    With ``u = gain * x``::

        y      = b[0] u + z[0]
        z[k]'  = b[k+1] u - a[k+1] y + z[k+1]     (k = 0 .. L-1, z[L] = 0)

    ``b`` and ``a`` are Python floats (folded: a zero coefficient costs no
    operation, a unit one no multiplication) or scalar tensors for
    time-varying filters; ``x`` and ``z`` may be numpy arrays or backend
    tensors, since only ``+``, ``-`` and ``*`` are used. ``gain`` is a
    scalar applied to the input (the learning rate, for one) and folded into
    the coefficients so it costs no pass over ``x``. Returns ``(y, z')``.
    """
    order = len(z)
    y = axpy(scaled(b[0], gain), x, z[0] if order else None)
    if y is None:
        y = 0.0 * x
    new_z = []
    for k in range(order):
        nxt = z[k + 1] if k + 1 < order else None
        term = axpy(scaled(b[k + 1], gain), x, nxt)
        term = axpy(-a[k + 1], y, term)
        new_z.append(term if term is not None else 0.0 * y)
    return y, new_z


def run(f: ARMAFilter, x, z, gain=1.0):
    """One step of ``f`` on the signal ``gain * x``: returns ``(y, z')``.

    ``z`` holds ``f.order`` states in stage order (a bank's branches one
    after the other); ``gain`` is a scalar folded into the first stage's
    coefficients, so it costs no pass over ``x``.
    """
    return _run_stages(f.stages, x, list(z), gain)


def _run_stages(stages, x, z, gain):
    if not stages:
        return times(gain, x), []
    out, i = [], 0
    for stage in stages:
        n = stage.order
        x, new = _stage_step(stage, x, z[i : i + n], gain)
        out += new
        i += n
        gain = 1.0
    return x, out


def _stage_step(stage, x, z, gain):
    form = stage_form(stage)
    if form == "bank":
        y = times(times(stage.direct, gain), x) if stage.direct else None
        out, i = [], 0
        for branch in stage.branches:
            n = branch.order
            yb, new = _run_stages(branch.stages, x, z[i : i + n], gain)
            y = yb if y is None else y + yb
            out += new
            i += n
        return y, out
    b, a = stage.padded()
    if form == "gain":
        return times(times(b[0], gain), x), []
    if form in ("ar1", "arma1"):
        pole = -a[1]
        s = times(times(gain, b[0]) if form == "ar1" else gain, x) + times(pole, z[0])
        if form == "ar1":
            return s, [s]
        d = b[1] / a[1]
        return times(b[0] - d, s) + times(times(d, gain), x), [s]
    if form == "tdf2":
        return tdf2_step(b, a, x, z, gain=gain)
    alpha0, alpha1, b0, gamma, h = delta_coefficients(stage)
    v1, v2 = z
    e = times(gain, x) - v1
    y = axpy(b0, e, axpy(gamma, v2, times(h, v1)))
    return y, [v1 + v2, v2 + (times(alpha0, e) - times(alpha1, v2))]


# -- what runs in a dtype ---------------------------------------------------------


def _rounder(dtype):
    if dtype is None:
        return float
    name = str(getattr(dtype, "name", dtype))
    if name == "bfloat16":
        import ml_dtypes

        np_dtype = np.dtype(ml_dtypes.bfloat16)
    else:
        np_dtype = np.dtype(name)
    return lambda c: float(np.asarray(c, dtype=np.float64).astype(np_dtype))


def _state_space(stage, r):
    """(A, B, C, D) of a stage as it runs, its coefficients rounded by ``r``."""
    form = stage_form(stage)
    if form == "bank":
        parts = [_filter_state_space(f, r) for f in stage.branches]
        n = sum(p[0].shape[0] for p in parts)
        A, B, C = np.zeros((n, n)), np.zeros((n, 1)), np.zeros((1, n))
        D = r(stage.direct)
        i = 0
        for Ai, Bi, Ci, Di in parts:
            k = Ai.shape[0]
            A[i : i + k, i : i + k], B[i : i + k], C[:, i : i + k] = Ai, Bi, Ci
            D += Di
            i += k
        return A, B, C, D
    b, a = stage.padded()
    if form == "gain":
        return np.zeros((0, 0)), np.zeros((0, 1)), np.zeros((1, 0)), r(b[0])
    if form == "ar1":
        p, b0 = r(-a[1]), r(b[0])
        return np.array([[p]]), np.array([[b0]]), np.array([[p]]), b0
    if form == "arma1":
        p, d = r(-a[1]), r(b[1] / a[1])
        cv = r(b[0] - b[1] / a[1])
        return np.array([[p]]), np.array([[1.0]]), np.array([[cv * p]]), cv + d
    if form == "tdf2":
        n = len(b) - 1
        br, ar = [r(c) for c in b], [r(c) for c in a]
        A = np.zeros((n, n))
        A[:, 0] = [-ar[k + 1] for k in range(n)]
        A[np.arange(n - 1), np.arange(1, n)] = 1.0
        B = np.array([[br[k + 1] - ar[k + 1] * br[0]] for k in range(n)])
        C = np.zeros((1, n))
        C[0, 0] = 1.0
        return A, B, C, br[0]
    alpha0, alpha1, b0, gamma, h = (r(c) for c in delta_coefficients(stage))
    A = np.array([[1.0, 1.0], [-alpha0, 1.0 - alpha1]])
    return A, np.array([[0.0], [alpha0]]), np.array([[h - b0, gamma]]), b0


def _filter_state_space(f, r):
    """One state space for a whole filter (its stages in series)."""
    A, B, C, D = np.zeros((0, 0)), np.zeros((0, 1)), np.zeros((1, 0)), 1.0
    for stage in f.stages:
        A2, B2, C2, D2 = _state_space(stage, r)
        n1, n2 = A.shape[0], A2.shape[0]
        A = np.block([[A, np.zeros((n1, n2))], [B2 @ C, A2]])
        B = np.vstack([B, B2 * D])
        C = np.hstack([D2 * C, C2])
        D = D2 * D
    return A, B, C, D


def realised_poles(f: ARMAFilter, dtype=None) -> np.ndarray:
    """The poles of ``f`` as it runs with its coefficients in ``dtype``."""
    r = _rounder(dtype)
    return np.concatenate(
        [np.zeros(0)] + [np.linalg.eigvals(_state_space(s, r)[0]) for s in f.stages]
    )


def realised_response(f: ARMAFilter, w, dtype=None) -> np.ndarray:
    """H(e^{jw}) of ``f`` as it runs with its coefficients in ``dtype``."""
    r = _rounder(dtype)
    w = np.asarray(w, dtype=float)
    h = np.ones(w.shape, dtype=complex)
    for stage in f.stages:
        A, B, C, D = _state_space(stage, r)
        n = A.shape[0]
        for i, wi in enumerate(w.ravel()):
            zi = np.exp(1j * wi)
            resp = D + (C @ np.linalg.solve(zi * np.eye(n) - A, B))[0, 0] if n else D
            h.flat[i] *= resp
    return h


_GRID = np.r_[0.0, np.geomspace(1e-4, np.pi, 256)]


def check(f: ARMAFilter, dtype, name: str = "gradient_filter") -> float:
    """Judges ``f`` as it runs in ``dtype`` (its coefficients rounded).

    Raises ValueError, naming the filter, when the design is stable and the
    realisation is not; warns (:class:`RealisationWarning`) when its
    frequency response is more than :data:`TOLERANCE` of its peak away from
    the design's. Returns that relative error.
    """
    if f.order == 0:
        return 0.0
    stable = f.is_stable
    if stable:
        radius = float(np.max(np.abs(realised_poles(f, dtype)), initial=0.0))
        if not radius < 1.0:
            raise ValueError(
                f"`{name}` {f!r} is unstable as it runs in {dtype}: rounding its "
                f"coefficients puts a pole at |z| = {radius:.6g}. Use a wider dtype "
                "or a filter whose poles are further from the unit circle."
            )
    with np.errstate(divide="ignore", invalid="ignore"):
        design = f.freqz(_GRID)[1]
    finite = np.isfinite(design)  # a pole on the circle (the summer) has none at w = 0
    design, real = design[finite], realised_response(f, _GRID[finite], dtype)
    peak = float(np.max(np.abs(design), initial=0.0))
    error = float(np.max(np.abs(real - design)) / peak) if peak > 0 else 0.0
    if stable and not error <= TOLERANCE:
        warnings.warn(
            f"`{name}` {f!r} is badly conditioned in {dtype}: as it runs, its "
            f"frequency response is {error:.2g} of its peak away from the design.",
            RealisationWarning,
            stacklevel=3,
        )
    return error
