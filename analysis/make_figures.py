"""Regenerates the lecture's optimizer figures, and more, from filteropt.

    python analysis/make_figures.py [--out analysis/figures] [--skip-tradeoff] [--skip-measured]
                                    [--skip-adam-performance] [--skip-sensitivity]
                                    [--skip-surfaces]

Every curve comes from the library (filters, recipes, analysis), so a
figure cannot disagree with what the optimizers do.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from filteropt import analysis as A
from filteropt import filters as F
from filteropt import plotting as P
from filteropt.signal.compensation import FilterPath

ALPHA = 0.9


def ar1_step_responses(ax):
    n = np.arange(40)
    for f, name in (
        (F.ema(ALPHA), "unit DC gain: y = a y + (1 - a) x"),
        (F.trace(ALPHA), "unit input gain: y = a y + x"),
    ):
        ax.plot(n, f.step_response(40), ".-", label=f"{name}, H(1) = {f.dc_gain:g}")
    ax.set_title(f"AR1 unit step responses, alpha = {ALPHA}")
    ax.set_xlabel("step n")
    ax.set_ylabel("s[n]")
    ax.legend()


def compensation_step(ax):
    P.plot_step(F.ema(ALPHA), ax=ax, n=40, compensated="both", labels=[f"ema({ALPHA})"])
    ax.set_title(f"transient compensation of a step: H(1)/s[n] (alpha = {ALPHA})")


def compensation_noisy_cosine(ax):
    rng = np.random.default_rng(0)
    n = np.arange(120)
    x = np.cos(2 * np.pi * n / 60) + 0.5 * rng.standard_normal(len(n)) + 1.0
    ax.plot(n, x, color="0.7", lw=0.8, label="input: 1 + cos(2 pi n / 60) + noise")
    ax.plot(n, A.path_response(FilterPath(F.ema(ALPHA)), x), label="ema(0.9)")
    ax.plot(
        n,
        A.path_response(FilterPath(F.ema(ALPHA), compensate=True), x),
        label="ema(0.9) with transient compensation",
    )
    ax.set_title("transient compensation, a cosine in noise (alpha = 0.9)")
    ax.set_xlabel("step n")
    ax.legend()


def figure(name, draw, out, **kwargs):
    fig, ax = P.figure_axes(None)
    draw(ax, **kwargs) if callable(draw) else None
    P.save(fig, os.path.join(out, name))
    return name


SURFACES = ("valley", "beale", "saddle")


def surface_figures(out):
    """The lecture's "visualizing optimization" slide: ``filteropt surface``'s
    trajectories.png for each of :data:`SURFACES`, default optimizers and steps."""
    import shutil
    import tempfile

    from filteropt.cli import quiet

    quiet.import_tensorflow()
    from filteropt.cli import surface

    names = []
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as quiet_stream:
        for name in SURFACES:
            surface.run(name, out=os.path.join(tmp, name), stream=quiet_stream)
            names.append(f"surface_{name}.png")
            shutil.copyfile(
                os.path.join(tmp, name, "trajectories.png"), os.path.join(out, names[-1])
            )
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "figures"))
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
    made = [
        figure("ar1_step_responses.png", ar1_step_responses, args.out),
        figure("transient_compensation_step.png", compensation_step, args.out),
        figure("transient_compensation_noisy_cosine.png", compensation_noisy_cosine, args.out),
    ]
    for name, specs, title in (
        ("momentum_frequency.png", ["momentum"], "standard momentum"),
        ("nesterov_frequency.png", ["nesterov"], "Bengio-Nesterov momentum"),
        ("adam_frequency.png", ["adam"], "Adam (unit DC gain: lr and momentum not coupled)"),
        (
            "momentum_vs_nesterov.png",
            ["momentum", "nesterov"],
            "Nesterov attenuates high frequencies less than momentum",
        ),
        (
            "butterworth_momentum.png",
            [
                "momentum:momentum=0.9",
                "butterworth:order=1,cutoff=0.05,momentum_gain=input",
                "butterworth:order=2,cutoff=0.05,momentum_gain=input",
                "butterworth:order=4,cutoff=0.05,momentum_gain=input",
            ],
            "Butterworth low-pass as momentum (unit input gain)",
        ),
    ):
        fig = P.plot_frequency(specs, phase=False)
        fig.axes[0].set_title(f"gradient filter frequency response: {title}")
        P.save(fig, os.path.join(args.out, name))
        made.append(name)
    fig = P.plot_rate(
        ["momentum", "nesterov", "butterworth:order=2,cutoff=0.2", "qhm:nu=0.7,beta=0.9"]
    )
    P.save(fig, os.path.join(args.out, "rate_vs_step.png"))
    made.append("rate_vs_step.png")
    params = np.linspace(0.0, 0.99, 100)
    steps = np.linspace(0.005, 4.2, 220)
    for name, family, title in (
        ("rate_map_heavy_ball.png", F.trace, "heavy-ball momentum: convergence rate"),
        ("rate_map_nesterov.png", F.nesterov, "Nesterov momentum: convergence rate"),
    ):
        fig = P.plot_rate_map(family, params, steps, title=title)
        P.save(fig, os.path.join(args.out, name))
        made.append(name)
    if not args.skip_tradeoff:
        import tradeoff

        tradeoff.main(["--out", os.path.join(args.out, "tradeoff.png")])
        made.append("tradeoff.png")
    if not args.skip_measured:
        import measured_spectrum

        measured_spectrum.main(["--out", os.path.join(args.out, "measured_spectrum_nielsen.png")])
        made.append("measured_spectrum_nielsen.png")
    if not args.skip_surfaces:
        made += surface_figures(args.out)
    if not args.skip_adam_performance:
        import adam_performance

        adam_performance.main(["--tasks", "digits", "--out", args.out])
        made.append("adam_performance_digits.png")
    if not args.skip_sensitivity:
        import sensitivity

        sensitivity.main(["--out", os.path.join(args.out, "sensitivity_nielsen.png")])
        made.append("sensitivity_nielsen.png")
    for name in made:
        print(os.path.join(args.out, name))
    return made


if __name__ == "__main__":
    main()
