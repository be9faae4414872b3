"""Figures of a training run's record (:class:`filteropt.analysis.measured.ProbeRecord`):
the measured spectra against the filter's theory, and sharpness against the
stability limit.

Nothing here imports a deep-learning backend.
"""

from __future__ import annotations

import numpy as np

from .. import analysis as A
from .responses import figure_axes, legend_outside

__all__ = ["db", "plot_measured_spectrum", "plot_stability"]


def db(power) -> np.ndarray:
    """10 log10 of a power, -inf where it is 0."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(power, dtype=float))


def plot_measured_spectrum(record, optimizer, path=None, axes=None, nperseg=None):
    """Two panels over frequency (cycles per step):

    - top: the theory, ``|eta H(e^{j 2 pi nu})|^2`` of ``optimizer``'s gradient
      filter (eta the median recorded learning rate), and the measured
      ``|response|^2`` from gradient to update (faint where the coherence is
      below 0.5: there the update is not a linear function of the gradient);
    - bottom: the measured gradient power, the measured update power, and the
      update power the theory predicts, ``|eta H|^2`` times the gradient power.

    ``optimizer``: anything :func:`filteropt.analysis.as_recipe` takes (its
    normaliser is not in the theory: the measured curve shows its gain).
    ``axes``: two axes to draw into. Each panel's legend lies outside the
    axes, to their right (:func:`~filteropt.plotting.legend_outside`).
    Returns the Figure.
    """
    if axes is None:
        fig, axes = figure_axes(None, nrows=2, sharex=True)
    else:
        fig = axes[0].figure
    top, bottom = axes
    f, gp = record.spectrum(path, "gradient", nperseg=nperseg)
    _, up = record.spectrum(path, "update", nperseg=nperseg)
    _, h = record.response(path, nperseg=nperseg)
    _, coh = record.coherence(path, nperseg=nperseg)
    eta = float(np.median(record.learning_rate))
    gradient_filter = A.filter_of(optimizer)
    theory = (
        np.ones_like(f, dtype=complex)
        if gradient_filter is None
        else gradient_filter.freqz(2.0 * np.pi * f)[1]
    )
    gain = np.abs(eta * theory) ** 2
    name = A.as_recipe(optimizer).name
    measured = db(np.abs(h) ** 2)
    top.plot(f, db(gain), "k--", label=f"|eta H|^2, theory (eta = {eta:.3g})")
    line = top.plot(f, measured, alpha=0.35)[0]
    top.plot(
        f,
        np.where(coh >= 0.5, measured, np.nan),
        color=line.get_color(),
        label="measured |response|^2 (faint: coherence < 0.5)",
    )
    top.set_ylabel("gain (dB)")
    legend_outside(top)
    top.set_title(f"{name}: the response from gradient to update, theory and measured")
    bottom.plot(f, db(gp), label="gradient power (measured)")
    bottom.plot(f, db(up), label="update power (measured)")
    bottom.plot(f, db(gain * gp), "k--", lw=1, label="update power, theory |eta H|^2 x gradient")
    bottom.set_xlabel("frequency (cycles per step)")
    bottom.set_ylabel("power per direction (dB)")
    legend_outside(bottom)
    return fig


def plot_stability(record, limit: float, ax=None, label: str = ""):
    """eta lambda_max over training against the stability limit s* (a line).

    ``limit``: :func:`filteropt.analysis.stability_limit` of the optimizer.
    The legend lies outside the axes, to their right
    (:func:`~filteropt.plotting.legend_outside`). Returns the Figure.
    """
    fig, ax = figure_axes(ax)
    table = record.sharpness_table
    if len(table) == 0:
        raise ValueError(
            "the record holds no sharpness: pass sharpness_every and "
            "sharpness_data to GradientProbe"
        )
    what = "eta lambda_max(P^-1/2 H P^-1/2)" if record.preconditioned else "eta lambda_max"
    ax.plot(table[:, 0], table[:, 3] * table[:, 1], "o-", ms=3, label=what)
    ax.axhline(limit, color="k", ls="--", label=f"stability limit s* = {limit:.4g}")
    ax.set_xlabel("step")
    ax.set_ylabel("step x curvature")
    ax.set_title(f"sharpness against the stability limit{': ' + label if label else ''}")
    legend_outside(ax)
    return fig
