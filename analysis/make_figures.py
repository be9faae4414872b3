"""Regenerates the lecture's optimizer figures, and more, from filteropt.

    python analysis/make_figures.py [--out analysis/figures] [--skip-tradeoff] [--skip-measured]
                                    [--skip-adam-performance] [--skip-sensitivity]
                                    [--skip-surfaces]

Every figure comes from a script of the gallery, ``analysis/gallery/plot_*.py``:
this command imports each script and saves the figures its ``figures()``
returns ({file name: matplotlib figure}), so that the documentation's
gallery and the committed PNGs are drawn by the same code. Every curve comes
from the library (filters, recipes, analysis), so a figure cannot disagree
with what the optimizers do.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GALLERY = os.path.join(HERE, "gallery")
sys.path[:0] = [os.path.join(HERE, ".."), GALLERY]

from filteropt import plotting as P  # noqa: E402

#: (gallery script, the flag that leaves it out or None, keyword arguments of
#: its figures()), in the order the figures are made. The gallery's
#: plot_edge_of_stability.py draws no committed figure (``filteropt inspect``
#: writes its stability.png).
SCRIPTS = (
    ("plot_ar1_compensation", None, {}),
    ("plot_frequency_responses", None, {}),
    ("plot_rates", None, {}),
    ("plot_tradeoff", "skip_tradeoff", {}),
    ("plot_measured_spectrum", "skip_measured", {}),
    ("plot_surfaces", "skip_surfaces", {}),
    ("plot_adam_performance", "skip_adam_performance", {"tasks": ("digits",)}),
    ("plot_sensitivity", "skip_sensitivity", {}),
)


def figures_of(script: str, **kwargs) -> dict:
    """{file name: figure} of one gallery script (``plot_NAME``, no ``.py``)."""
    import importlib

    return importlib.import_module(script).figures(**kwargs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "figures"))
    parser.add_argument(
        "--skip-tradeoff",
        action="store_true",
        help="leave out tradeoff.png (about two minutes: it runs the designs)",
    )
    parser.add_argument(
        "--skip-measured",
        action="store_true",
        help="leave out measured_spectrum_nielsen.png (trains: about 30 s, needs Keras)",
    )
    parser.add_argument(
        "--skip-adam-performance",
        action="store_true",
        help="leave out adam_performance_digits.png (trains 105 runs: about "
        "6 minutes, needs Keras)",
    )
    parser.add_argument(
        "--skip-sensitivity",
        action="store_true",
        help="leave out sensitivity_nielsen.png (trains 70 runs: about 3.5 minutes, needs Keras)",
    )
    parser.add_argument(
        "--skip-surfaces",
        action="store_true",
        help="leave out surface_valley/beale/saddle.png (Keras's optimizers on "
        "the slide's surfaces: about 15 s)",
    )
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    made = []
    for script, skip, kwargs in SCRIPTS:
        if skip is not None and getattr(args, skip):
            continue
        for name, fig in figures_of(script, **kwargs).items():
            P.save(fig, os.path.join(args.out, name))
            made.append(name)
        if script == "plot_tradeoff":  # and its tables (the designs are cached by now)
            sys.modules[script].print_tables()
    for name in made:
        print(os.path.join(args.out, name))
    return made


if __name__ == "__main__":
    main()
