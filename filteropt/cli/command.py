"""The ``filteropt`` command.

    filteropt compare [--task nielsen|digits|fashion_mnist] [--optimizers SPEC ...]
                      [--epochs N] [--batch-size N] [--seed N] [--schedule SPEC]
                      [--tune N] [--seeds K] [--target LOSS] [--out DIR] [--jit-compile]
                                        train the lecture's models with several optimizers,
                                        each tuned over N learning rates and K seeds
    filteropt inspect [--task T] [--optimizer SPEC] [--epochs N] [--batch-size N]
                      [--seed N] [--projections K] [--no-sharpness] [--out DIR]
                                        train with a GradientProbe: the gradient's spectrum,
                                        the measured response, sharpness against s*
    filteropt list                      the named optimizers (the registry)
    filteropt table [--lecture-only]    the lecture's "Summary of Optimizers", derived
    filteropt describe NAME[:k=v,...]   an optimizer's filters, in words and numbers
    filteropt plot NAME... --response frequency|step|impulse|polezero|rate|groupdelay|lrstep
                   [--steps N] [--compensation on|off|both] [--variance] [--learning-rate LR]
                   --out FILE.png       one or several optimizers on one figure
    filteropt plot-schedule NAME[:k=v,...]... [--learning-rate LR] [--steps N]
                   [--steps-per-epoch N] [--log] --out FILE.png
                                        learning-rate schedules against the step
    filteropt plot-tradeoff [--kappa K] [--points N] --out FILE.png
                                        worst-case rate against noise gain: each family's
                                        Pareto frontier over all its parameters
    filteropt surface NAME [--optimizers SPEC ...] [--steps N] [--noise SIGMA]
                      [--seed S] [--start X Y] [--out DIR]
                                        Keras optimizers on a 2-D test function (valley,
                                        beale, saddle, rosenbrock, rastrigin, quadratic):
                                        their paths as CSV, contour plot and GIF

A user's mistake (unknown name, bad hyperparameter, an ``--out`` that is a
file) exits with status 2 and one line on stderr, never a traceback; Ctrl-C
ends a run with one line and exit status 130, leaving no partial results.
Only the commands that train, run optimizers (``surface``) or evaluate
schedules import Keras, and they import TensorFlow without its start-up log
lines (:mod:`filteropt.cli.quiet`).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from .. import __version__, recipes


class UsageError(Exception):
    """A user's mistake: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _recipe(spec: str) -> recipes.Recipe:
    try:
        return recipes.get(spec)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{spec}: {exc}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{value} must be a positive number")
    return value


def _fmt(values) -> str:
    values = np.real_if_close(np.asarray(values))
    return "[" + ", ".join(f"{v:.6g}" for v in np.atleast_1d(values)) + "]"


def cmd_list(args, out):
    for entry in recipes.REGISTRY.values():
        print(f"{entry.name:12s} {entry.summary}", file=out)


def _realisation(f):
    from ..signal.realisation import forms

    def words(parts):
        return (
            " -> ".join(
                f"bank[{' | '.join(words(b) for b in p[1])}]" if isinstance(p, tuple) else p
                for p in parts
            )
            or "identity"
        )

    return f"{f.form} form, order {f.order}: {words(forms(f))}"


