"""The lecture's momentum slide with a real gradient under it.

    python analysis/measured_spectrum.py [--epochs 40]
                                         [--out analysis/figures/measured_spectrum_nielsen.png]

Top: the lecture's "Standard Momentum Gradient Filter Frequency Response"
(|H| of momentum 0.9, unit input gain, in dB), from the recipe, with the
response measured on the run (gradient to update, divided by -eta) over it.
Bottom: the gradient's power spectrum measured by a
:class:`filteropt.GradientProbe` while momentum trains the Nielsen task
(1-64-64-64-1 MLP, batch 32; median-averaged Welch over 4 random directions
per variable, summed over the variables), and the update's. Prints the
share of the gradient's power above 0.1 cycles per step, before and after
the filter. About 30 s on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np

from filteropt import analysis as A
from filteropt import plotting as P
from filteropt.analysis.measured import band_fraction

SPEC = "momentum:momentum=0.9,learning_rate=0.02"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument(
        "--out",
        default=os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "figures", "measured_spectrum_nielsen.png"
        ),
    )
    args = parser.parse_args(argv)
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
    model.fit(x, y, batch_size=32, epochs=args.epochs, verbose=0, shuffle=True, callbacks=[probe])
    record = probe.record

    fig, (top, bottom) = P.figure_axes(None, nrows=2, sharex=True)
    P.plot_frequency([SPEC], ax=top, labels=["momentum 0.9 (theory, unit input gain)"])
    f, h = record.response()
    eta = float(np.median(record.learning_rate))
    top.plot(f, 20 * np.log10(np.abs(h) / eta), "--", label="measured on the run, / eta")
    top.legend()
    top.set_title("standard momentum gradient filter frequency response")
    f, gp = record.spectrum(None, "gradient")
    _, up = record.spectrum(None, "update")
    bottom.plot(f, P.db(gp), label="gradient power (Nielsen task, measured)")
    bottom.plot(f, P.db(up / eta**2), label="update power / eta^2 (after the filter)")
    bottom.set_ylabel("power per direction (dB)")
    bottom.set_xlabel("normalised frequency (cycles per step)")
    bottom.legend()
    P.save(fig, args.out)
    print(
        f"gradient power above 0.1 cycles per step: {100 * band_fraction(f, gp, 0.1):.0f}%; "
        f"after the filter: {100 * band_fraction(f, up, 0.1):.0f}%"
    )
    worst = np.abs(
        20 * np.log10(np.abs(h) / np.abs(eta * A.filter_of(SPEC).freqz(2 * np.pi * f)[1]))
    )[(f >= 0.02) & (f <= 0.45)].max()
    print(f"measured response against -eta H over 0.02-0.45 cycles per step: {worst:.2f} dB worst")
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
