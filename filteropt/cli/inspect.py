"""``filteropt inspect``: train a lecture task with a :class:`~filteropt.GradientProbe` and
show what the optimizer did to the gradient.

Writes, in ``--out``:

- ``spectrum.png``: the measured gradient power and update power, the
  theory |eta H|^2 of the optimizer's gradient filter and the measured
  |response|^2 from gradient to update
  (:func:`filteropt.plotting.probe.plot_measured_spectrum`);
- ``stability.png``: eta lambda_max over training against the filter's
  stability limit s* (:func:`filteropt.plotting.probe.plot_stability`);
- ``probe.npz``: the record (:meth:`filteropt.analysis.measured.ProbeRecord.load`);

and prints the numbers a user can quote: the share of gradient power above
0.1 cycles per step, before and after the filter; the worst gap between the
measured and the theoretical response; the largest eta lambda_max as a
fraction of s*. The files are written into a temporary folder and moved in
place only when all are done.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from .output import check_out_dir, staged

#: Epochs when --epochs is not given (about a minute on two cores with the
#: sharpness measurements).
QUICK_EPOCHS = {"nielsen": 40, "digits": 10, "fashion_mnist": 2}
SHARPNESS_SAMPLES = 2000
SHARPNESS_MEASUREMENTS = 12
HIGH = 0.1


class InspectError(Exception):
    """A user's mistake or missing data: one line, exit status 2."""


def _progress(epochs, stream):
    import keras

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss", float("nan"))
            print(f"  epoch {epoch + 1:3d}/{epochs}  loss {loss:.4g}", file=stream, flush=True)

    return Progress()


def summary(record, recipe, limit) -> list[str]:
    """The lines ``inspect`` prints (see the module docstring)."""
    from .. import analysis as A
    from ..analysis.measured import band_fraction

    f, gp = record.spectrum(None, "gradient")
    _, up = record.spectrum(None, "update")
    _, h = record.response(None)
    _, coh = record.coherence(None)
    eta = float(np.median(record.learning_rate))
    filt = A.filter_of(recipe)
    theory = np.ones_like(f, dtype=complex) if filt is None else filt.freqz(2 * np.pi * f)[1]
    band = (f >= 0.02) & (f <= 0.45)
    gap = 20 * np.log10(np.abs(h[band]) / np.abs(eta * theory[band]))
    lines = [
        (
            f"gradient power above {HIGH:g} cycles per step: "
            f"{100 * band_fraction(f, gp, HIGH):.0f}%; "
            f"after the filter: {100 * band_fraction(f, up, HIGH):.0f}%"
        ),
        f"measured response against -eta H over 0.02-0.45 cycles per step: "
        f"{np.median(gap):+.2f} dB median, {np.abs(gap).max():.2f} dB worst "
        f"(coherence median {np.median(coh[band]):.2f})"
        + (
            ", the normaliser's gain, which the theory takes as 1"
            if recipe.normalizer is not None
            else ""
        ),
    ]
    table = record.sharpness_table
    if len(table):
        peak = float(np.max(table[:, 1] * table[:, 3]))
        what = "eta lambda_max (preconditioned)" if record.preconditioned else "eta lambda_max"
        lines.append(
            f"{what} reached {peak / limit:.2f} s* (peak {peak:.4g}; "
            f"s* = {limit:.4g}, the stability limit of the gradient filter)"
        )
    return lines


def run(
    task="nielsen",
    optimizer="momentum",
    epochs=None,
    batch_size=None,
    seed=0,
    out="inspect-results",
    projections=4,
    sharpness=True,
    stream=sys.stdout,
):
    """Trains ``task`` with ``optimizer`` and a probe; writes the files; returns the record."""
    from .. import analysis as A
    from .. import recipes
    from . import tasks

    check_out_dir(out, InspectError)
    try:
        recipe = recipes.get(optimizer)
    except (ValueError, TypeError) as exc:
        raise InspectError(f"--optimizer {optimizer}: {exc}") from None
    task_, epochs, batch_size, (x, y, _, _) = tasks.prepare(
        task, epochs, batch_size, seed, QUICK_EPOCHS, InspectError
    )
    steps = epochs * -(-len(x) // batch_size)
    if steps < 64:
        raise InspectError(
            f"--epochs {epochs}: {steps} steps are too few for a spectrum "
            "(at least 64); train longer"
        )

    import keras

    from ..keras.optimizers import get as get_optimizer
    from ..keras.probe import GradientProbe

    try:
        opt = get_optimizer(optimizer)
        limit = A.stability_limit(opt)
    except (ValueError, TypeError) as exc:
        raise InspectError(f"--optimizer {optimizer}: {exc}") from None
    kw = {}
    if sharpness:
        sample = np.random.default_rng(seed).permutation(len(x))[:SHARPNESS_SAMPLES]
        kw = dict(
            sharpness_every=max(1, steps // SHARPNESS_MEASUREMENTS),
            sharpness_data=(x[sample], y[sample]),
        )
    probe = GradientProbe(projections=projections, seed=seed, max_steps=max(steps, 64), **kw)
    model = task_.build_model(seed)
    model.compile(optimizer=opt, loss=task_.loss)
    print(
        f"task {task_.name}: {task_.description}; {optimizer}, {epochs} epochs of batch "
        f"{batch_size} ({steps} steps), {projections} projections per variable"
        + (
            f", sharpness every {kw['sharpness_every']} steps on {len(kw['sharpness_data'][0])}"
            " examples"
            if kw
            else ""
        ),
        file=stream,
        flush=True,
    )
    keras.utils.set_random_seed(seed)
    t0 = time.perf_counter()
    try:
        model.fit(
            x,
            y,
            epochs=epochs,
            batch_size=batch_size,
            verbose=0,
            shuffle=True,
            callbacks=[probe, _progress(epochs, stream)],
        )
    except ValueError as exc:
        raise InspectError(f"--optimizer {optimizer}: {exc}") from None
    record = probe.record
    print(f"trained in {time.perf_counter() - t0:.1f} s", file=stream)
    names = write(record, recipe, limit, out)
    for line in summary(record, recipe, limit):
        print(line, file=stream)
    print(f"wrote {', '.join(os.path.join(out, n) for n in names)}", file=stream)
    return record


def write(record, recipe, limit, out):
    """Writes the files atomically (temporary folder, then rename); returns their names."""
    from .. import plotting
    from ..plotting import probe as probe_plots

    with staged(out, InspectError) as tmp:
        names = ["spectrum.png", "probe.npz"]
        plotting.save(
            probe_plots.plot_measured_spectrum(record, recipe), os.path.join(tmp, "spectrum.png")
        )
        if len(record.sharpness_table):
            plotting.save(
                probe_plots.plot_stability(record, limit, label=recipe.name),
                os.path.join(tmp, "stability.png"),
            )
            names.append("stability.png")
        record.save(os.path.join(tmp, "probe.npz"))
    return names
