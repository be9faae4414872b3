"""The lecture's momentum slide with a real gradient under it.

    python analysis/measured_spectrum.py [--epochs 40]
                                         [--out analysis/figures/measured_spectrum_nielsen.png]

Draws the figure of ``analysis/gallery/plot_measured_spectrum.py``
(momentum 0.9's frequency response, theory and measured on a run of the
Nielsen task, over the gradient's and the update's power spectra), saves it
to ``--out`` and prints the share of the gradient's power above 0.1 cycles
per step, before and after the filter. About 30 s on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "gallery")]

import plot_measured_spectrum  # noqa: E402

from filteropt import plotting as P  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=plot_measured_spectrum.EPOCHS)
    parser.add_argument(
        "--out", default=os.path.join(HERE, "figures", "measured_spectrum_nielsen.png")
    )
    args = parser.parse_args(argv)
    (fig,) = plot_measured_spectrum.figures(args.epochs).values()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    P.save(fig, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
