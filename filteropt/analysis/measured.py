"""What a training run measured: the record of a :class:`filteropt.GradientProbe`,
its spectra and the optimizer's measured response.

A probe records, for each trainable variable (keyed by its ``variable.path``)
and every step i, the gradient g[i] and the update
Delta[i] = theta[i] - theta[i-1] projected on ``k`` fixed random unit
directions d_1 .. d_k of that variable (``gradient[i, j] = d_j . g[i]``),
the gradient's norm ||g[i]|| and the learning rate eta[i]. A linear
time-invariant optimizer, Delta = -eta H{g}, commutes with the projections:
d . Delta = -eta H{d . g}, so the response estimated from the projected
pairs is -eta H(e^{jw}) exactly, whatever the network (the probe checks the
engine on real data). A normalised optimizer (Adam, ...) divides each
coordinate by its own scale, and the estimate shows the gain it ends up with.

Estimates (``scipy.signal``, frequencies in cycles per step, 0 to 0.5):

- :meth:`ProbeRecord.spectrum`: Welch's power spectral density with median
  averaging over segments (robust to the heavy-tailed bursts of a gradient),
  averaged over the projections (and summed over the variables when no path
  is named);
- :meth:`ProbeRecord.response`: the H1 estimate
  H(nu) = sum_j P_{g_j Delta_j}(nu) / sum_j P_{g_j g_j}(nu), cross-spectrum
  over input spectrum pooled over the projections (and the variables when
  no path is named);
- :meth:`ProbeRecord.coherence`: |sum P_gD|^2 / (sum P_gg sum P_DD), at most
  1, and 1 where the update is a linear function of the gradient.

The two cross-spectral estimates average their segments (Welch's mean): a
burst in the gradient passes through a linear filter like any other input,
so it does not bias the ratio, while the median of complex cross-spectra
(taken on the real and imaginary parts apart) is neither a consistent
estimate of the phase nor keeps the coherence below 1.

``sharpness`` rows are (step, lambda_max, lambda_gradient, learning rate):
the largest eigenvalue of the (preconditioned, for an adaptive optimizer)
Hessian of the training loss on a fixed sample, and the Rayleigh quotient
g^T H g / g^T g along the gradient there.

numpy and scipy only: nothing here imports a deep-learning backend, so a
saved record (:meth:`ProbeRecord.save`, ``probe.npz``) is analysed anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import signal
from scipy.integrate import trapezoid

__all__ = ["MIN_SEGMENT", "ProbeRecord", "band_fraction"]

MIN_SEGMENT = 16
"""The shortest Welch segment: a spectrum needs at least 4 segments of it."""


def _segment(n: int, nperseg: int | None) -> int:
    if nperseg is None:
        nperseg = 1 << math.floor(math.log2(max(n // 4, 1)))
        nperseg = max(MIN_SEGMENT, min(256, nperseg))
    if isinstance(nperseg, bool) or not isinstance(nperseg, int) or nperseg < MIN_SEGMENT:
        raise ValueError(
            f"`nperseg` must be an integer >= {MIN_SEGMENT}. Received: nperseg={nperseg!r}"
        )
    if n < 4 * nperseg:
        raise ValueError(
            f"too few steps for a spectrum: {n} recorded, and Welch's estimate needs at least "
            f"4 segments of {nperseg} steps ({4 * nperseg}); train longer or pass a smaller "
            "`nperseg`"
        )
    return nperseg


def band_fraction(frequency, power, above: float) -> float:
    """The fraction of the power at frequencies above ``above`` (cycles per step)."""
    frequency, power = np.asarray(frequency), np.asarray(power)
    total = trapezoid(power, frequency)
    if not total > 0:
        return math.nan
    keep = frequency >= above
    return float(trapezoid(power[keep], frequency[keep]) / total)


@dataclass
class ProbeRecord:
    """The probe's measurements, as numpy arrays (see the module docstring).

    Attributes:
        paths: the variables' paths, in the model's order.
        gradient: ``{path: (steps, k)}`` projected gradients d_j . g[i].
        update: ``{path: (steps, k)}`` projected updates d_j . Delta[i].
        gradient_norm: ``{path: (steps,)}`` ||g[i]||.
        steps: ``(steps,)`` the optimizer step each row belongs to (1, 2, ...).
        learning_rate: ``(steps,)`` eta at that step.
        sharpness_table: ``(m, 4)`` rows (step, lambda_max, lambda_gradient,
            learning rate).
        preconditioned: whether lambda_max is of the normaliser-preconditioned
            Hessian P^{-1/2} H P^{-1/2}.
        optimizer: the optimizer's class name.
    """

    paths: tuple
    gradient: dict
    update: dict
    gradient_norm: dict
    steps: np.ndarray
    learning_rate: np.ndarray
    sharpness_table: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    preconditioned: bool = False
    optimizer: str = ""

    # -- access ------------------------------------------------------------------------
    @property
    def n_steps(self) -> int:
        return len(self.steps)

    @property
    def sharpness(self) -> np.ndarray:
        """``(m, 2)`` rows (step, lambda_max)."""
        return self.sharpness_table[:, :2]

    def _check_path(self, path) -> None:
        if path not in self.gradient:
            shown = ", ".join(repr(p) for p in self.paths[:8])
            more = "" if len(self.paths) <= 8 else f", ... ({len(self.paths)} in all)"
            raise ValueError(
                f"`path`={path!r} is not a recorded variable; the probe recorded {shown}{more}"
            )

    def pairs(self, path, of: str | None = None):
        """[(x, y)] per variable: projected gradients and updates, (steps, k)."""
        if of is not None and of not in ("gradient", "update"):
            raise ValueError(f"`of` must be 'gradient' or 'update'. Received: of={of!r}")
        paths = self.paths if path is None else (path,)
        if path is not None:
            self._check_path(path)
        return [(self.gradient[p], self.update[p]) for p in paths]

    # -- estimates ---------------------------------------------------------------------
    def spectrum(
        self,
        path: str | None = None,
        of: str = "gradient",
        nperseg: int | None = None,
        detrend: str = "constant",
    ) -> tuple[np.ndarray, np.ndarray]:
        """(frequency in cycles per step, power): Welch's PSD, median-averaged.

        ``path``: a variable's path, or None for the sum over all variables;
        ``of``: ``"gradient"`` or ``"update"``. The power is averaged over the
        projections: the power along one random unit direction.
        """
        pairs = self.pairs(path, of)
        nperseg = _segment(self.n_steps, nperseg)
        total = 0.0
        for x, y in pairs:
            data = x if of == "gradient" else y
            f, p = signal.welch(
                data, fs=1.0, nperseg=nperseg, average="median", detrend=detrend, axis=0
            )
            total = total + p.mean(axis=1)
        return f, np.asarray(total)

    def _cross(self, path, nperseg, detrend):
        pairs = self.pairs(path)
        nperseg = _segment(self.n_steps, nperseg)
        pxx = pyy = pxy = 0.0
        for x, y in pairs:
            kw = dict(fs=1.0, nperseg=nperseg, detrend=detrend, axis=0)
            f, sxy = signal.csd(x, y, **kw)
            pxy = pxy + sxy.sum(axis=1)
            pxx = pxx + signal.welch(x, **kw)[1].sum(axis=1)
            pyy = pyy + signal.welch(y, **kw)[1].sum(axis=1)
        return f, pxx, pyy, pxy

    def response(
        self, path: str | None = None, nperseg: int | None = None, detrend: str = "constant"
    ) -> tuple[np.ndarray, np.ndarray]:
        """(frequency, complex response) from gradient to update: the H1 estimate
        (cross-spectrum over input spectrum, pooled over the projections).

        For SGD with momentum it is -eta H(e^{j 2 pi nu}),
        :func:`filteropt.analysis.frequency_response` times -eta. The DC bin
        (nu = 0) is not an estimate: detrending empties it.
        """
        f, pxx, _, pxy = self._cross(path, nperseg, detrend)
        with np.errstate(divide="ignore", invalid="ignore"):
            return f, pxy / pxx

    def coherence(
        self, path: str | None = None, nperseg: int | None = None, detrend: str = "constant"
    ) -> tuple[np.ndarray, np.ndarray]:
        """(frequency, magnitude-squared coherence) between gradient and update."""
        f, pxx, pyy, pxy = self._cross(path, nperseg, detrend)
        with np.errstate(divide="ignore", invalid="ignore"):
            return f, np.abs(pxy) ** 2 / (pxx * pyy)

    # -- files -------------------------------------------------------------------------
    def save(self, path) -> None:
        """Writes the record as one ``.npz`` (arrays named ``gradient/<path>`` ...)."""
        arrays = {
            "paths": np.array(self.paths, dtype=str),
            "steps": self.steps,
            "learning_rate": self.learning_rate,
            "sharpness": self.sharpness_table,
            "preconditioned": np.array(self.preconditioned),
            "optimizer": np.array(self.optimizer),
        }
        for i, p in enumerate(self.paths):
            arrays[f"gradient_{i}"] = self.gradient[p]
            arrays[f"update_{i}"] = self.update[p]
            arrays[f"gradient_norm_{i}"] = self.gradient_norm[p]
        # numpy's stub lets a ** dict fill `allow_pickle`; these keys are array names.
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path) -> ProbeRecord:
        """A record written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            paths = tuple(str(p) for p in data["paths"])
            return cls(
                paths,
                {p: data[f"gradient_{i}"] for i, p in enumerate(paths)},
                {p: data[f"update_{i}"] for i, p in enumerate(paths)},
                {p: data[f"gradient_norm_{i}"] for i, p in enumerate(paths)},
                data["steps"],
                data["learning_rate"],
                data["sharpness"],
                bool(data["preconditioned"]),
                str(data["optimizer"]),
            )
