"""Accuracy of the filter realisations in float32 and float64.

    python benchmarks/realisations.py [--steps 400] [--cutoffs 0.005 0.01 ...]

For every scipy design (butter, cheby1, cheby2, ellip, bessel) at orders
2-12 and the given cutoffs, momentum through the design (unit DC gain,
learning rate 1) is run for ``--steps`` steps on the gradient 1 + N(0, 1)
as filteropt runs it (``recipes.simulate`` at the variable's precision: the
engine's formulas in numpy) and, for comparison, as the (b, a) form ran it
before (TDF-II of the multiplied-out polynomials, ``scipy.signal.lfilter``
in float32) and as TDF-II biquads (``scipy.signal.sosfilt`` in float32).
Each error is the largest distance from scipy's float64 design
(``output="sos"``, ``sosfilt``) over the largest distance moved. Then AggMo
with the paper's exponential betas, as a bank and multiplied out. No
timing: the numbers are the same on any machine.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy import signal

from filteropt import filters as F
from filteropt import recipes

KINDS = {"butter": (), "cheby1": (1.0,), "cheby2": (40.0,), "ellip": (1.0, 40.0), "bessel": ()}


def scipy_sos(kind, order, cutoff):
    kw = {"norm": "phase"} if kind == "bessel" else {}
    sos = getattr(signal, kind)(order, *KINDS[kind], cutoff, output="sos", **kw)
    sos[0, :3] /= np.prod(sos[:, :3].sum(axis=1) / sos[:, 3:].sum(axis=1))
    return sos


def error(theta, expected):
    scale = np.max(np.abs(expected))
    with np.errstate(invalid="ignore", over="ignore"):
        e = float(np.max(np.abs(theta - expected)) / scale)
    return e if np.isfinite(e) else float("inf")


def run(kind, order, cutoff, grads):
    expected = np.cumsum(-signal.sosfilt(scipy_sos(kind, order, cutoff), grads, axis=0), axis=0)
    f = F.lowpass(kind, order, cutoff)
    recipe = recipes.custom(f)
    f32 = np.float32
    g32 = grads.astype(f32)
    b, a = f.ba
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        old = np.cumsum(
            -signal.lfilter(b.astype(f32), a.astype(f32), g32, axis=0).astype(float), axis=0
        )
        biquads = np.cumsum(-signal.sosfilt(f.sos.astype(f32), g32, axis=0).astype(float), axis=0)
    return {
        "float32": error(recipes.simulate(recipe, grads, 1.0, dtype="float32"), expected),
        "float64": error(recipes.simulate(recipe, grads, 1.0), expected),
        "ba float32": error(old, expected),
        "TDF-II biquads float32": error(biquads, expected),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--orders", nargs="+", type=int, default=list(range(2, 13)))
    parser.add_argument(
        "--cutoffs", nargs="+", type=float, default=[0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
    )
    args = parser.parse_args()
    grads = 1.0 + np.random.default_rng(0).standard_normal((args.steps, 2))
    columns = ["float32", "float64", "ba float32", "TDF-II biquads float32"]
    print(
        f"### Worst error over {args.steps} steps, orders {min(args.orders)}-{max(args.orders)}, "
        f"cutoffs {min(args.cutoffs)}-{max(args.cutoffs)}\n"
    )
    print(
        "| design | filteropt float32 | filteropt float64 | (b, a) TDF-II float32 (before) "
        "| TDF-II biquads float32 | worst case (float32) |"
    )
    print("|---|---|---|---|---|---|")
    overall = dict.fromkeys(columns, 0.0)
    for kind in KINDS:
        worst = dict.fromkeys(columns, 0.0)
        where = None
        for order in args.orders:
            for cutoff in args.cutoffs:
                e = run(kind, order, cutoff, grads)
                if e["float32"] >= worst["float32"]:
                    where = f"order {order}, cutoff {cutoff:g}"
                worst = {c: max(worst[c], e[c]) for c in columns}
        overall = {c: max(overall[c], worst[c]) for c in columns}
        print(
            f"| {kind} | " + " | ".join(f"{worst[c]:.1e}" for c in columns) + f" | {where} |",
            flush=True,
        )
    print("| all | " + " | ".join(f"{overall[c]:.1e}" for c in columns) + " | |")

    betas = (0.0, 0.9, 0.99, 0.999)
    expected = np.cumsum(
        -sum(signal.lfilter([0.25], [1.0, -b], grads, axis=0) for b in betas), axis=0
    )
    f = F.aggmo(betas)
    bank = error(recipes.simulate(recipes.custom(f), grads, 1.0, dtype="float32"), expected)
    multiplied = recipes.custom(F.ARMAFilter(*f.ba))
    flat = error(recipes.simulate(multiplied, grads, 1.0, dtype="float32"), expected)
    b, a = f.ba
    old = error(
        np.cumsum(
            -signal.lfilter(
                b.astype(np.float32), a.astype(np.float32), grads.astype(np.float32), axis=0
            ),
            axis=0,
        ),
        expected,
    )
    print(f"\n### AggMo betas {betas}, float32\n")
    print(
        "| bank of velocities (filteropt) | multiplied out, as sections | multiplied out, TDF-II "
        "(before) |"
    )
    print("|---|---|---|")
    print(f"| {bank:.1e} | {flat:.1e} | {old:.1e} |")


if __name__ == "__main__":
    main()