def cmd_describe(args, out):
    from ..analysis.summary import describe_recipe

    for spec in args.optimizers:
        recipe = _recipe(spec)
        d = describe_recipe(recipe)
        params = ", ".join(f"{k}={v}" for k, v in d["hyperparameters"].items())
        print(f"{recipe.name}({params})", file=out)
        print(f"  gradient filtering:     {d['gradient_filtering']}", file=out)
        print(f"  gradient normalization: {d['gradient_normalization']}", file=out)
        print(f"  variance filter:        {d['variance_filter_kind']}", file=out)
        print(f"  learning rate enters:   {d['learning_rate']}", file=out)
        if recipe.weight_decay:
            print(
                f"  weight decay:           theta <- (1 - eta * {recipe.weight_decay:g}) theta"
                " + Delta (decoupled)",
                file=out,
            )
        for label, f in (("H(z)", d["gradient_filter"]), ("V(z)", d["variance_filter"])):
            if f is None:
                continue
            print(f"  {label}: b = {_fmt(f.b)}, a = {_fmt(f.a)}", file=out)
            print(f"        runs as {_realisation(f)}", file=out)
            print(f"        poles {_fmt(f.poles)}, zeros {_fmt(f.zeros)}", file=out)
            print(f"        DC gain {f.dc_gain:.6g}, input gain {f.input_gain:.6g}", file=out)
        f = d["gradient_filter"]
        gain = 1.0 if f is None else f.dc_gain
        print(f"  effective learning rate: eta * H(1) = eta * {gain:.6g}", file=out)
        print(file=out)


def cmd_table(args, out):
    from .. import analysis

    print(analysis.format_table(analysis.summary_table(extra=not args.lecture_only)), file=out)


RESPONSE_NAMES = ("frequency", "step", "impulse", "polezero", "rate", "groupdelay", "lrstep")


def _out_path(path: str) -> str:
    if not path.lower().endswith((".png", ".pdf", ".svg")):
        raise UsageError(f"--out {path}: the file must end in .png, .pdf or .svg")
    if os.path.isdir(path):
        raise UsageError(f"--out {path}: is a folder; name the figure's file")
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot create {parent}: {exc.strerror}") from None
    return path


def cmd_plot(args, out):
    items = [_recipe(spec) for spec in args.optimizers]
    path = _out_path(args.out)
    from .. import plotting

    # each curve named by its spec as typed, not with every default spelled out
    kwargs: dict = {"labels": list(args.optimizers)}
    if args.response == "lrstep":
        kwargs["n"] = args.steps
    if args.response in ("step", "impulse"):
        kwargs["n"] = args.steps
        kwargs["compensated"] = {"on": True, "off": False, "both": "both"}[args.compensation]
    if args.variance:
        if args.response not in ("frequency", "polezero", "groupdelay"):
            raise UsageError("--variance applies to --response frequency, polezero or groupdelay")
        kwargs["which"] = "variance"
    if args.learning_rate is not None:
        if args.response != "rate":
            raise UsageError("--learning-rate applies to --response rate")
        kwargs["learning_rate"] = args.learning_rate
    try:
        fig = plotting.plot_response(args.response, items, **kwargs)
    except ValueError as exc:
        hint = (
            "; give it with --learning-rate LR" if "`learning_rate` is needed" in str(exc) else ""
        )
        raise UsageError(f"{exc}{hint}") from None
    _save_figure(fig, path, plotting)
    print(f"wrote {path}", file=out)


def _keras():
    """Before a command imports Keras: TensorFlow, without its start-up lines."""
    from . import quiet

    quiet.import_tensorflow()


def cmd_compare(args, out):
    _keras()
    from . import compare

    try:
        compare.run(
            task=args.task,
            optimizers=args.optimizers or compare.DEFAULT_OPTIMIZERS,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            schedule=args.schedule,
            out=args.out,
            jit_compile=args.jit_compile,
            stream=out,
            tune=args.tune,
            seeds=args.seeds,
            target=args.target,
        )
    except compare.CompareError as exc:
        raise UsageError(str(exc)) from None


def cmd_inspect(args, out):
    _keras()
    from . import inspect

    try:
        inspect.run(
            task=args.task,
            optimizer=args.optimizer,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            out=args.out,
            projections=args.projections,
            sharpness=not args.no_sharpness,
            stream=out,
        )
    except inspect.InspectError as exc:
        raise UsageError(str(exc)) from None


