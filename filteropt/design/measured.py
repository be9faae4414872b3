"""A design from what a training run measured (a :class:`~filteropt.analysis.measured.ProbeRecord`).

The quadratic model needs a curvature range and a noise level. On a network
the Hessian's smallest eigenvalue is negative, so kappa = lambda_max /
lambda_min is undefined; the record gives both from measurements instead:

- lambda_max: the largest sharpness measured (plain, not preconditioned);
- lambda_low: the smallest positive curvature along the gradient measured
  there, g^T H g / g^T g (the directions training actually moves in); kappa =
  lambda_max / lambda_low, clipped to [2, ``max_kappa``];
- the gradient's noise-to-signal ratio q = sigma^2 / S: sigma^2 the white
  floor of its measured spectrum (the mean density above 0.25 cycles per
  step, as a variance) and S its signal power at the start of the record
  (:func:`noise_to_signal`).

:func:`design_from_record` then bounds the steady state as the lecture's LMS
trade-off does ("a large learning rate converges faster but with more
misadjustment"). On the quadratic, gradient noise of variance sigma^2 leaves
theta a variance of eta^2 ||T||^2 sigma^2 (T the loop from the noise to
theta), so the excess loss relative to the loss at the start, where the
gradient's signal has power S = (lambda theta_0)^2, is

    M = q * gain,   gain = eta^2 ||T||^2 at lambda = 1 (curvatures in units of lambda_max),

the design's gradient-noise gain (:func:`filteropt.design.loop_noise_gain`,
``noise="gradient"``). For a wanted misadjustment M the bound is M / q: the
fastest design (best worst-case rate on [1/kappa, 1]) whose gain stays under
it, or the unbounded design when that is already quieter. S is the signal
power of the record's first steps (the start of training, when the probe
was there from the first step). Nothing here imports a deep-learning backend.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.integrate import trapezoid

from .search import Design, design_filter

__all__ = ["START", "MeasuredDesign", "design_from_record", "measured_curvature", "noise_to_signal"]

START = 16
"""The recorded steps the gradient's starting signal power is the mean of."""


@dataclass(frozen=True)
class MeasuredDesign:
    """What :func:`design_from_record` found.

    Attributes:
        design: the chosen :class:`Design` (curvatures scaled to lambda_max = 1).
        lambda_max, lambda_low, kappa: the measured curvature range.
        noise_to_signal: q, from the gradient's spectrum.
        misadjustment: M, the excess loss allowed (relative to the start).
        max_noise_gain: the bound M / q the design was held to (None: the
            unbounded design was quiet enough).
    """

    design: Design
    lambda_max: float
    lambda_low: float
    kappa: float
    noise_to_signal: float
    misadjustment: float
    max_noise_gain: float | None

    @property
    def learning_rate(self) -> float:
        """The design's learning rate for the model: design.learning_rate / lambda_max."""
        return self.design.learning_rate / self.lambda_max

    @property
    def predicted_misadjustment(self) -> float:
        """q times the chosen design's noise gain."""
        return self.noise_to_signal * self.design.noise_gain


def measured_curvature(record, max_kappa: float = 1e4) -> tuple[float, float, float]:
    """(lambda_max, lambda_low, kappa) from the record's sharpness (module docstring)."""
    table = np.asarray(record.sharpness_table, dtype=float)
    if len(table) == 0:
        raise ValueError(
            "the record holds no sharpness: train with GradientProbe("
            "sharpness_every=K, sharpness_data=(x, y)) to design from it"
        )
    if record.preconditioned:
        raise ValueError(
            "the record's sharpness is preconditioned by an adaptive optimizer's "
            "normaliser; the design runs without one: record with "
            "precondition=False (or train with SGD or momentum)"
        )
    lam_max = float(np.nanmax(table[:, 1]))
    if not lam_max > 0:
        raise ValueError(f"the largest sharpness measured is {lam_max:g} <= 0")
    along = table[:, 2]
    along = along[np.isfinite(along) & (along > 0)]
    low = float(along.min()) if len(along) else lam_max / max_kappa
    kappa = float(np.clip(lam_max / low, 2.0, max_kappa))
    return lam_max, lam_max / kappa, kappa


def noise_to_signal(record, path=None, above: float = 0.25, nperseg=None) -> float:
    """q = sigma^2 / S, the gradient noise over the gradient's signal at the start.

    sigma^2 = W / 2 for the gradient's white floor W, its mean spectral
    density above ``above`` cycles per step (median-averaged Welch, robust to
    bursts; a descending loop's gradient signal is low-pass, so the top of
    the band is noise); S the mean power of the first :data:`START` recorded
    steps less sigma^2. ValueError unless the start stands 3 dB clear of the
    noise (S > sigma^2): a record that starts in the noise has nothing to
    design for.
    """
    f, p = record.spectrum(path, "gradient", nperseg=nperseg)
    keep = f >= above
    sigma2 = 0.5 * float(trapezoid(p[keep], f[keep]) / (f[keep][-1] - f[keep][0]))
    pairs = record.pairs(path)
    start = sum(float(np.mean(x[:START] ** 2)) for x, _ in pairs)
    if not start > 2.0 * sigma2:
        raise ValueError(
            f"the gradient's power over its first {START} recorded steps ({start:.3g} per "
            f"direction) is not 3 dB clear of its white noise floor ({sigma2:.3g}): there is no "
            "signal to design for; record from the start of training, or with a larger batch"
        )
    return sigma2 / (start - sigma2)


def design_from_record(
    record,
    order: int = 2,
    misadjustment: float = 0.1,
    max_kappa: float = 1e4,
    seed: int = 0,
    path=None,
) -> MeasuredDesign:
    """The fastest design for the measured curvature whose misadjustment from the
    measured gradient noise stays under ``misadjustment`` (module docstring).

    Args:
        record: a ProbeRecord (or a GradientProbe: its ``record``) with
            plain sharpness measurements.
        order: the filter's order.
        misadjustment: M > 0, the steady excess loss allowed, as a fraction
            of the loss at the start.
        max_kappa: the largest kappa assumed.
        seed: the design search's seed.
        path: the variable whose gradient spectrum gives q (None: all).
    """
    record = getattr(record, "record", record)
    if (
        isinstance(misadjustment, bool)
        or not isinstance(misadjustment, numbers.Real)
        or not 0.0 < misadjustment < math.inf
    ):
        raise ValueError(
            f"`misadjustment` must be a positive number. Received: misadjustment={misadjustment!r}"
        )
    lam_max, lam_low, kappa = measured_curvature(record, max_kappa)
    q = noise_to_signal(record, path)
    free = design_filter(kappa, order, seed=seed)
    bound = None if q == 0.0 else float(misadjustment) / q
    if bound is None or free.noise_gain <= bound:
        return MeasuredDesign(free, lam_max, lam_low, kappa, q, float(misadjustment), None)
    design = design_filter(kappa, order, bound, seed=seed)
    return MeasuredDesign(design, lam_max, lam_low, kappa, q, float(misadjustment), bound)
