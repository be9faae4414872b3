"""
The momentum filter on a real gradient
======================================

The lecture's momentum slide draws the frequency response of momentum 0.9,
``|H|`` of ``1 / (1 - 0.9 z^-1)`` in dB. Here a real training run is put
under it: momentum trains the Nielsen regression (a 1-64-64-64-1 MLP, batch
32) while a :class:`filteropt.GradientProbe` records, along 4 random
directions per variable, the gradient each step and the update the optimizer
made of it.

Top: the theory, from the recipe, and the response measured on the run,
gradient to update (Welch's cross-spectrum over the gradient's spectrum),
divided by ``-eta``: the two agree, since the update *is* the gradient
through the filter. Bottom: the power spectra of the gradient and of the
update (median-averaged Welch, summed over the variables). A large share of
the gradient's power lies at high frequencies, the minibatch noise; the
filter removes most of it, and what reaches the weights is the low band (the
shares above 0.1 cycles per step are printed below). The gradient is not
white: it has lines at multiples of 1/32 cycles per step, the epoch's period
(1,000 examples make 31 batches of 32 and one of 8).
"""

import numpy as np

from filteropt import analysis as A
from filteropt import plotting as P
from filteropt.analysis.measured import band_fraction

SPEC = "momentum:momentum=0.9,learning_rate=0.02"
EPOCHS = 40

# %%
# Training with a probe
# ---------------------


def train(epochs=EPOCHS):
    """The probe's record of ``SPEC`` training the Nielsen task for ``epochs`` epochs."""
    from filteropt.cli import quiet

    quiet.import_tensorflow()
    import keras

    from filteropt.cli import tasks
    from filteropt.keras.optimizers import get as get_optimizer
    from filteropt.keras.probe import GradientProbe

    task = tasks.get("nielsen")
    x, y, _, _ = task.load(0)
    model = task.build_model(0)
    model.compile(optimizer=get_optimizer(SPEC), loss=task.loss)
    probe = GradientProbe(projections=4, seed=0)
    keras.utils.set_random_seed(0)
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, shuffle=True, callbacks=[probe])
    return probe.record


# %%
# Theory and measurement
# ----------------------


def measured_spectrum_figure(record):
    """The two panels described above; prints the high-band shares and the
    worst gap between the measured response and ``-eta H``."""
    fig, (top, bottom) = P.figure_axes(None, nrows=2, sharex=True)
    P.plot_frequency([SPEC], ax=top, labels=["momentum 0.9 (theory, unit input gain)"])
    f, h = record.response()
    eta = float(np.median(record.learning_rate))
    top.plot(f, 20 * np.log10(np.abs(h) / eta), "--", label="measured on the run, / eta")
    P.legend_outside(top)
    top.set_title("standard momentum gradient filter frequency response")
    top.set_xlabel("")  # the panels share the frequency axis, labelled below
    f, gp = record.spectrum(None, "gradient")
    _, up = record.spectrum(None, "update")
    bottom.plot(f, P.db(gp), label="gradient power (Nielsen task, measured)")
    bottom.plot(f, P.db(up / eta**2), label="update power / eta^2 (after the filter)")
    bottom.set_ylabel("power per direction (dB)")
    bottom.set_xlabel("normalised frequency (cycles per step)")
    P.legend_outside(bottom)
    print(
        f"gradient power above 0.1 cycles per step: {100 * band_fraction(f, gp, 0.1):.0f}%; "
        f"after the filter: {100 * band_fraction(f, up, 0.1):.0f}%"
    )
    worst = np.abs(
        20 * np.log10(np.abs(h) / np.abs(eta * A.filter_of(SPEC).freqz(2 * np.pi * f)[1]))
    )[(f >= 0.02) & (f <= 0.45)].max()
    print(f"measured response against -eta H over 0.02-0.45 cycles per step: {worst:.2f} dB worst")
    return fig


if __name__ == "__main__":  # run by the gallery; make_figures.py imports figures()
    measured_spectrum_figure(train())


# %%
# The figure in ``analysis/figures/``
# -----------------------------------


def figures(epochs=EPOCHS):
    """{file name: figure} for ``analysis/make_figures.py``."""
    return {"measured_spectrum_nielsen.png": measured_spectrum_figure(train(epochs))}