def cmd_surface(args, out):
    from . import surface

    try:
        surface.get_surface(args.name)  # an unknown name fails before Keras loads
        _keras()
        surface.run(
            args.name,
            optimizers=args.optimizers or surface.DEFAULT_OPTIMIZERS,
            steps=args.steps,
            noise=args.noise,
            seed=args.seed,
            start=args.start,
            out=args.out,
            stream=out,
        )
    except surface.SurfaceError as exc:
        raise UsageError(str(exc)) from None


def cmd_plot_schedule(args, out):
    path = _out_path(args.out)
    _keras()
    from .. import plotting
    from ..keras import schedule_plots

    try:
        fig = schedule_plots.plot_schedules(
            args.schedules, args.learning_rate, args.steps, args.steps_per_epoch, log=args.log
        )
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    _save_figure(fig, path, plotting)
    print(f"wrote {path}", file=out)


def _save_figure(fig, path, plotting):
    try:
        plotting.save(fig, path)
    except OSError as exc:
        raise UsageError(f"--out {path}: {exc.strerror or exc}") from None


def cmd_plot_tradeoff(args, out):
    path = _out_path(args.out)
    if not args.kappa >= 1:
        raise UsageError(f"--kappa must be >= 1 (received {args.kappa})")
    from .. import plotting
    from ..plotting import design as design_plots

    print(
        f"designing filters of order 1 to 4 for kappa = {args.kappa:g} "
        f"({args.points} noise bounds each) ...",
        file=out,
        flush=True,
    )
    try:
        fig = design_plots.plot_tradeoff(args.kappa, n_points=max(args.points, 2))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _save_figure(fig, path, plotting)
    print(f"wrote {path}", file=out)


def _training_arguments(p, quick_epochs: dict):
    """--task, --epochs, --batch-size and --seed of a command that trains."""
    p.add_argument("--task", default="nielsen", help="nielsen (default), digits, fashion_mnist")
    quick = ", ".join(f"{name} {n}" for name, n in quick_epochs.items())
    p.add_argument(
        "--epochs", type=_positive_int, default=None, help=f"default: a quick run ({quick})"
    )
    p.add_argument("--batch-size", type=_positive_int, default=None)
    p.add_argument("--seed", type=int, default=0)


