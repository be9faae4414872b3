"""The ``filteropt`` command.

    filteropt list                      the named optimizers
    filteropt describe NAME[:k=v,...]   an optimizer's filters, in words and numbers

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="filteropt", description="Optimizers seen as filters.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("list", help="the named optimizers")
    p.set_defaults(func=cmd_list)
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
