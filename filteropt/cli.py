"""The ``filteropt`` command.

    filteropt list                      the named optimizers
    filteropt table                     the lecture's "Summary of Optimizers", derived
    filteropt describe NAME[:k=v,...]   an optimizer's filters, in words and numbers
    filteropt plot NAME... --response frequency|step|impulse|polezero|rate|groupdelay
                   --out FILE.png       one or several optimizers on one figure

A user's mistake (unknown name, bad hyperparameter) exits with status 2 and
one line on stderr, never a traceback. Nothing here imports Keras.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from . import recipes


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


def _fmt(values) -> str:
    values = np.real_if_close(np.asarray(values))
    return "[" + ", ".join(f"{v:.6g}" for v in np.atleast_1d(values)) + "]"


def cmd_list(args, out):
    for name in recipes.names():
        doc = (recipes.RECIPES[name].__doc__ or "").strip().splitlines()[0]
        print(f"{name:12s} {doc}", file=out)


def cmd_describe(args, out):
    for spec in args.optimizers:
        recipe = _recipe(spec)
        d = recipe.describe()
        params = ", ".join(f"{k}={v}" for k, v in d["hyperparameters"].items())
        print(f"{recipe.name}({params})", file=out)
        print(f"  gradient filtering:     {d['gradient_filtering']}", file=out)
        print(f"  gradient normalization: {d['gradient_normalization']}", file=out)
        print(f"  variance filter:        {d['variance_filter_kind']}", file=out)
        print(f"  learning rate enters:   {d['learning_rate']}", file=out)
        for label, f in (("H(z)", d["gradient_filter"]), ("V(z)", d["variance_filter"])):
            if f is None:
                continue
            print(f"  {label}: b = {_fmt(f.b)}, a = {_fmt(f.a)}", file=out)
            print(f"        poles {_fmt(f.poles)}, zeros {_fmt(f.zeros)}", file=out)
            print(f"        DC gain {f.dc_gain:.6g}, input gain {f.input_gain:.6g}", file=out)
        f = d["gradient_filter"]
        gain = 1.0 if f is None else f.dc_gain
        print(f"  effective learning rate: eta * H(1) = eta * {gain:.6g}", file=out)
        print(file=out)


def cmd_table(args, out):
    from . import analysis

    print(analysis.format_table(analysis.summary_table(extra=not args.seed_only)), file=out)


RESPONSE_NAMES = ("frequency", "step", "impulse", "polezero", "rate", "groupdelay")


def _out_path(path: str) -> str:
    import os

    if not path.lower().endswith((".png", ".pdf", ".svg")):
        raise UsageError(f"--out {path}: the file must end in .png, .pdf or .svg")
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot create {parent}: {exc.strerror}") from None
    return path


def cmd_plot(args, out):
    items = [_recipe(spec) for spec in args.optimizers]
    path = _out_path(args.out)
    from . import plotting

    kwargs = {}
    if args.response in ("step", "impulse"):
        kwargs = {"n": args.steps,
                  "compensated": {"on": True, "off": False, "both": "both"}[args.compensation]}
    if args.variance:
        if args.response not in ("frequency", "polezero", "groupdelay"):
            raise UsageError("--variance applies to --response frequency, polezero or groupdelay")
        kwargs["which"] = "variance"
    fig = plotting.plot_response(args.response, items, **kwargs)
    try:
        plotting.save(fig, path)
    except OSError as exc:
        raise UsageError(f"--out {path}: {exc.strerror or exc}") from None
    print(f"wrote {path}", file=out)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="filteropt", description="Optimizers seen as filters.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("list", help="the named optimizers")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("table", help="the Summary of Optimizers, derived from the recipes")
    p.add_argument("--seed-only", action="store_true", help="only the lecture's eight rows")
    p.set_defaults(func=cmd_table)
    p = sub.add_parser("plot", help="responses of one or several optimizers on one figure")
    p.add_argument("optimizers", nargs="+", metavar="NAME[:k=v,...]")
    p.add_argument("--response", default="frequency", choices=RESPONSE_NAMES)
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--steps", type=_positive_int, default=50, help="samples for step/impulse")
    p.add_argument("--compensation", choices=("on", "off", "both"), default="on")
    p.add_argument("--variance", action="store_true", help="the variance filter instead")
    p.set_defaults(func=cmd_plot)
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
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