def build_parser() -> argparse.ArgumentParser:
    from . import compare as compare_module
    from . import inspect as inspect_module

    parser = _Parser(prog="filteropt", description="Optimizers seen as filters.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("compare", help="train a lecture task with several optimizers")
    _training_arguments(p, compare_module.QUICK_EPOCHS)
    p.add_argument(
        "--optimizers",
        nargs="+",
        metavar="SPEC",
        help="recipe specs, e.g. adam nesterov:momentum=0.95,learning_rate=0.01",
    )
    p.add_argument(
        "--schedule",
        default=None,
        metavar="SPEC",
        help="a learning-rate schedule for every optimizer, e.g. cyclical, sgdr",
    )
    p.add_argument(
        "--tune",
        type=_positive_int,
        default=1,
        metavar="N",
        help="N learning rates per optimizer, half a decade apart around its own "
        "(default 1: the spec's)",
    )
    p.add_argument(
        "--seeds",
        type=_positive_int,
        default=1,
        metavar="K",
        help="repeat every run with K seeds (seed .. seed + K - 1)",
    )
    p.add_argument(
        "--target",
        type=_positive_float,
        default=None,
        metavar="LOSS",
        help="count optimizer steps until the whole training set's loss reaches LOSS",
    )
    p.add_argument("--out", default="compare-results", metavar="DIR")
    p.add_argument("--jit-compile", action="store_true", help="compile train steps with XLA")
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser(
        "inspect",
        help="train with a GradientProbe: spectra, response, sharpness against the stability limit",
    )
    _training_arguments(p, inspect_module.QUICK_EPOCHS)
    p.add_argument(
        "--optimizer",
        default="momentum",
        metavar="SPEC",
        help="a recipe spec, e.g. momentum:momentum=0.9,learning_rate=0.02",
    )
    p.add_argument(
        "--projections",
        type=_positive_int,
        default=4,
        help="random directions per variable (default 4)",
    )
    p.add_argument(
        "--no-sharpness",
        action="store_true",
        help="skip the Hessian measurements (no stability.png)",
    )
    p.add_argument("--out", default="inspect-results", metavar="DIR")
    p.set_defaults(func=cmd_inspect)
    p = sub.add_parser("plot-schedule", help="draw learning-rate schedules")
    p.add_argument("schedules", nargs="+", metavar="NAME[:k=v,...]")
    p.add_argument("--learning-rate", type=float, default=0.01)
    p.add_argument("--steps", type=_positive_int, default=1000)
    p.add_argument("--steps-per-epoch", type=_positive_int, default=50)
    p.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(func=cmd_plot_schedule)
    p = sub.add_parser("list", help="the named optimizers")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("table", help="the Summary of Optimizers, derived from the recipes")
    p.add_argument("--lecture-only", action="store_true", help="only the lecture's eight rows")
    p.set_defaults(func=cmd_table)
    p = sub.add_parser("plot", help="responses of one or several optimizers on one figure")
    p.add_argument("optimizers", nargs="+", metavar="NAME[:k=v,...]")
    p.add_argument("--response", default="frequency", choices=RESPONSE_NAMES)
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument(
        "--steps", type=_positive_int, default=50, help="samples for step/impulse/lrstep"
    )
    p.add_argument("--compensation", choices=("on", "off", "both"), default="on")
    p.add_argument("--variance", action="store_true", help="the variance filter instead")
    p.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        metavar="LR",
        help="eta, for the rate of an optimizer with weight decay (--response rate)",
    )
    p.set_defaults(func=cmd_plot)
    p = sub.add_parser(
        "plot-tradeoff",
        help="worst-case rate against noise gain: each "
        "family's Pareto frontier over all its parameters (momentum or cutoff "
        "and learning rate; filter and learning rate for the designs)",
    )
    p.add_argument("--kappa", type=float, default=100.0, help="condition number (>= 1)")
    p.add_argument(
        "--points",
        type=_positive_int,
        default=3,
        help="noise bounds per designed curve, >= 2 (about 15 s each)",
    )
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(func=cmd_plot_tradeoff)
    from . import surfaces as surfaces_module

    p = sub.add_parser(
        "surface",
        help="Keras optimizers on a 2-D test function: paths as CSV, contour plot and GIF",
    )
    p.add_argument("name", metavar="NAME", help=", ".join(surfaces_module.SURFACES))
    p.add_argument(
        "--optimizers",
        nargs="+",
        metavar="SPEC",
        help="recipe specs (default: "
        + " ".join(surfaces_module.DEFAULT_OPTIMIZERS)
        + "); a spec without learning_rate takes the surface's default",
    )
    p.add_argument(
        "--steps",
        type=_positive_int,
        default=200,
        help="optimizer steps (default 200); the GIF has one frame per step",
    )
    p.add_argument(
        "--noise",
        type=float,
        default=0.0,
        metavar="SIGMA",
        help="std of Gaussian noise added to the gradient (default 0)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the gradient noise")
    p.add_argument(
        "--start",
        type=float,
        nargs=2,
        metavar=("X", "Y"),
        default=None,
        help="start point (default: the surface's)",
    )
    p.add_argument("--out", default="surface-results", metavar="DIR")
    p.set_defaults(func=cmd_surface)
    p = sub.add_parser("describe", help="an optimizer's filters in words and numbers")
    p.add_argument("optimizers", nargs="+", metavar="NAME[:k=v,...]")
    p.set_defaults(func=cmd_describe)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.func(args, sys.stdout)
    except UsageError as exc:
        print(f"filteropt: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("filteropt: interrupted; no results written", file=sys.stderr)
        return 130
    return 0
